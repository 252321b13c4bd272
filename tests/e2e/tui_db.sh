#!/usr/bin/env bash
# tui_db.sh — `memtrace tui DB` in tmux: time cursor to the peak, sorting,
# filtering, the stack popup, the errors panel, help, resize and NO_COLOR
#
# tests/targets/tui_phases.c runs straight through (its go files exist
# before it starts). Its header gives the truth: peak 3000000 B with
# phase_two holding 2000000 and phase_one 1000000; one double free; 128 B
# definitely leaked at leak_site. Every figure is also read from the
# database the view reads. Issue #6.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui_common.bash"
[ -x "$TGT/tui_phases" ] || skip "target not built"
export MEMTRACE_PRELOAD=$MT_PRELOAD
mkdir "$T/ph" && touch "$T/ph/go2" "$T/ph/go3"
timeout 120 "$MT" run -o "$T/p.mtrace" -- "$TGT/tui_phases" "$T/ph" >"$T/run.out" 2>&1 ||
  { cat "$T/run.out"; fail "run"; }
DB=$T/p.db
peak=$(sql "$DB" "SELECT peak_heap_bytes FROM session")
assert_eq 3000000 "$peak" "peak in the database"

# --json at the peak: what the screen shows, exactly
"$MT" tui --json --at peak "$DB" >"$T/peak.json" || fail "tui --json"
assert_eq "$peak" "$(jq .live_bytes "$T/peak.json")" "live heap at the peak cursor"
assert_eq "phase_two" "$(jq -r '.sites[0].location' "$T/peak.json" | cut -d' ' -f1)" "top site at peak"
assert_eq 2000000 "$(jq '.sites[0].live_bytes' "$T/peak.json")" "phase_two at peak"
assert_eq 1000000 "$(jq '[.sites[] | select(.location | startswith("phase_one"))][0].live_bytes' "$T/peak.json")" "phase_one at peak"

tui_start v "$MT" tui "$DB"
tui_wait_for v "memory errors: 1" "$T/s0"
assert_contains "$T/s0" "double_free" "errors panel at the end"
[ "$(wc -l <"$T/s0")" -eq 24 ] || fail "screen is not 24 lines"
tui_keys v x p
tui_wait_for v "heap $peak in" "$T/s1"
tui_row "$T/s1" 1 | grep -q "phase_two" || fail "top site at the peak is not phase_two: $(tui_row "$T/s1" 1)"
tui_row "$T/s1" 1 | grep -q "2000000" || fail "phase_two row lacks 2000000"

# sorting: at the end, by live bytes phase_two leads; by leaked bytes leak_site
tui_keys v e
tui_wait_for v "memory errors: 1" "$T/s2"
tui_row "$T/s2" 1 | grep -q "phase_two" || fail "live sort: $(tui_row "$T/s2" 1)"
tui_keys v 4
tui_wait_for v "LEAKEDv" "$T/s3"
tui_row "$T/s3" 1 | grep -q "leak_site" || fail "leaked sort: $(tui_row "$T/s3" 1)"
tui_row "$T/s3" 1 | grep -q " 128 " || fail "leak_site leaked bytes: $(tui_row "$T/s3" 1)"
tui_keys v 2
tui_wait_for v "TOTALv" "$T/s4"
tui_row "$T/s4" 2 | grep -q "phase_one" || fail "total sort row 2: $(tui_row "$T/s4" 2)"

# filtering
tui_keys v / p h a s e _ o n e Enter
tui_wait_for v "filter:phase_one" "$T/s5"
tui_row "$T/s5" 1 | grep -q "phase_one" || fail "filter row 1: $(tui_row "$T/s5" 1)"
grep -q "phase_two" "$T/s5" && fail "filter left phase_two in the table"
grep -q "SITE (1 of" "$T/s5" || fail "filter count"

# Enter: the full stack
tui_keys v Enter
tui_wait_for v "stack " "$T/s6"
assert_contains "$T/s6" "#1  main " "stack popup shows main"
assert_contains "$T/s6" "phase_one " "stack popup shows phase_one"
tui_keys v q
tui_keys v "?"
tui_wait_for v " help " "$T/s7"
assert_contains "$T/s7" "jump to the peak" "help lists the cursor keys"
tui_keys v q

# resize: the layout follows the terminal
tui_tmux resize-window -t v -x 100 -y 30
tui_wait_for v "memory errors" "$T/s8"
[ "$(wc -l <"$T/s8")" -eq 30 ] || fail "resized screen is not 30 lines"
tail -1 "$T/s8" | grep -q "help" || fail "status line not at the bottom after resize"

# colors by default, none with NO_COLOR
tui_tmux capture-pane -e -p -t v >"$T/c1"
grep -q $'\e\\[3[0-7]m' "$T/c1" || fail "no color without NO_COLOR"
tui_keys v q
tui_start nc env NO_COLOR=1 "$MT" tui "$DB"
tui_wait_for nc "memory errors" "$T/c2"
tui_tmux capture-pane -e -p -t nc >"$T/c2"
grep -q $'\e\\[3[0-7]m' "$T/c2" && fail "colors drawn with NO_COLOR set"
tui_keys nc q

# errors a user can cause
"$MT" tui "$T/nope.db" 2>"$T/e1" && fail "missing database accepted"
assert_contains "$T/e1" "memtrace tui:" "one error line"
"$MT" tui --json "$T/p.mtrace" 2>"$T/e2" && fail "trace accepted as a database"
pass
