#!/usr/bin/env bash
# tui_top.sh — `memtrace top` attaches to a running session and shows the
# same figures as the session's own aggregator (`top --json`)
#
# `memtrace run` (without --live) records tests/targets/tui_phases.c; the
# test finds the session by memtrace's pid, reads one snapshot as JSON,
# and drives the interactive view in tmux through two phases. Skips until
# cmd_run.c publishes the snapshot socket (docs/tui.md, "Integration").
# Issue #6.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui_common.bash"
[ -x "$TGT/tui_phases" ] || skip "target not built"
"$MT" run --help 2>&1 | grep -q -- "--no-live" || skip "memtrace run publishes no live socket yet"
export MEMTRACE_PRELOAD=$MT_PRELOAD
mkdir "$T/ph"
"$MT" run -o "$T/t.mtrace" -- "$TGT/tui_phases" "$T/ph" >"$T/run.out" 2>&1 &
mtpid=$!
wait_file "$T/ph/phase1.ready"
"$MT" top --json "$mtpid" >"$T/p1.json" || fail "top --json"
assert_eq 1000000 "$(jq .live_bytes "$T/p1.json")" "phase 1 live heap"
assert_eq phase_one "$(jq -r '.sites[0].location' "$T/p1.json" | cut -d' ' -f1)" "phase 1 top site"

tui_start v "$MT" top "$mtpid"
tui_keys v x
tui_wait_for v "heap 1000000 in 10 blocks" "$T/s1"
tui_row "$T/s1" 1 | grep -q "phase_one" || fail "top: phase 1 site: $(tui_row "$T/s1" 1)"
touch "$T/ph/go2"
wait_file "$T/ph/phase2.ready"
tui_wait_for v "heap 2000000 in 40 blocks" "$T/s2"
tui_wait_for v "double_free" "$T/s2"
"$MT" top --json "$mtpid" >"$T/p2.json" || fail "top --json phase 2"
assert_eq "$(jq .n_allocs "$T/p2.json")" "$(sed -n 's/^allocs \([0-9]*\) .*/\1/p' "$T/s2")" "screen and JSON agree"
assert_eq 1 "$(jq .n_errors "$T/p2.json")" "errors"
touch "$T/ph/go3"
wait "$mtpid" || fail "run failed: $(cat "$T/run.out")"
tui_wait_for v "source gone" "$T/s3"
tui_keys v q
"$MT" top "$mtpid" 2>"$T/e1" && fail "top attached to a finished session"
assert_contains "$T/e1" "memtrace top:" "one error line"
pass
