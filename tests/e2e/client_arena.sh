#!/usr/bin/env bash
# client_arena.sh — a bump arena annotated with memtrace.h, checked in the database
#
# tests/targets/client_arena.c lists the truth: resets free every chunk (no
# leaks), the peak waste is 13568 bytes (19200 live of 32768 held), the
# chunks count in the process's peak heap, allocations made while paused
# are not recorded, markers come in order. Same behaviour without memtrace.
# Issue #7.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/client_common.bash"
client_run client_arena
assert_eq 0 "$client_rc" "exit status"

assert_eq "frame|350|3|0|200|19200|32768|13568|2|0" "$(sql "$DB" "SELECT name, n_allocs, n_resets,
  n_frees, peak_live_chunks, peak_live_bytes, peak_held_bytes, peak_waste_bytes, n_superblocks,
  leaked_chunks FROM pools")" "pool row"
assert_eq 1 "$(sql "$DB" "SELECT destroy_seq > 0 FROM pools")" "destroyed"
# a reset ends every chunk: no chunk leak, every chunk row freed by a reset
assert_eq "350|350|0" "$(sql "$DB" "SELECT count(*), sum(free_api = 'pool_reset'),
  sum(leak_class IS NOT NULL) FROM allocations WHERE family = 'pool:frame'")" "chunks ended by resets"
assert_eq 0 "$(sql "$DB" "SELECT count(*) FROM leaks_by_site WHERE class <> 'reachable'")" "no leaks"
# chunks count in the peak heap (superblocks are mmap'ed, not heap)
peak=$(sql "$DB" "SELECT peak_heap_bytes FROM processes")
[ "$peak" -ge 19200 ] && [ "$peak" -lt 27392 ] || fail "peak heap $peak not 19200 + a little"
# allocations while paused are neither recorded nor leaks
assert_eq 0 "$(sql "$DB" "SELECT count(*) FROM allocations WHERE size = 333")" "paused allocations"
assert_eq "round1:mark,pause:pause,resume:resume,round2:mark,round3:mark" "$(sql "$DB" "SELECT
  group_concat(name || ':' || kind) FROM (SELECT name, kind FROM markers ORDER BY seq)")" "markers"
r1=$(sql "$DB" "SELECT seq FROM markers WHERE name = 'round1'")
r2=$(sql "$DB" "SELECT seq FROM markers WHERE name = 'round2'")
assert_eq 200 "$(sql "$DB" "SELECT count(*) FROM allocations WHERE family = 'pool:frame'
  AND alloc_seq > $r1 AND alloc_seq < $r2")" "round 2 chunks between its markers"
# the pool over time ends empty and held nothing after destroy
assert_ge 1 "$(sql "$DB" "SELECT count(*) FROM pool_timeline")" "pool timeline rows"
assert_eq "0|0" "$(sql "$DB" "SELECT live_bytes, held_bytes FROM pool_timeline ORDER BY t_ns DESC LIMIT 1")" \
    "pool at the end"
assert_eq 19200 "$(sql "$DB" "SELECT max(max_live_bytes) FROM pool_timeline")" "timeline maximum"
# the dump shows the client records
"$MT" dump "$T/client_arena.mtrace" >"$T/dump.txt" || fail "dump"
assert_contains "$T/dump.txt" "event=create tid=" "pool create in dump"
assert_contains "$T/dump.txt" "op=mark" "marker in dump"
assert_contains "$T/dump.txt" "label=round2" "marker label in dump"
assert_contains "$T/dump.txt" "op=sb_add" "superblock in dump"
pass
