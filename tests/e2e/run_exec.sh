#!/usr/bin/env bash
# run_exec.sh — exec is followed: a new image of the same pid, or of a forked child
#
# tests/targets/rec_exec.c in two modes. `self`: the root process execs
# itself, so its second image must be (same pid, gen 1) with the 31019
# allocations, the 31013 ones staying in gen 0, and the collector closing
# gen 0 with how=exec. `forkexec`: a forked child execs, so the 31019
# allocations belong to the child's pid, child of the root. Issue #2.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rec_common.bash"
rec_require rec_exec

# --- self: same pid, generation 1
rec_record self "$TGT/rec_exec" self "$T/self.txt"
assert_eq 0 "$REC_STATUS" "memtrace run exit status (self)"
S=$T/self.sum
read -r _ start < <(grep '^start ' "$T/self.txt")
read -r _ stage2 < <(grep '^stage2 ' "$T/self.txt")
assert_eq "$start" "$stage2" "exec keeps the pid"
assert_eq "$start" "$(rec_root_pid "$S")" "root image pid"
assert_eq 1 "$(rec_n "$S" "P $start 1")" "PROCESS record of (pid $start, gen 1)"
grep -qE "^process pid=$start gen=1 .*argv=rec_exec stage2 " "$T/self.dump" || fail "gen 1 argv is not the exec'd one"
assert_eq 2 "$(rec_count "$S" "A $start 0 31013 malloc malloc")" "gen 0 allocations"
assert_eq 2 "$(rec_count "$S" "F $start 0 31013 malloc free")" "gen 0 frees"
assert_eq 0 "$(rec_count "$S" "A $start 1 31013")" "gen 0 allocations repeated in gen 1"
assert_eq 3 "$(rec_count "$S" "A $start 1 31019 malloc malloc")" "gen 1 allocations"
assert_eq 3 "$(rec_count "$S" "F $start 1 31019 malloc free")" "gen 1 frees"
assert_eq 0 "$(rec_count "$S" "A $start 0 31019")" "gen 1 allocations under gen 0"
assert_eq 1 "$(rec_n "$S" "Q $start 0 exec")" "proc_end how=exec for gen 0"
assert_eq 1 "$(rec_n "$S" "Q $start 1 exited 0")" "proc_end how=exited status 0 for gen 1"
rec_assert_no_errors "$S"
rec_assert_seq_ok "$S"

# --- forkexec: a new pid, whose exec'd image is a child of the root
rec_record forkexec "$TGT/rec_exec" forkexec "$T/fe.txt"
assert_eq 0 "$REC_STATUS" "memtrace run exit status (forkexec)"
S=$T/forkexec.sum
read -r _ start < <(grep '^start ' "$T/fe.txt")
read -r _ child < <(grep '^stage2 ' "$T/fe.txt")
[ -n "$child" ] && [ "$child" != "$start" ] || fail "fork+exec child pid not reported: $(cat "$T/fe.txt")"
assert_eq "$start" "$(rec_root_pid "$S")" "root image pid"
assert_eq 2 "$(rec_count "$S" "A $start 0 31013 malloc malloc")" "root allocations"
assert_eq 0 "$(rec_count "$S" "A $start [0-9]+ 31019")" "exec'd child's allocations under the root pid"
assert_eq 3 "$(rec_count "$S" "A $child [0-9]+ 31019 malloc malloc")" "exec'd child's allocations under its pid"
assert_eq 3 "$(rec_count "$S" "F $child [0-9]+ 31019 malloc free")" "exec'd child's frees"
gen=$(rec_lines "$S" "A $child [0-9]+ 31019" | awk '{ print $3; exit }')
assert_eq 1 "$(rec_n "$S" "P $child $gen $start")" "PROCESS record of the exec'd image (pid $child gen $gen), ppid $start"
grep -qE "^process pid=$child gen=$gen .*argv=rec_exec stage2 " "$T/forkexec.dump" || fail "exec'd image's argv"
rec_assert_no_errors "$S"
rec_assert_seq_ok "$S"
pass
