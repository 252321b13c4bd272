#!/usr/bin/env bash
# analyze_late_rows.sh — rows that miss the writer's order still land, each once
#
# The allocations table is built from pages the analysis writes itself,
# which take rows in alloc_id order only (analyzer/analyze/an_writer.c).
# tests/targets/an_late.c frees long-lived blocks after a churn longer
# than the writer's ordering window (65536 allocations) and leaks others:
# their rows come late and go through the spill and SQL inserts after the
# splice. With 300 early blocks, then 30000, then 150000 (their late rows
# pass the spill's 8 MiB buffer: sorted runs on disk, merged back), the
# database must be sound
# (integrity_check), hold one row per ALLOC record of the trace with
# alloc_ids 1..n, the early rows freed and leaked as the program did, and
# the same leaks per class as the leak views. Issue #3.
. "$(dirname "$0")/lib.sh"
[ -x "$TGT/an_late" ] || skip "target not built"
case "$("$MT" run --help 2>&1) $("$MT" analyze --help 2>&1)" in
*"not available in this build"*) skip "memtrace run/analyze not linked" ;;
esac
export MEMTRACE_PRELOAD=$MT_PRELOAD
for n in 300 30000 150000; do
    timeout 200 "$MT" run --no-analyze -o "$T/l$n.mtrace" -- "$TGT/an_late" $n 100000 \
        >"$T/run$n.out" 2>&1 || { cat "$T/run$n.out"; fail "run $n"; }
    DB=$T/l$n.db
    "$MT" analyze "$T/l$n.mtrace" -o "$DB" >"$T/an$n.out" 2>&1 || { cat "$T/an$n.out"; fail "analyze $n"; }
    assert_eq ok "$(sql "$DB" "PRAGMA integrity_check")" "integrity of $n"
    allocs=$("$MT" dump "$T/l$n.mtrace" | grep -c '^alloc ')
    assert_eq $((n + 100000 + 2)) "$allocs" "ALLOC records of $n"
    assert_eq "$allocs|1|$allocs" "$(sql "$DB" "SELECT count(*), min(alloc_id), max(alloc_id) FROM allocations")" "rows of $n"
    assert_eq "$allocs" "$(sql "$DB" "SELECT n_allocs FROM processes")" "n_allocs of $n"
    early="SELECT count(*) FROM allocations a JOIN stack_leaf l USING (stack_id) WHERE l.function = 'early_alloc'"
    assert_eq $(((n + 1) / 2)) "$(sql "$DB" "$early AND a.free_seq IS NOT NULL AND a.leak_class IS NULL")" "early blocks freed, of $n"
    assert_eq $((n / 2)) "$(sql "$DB" "$early AND a.free_seq IS NULL AND a.leak_class IS NOT NULL")" "early blocks leaked, of $n"
    rows=$(sql "$DB" "SELECT leak_class, count(*) FROM allocations WHERE leak_class IS NOT NULL GROUP BY 1 ORDER BY 1")
    views=$(sql "$DB" "SELECT class, blocks FROM leak_totals ORDER BY 1")
    assert_eq "$views" "$rows" "leak rows against leak_totals, of $n"
    assert_ge $((n / 2 + 64)) "$(sql "$DB" "SELECT count(*) FROM allocations WHERE leak_class IS NOT NULL")" "leaks of $n"
done
pass
