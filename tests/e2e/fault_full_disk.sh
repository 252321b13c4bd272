#!/usr/bin/env bash
# fault_full_disk.sh — every writer on a full filesystem (STYLE item 23)
#
# A 64 KiB tmpfs: once empty (writes fail part way: a database, an html
# report), once filled to the last block (every write fails). analyze,
# report, export, diff, check --junit/--sarif and run must each print one
# "memtrace <verb>:" line, exit 125, not crash or hang, and leave nothing
# under the final name, nor a temp file. Also a 4 MiB tmpfs where the
# database fits but the allocations table's own pages (the analysis
# writes them next to it) do not. A trace is the one exception:
# what was recorded before the disk filled is kept (docs/cli.md, run).
# Needs root for the mount; skips otherwise.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/badinput_common.bash"
good_db "$T"
F=$T/full
mkdir "$F"
mount -t tmpfs -o size=64k tmpfs "$F" 2>/dev/null || skip "cannot mount a tmpfs (needs root)"
trap 'umount "$F" 2>/dev/null; mt_cleanup' EXIT
G=$T/good.db

empty_fs() { assert_eq "$1" "$(ls -A "$F" | tr '\n' ' ')" "files left on the full filesystem"; }

# writes that fail part way
expect_fail analyze 125 "analyze onto 64 KiB" -- analyze "$T/good.mtrace" -o "$F/x.db"
assert_contains "$T/bi.err" "full" "says the disk is full"
empty_fs ""
expect_fail report 125 "html report onto 64 KiB" -- report -f html "$G" -o "$F/r.html"
empty_fs ""
MEMTRACE_PRELOAD=$MT_PRELOAD expect_fail run 125 "run --db onto 64 KiB" \
    -- run -o "$T/k.mtrace" --db "$F/k.db" -- "$TGT/leak_list"
empty_fs ""
[ -s "$T/k.mtrace" ] || fail "the recording was lost when its database could not be written"

# room for the database, not for its allocations pages (analyzer/analyze/an_writer.c)
H=$T/half
mkdir "$H"
mount -t tmpfs -o size=4m tmpfs "$H" 2>/dev/null || skip "cannot mount a second tmpfs"
trap 'umount "$F" "$H" 2>/dev/null; mt_cleanup' EXIT
MEMTRACE_PRELOAD=$MT_PRELOAD timeout 120 "$MT" run --no-analyze -o "$T/churn.mtrace" \
    -- "$TGT/an_churn" 20000 >/dev/null 2>&1 || fail "recording an_churn"
expect_fail analyze 125 "analyze with 4 MiB for ~6 MiB of rows" -- analyze "$T/churn.mtrace" -o "$H/c.db"
assert_contains "$T/bi.err" "writing allocations: No space left" "says the rows could not be written: the disk is full"
assert_eq "" "$(ls -A "$H" | tr '\n' ' ')" "files left on the 4 MiB filesystem"

# every write fails
dd if=/dev/zero of="$F/fill" bs=4k >/dev/null 2>&1
expect_fail report 125 "report onto a full disk" -- report "$G" -o "$F/r.txt"
expect_fail report 125 "json report onto a full disk" -- report -f json "$G" -o "$F/r.json"
expect_fail export 125 "folded onto a full disk" -- export -f folded "$G" -o "$F/f.txt"
expect_fail export 125 "pprof onto a full disk" -- export -f pprof "$G" -o "$F/f.pb.gz"
expect_fail export 125 "massif onto a full disk" -- export -f massif "$G" -o "$F/m.out"
expect_fail diff 125 "diff onto a full disk" -- diff "$G" "$G" -o "$F/d.txt"
expect_fail check 125 "junit onto a full disk" -- check --junit "$F/j.xml" "$G"
expect_fail check 125 "sarif onto a full disk" -- check --sarif "$F/s.sarif" "$G"
expect_fail analyze 125 "analyze onto a full disk" -- analyze "$T/good.mtrace" -o "$F/x.db"
empty_fs "fill "
# a trace whose header cannot be written: the program is not run half-traced
MEMTRACE_PRELOAD=$MT_PRELOAD expect_fail run 125 "run -o onto a full disk" \
    -- run --no-analyze -o "$F/t.mtrace" -- touch "$T/ran"
[ ! -e "$T/ran" ] || fail "the program ran although its trace could not be created"
empty_fs "fill "

# a read-only filesystem: the reason itself, not SQLite's "No such file"
R=$T/ro
mkdir "$R"
mount -t tmpfs -o ro tmpfs "$R" 2>/dev/null || skip "cannot mount a read-only tmpfs"
trap 'umount "$F" "$H" "$R" 2>/dev/null; mt_cleanup' EXIT
expect_fail analyze 125 "analyze onto a read-only filesystem" -- analyze "$T/good.mtrace" -o "$R/x.db"
assert_contains "$T/bi.err" "cannot create $R/x.db: Read-only file system" "says why it cannot create"
pass
