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
rec_assert_flood "$S" $threads $iters
assert_eq "" "$(rec_lines "$S" "U $REC_PID 0")" "frees of addresses never allocated"
assert_eq 0 "$(rec_count "$S" "Z $REC_PID 0")" "allocations onto an address still live"
pass
