#!/usr/bin/env bash
# client_slab.sh — a slab pool annotated with memtrace.h, checked in the database
#
# tests/targets/client_slab.c lists the truth: chunk leaks with their own
# stacks, a double and an invalid free inside the pool, the pool's peak
# waste (1152 bytes), markers ordered with the allocations, an on-demand
# leak check that holds exactly the first phase's leaks, ignored objects.
# The program behaves the same without memtrace. Issue #7.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/client_common.bash"
client_run client_slab
assert_eq 7 "$client_rc" "exit status"

# the pool and its figures
assert_eq "slab|pool:slab|110|7040|8192|1152|2|2" "$(sql "$DB" "SELECT name, family, peak_live_chunks,
  peak_live_bytes, peak_held_bytes, peak_waste_bytes, n_superblocks, n_errors FROM pools")" "pool row"

# 15 chunk leaks at exit, each with a chunk's stack (leak_phase1/2), never the superblock's
assert_eq 15 "$(sql "$DB" "SELECT count(*) FROM allocations WHERE family = 'pool:slab'
  AND leak_class = 'definite'")" "definite chunk leaks"
for fn in leak_phase1:10 leak_phase2:5; do
    f=${fn%%:*} n=${fn##*:}
    got=$(sql "$DB" "SELECT count(*) FROM allocations a WHERE family = 'pool:slab' AND leak_class = 'definite'
      AND EXISTS (SELECT 1 FROM stack_trace t WHERE t.stack_id = a.stack_id AND t.function = '$f')
      AND NOT EXISTS (SELECT 1 FROM stack_trace t WHERE t.stack_id = a.stack_id AND t.function = 'slab_grow')")
    assert_eq "$n" "$got" "chunks leaked by $f, with their own stacks"
done
assert_eq "slab_alloc" "$(sql "$DB" "SELECT DISTINCT l.function FROM allocations a JOIN stack_leaf l USING (stack_id)
  WHERE a.family = 'pool:slab' AND a.leak_class = 'definite'")" "leaf frame is the pool's allocator"
assert_eq 15 "$(sql "$DB" "SELECT sum(blocks) FROM leaks_by_site WHERE class = 'definite'
  AND stack_id IN (SELECT stack_id FROM allocations WHERE family = 'pool:slab')")" "chunk leaks in sites"
# superblocks are containers: never a leak, out of the heap figures
assert_eq 0 "$(sql "$DB" "SELECT count(*) FROM allocations a WHERE leak_class IS NOT NULL AND EXISTS
  (SELECT 1 FROM stack_trace t WHERE t.stack_id = a.stack_id AND t.function = 'slab_grow')")" "superblock leaks"
# malloc leaks: the 3 of phase 1, definitely lost (no pointer into them but
# glibc's own chunk bookkeeping); the ignored block and what the ignored
# chunk points to are not leaks
assert_eq "3|300" "$(sql "$DB" "SELECT count(*), sum(size) FROM allocations WHERE family = 'malloc'
  AND leak_class IN ('definite', 'indirect', 'possible')")" "malloc leaks"
assert_eq "3" "$(sql "$DB" "SELECT count(*) FROM allocations WHERE family = 'malloc'
  AND leak_class = 'definite'")" "malloc leaks definitely lost"
assert_eq "reachable" "$(sql "$DB" "SELECT leak_class FROM allocations WHERE size = 48")" "child of an ignored chunk"
assert_eq "" "$(sql "$DB" "SELECT leak_class FROM allocations WHERE size = 32")" "ignored malloc block"

# errors inside the pool, with stacks
assert_eq "double_free|pool_free|pool:slab|1|1" "$(sql "$DB" "SELECT kind, api, family, stack_id > 0,
  alloc_stack_id > 0 FROM errors WHERE kind = 'double_free'")" "double free"
assert_eq "invalid_free|unknown|pool:slab" "$(sql "$DB" "SELECT kind, subkind, family FROM errors
  WHERE kind = 'invalid_free'")" "invalid free"
assert_eq 1 "$(stack_has "$DB" "$(sql "$DB" "SELECT stack_id FROM errors WHERE kind = 'double_free'")" bad_frees)" \
    "double free stack"

# markers, in order with the allocations (by seq)
assert_eq "start,phase1-done,phase2-done" "$(sql "$DB" "SELECT group_concat(name) FROM
  (SELECT name FROM markers ORDER BY seq)")" "markers"
m1=$(sql "$DB" "SELECT seq FROM markers WHERE name = 'phase1-done'")
m2=$(sql "$DB" "SELECT seq FROM markers WHERE name = 'phase2-done'")
p1=$(sql "$DB" "SELECT max(alloc_seq) FROM allocations a WHERE EXISTS (SELECT 1 FROM stack_trace t
  WHERE t.stack_id = a.stack_id AND t.function IN ('leak_phase1', 'leak_malloc_phase1'))")
p2=$(sql "$DB" "SELECT min(alloc_seq) || '|' || max(alloc_seq) FROM allocations a WHERE EXISTS
  (SELECT 1 FROM stack_trace t WHERE t.stack_id = a.stack_id AND t.function = 'leak_phase2')")
[ "$p1" -lt "$m1" ] || fail "phase 1 allocations ($p1) not before phase1-done ($m1)"
[ "${p2%|*}" -gt "$m1" ] && [ "${p2#*|}" -lt "$m2" ] || fail "phase 2 allocations ($p2) not between markers ($m1, $m2)"

# the on-demand check between the phases: exactly phase 1's leaks
assert_eq "1|1|1" "$(sql "$DB" "SELECT count(*), check_no, completed FROM leak_checks")" "one completed check"
c=$(sql "$DB" "SELECT check_id FROM leak_checks")
[ "$(sql "$DB" "SELECT seq FROM leak_checks")" -gt "$m1" ] || fail "check before phase1-done"
# all definite: the last malloc(100) ends right before glibc's top chunk,
# which main_arena points at (preload/leak_roots.c, design note 3)
assert_eq "13|940|0|0" "$(sql "$DB" "SELECT definite_blocks, definite_bytes,
  indirect_blocks + possible_blocks, indirect_bytes + possible_bytes FROM leak_checks")" \
    "check: lost blocks of phase 1"
assert_eq "10|640" "$(sql "$DB" "SELECT sum(blocks), sum(bytes) FROM leak_check_sites s WHERE check_id = $c
  AND class = 'definite' AND EXISTS (SELECT 1 FROM stack_trace t WHERE t.stack_id = s.stack_id
  AND t.function = 'leak_phase1')")" "check: phase 1 chunk leaks by site"
assert_eq 0 "$(sql "$DB" "SELECT count(*) FROM leak_check_sites s WHERE check_id = $c AND EXISTS
  (SELECT 1 FROM stack_trace t WHERE t.stack_id = s.stack_id AND t.function = 'leak_phase2')")" \
    "check: nothing of phase 2"
# the exit classification is its own: phase 1 chunks are not counted twice
assert_eq 15 "$(sql "$DB" "SELECT leaked_chunks FROM pools")" "leaked chunks at the end"
pass
