#!/usr/bin/env bash
# badinput_db.sh — report, export, diff, tui and check on inputs that are not
# (whole, current) memtrace databases, unwritable outputs and bad options
#
# Every case: one "memtrace <verb>:" line on stderr, the exit docs/cli.md
# gives (2 usage, 125 cannot read/write), no crash, no hang, no output
# file. Inputs: a missing path, a directory, an empty file, binary noise,
# text, someone else's SQLite file, a memtrace database of another schema
# version, one without meta, one cut in half, a trace instead of a
# database. Also -o onto /dev/null must leave the device alone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/badinput_common.bash"
bad_files "$T"
good_db "$T"
G=$T/good.db

declare -A why=(
    [missing.db]="No such file" [adir]="Is a directory" [empty]="not a memtrace database"
    [random.bin]="not a memtrace database" [text.txt]="not a memtrace database"
    [foreign.db]="not a memtrace database" [wrongver.db]="schema version 999"
    [nometa.db]="not a memtrace database" [half.db]="not a memtrace database"
    [good.mtrace]="a memtrace trace, not a database"
)
for f in "${!why[@]}"; do
    p=$T/$f
    expect_fail report 125 "report $f" -- report "$p" -o "$T/r.txt"
    assert_contains "$T/bi.err" "${why[$f]}" "report $f: reason"
    no_output "$T/r.txt" "report $f"
    expect_fail export 125 "export $f" -- export "$p" -f folded -o "$T/e.txt"
    no_output "$T/e.txt" "export $f"
    expect_fail diff 125 "diff $f as A" -- diff "$p" "$G" -o "$T/d.txt"
    no_output "$T/d.txt" "diff $f as A"
    expect_fail diff 125 "diff $f as B" -- diff "$G" "$p"
    expect_fail tui 125 "tui $f" -- tui --json "$p"
    assert_contains "$T/bi.err" "${why[$f]}" "tui $f: reason"
    expect_fail check 125 "check $f" -- check --junit "$T/j.xml" "$p"
    no_output "$T/j.xml" "check $f"
    expect_fail check 125 "check --baseline $f" -- check --baseline "$p" "$G"
done

# the good database passes every reader, so the failures above are the input's
expect_ok "report good" -- report "$G"
expect_ok "export good" -- export "$G" -f folded
expect_ok "diff good" -- diff "$G" "$G"
expect_ok "tui good" -- tui --json "$G"

# unwritable outputs: 125, no file, no temp file
for out in "$T/nodir/x.out" "$T/adir"; do
    expect_fail report 125 "report -o $out" -- report "$G" -o "$out"
    expect_fail export 125 "export -o $out" -- export "$G" -f pprof -o "$out"
    expect_fail diff 125 "diff -o $out" -- diff "$G" "$G" -o "$out"
    expect_fail check 125 "check --junit $out" -- check --junit "$out" "$G"
    expect_fail check 125 "check --sarif $out" -- check --sarif "$out" "$G"
done
no_output "$T/nodir/x.out" "outputs into a missing directory"
[ -d "$T/adir" ] && [ -z "$(ls -A "$T/adir")" ] || fail "-o onto a directory touched it"
# a device is written in place, never renamed over (it used to replace /dev/full)
if [ -c /dev/full ]; then
    expect_fail report 125 "report -o /dev/full" -- report "$G" -o /dev/full
    expect_fail export 125 "export -o /dev/full" -- export "$G" -f folded -o /dev/full
    [ -c /dev/full ] || fail "/dev/full is no longer a device"
fi
expect_ok "report -o /dev/null" -- report "$G" -o /dev/null
[ -c /dev/null ] || fail "/dev/null is no longer a device"
# a symlink keeps pointing at the new report
printf 'old\n' >"$T/target.txt"
ln -s target.txt "$T/link.txt"
expect_ok "report -o a symlink" -- report "$G" -o "$T/link.txt"
[ -L "$T/link.txt" ] || fail "-o onto a symlink replaced the link"
assert_contains "$T/target.txt" "memtrace" "report written through the link"

# usage errors: 2
for v in report export tui; do
    expect_fail $v 2 "$v without a database" -- $v
    expect_fail $v 2 "$v --bogus" -- $v --bogus "$G"
done
expect_fail diff 2 "diff with one database" -- diff "$G"
expect_fail diff 2 "diff --bogus" -- diff --bogus "$G" "$G"
expect_fail check 2 "check without anything" -- check
expect_fail check 2 "check --bogus" -- check --bogus "$G"
expect_fail check 2 "options after the database" -- check "$G" --junit "$T/j.xml"
no_output "$T/j.xml" "check with options after the database"
expect_fail report 2 "report -o without a value" -- report "$G" -o
expect_fail report 2 "report -f xml" -- report "$G" -f xml
expect_fail report 2 "report --top -1" -- report "$G" --top -1
expect_fail export 2 "export without --format" -- export "$G"
expect_fail export 2 "export -f svg" -- export "$G" -f svg
expect_fail export 2 "export --pid of no process" -- export "$G" -f folded --pid 999999 -o "$T/e.txt"
no_output "$T/e.txt" "export --pid of no process"
expect_fail diff 2 "diff --top x" -- diff "$G" "$G" --top x
expect_fail tui 2 "tui --pid abc" -- tui --json --pid abc "$G"
expect_fail tui 2 "tui --pid of no process" -- tui --json --pid 999999 "$G"
expect_fail tui 2 "tui --at bogus" -- tui --json --at bogus "$G"
expect_fail tui 2 "tui without a terminal" -- tui "$G"
expect_fail check 2 "check --fail-on bogus" -- check --fail-on bogus "$G"
expect_fail check 2 "check --max-peak xyz" -- check --max-peak xyz "$G"
expect_fail check 2 "check binary suppressions" -- check --suppressions "$T/random.bin" "$G"
expect_fail check 125 "check missing suppressions" -- check --suppressions "$T/nope" "$G"
for v in report export diff tui check; do
    "$MT" $v --help >"$T/h.out" 2>&1 || fail "$v --help: exit $?"
    assert_contains "$T/h.out" "usage: memtrace $v" "$v --help"
done
pass
