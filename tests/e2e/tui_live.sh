#!/usr/bin/env bash
# tui_live.sh — `memtrace run --live` in tmux: the view follows the phases of
# tests/targets/tui_phases.c and its final numbers equal the database's
#
# The test paces the target through files (phaseN.ready / goN), never by
# time. Phase 1: 1000000 B live at phase_one; phase 2: 2000000 B at
# phase_two and a double free in the errors panel; sorting and filtering
# change the table; at the end the header's figures equal the database and
# the program's output went to <trace>.out. Skips until cmd_run.c has
# --live (docs/tui.md, "Integration"). Issue #6.
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

touch "$T/ph/go2"
wait_file "$T/ph/phase2.ready"
tui_wait_for v "heap 2000000 in 40 blocks" "$T/s2"
tui_wait_for v "double_free" "$T/s2"
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
pass
