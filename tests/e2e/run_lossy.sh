#!/usr/bin/env bash
# run_lossy.sh — with --lossy a full ring drops events, and every drop is counted
#
# The rec_flood load of run_lossless.sh under --lossy with 64 KiB rings.
# Whatever arrives must be a subset of what the program did, the dropped
# count in proc_end must cover exactly what is missing (it may also count
# non-event records such as stacks), the drop must be flagged as
# degradation, and the program must still finish normally. Issue #2.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rec_common.bash"
rec_require rec_flood

threads=4 iters=250000
MEMTRACE_RING_BYTES=65536 REC_RUN_OPTS=--lossy rec_record lossy "$TGT/rec_flood" $threads $iters
assert_eq 0 "$REC_STATUS" "memtrace run exit status"
S=$T/lossy.sum
pid=$(rec_root_pid "$S")
[ -n "$pid" ] || fail "no process record"
expected=$((2 * threads * iters)) # allocations + frees the program made
seen_a=$(rec_count "$S" "A $pid 0 (1009|1013|1019|1021) malloc malloc 0")
seen_f=$(rec_count "$S" "(F $pid 0 (1009|1013|1019|1021)|U $pid 0) malloc free 0")
seen=$((seen_a + seen_f))
read -r _ _ _ how status dropped degraded < <(rec_lines "$S" "Q $pid 0")
assert_eq "exited 0" "$how $status" "proc_end of the lossy run"
[ "$seen" -le "$expected" ] || fail "lossy run saw $seen events, the program made $expected"
[ $((seen + dropped)) -ge "$expected" ] || fail "seen $seen + dropped $dropped < $expected: uncounted loss"
[ "$dropped" -gt 0 ] || fail "no drops with 64 KiB rings under a flood: is --lossy honoured?"
[ $((degraded & 1)) -eq 1 ] || fail "drops not flagged as degradation (degraded=$degraded)"
rec_assert_no_errors "$S"
pass
