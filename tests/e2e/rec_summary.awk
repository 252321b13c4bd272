# rec_summary.awk — turns `memtrace dump` text into counts the recorder tests compare
#
# Used by tests/e2e/run_*.sh and crash_*.sh through rec_common.bash. Reads
# the dump format of docs/trace-format.md ("<kind> pid= gen= seq= t= k=v..."),
# pairs every free with the live allocation of the same (pid, gen, addr) and
# prints one line per group, fields separated by single spaces:
#   A pid gen size family api realloc count   allocations
#   F pid gen size family api realloc count   frees of a live block of that size
#                                             (family/api/realloc of the free)
#   U pid gen family api realloc count        frees of an address not live here
#   Z pid gen size realloc count              allocations onto a live address
#   L pid gen size count                      blocks still live at the end
#   K pid gen size tid count                  allocations per thread
#   E pid gen kind count                      error records
#   S pid gen records ok|bad                  seq is 0,1,2,... in dump order
#   P pid gen ppid parent_gen forked          process records
#   X pid gen status                          exit records
#   Q pid gen how status dropped degraded     proc_end records
#   T pid gen tid event name                  thread records
#   M pid gen id path                         module records
#   N pid gen id                              module_unload records
# With -v detail=1 it also prints, per allocation,
#   D pid gen size family api realloc addr usable tid stack
# Plain POSIX awk (mawk): no strtonum, no 64-bit arithmetic needed.

# Fills kv[] with the key=value pairs of the current line; stops at the
# keys whose value runs to the end of the line.
function rec_parse(    i, eq, k) {
    split("", kv)
    for (i = 2; i <= NF; i++) {
        eq = index($i, "=")
        if (eq == 0) continue
        k = substr($i, 1, eq - 1)
        if (k == "exe" || k == "argv" || k == "path") {
            kv[k] = substr($0, index($0, " " k "=") + length(k) + 2)
            return
        }
        kv[k] = substr($i, eq + 1)
    }
}

# Fast path for the two bulk kinds. The dump prints a kind's keys in the
# order of docs/trace-format.md; the first line of each kind is checked
# against that order, and only if it matches are later lines read by
# position (a different layout falls back to rec_parse, slower but right).
function rec_layout_ok(want,    n, k, i) {
    n = split(want, k, " ")
    for (i = 1; i <= n; i++)
        if (index($(i + 1), k[i] "=") != 1) return 0
    return 1
}

function rec_fast_alloc() {
    if (!("alloc" in layout))
        layout["alloc"] = rec_layout_ok("pid gen seq t tid addr size usable family api stack realloc")
    if (!layout["alloc"]) { rec_parse(); return }
    split("", kv)
    kv["pid"] = substr($2, 5); kv["gen"] = substr($3, 5); kv["seq"] = substr($4, 5)
    kv["tid"] = substr($6, 5); kv["addr"] = substr($7, 6); kv["size"] = substr($8, 6)
    kv["usable"] = substr($9, 8); kv["family"] = substr($10, 8); kv["api"] = substr($11, 5)
    kv["stack"] = substr($12, 7); kv["realloc"] = substr($13, 9)
}

function rec_fast_free() {
    if (!("free" in layout))
        layout["free"] = rec_layout_ok("pid gen seq t tid addr family api stack realloc")
    if (!layout["free"]) { rec_parse(); return }
    split("", kv)
    kv["pid"] = substr($2, 5); kv["gen"] = substr($3, 5); kv["seq"] = substr($4, 5)
    kv["tid"] = substr($6, 5); kv["addr"] = substr($7, 6); kv["family"] = substr($8, 8)
    kv["api"] = substr($9, 5); kv["stack"] = substr($10, 7); kv["realloc"] = substr($11, 9)
}

# Sequence check: every seq-carrying record of an image continues the last.
# One LEAK record prints as one line per entry, all with the record's seq.
function rec_seq(img) {
    if (kv["seq"] == "" || kv["seq"] == "-") return
    if ($1 == "leak" && last_kind[img] == "leak" && kv["seq"] + 1 == seq_n[img]) return
    last_kind[img] = $1
    if (!(img in seq_n)) { seq_n[img] = 0; seq_bad[img] = 0 }
    if (kv["seq"] + 0 != seq_n[img]) {
        if (!seq_bad[img])
            printf "rec_summary: %s: seq %s where %d expected (line %d)\n",
                img, kv["seq"], seq_n[img], NR > "/dev/stderr"
        seq_bad[img] = 1
        seq_n[img] = kv["seq"] + 0
    }
    seq_n[img]++
}

{
    if ($1 == "alloc") rec_fast_alloc()
    else if ($1 == "free") rec_fast_free()
    else rec_parse()
    img = kv["pid"] " " kv["gen"]
    rec_seq(img)
}

$1 == "alloc" {
    key = img " " kv["addr"]
    if (key in live) {
        cnt["Z " img " " kv["size"] " " kv["realloc"]]++
        lcnt[img " " live[key]]--
    }
    live[key] = kv["size"]
    lcnt[img " " kv["size"]]++
    cnt["A " img " " kv["size"] " " kv["family"] " " kv["api"] " " kv["realloc"]]++
    cnt["K " img " " kv["size"] " " kv["tid"]]++
    if (detail)
        print "D", img, kv["size"], kv["family"], kv["api"], kv["realloc"], kv["addr"],
            kv["usable"], kv["tid"], kv["stack"]
    next
}

$1 == "free" {
    key = img " " kv["addr"]
    if (key in live) {
        cnt["F " img " " live[key] " " kv["family"] " " kv["api"] " " kv["realloc"]]++
        lcnt[img " " live[key]]--
        delete live[key]
    } else {
        cnt["U " img " " kv["family"] " " kv["api"] " " kv["realloc"]]++
    }
    next
}

$1 == "error" { cnt["E " img " " kv["kind"]]++; next }
$1 == "process" { print "P", img, kv["ppid"], kv["parent_gen"], kv["forked"]; next }
$1 == "exit" { print "X", img, kv["status"]; next }
$1 == "proc_end" {
    print "Q", img, kv["how"], kv["status"], kv["dropped"], kv["degraded"]
    next
}
$1 == "thread" { print "T", img, kv["tid"], kv["event"], kv["name"]; next }
$1 == "module" { print "M", img, kv["id"], kv["path"]; next }
$1 == "module_unload" { print "N", img, kv["id"]; next }

END {
    for (k in cnt) if (cnt[k]) print k, cnt[k]
    for (k in lcnt) if (lcnt[k] > 0) print "L", k, lcnt[k]
    for (k in seq_n) print "S", k, seq_n[k], seq_bad[k] ? "bad" : "ok"
}
