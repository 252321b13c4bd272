#!/usr/bin/env bash
# run_fork.sh — a forked child is followed: its events under its own pid, its parent named
#
# tests/targets/rec_fork.c: parent 3 x malloc(30011), fork, child 5 x
# malloc(30013) + frees + free of an inherited block. Checks the child's
# PROCESS record (forked=1, ppid = parent), that each side's events carry its
# own pid, and that the child's free of an inherited block is no error.
# Issue #2.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rec_common.bash"
rec_require rec_fork

rec_record fork "$TGT/rec_fork" "$T/pids.txt"
assert_eq 0 "$REC_STATUS" "memtrace run exit status"
S=$T/fork.sum
read -r _ child _ ppid _ inherited < <(grep '^child ' "$T/pids.txt")
read -r _ parent _ cstatus < <(grep '^parent ' "$T/pids.txt")
[ -n "$child" ] && [ -n "$parent" ] || fail "target did not report its pids: $(cat "$T/pids.txt")"
assert_eq "$parent" "$ppid" "child's getppid()"
assert_eq 0 "$cstatus" "child's exit status"

assert_eq "$parent" "$(rec_root_pid "$S")" "root image pid"
assert_eq 1 "$(rec_n "$S" "P $child 0 $parent 0 1")" "child PROCESS record: gen 0, ppid $parent, parent_gen 0, forked=1"
assert_eq 3 "$(rec_count "$S" "A $parent 0 30011 malloc malloc")" "parent's allocations"
assert_eq 3 "$(rec_count "$S" "F $parent 0 30011 malloc free")" "parent's frees"
assert_eq 0 "$(rec_count "$S" "A $parent 0 30013")" "child's size under the parent's pid"
assert_eq 5 "$(rec_count "$S" "A $child 0 30013 malloc malloc")" "child's allocations under its pid"
assert_eq 5 "$(rec_count "$S" "F $child 0 30013 malloc free")" "child's frees under its pid"
assert_eq 0 "$(rec_count "$S" "A $child 0 30011")" "parent's pre-fork allocations repeated in the child"
# The first record at the inherited address in the child is its free (the
# address may be reused by the child's later allocations and freed again).
first=$(grep -E "^(alloc|free) pid=$child gen=0 " "$T/fork.dump" | while read -r kind _ _ _ _ _ a _; do
    [ $((${a#addr=})) -eq $((inherited)) ] && { echo "$kind"; break; }
done)
assert_eq free "$first" "first record of the child at the inherited block $inherited"
rec_assert_no_errors "$S"
assert_eq 1 "$(rec_n "$S" "X $child 0 0")" "child exit record, status 0"
assert_eq 1 "$(rec_n "$S" "X $parent 0 0")" "parent exit record, status 0"
rec_assert_seq_ok "$S"
pass
