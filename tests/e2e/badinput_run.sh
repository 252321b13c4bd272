#!/usr/bin/env bash
# badinput_run.sh — run, check (program form) and top with bad options,
# programs, preload libraries and outputs
#
# One "memtrace <verb>:" line and the documented exit: 2 usage, 125
# memtrace cannot work (the program is then not run), 126/127 the program
# cannot be executed / was not found. A trace that cannot be created used
# to hang run forever (the waiting child held its own pipe open). A
# program that ran untraced (a static binary, a preload that is not
# libmemtrace.so) is an error, never an empty "clean" result.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/badinput_common.bash"
[ -f "${MT_PRELOAD:-}" ] || skip "no preload library"
export MEMTRACE_PRELOAD=$MT_PRELOAD
bad_files "$T"
cd "$T" || fail "cd"

# usage: 2, the program not run
for opt in --bogus -Z; do
    expect_fail run 2 "run $opt" -- run "$opt" -- touch "$T/ran"
    expect_fail check 2 "check $opt" -- check "$opt" -- touch "$T/ran"
    expect_fail top 2 "top $opt" -- top "$opt"
done
for opt in -o --depth --sample-period --program-output --db; do
    expect_fail run 2 "run $opt without a value" -- run "$opt"
done
for opt in --fail-on --suppressions --junit --sarif --baseline --depth; do
    expect_fail check 2 "check $opt without a value" -- check "$opt"
done
expect_fail run 2 "run --depth 0" -- run --depth 0 -- touch "$T/ran"
expect_fail run 2 "run --depth abc" -- run --depth abc -- touch "$T/ran"
expect_fail run 2 "run --sample-period 0" -- run --sample-period 0 -- touch "$T/ran"
expect_fail run 2 "run without a program" -- run
expect_fail top 2 "top --pid x" -- top --pid x --json
expect_fail top 2 "top with two sessions named" -- top a b
[ ! -e "$T/ran" ] || fail "a usage error ran the program"

# the program: 127 / 126
expect_fail run 127 "run a missing program" -- run -- "$T/nope"
expect_fail run 127 "run a program not in PATH" -- run -- memtrace-no-such-program
expect_fail run 126 "run a text file" -- run -- "$T/text.txt"
expect_fail check 127 "check a missing program" -- check -- "$T/nope"
expect_fail check 126 "check a text file" -- check -- "$T/text.txt"
no_output "$T/nope.db" "run of a missing program"

# the preload library: 125 and the program is not run
for p in "$T/nope.so" "$T/adir" "$T/text.txt" "$T/empty"; do
    MEMTRACE_PRELOAD=$p expect_fail run 125 "MEMTRACE_PRELOAD=$p" -- run -o "$T/p.mtrace" -- touch "$T/ran"
    assert_contains "$T/bi.err" "MEMTRACE_PRELOAD=$p" "names the preload"
    [ ! -e "$T/ran" ] || fail "the program ran without its preload ($p)"
    no_output "$T/p.mtrace" "MEMTRACE_PRELOAD=$p"
done

# a trace that cannot be created: 125, promptly (this hung), program not run
expect_fail run 125 "run -o in a missing directory" -- run -o "$T/nodir/t.mtrace" -- touch "$T/ran"
expect_fail run 125 "run -o a directory" -- run -o "$T/adir" -- touch "$T/ran"
expect_fail run 125 "run --program-output in a missing directory" \
    -- run --program-output "$T/nodir/out" -o "$T/po.mtrace" -- touch "$T/ran"
[ ! -e "$T/ran" ] || fail "the program ran although its trace could not be created"
no_output "$T/po.mtrace" "run --program-output in a missing directory"
# the database cannot be written: the trace, the recording, is kept
expect_fail run 125 "run --db in a missing directory" -- run -o "$T/k.mtrace" --db "$T/nodir/k.db" -- true
[ -s "$T/k.mtrace" ] || fail "the recording was lost when its database could not be written"
expect_ok "analyze the kept trace" -- analyze "$T/k.mtrace" -o "$T/k.db"

# untraced: a statically linked program
static=
for c in /usr/sbin/ldconfig /sbin/ldconfig /bin/busybox; do
    [ -x "$c" ] && file -L "$c" 2>/dev/null | grep -q 'static' && { static=$c; break; }
done
if [ -n "$static" ]; then
    expect_fail run 125 "run a static program" -- run -o "$T/s.mtrace" -- "$static" --help
    assert_contains "$T/bi.err" "ran untraced" "says the program was not traced"
    no_output "$T/s.db" "run a static program"
    expect_fail check 125 "check a static program" -- check -- "$static" --help
    assert_contains "$T/bi.err" "nothing to judge" "check says it judged nothing"
fi

for v in run check top; do
    "$MT" $v --help >"$T/h.out" 2>&1 || fail "$v --help: exit $?"
    assert_contains "$T/h.out" "usage: memtrace $v" "$v --help"
done
expect_fail top 125 "top of a missing session" -- top --json "$T/nope"
expect_fail top 125 "top of a pid nobody traces" -- top --json 999999999
expect_fail top 125 "top of a regular file" -- top --json "$T/text.txt"
pass
