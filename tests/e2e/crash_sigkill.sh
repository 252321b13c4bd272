#!/usr/bin/env bash
# crash_sigkill.sh — a target killed with SIGKILL leaves every event it wrote before
#
# tests/targets/rec_kill.c makes 1000 x malloc(60013), frees 400, writes a
# marker, then allocates and frees without end. The test SIGKILLs it as soon
# as the marker appears. The trace must hold exactly the 1000 + 400 known
# events, the endless loop's blocks paired (all but at most the last), no
# EXIT record, a proc_end saying signaled 9, and memtrace must end with the
# program's status (128 + 9). Issue #2, DESIGN.md "Nothing lost".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rec_common.bash"
rec_require rec_kill

timeout "$REC_TIMEOUT" "$MT" run -o "$T/kill.mtrace" --no-analyze -- "$TGT/rec_kill" "$T/marker" \
    >"$T/kill.run.out" 2>"$T/kill.run.err" &
mt=$!
rec_wait_file "$T/marker" 20
read -r _ tpid <"$T/marker"
[ -n "$tpid" ] || fail "marker without a pid"
kill -KILL "$tpid" || fail "could not kill target $tpid"
wait "$mt"
status=$?
[ "$status" -ne 124 ] || fail "memtrace run did not end after its target was killed"
assert_eq 137 "$status" "memtrace run status for a program killed by SIGKILL"

rec_dump kill
S=$T/kill.sum
assert_eq "$tpid" "$(rec_root_pid "$S")" "root image pid"
assert_eq 1000 "$(rec_count "$S" "A $tpid 0 60013 malloc malloc")" "allocations before the marker"
assert_eq 400 "$(rec_count "$S" "F $tpid 0 60013 malloc free")" "frees before the marker"
assert_eq 600 "$(rec_count "$S" "L $tpid 0 60013")" "blocks live at the kill"
loop_a=$(rec_count "$S" "A $tpid 0 60029")
loop_f=$(rec_count "$S" "F $tpid 0 60029")
[ $((loop_a - loop_f)) -le 1 ] && [ $((loop_a - loop_f)) -ge 0 ] ||
    fail "endless loop: $loop_a allocations but $loop_f frees"
assert_eq 0 "$(rec_n "$S" "X $tpid 0")" "EXIT record of a killed process"
assert_eq 1 "$(rec_n "$S" "Q $tpid 0 signaled 9")" "proc_end how=signaled status=9"
rec_assert_no_errors "$S"
rec_assert_seq_ok "$S"
pass
