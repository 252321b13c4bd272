#!/usr/bin/env bash
# run_lossless.sh — small rings and millions of events: the producer waits, nothing is lost
#
# tests/targets/rec_flood.c with 4 threads x 250000 iterations (1M
# allocations + 1M frees) under MEMTRACE_RING_BYTES=65536, a ring 16 times
# smaller than the default, so producers meet full rings all the time. The
# counts must match exactly, sequence numbers stay dense and ordered, and
# the collector reports nothing dropped. Issue #2, DESIGN.md "Nothing lost".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rec_common.bash"
rec_require rec_flood

threads=4 iters=250000
MEMTRACE_RING_BYTES=65536 rec_record flood "$TGT/rec_flood" $threads $iters
assert_eq 0 "$REC_STATUS" "memtrace run exit status"
S=$T/flood.sum
pid=$(rec_root_pid "$S")
[ -n "$pid" ] || fail "no process record"
each=$((threads * iters / 4))
for size in 1009 1013 1019 1021; do
    assert_eq $each "$(rec_count "$S" "A $pid 0 $size malloc malloc 0")" "allocations of $size"
    assert_eq $each "$(rec_count "$S" "F $pid 0 $size malloc free 0")" "frees of $size blocks"
done
rec_assert_no_errors "$S"
assert_eq "" "$(rec_lines "$S" "U $pid 0")" "frees of addresses never allocated"
assert_eq 0 "$(rec_count "$S" "Z $pid 0")" "allocations onto an address still live"
rec_assert_seq_ok "$S"
assert_eq 1 "$(rec_n "$S" "Q $pid 0 exited 0 0")" "proc_end: exited 0, dropped 0"
pass
