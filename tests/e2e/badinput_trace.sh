#!/usr/bin/env bash
# badinput_trace.sh — analyze and dump on inputs that are not traces,
# unwritable databases and bad options
#
# One "memtrace <verb>:" line, exit 125 (2 for usage), no crash, no hang,
# and no database (nor its temp file) left for an input that failed.
# analyze -o onto a device is refused: renaming the finished database
# over /dev/null used to replace the device node.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/badinput_common.bash"
bad_files "$T"
good_db "$T"
head -c 40 "$T/good.mtrace" >"$T/cut_header.mtrace"

declare -A why=(
    [missing.mtrace]="No such file" [adir]="Is a directory" [empty]="empty file"
    [random.bin]="not a memtrace file" [text.txt]="not a memtrace file"
    [foreign.db]="not a memtrace file" [good.db]="not a memtrace file"
    [cut_header.mtrace]="truncated"
)
for f in "${!why[@]}"; do
    expect_fail analyze 125 "analyze $f" -- analyze "$T/$f" -o "$T/a.db"
    assert_contains "$T/bi.err" "${why[$f]}" "analyze $f: reason"
    no_output "$T/a.db" "analyze $f"
    expect_fail dump 125 "dump $f" -- dump "$T/$f"
    assert_contains "$T/bi.err" "${why[$f]}" "dump $f: reason"
    [ ! -s "$T/bi.out" ] || fail "dump $f printed records"
    expect_fail dump 125 "dump --stats $f" -- dump --stats "$T/$f"
done
# default name: <trace>.db beside it, not left for a bad trace
cp "$T/text.txt" "$T/bad.mtrace"
expect_fail analyze 125 "analyze with the default name" -- analyze "$T/bad.mtrace"
no_output "$T/bad.db" "analyze with the default name"

# unwritable or unsuitable databases: 125, nothing left behind
expect_fail analyze 125 "analyze -o in a missing directory" -- analyze "$T/good.mtrace" -o "$T/nodir/x.db"
assert_contains "$T/bi.err" "No such file or directory" "names the OS reason"
no_output "$T/nodir/x.db" "analyze -o in a missing directory"
expect_fail analyze 125 "analyze -o a directory" -- analyze "$T/good.mtrace" -o "$T/adir"
[ -z "$(ls -A "$T/adir")" ] || fail "analyze -o a directory wrote into it"
[ -z "$(find "$T" -maxdepth 1 -name 'adir.tmp-*')" ] || fail "temp database left beside adir"
expect_fail analyze 125 "analyze -o /dev/null" -- analyze "$T/good.mtrace" -o /dev/null
[ -c /dev/null ] || fail "/dev/null is no longer a device"
# a symlink to an existing database: the new one goes to its target
cp "$T/wrongver.db" "$T/old.db"
ln -s old.db "$T/link.db"
expect_ok "analyze -o a symlink" -- analyze "$T/good.mtrace" -o "$T/link.db"
[ -L "$T/link.db" ] || fail "analyze -o replaced the symlink"
assert_eq 2 "$(sql "$T/old.db" "SELECT value FROM meta WHERE key = 'schema_version'")" "database written through the link"

# usage
expect_fail analyze 2 "analyze without a trace" -- analyze
expect_fail analyze 2 "analyze --bogus" -- analyze --bogus "$T/good.mtrace"
expect_fail analyze 2 "analyze -o without a value" -- analyze "$T/good.mtrace" -o
expect_fail analyze 2 "analyze two traces" -- analyze "$T/good.mtrace" "$T/good.mtrace"
expect_fail dump 2 "dump without a trace" -- dump
expect_fail dump 2 "dump --bogus" -- dump --bogus "$T/good.mtrace"
expect_fail dump 2 "dump two traces" -- dump "$T/good.mtrace" "$T/good.mtrace"
for v in analyze dump; do
    "$MT" $v --help >"$T/h.out" 2>&1 || fail "$v --help: exit $?"
    assert_contains "$T/h.out" "usage: memtrace $v" "$v --help"
done
# stdout that cannot be written is an error, not a success
if [ -c /dev/full ]; then
    timeout 60 "$MT" dump "$T/good.mtrace" >/dev/full 2>"$T/full.err"
    assert_eq 125 $? "dump to a full stdout"
    assert_eq 1 "$(wc -l <"$T/full.err")" "dump to a full stdout: stderr lines"
    timeout 60 "$MT" tui --json "$T/good.db" >/dev/full 2>"$T/full.err"
    assert_eq 125 $? "tui --json to a full stdout"
    timeout 60 "$MT" report "$T/good.db" >/dev/full 2>"$T/full.err"
    assert_eq 125 $? "report to a full stdout"
fi
pass
