#!/usr/bin/env bash
# run_fork_threads.sh — forks while other threads are inside the preload: children complete and are whole
#
# tests/targets/rec_fork_mt.c forks 20 children while four threads allocate
# without pause. Every child must finish (the target kills one that hangs
# after 10 s and reports it), and each child's image must hold exactly its
# 3 allocations of 50021 and their frees, a forked PROCESS record naming the
# parent, an EXIT with status 0 and dense sequence numbers. Catches locks
# (ring, overflow ring, stack table, arena) held across fork. Issue #2.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rec_common.bash"
rec_require rec_fork_mt

rec_record fmt "$TGT/rec_fork_mt" "$T/kids.txt"
assert_eq 0 "$REC_STATUS" "memtrace run exit status"
S=$T/fmt.sum
parent=$(rec_root_pid "$S")
assert_eq 20 "$(wc -l <"$T/kids.txt")" "children reported"
while read -r _ child _ status; do
    assert_eq 0 "$status" "child $child's wait status (-1: hung and killed)"
    assert_eq 1 "$(rec_n "$S" "P $child 0 $parent 0 1")" "child $child: forked PROCESS record, ppid $parent"
    assert_eq 3 "$(rec_count "$S" "A $child 0 50021 malloc malloc 0")" "child $child's allocations"
    assert_eq 3 "$(rec_count "$S" "F $child 0 50021 malloc free 0")" "child $child's frees"
    assert_eq 1 "$(rec_n "$S" "X $child 0 0")" "child $child's EXIT record"
done <"$T/kids.txt"
assert_eq 0 "$(rec_count "$S" "A $parent 0 50021")" "children's allocations under the parent"
rec_assert_no_errors "$S"
rec_assert_seq_ok "$S"
pass
