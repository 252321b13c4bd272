#!/usr/bin/env bash
# run_threads.sh — 16 threads allocating at once: every call recorded under its own tid
#
# tests/targets/rec_threads.c: worker w makes 200 malloc(20011 + 2w) and
# frees them, all 16 at once. Checks exact counts per worker, that each
# worker's records carry the tid the worker reported, a thread record per
# worker, dense sequence numbers across all threads. Issue #2.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rec_common.bash"
rec_require rec_threads

rec_record threads "$TGT/rec_threads" "$T/tids.txt"
assert_eq 0 "$REC_STATUS" "memtrace run exit status"
S=$T/threads.sum
pid=$(rec_root_pid "$S")
[ -n "$pid" ] || fail "no process record"
assert_eq 16 "$(wc -l <"$T/tids.txt")" "workers that reported their tid"

while read -r _ w _ tid; do
    size=$((20011 + 2 * w))
    assert_eq 200 "$(rec_count "$S" "A $pid 0 $size")" "allocations of worker $w (size $size)"
    assert_eq 200 "$(rec_count "$S" "A $pid 0 $size malloc malloc 0")" "worker $w: family/api malloc"
    assert_eq 200 "$(rec_count "$S" "K $pid 0 $size $tid")" "worker $w's allocations under its tid $tid"
    assert_eq 200 "$(rec_count "$S" "F $pid 0 $size malloc free 0")" "worker $w's frees"
    grep -qE "^thread pid=$pid gen=0 .* tid=$tid " "$T/threads.dump" || fail "no thread record for worker $w (tid $tid)"
    grep -qE "^thread pid=$pid gen=0 .* tid=$tid .*name=rec-w$w\$" "$T/threads.dump" ||
        fail "no thread record naming worker $w rec-w$w (tid $tid)"
done <"$T/tids.txt"
assert_eq 16 "$(awk '{ print $4 }' "$T/tids.txt" | sort -u | wc -l)" "distinct worker tids"
rec_assert_no_errors "$S"
assert_eq "" "$(rec_lines "$S" "U $pid 0")" "frees of addresses never allocated"
assert_eq 0 "$(rec_count "$S" "Z $pid 0")" "allocations onto an address still live"
rec_assert_seq_ok "$S"
pass
