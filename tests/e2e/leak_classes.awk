# tests/e2e/leak_classes.awk — per-class leak totals from `memtrace dump` text
#
# Used by leak_common.bash until the analyzer's database holds the classes.
# Joins every `leak` line with the size of the latest `alloc` of the same
# address (and pid) seen before that process's `leak_begin`, as
# docs/leaks.md describes. Prints, per class in memcheck's order:
#     <class> <bytes> <blocks>
# then `unmatched <n>` (leak entries with no alloc: must be 0),
# `scan <blocks> <bytes>` from leak_end (blocks the scan classified) and
# `live <n>`: blocks allocated and not freed before leak_begin, by the trace.

function kv(key,    i, n) {
    for (i = 2; i <= NF; i++) {
        n = index($i, "=")
        if (n > 0 && substr($i, 1, n - 1) == key) return substr($i, n + 1)
    }
    return ""
}

$1 == "alloc" {
    pid = kv("pid")
    if (!(pid in began)) { size[pid, kv("addr")] = kv("size"); live[pid, kv("addr")] = 1 }
}
$1 == "free" { pid = kv("pid"); if (!(pid in began)) delete live[pid, kv("addr")] }
$1 == "leak_begin" { began[kv("pid")] = 1 }
$1 == "leak" {
    pid = kv("pid"); a = kv("addr"); c = kv("class")
    if (!((pid, a) in size)) { unmatched++; next }
    bytes[c] += size[pid, a]; blocks[c]++
}
$1 == "leak_end" { scan_blocks += kv("blocks"); scan_bytes += kv("bytes") }

END {
    split("definite indirect possible reachable", order, " ")
    for (i = 1; i <= 4; i++) printf "%s %d %d\n", order[i], bytes[order[i]], blocks[order[i]]
    printf "unmatched %d\n", unmatched
    printf "scan %d %d\n", scan_blocks, scan_bytes
    for (k in live) n_live++
    printf "live %d\n", n_live
}
