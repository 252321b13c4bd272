#!/usr/bin/env bash
# analyze_bad_input.sh — foreign, corrupt and truncated traces
#
# A foreign file and a corrupted trace get one error line and a non-zero
# exit, never a crash; a truncated trace is analyzed up to its last complete
# frame, says so, and records session.truncated = 1. Issue #3.
. "$(dirname "$0")/lib.sh"
case "$("$MT" analyze --help 2>&1)" in *"not available in this build"*) skip "analyze not linked" ;; esac
printf 'hello, this is not a trace\n' >"$T/foreign.mtrace"
"$MT" analyze "$T/foreign.mtrace" >"$T/o" 2>"$T/e"
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] || fail "foreign file: exit $rc"
assert_eq 1 "$(wc -l <"$T/e")" "one error line"
assert_contains "$T/e" "memtrace analyze:" "error prefix"
[ ! -e "$T/foreign.db" ] || fail "a database was left for a foreign file"
# A real trace needs run; without it stop here.
case "$("$MT" run --help 2>&1)" in *"not available in this build"*) pass ;; esac
[ -x "$TGT/an_churn" ] || skip "target not built"
export MEMTRACE_PRELOAD=$MT_PRELOAD
timeout 120 "$MT" run --no-analyze -o "$T/c.mtrace" -- "$TGT/an_churn" 20000 >/dev/null 2>&1 || fail "run"
size=$(stat -c %s "$T/c.mtrace")
head -c $((size * 2 / 3)) "$T/c.mtrace" >"$T/t.mtrace"
"$MT" analyze "$T/t.mtrace" -o "$T/t.db" >"$T/o" 2>"$T/e" || { cat "$T/e"; fail "truncated trace not analyzed"; }
assert_contains "$T/e" "truncated" "says truncated"
assert_eq 1 "$(sql "$T/t.db" "SELECT truncated FROM session")" "session.truncated"
cp "$T/c.mtrace" "$T/x.mtrace"
printf '\xde\xad\xbe\xef\xde\xad\xbe\xef' | dd of="$T/x.mtrace" bs=1 seek=100 conv=notrunc 2>/dev/null
"$MT" analyze "$T/x.mtrace" -o "$T/x.db" >"$T/o" 2>"$T/e"
rc=$?
[ "$rc" -lt 128 ] || fail "corrupt trace crashed the analyzer: $rc"
[ "$rc" -eq 0 ] || assert_eq 1 "$(wc -l <"$T/e")" "one error line for a corrupt trace"
pass
