#!/usr/bin/env bash
# tui_db.sh — `memtrace tui DB` in tmux: time cursor to the peak, sorting,
# filtering, the stack popup, the errors panel, help, resize and NO_COLOR;
# markers, the pool line and the pools view of a client-API run, its pools
# and markers in --json; a --no-errors recording says "not checked"
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
tui_wait_for v "|- stack " "$T/s6"
assert_contains "$T/s6" "#1  main " "stack popup shows main"
assert_contains "$T/s6" "phase_one " "stack popup shows phase_one"
tui_keys v q
tui_keys v "?"
tui_wait_for v "|- help -" "$T/s7"
assert_contains "$T/s7" "jump to the peak" "help lists the cursor keys"
tui_keys v q

# resize: the layout follows the terminal. tmux resizes the pane at once,
# the view redraws on SIGWINCH later: wait for the status line at the new
# bottom row (the 24-line layout left row 30 empty).
tui_tmux resize-window -t v -x 100 -y 30
status_at_row_30() { [ "$(wc -l <"$1")" -eq 30 ] && sed -n 30p "$1" | grep -q "? help"; }
tui_wait_until v "$T/s8" "the status line on row 30" status_at_row_30 "$T/s8"
assert_contains "$T/s8" "memory errors" "errors panel after resize"

# colors by default, none with NO_COLOR
tui_tmux capture-pane -e -p -t v >"$T/c1"
grep -q $'\e\\[3[0-7]m' "$T/c1" || fail "no color without NO_COLOR"
tui_keys v q
tui_start nc env NO_COLOR=1 "$MT" tui "$DB"
tui_wait_for nc "memory errors" "$T/c2"
tui_tmux capture-pane -e -p -t nc >"$T/c2"
grep -q $'\e\\[3[0-7]m' "$T/c2" && fail "colors drawn with NO_COLOR set"
tui_keys nc q

# client API (issue #7): markers on the chart, m/M jump to them, o shows
# the pools. tests/targets/client_arena.c: markers round1, pause, resume,
# round2, round3; pool frame wastes 13568 B at its peak.
if [ -x "$TGT/client_arena" ]; then
  timeout 120 "$MT" run -o "$T/a.mtrace" -- "$TGT/client_arena" >"$T/arun.out" 2>&1 ||
    { cat "$T/arun.out"; fail "run client_arena"; }
  ADB=$T/a.db
  # --json: the pools at the cursor and the markers, as the database has them
  "$MT" tui --json "$ADB" >"$T/a.json" || fail "tui --json (arena)"
  assert_eq "$(sql "$ADB" "SELECT name, destroy_ns IS NOT NULL, peak_live_bytes, peak_held_bytes,
      max_held_bytes, n_allocs, n_resets, leaked_chunks FROM pools")" \
    "$(jq -r '.pools[0] | [.name, .destroyed, .peak_live_bytes, .peak_held_bytes, .max_held_bytes,
      .n_allocs, .n_resets, .leak_chunks] | join("|")' "$T/a.json")" "pools in --json"
  assert_eq 0 "$(jq '.pools[0] | .live_bytes + .held_bytes' "$T/a.json")" "pool at the end: destroyed"
  assert_eq "$(sql "$ADB" "SELECT group_concat(kind || ' ' || name, ',') FROM (SELECT * FROM markers ORDER BY t_ns, seq)")" \
    "$(jq -r '[.markers[] | "\(.kind) \(.name)"] | join(",")' "$T/a.json")" "markers in --json"
  r2=$(sql "$ADB" "SELECT t_ns FROM markers WHERE name = 'round2'")
  "$MT" tui --json --at "$r2" "$ADB" >"$T/a2.json" || fail "tui --json --at round2"
  assert_eq "19200 200" "$(jq -r '.pools[0] | "\(.live_bytes) \(.live_chunks)"' "$T/a2.json")" \
    "round 2's chunks live at its marker (target header)"
  tui_start ar "$MT" tui "$ADB"
  tui_wait_for ar ": mark" "$T/a0"
  grep -q ':' <(sed -n '4,9p' "$T/a0" | cut -c10-) || fail "no marker column on the chart"
  assert_contains "$T/a0" "pool frame: 0B live in 0 chunks, held 0B, waste 0B, destroyed" "pool line at the end"
  # from the end, M steps back through the markers in time order
  last=$(sql "$ADB" "SELECT name FROM markers ORDER BY t_ns DESC, seq DESC LIMIT 1")
  assert_contains "$T/a0" "[$last]" "the marker at or before the end cursor"
  prev=$(sql "$ADB" "SELECT name FROM markers WHERE t_ns < (SELECT max(t_ns) FROM markers) ORDER BY t_ns DESC, seq DESC LIMIT 1")
  tui_keys ar x M M
  tui_wait_for ar "[$prev]" "$T/a1"
  t=$(sql "$ADB" "SELECT printf('%.3fs', t_ns / 1e9) FROM markers WHERE name = '$prev'")
  assert_contains "$T/a1" "cursor $t /" "cursor on the marker"
  live=$(sql "$ADB" "SELECT sum(size) FROM allocations WHERE family = 'pool:frame' AND alloc_ns <= (SELECT t_ns FROM markers WHERE name = '$prev') AND (free_ns IS NULL OR free_ns > (SELECT t_ns FROM markers WHERE name = '$prev'))")
  tui_row "$T/a1" 1 | grep -q "\[pool:frame\] arena_alloc" || fail "pool site row: $(tui_row "$T/a1" 1)"
  tui_keys ar m
  tui_wait_for ar "[$last]" "$T/a2"
  # o: the pools view, exact figures (x) from the database
  tui_keys ar M o
  tui_wait_for ar "|- pools -" "$T/a3"
  read -r waste held plive < <(sql "$ADB" "SELECT peak_waste_bytes, peak_held_bytes, peak_live_bytes FROM pools WHERE name = 'frame'" | tr '|' ' ')
  assert_eq 13568 "$waste" "arena waste (target header)"
  assert_contains "$T/a3" "pool frame (pid" "pools view names the pool"
  assert_contains "$T/a3" "at its peak: $plive live, $held held, waste $waste" "pools view figures"
  assert_contains "$T/a3" "at the cursor: ${live:-0} live" "live chunk bytes at the marker"
  tui_keys ar q "?"
  tui_wait_for ar "|- help -" "$T/a4"
  assert_contains "$T/a4" "next / previous marker" "help lists m / M"
  assert_contains "$T/a4" "o            pools" "help lists o"
  tui_keys ar q q
fi

# --no-errors (tests/targets/err_double_free_leak.c): not checked, never 0
if [ -x "$TGT/err_double_free_leak" ]; then
  timeout 120 "$MT" run --no-errors -o "$T/n.mtrace" --program-output "$T/n.prog" -- \
    "$TGT/err_double_free_leak" >"$T/nrun.out" 2>&1
  [ -f "$T/n.db" ] || { cat "$T/nrun.out"; fail "run --no-errors: no database"; }
  "$MT" tui --json "$T/n.db" >"$T/n.json" || fail "tui --json (--no-errors)"
  assert_eq "false false 0" "$(jq -r '"\(.errors_checked) \(.processes[0].errors_checked) \(.n_errors)"' "$T/n.json")" \
    "--no-errors in --json"
  "$MT" tui --json "$DB" | jq -e '.errors_checked == true' >/dev/null || fail "a checked run is checked"
  tui_start ne "$MT" tui "$T/n.db"
  tui_wait_for ne "memory errors: not checked, leaks not classified" "$T/n1"
  assert_contains "$T/n1" "errors not checked   cursor" "header"
  grep -q "errors 0" "$T/n1" && fail "--no-errors shown as errors 0"
  tui_keys ne q
fi

# errors a user can cause
"$MT" tui "$T/nope.db" 2>"$T/e1" && fail "missing database accepted"
assert_contains "$T/e1" "memtrace tui:" "one error line"
"$MT" tui --json "$T/p.mtrace" 2>"$T/e2" && fail "trace accepted as a database"
pass
