#!/usr/bin/env bash
# crash_segv.sh — a target that segfaults leaves every event it wrote before
#
# tests/targets/rec_segv.c makes 777 x malloc(60017), frees 333, then
# stores through NULL. The trace must hold exactly those events, no EXIT
# record, no leak scan (only a normal exit scans), a proc_end saying
# signaled 11, and memtrace must end with the program's status (128 + 11).
# Issue #2, DESIGN.md "Nothing lost".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rec_common.bash"
rec_require rec_segv

rec_record segv "$TGT/rec_segv"
assert_eq 139 "$REC_STATUS" "memtrace run status for a program killed by SIGSEGV"
S=$T/segv.sum
pid=$(rec_root_pid "$S")
[ -n "$pid" ] || fail "no process record"
assert_eq 777 "$(rec_count "$S" "A $pid 0 60017 malloc malloc 0")" "allocations before the crash"
assert_eq 333 "$(rec_count "$S" "F $pid 0 60017 malloc free 0")" "frees before the crash"
assert_eq 444 "$(rec_count "$S" "L $pid 0 60017")" "blocks live at the crash"
assert_eq 0 "$(rec_n "$S" "X $pid 0")" "EXIT record of a crashed process"
grep -qE "^leak_begin pid=$pid " "$T/segv.dump" && fail "leak scan after a crash"
assert_eq 1 "$(rec_n "$S" "Q $pid 0 signaled 11")" "proc_end how=signaled status=11"
rec_assert_no_errors "$S"
rec_assert_seq_ok "$S"
pass
