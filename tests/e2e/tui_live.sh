#!/usr/bin/env bash
# tui_live.sh — `memtrace run --live` in tmux: the view follows the phases of
# tests/targets/tui_phases.c and its final numbers equal the database's
#
# The test paces the target through files (phaseN.ready / goN), never by
# time. Phase 1: 1000000 B live at phase_one; phase 2: 2000000 B at
# phase_two and a double free in the errors panel; sorting and filtering
# change the table; the newest marker (memtrace_mark "phase1", "phase2")
# ends the header; at the end the header's figures equal the database and
# the program's output went to <trace>.out. Skips until cmd_run.c has
# --live (docs/tui.md, "Integration"). Issue #6.
# Then the client API and --no-errors live: client_slab's final screen
# shows its pool line (live chunks, held, waste, leaked), markers, the
# pool's errors and the pools popup, equal to the database;
# err_double_free_leak under --no-errors says "not checked", never
# "errors 0".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui_common.bash"
[ -x "$TGT/tui_phases" ] || skip "target not built"
"$MT" run --help 2>&1 | grep -q -- "--live" || skip "memtrace run has no --live yet"
export MEMTRACE_PRELOAD=$MT_PRELOAD
mkdir "$T/ph"
tui_start v "cd $T && MEMTRACE_PRELOAD=$MT_PRELOAD $MT run --live -o $T/l.mtrace -- $TGT/tui_phases $T/ph"
wait_file "$T/ph/phase1.ready"
tui_keys v x
tui_wait_for v "heap 1000000 in 10 blocks" "$T/s1"
tui_row "$T/s1" 1 | grep -q "phase_one" || fail "phase 1 top site: $(tui_row "$T/s1" 1)"
grep -q "memory errors: 0" "$T/s1" || fail "errors before the double free"
tui_wait_for v "[phase1]" "$T/s1"
assert_contains "$T/s1" ": mark" "markers in the chart's legend"
grep -q "^pool " "$T/s1" && fail "a pool line without pools"

touch "$T/ph/go2"
wait_file "$T/ph/phase2.ready"
tui_wait_for v "heap 2000000 in 40 blocks" "$T/s2"
tui_wait_for v "double_free" "$T/s2"
tui_wait_for v "[phase2]" "$T/s2"
tui_row "$T/s2" 1 | grep -q "phase_two" || fail "phase 2 top site: $(tui_row "$T/s2" 1)"
tui_keys v 2
tui_wait_for v "TOTALv" "$T/s3"
tui_row "$T/s3" 2 | grep -q "phase_one" || fail "total sort row 2: $(tui_row "$T/s3" 2)"
tui_keys v / p h a s e _ o n e Enter
tui_wait_for v "filter:phase_one" "$T/s4"
grep -q "phase_two" "$T/s4" && fail "filter kept phase_two"
tui_row "$T/s4" 1 | grep -q "phase_one" || fail "filtered row: $(tui_row "$T/s4" 1)"
tui_keys v / BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace Enter 1

touch "$T/ph/go3"
tui_wait_for v "ended" "$T/s5"
heap=$(sed -n 's/^heap \([0-9]*\) in \([0-9]*\) blocks.*/\1 \2/p' "$T/s5")
counts=$(sed -n 's/^allocs \([0-9]*\) ([0-9]*\/s)  frees \([0-9]*\) ([0-9]*\/s)  errors \([0-9]*\).*/\1 \2 \3/p' "$T/s5")
peak=$(sed -n 's/.*peak \([0-9]*\) at.*/\1/p' "$T/s5")
tui_keys v q
tui_wait_for v "database:" "$T/s6"
DB=$T/l.db
assert_eq "$(sql "$DB" "SELECT sum(end_live_bytes) || ' ' || sum(end_live_blocks) FROM processes")" "$heap" "final live heap"
assert_eq "$(sql "$DB" "SELECT n_allocs || ' ' || n_frees || ' ' || n_errors FROM session")" "$counts" "final counts"
assert_eq "$(sql "$DB" "SELECT peak_heap_bytes FROM session")" "$peak" "peak"
assert_contains "$T/l.mtrace.out" "tui_phases done" "program output in <trace>.out"

# ---- client API: pools and markers (tests/targets/client_slab.c)
[ -x "$TGT/client_slab" ] || skip "client_slab not built"
tui_start c "cd $T && MEMTRACE_PRELOAD=$MT_PRELOAD $MT run --live -o $T/c.mtrace -- $TGT/client_slab"
tui_wait_for c "ended" "$T/c1"
tui_keys c x
tui_wait_for c "pool slab: 1024 live" "$T/c2"
pool=$(sed -n 's/^pool slab: \([0-9]*\) live in \([0-9]*\) chunks, held \([0-9]*\), waste \([0-9]*\).*/\1|\2|\3|\4/p' "$T/c2")
assert_contains "$T/c2" "[phase2-done]" "the newest marker"
assert_contains "$T/c2" ": mark" "markers in the legend"
assert_contains "$T/c2" "pool_free(" "the pool's double free in the errors panel"
grep -q "pool slab: .*, leaked 15$" "$T/c2" || fail "15 chunks leaked: $(grep '^pool' "$T/c2")"
grep -q "\[pool:slab\] slab_alloc" "$T/c2" || fail "no site of the pool's chunks"
tui_keys c o
tui_wait_for c "|- pools -" "$T/c3"
assert_contains "$T/c3" "now: 1024 live in 16 chunks, 8192 held, waste 7168" "pools popup now"
assert_contains "$T/c3" "at its peak: 7040 live, 8192 held, waste 1152" "pools popup peak (target header)"
tui_keys c q q
tui_wait_for c "database:" "$T/c4"
assert_eq "$(sql "$T/c.db" "SELECT end_live_bytes || '|' || end_live_chunks || '|' || end_held_bytes
    || '|' || (end_held_bytes - end_live_bytes) FROM pools WHERE name = 'slab'")" "$pool" "pool line vs database"

# ---- --no-errors: not checked, never "errors 0" (err_double_free_leak.c)
[ -x "$TGT/err_double_free_leak" ] || skip "err_double_free_leak not built"
tui_start n "cd $T && MEMTRACE_PRELOAD=$MT_PRELOAD $MT run --live --no-errors -o $T/n.mtrace -- $TGT/err_double_free_leak"
tui_wait_for n "ended" "$T/n1"
assert_contains "$T/n1" "errors not checked" "header"
assert_contains "$T/n1" "memory errors: not checked, leaks not classified" "errors panel"
grep -q "errors 0\|memory errors: 0" "$T/n1" && fail "--no-errors shown as 0 errors"
tui_row "$T/n1" 1 | awk '$5 == "-" && $6 == "lose" {ok = 1} END {exit !ok}' ||
  fail "leaked column of lose is not '-': $(tui_row "$T/n1" 1)"
tui_keys n q
tui_wait_for n "database:" "$T/n2"
pass
