#!/usr/bin/env bash
# analyze_known.sh — memtrace run + analyze on tests/targets/an_known.c, checked with SQL
#
# The target's header lists the truth: peak 350000 bytes with big_buffer
# 300000 (3 blocks) and side_buffer 50000 at the peak, 1001 temporaries,
# leaks 4 x 24 bytes at leak_four (line LEAK4) and 77 bytes at the inlined
# leak_inline (line LEAK_INLINE), no errors. Metrics: docs/metrics.md.
# Issue #3.
. "$(dirname "$0")/lib.sh"
[ -x "$TGT/an_known" ] || skip "target not built"
case "$("$MT" run --help 2>&1) $("$MT" analyze --help 2>&1)" in
*"not available in this build"*) skip "memtrace run/analyze not linked" ;;
esac
export MEMTRACE_PRELOAD=$MT_PRELOAD
timeout 120 "$MT" run -o "$T/k.mtrace" -- "$TGT/an_known" >"$T/run.out" 2>&1 || { cat "$T/run.out"; fail "run"; }
DB=$T/k.db
[ -f "$DB" ] || fail "run did not write $DB"
assert_contains "$T/run.out" "peak heap" "summary"
assert_contains "$T/run.out" "database: $DB" "summary names the database"
# peak RSS is sampled once per collector period: the summary says which it is, never nothing
if [ -n "$(sql "$DB" "SELECT peak_rss_bytes FROM session")" ]; then
    assert_contains "$T/run.out" "  peak RSS       " "summary: peak RSS"
    grep -q "peak RSS.*not sampled" "$T/run.out" && fail "summary: RSS sampled, yet 'not sampled'"
else
    assert_contains "$T/run.out" "peak RSS       not sampled" "summary: peak RSS not sampled"
fi
# The allocations table's pages are the analysis's own (an_writer.c): SQLite must find them sound.
assert_eq ok "$(sql "$DB" "PRAGMA integrity_check")" "database integrity"
assert_eq "$(sql "$DB" "SELECT n_allocs FROM processes")" "$(sql "$DB" "SELECT count(*) FROM allocations")" "one row per allocation"
src=$MT_SRC_DIR/tests/targets/an_known.c
l4=$(grep -n 'LEAK4 \*/' "$src" | cut -d: -f1)
li=$(grep -n 'LEAK_INLINE \*/' "$src" | cut -d: -f1)
assert_eq 350000 "$(sql "$DB" "SELECT peak_heap_bytes FROM processes")" "peak heap"
assert_eq "300000|3" "$(sql "$DB" "SELECT peak_bytes, peak_blocks FROM top_sites_at_peak WHERE location LIKE 'big_buffer %'")" "big_buffer at peak"
assert_eq "50000|1" "$(sql "$DB" "SELECT peak_bytes, peak_blocks FROM top_sites_at_peak WHERE location LIKE 'side_buffer %'")" "side_buffer at peak"
assert_eq 1001 "$(sql "$DB" "SELECT n_temporary FROM processes")" "temporaries"
assert_eq 1000 "$(sql "$DB" "SELECT n_temporary FROM top_sites_by_allocs WHERE location LIKE 'tmp_work %'")" "tmp_work temporaries"
assert_eq "4|96|an_known.c:$l4" "$(sql "$DB" "SELECT sum(blocks), sum(bytes), replace(file, rtrim(file, replace(file, '/', '')), '') || ':' || line FROM leaks_by_site WHERE function = 'leak_four' AND class IN ('definite', 'unclassified')")" "leak_four"
assert_eq "1|77|an_known.c:$li" "$(sql "$DB" "SELECT sum(blocks), sum(bytes), replace(file, rtrim(file, replace(file, '/', '')), '') || ':' || line FROM leaks_by_site WHERE function = 'leak_inline' AND class IN ('definite', 'unclassified')")" "inlined leak"
assert_eq 1 "$(sql "$DB" "SELECT f.inlined FROM leaks_by_site l JOIN stacks s USING (stack_id) JOIN frames f ON f.frame_id = s.leaf_frame_id WHERE l.function = 'leak_inline'")" "leak_inline frame is inlined"
if [ "$(sql "$DB" "SELECT leak_scan FROM processes")" = 1 ]; then
    assert_eq 173 "$(sql "$DB" "SELECT bytes FROM leak_totals WHERE class = 'definite'")" "definite bytes after the scan"
fi
assert_eq 0 "$(sql "$DB" "SELECT count(*) FROM errors")" "errors"
pass
