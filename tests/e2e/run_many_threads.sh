#!/usr/bin/env bash
# run_many_threads.sh — more live threads than exclusive rings: the overflow ring loses nothing
#
# tests/targets/rec_flood.c with 64 threads started together (plus main:
# more producers than the 63 exclusive rings of ring.h), 4000 iterations
# each, 64 KiB rings. Counts must be exact per size and per thread, every
# worker must have a start and an end thread record, and sequence numbers
# stay dense. Then 16 threads with the overflow ring as the only ring, 4 KiB.
# Issue #2, ring.h design note 2.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rec_common.bash"
rec_require rec_flood

threads=64 iters=4000
MEMTRACE_RING_BYTES=65536 rec_record many "$TGT/rec_flood" $threads $iters
assert_eq 0 "$REC_STATUS" "memtrace run exit status"
S=$T/many.sum
rec_assert_flood "$S" $threads $iters
pid=$REC_PID
# Every worker made exactly iters allocations, under one tid.
per_tid=$(rec_lines "$S" "K $pid 0 (1009|1013|1019|1021)" |
    awk '{ n[$5] += $6 } END { for (t in n) print n[t] }' | sort | uniq -c | sed 's/^ *//')
assert_eq "$threads $iters" "$per_tid" "threads x allocations per thread"
assert_eq $((threads + 1)) "$(rec_n "$S" "T $pid 0 [0-9]+ start")" "thread start records (workers + main)"
[ "$(rec_n "$S" "T $pid 0 [0-9]+ end")" -ge "$threads" ] || fail "fewer than $threads thread end records"
assert_eq "" "$(rec_lines "$S" "U $pid 0")" "frees of addresses never allocated"

# Only the overflow ring (MEMTRACE_RINGS=1), and the smallest ring size: 16
# threads serialise on its lock and wait on it full, all the time.
threads=16 iters=8000
MEMTRACE_RINGS=1 MEMTRACE_RING_BYTES=4096 rec_record overflow "$TGT/rec_flood" $threads $iters
assert_eq 0 "$REC_STATUS" "memtrace run exit status (overflow ring only)"
rec_assert_flood "$T/overflow.sum" $threads $iters "overflow ring"
pass
