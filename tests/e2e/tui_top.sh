#!/usr/bin/env bash
# tui_top.sh — `memtrace top` attaches to a session recorded WITHOUT --live:
# the idle aggregator catches up from the trace, then follows live
#
# Run 1 records tests/targets/tui_phases.c; nobody watches until phase 1
# is done, so the first `top --json` must show phase 1's exact figures
# from the replayed trace (replayed_records > 0); then the interactive view
# follows phase 2 live, a second JSON snapshot took nothing more from the
# trace, and the session's figures at that moment equal the database's at
# the same time. Run 2 wraps the target in bash, which holds the session
# open after the target exited, so the target's final figures (exit scan
# included) can be read over the socket and compared with the database.
# Run 3 does the same with 4 threads churning addresses (an_churn), so the
# catch-up ends with records of other rings still to come.
# Run 4 holds client_slab's session the same way: `top --json` and the
# interactive view show its pool (live chunks, held, waste), its markers
# and its pool errors, equal to the database. Run 5 holds
# err_double_free_leak recorded with --no-errors: errors_checked is false,
# in the session and in its process, and the view says "not checked".
# The target is paced through files, never by time. Issue #6.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui_common.bash"
# A failed assertion must not leave a held session behind, waiting on its
# fifo forever: every hold is released at exit (opened read-write, so the
# write never blocks, whether the reader is still there or not).
release_holds() {
  local f
  for f in "$T"/*/hold; do
    [ -p "$f" ] && { exec 3<>"$f"; echo >&3; exec 3>&-; }
  done
  return 0
}
trap 'release_holds; tui_stop; mt_cleanup' EXIT
[ -x "$TGT/tui_phases" ] || skip "target not built"
command -v jq >/dev/null || skip "jq not installed"
export MEMTRACE_PRELOAD=$MT_PRELOAD

# ---- run 1: attach after phase 1, follow phase 2 in the view
mkdir "$T/ph"
"$MT" run -o "$T/t.mtrace" -- "$TGT/tui_phases" "$T/ph" >"$T/run.out" 2>&1 &
mtpid=$!
wait_file "$T/ph/phase1.ready"
"$MT" top --json "$mtpid" >"$T/p1.json" || fail "top --json"
assert_eq 1000000 "$(jq .live_bytes "$T/p1.json")" "phase 1 live heap"
assert_eq 10 "$(jq .live_blocks "$T/p1.json")" "phase 1 live blocks"
assert_eq phase_one "$(jq -r '.sites[0].location' "$T/p1.json" | cut -d' ' -f1)" "phase 1 top site"
replayed=$(jq .replayed_records "$T/p1.json")
assert_ge 11 "$replayed" "records replayed from the trace (10 blocks, their stack)"

tui_start v "$MT" top "$mtpid"
tui_keys v x
tui_wait_for v "heap 1000000 in 10 blocks" "$T/s1"
tui_row "$T/s1" 1 | grep -q "phase_one" || fail "top: phase 1 site: $(tui_row "$T/s1" 1)"
touch "$T/ph/go2"
wait_file "$T/ph/phase2.ready"
tui_wait_for v "heap 2000000 in 40 blocks" "$T/s2"
tui_wait_for v "double_free" "$T/s2"
"$MT" top --json "$mtpid" >"$T/p2.json" || fail "top --json phase 2"
assert_eq "$replayed" "$(jq .replayed_records "$T/p2.json")" "phase 2 came live, not replayed"
assert_eq "$(jq .n_allocs "$T/p2.json")" "$(sed -n 's/^allocs \([0-9]*\) .*/\1/p' "$T/s2")" "screen and JSON agree"
assert_eq 1 "$(jq .n_errors "$T/p2.json")" "errors"
touch "$T/ph/go3"
wait "$mtpid" || fail "run failed: $(cat "$T/run.out")"
tui_wait_for v "source gone" "$T/s3"
tui_keys v q
"$MT" top "$mtpid" 2>"$T/e1" && fail "top attached to a finished session"
assert_contains "$T/e1" "memtrace top:" "one error line"
# the database at the moment of the phase 2 snapshot (the target was waiting)
"$MT" tui --json --at "$(jq .elapsed_ns "$T/p2.json")" "$T/t.db" >"$T/db2.json" || fail "tui --json --at"
for k in live_bytes live_blocks n_allocs n_frees n_errors peak_bytes; do
  assert_eq "$(jq .$k "$T/db2.json")" "$(jq .$k "$T/p2.json")" "phase 2 $k: database vs live"
done

# ---- run 2: attach after phase 1, read the final figures, compare with the database
mkdir "$T/ph2" && mkfifo "$T/ph2/hold"
"$MT" run -o "$T/w.mtrace" -- bash -c '"$0" "$1" && read -r _ <"$1/hold"' \
  "$TGT/tui_phases" "$T/ph2" >"$T/run2.out" 2>&1 &
mtpid=$!
sel='.processes[] | select(.exe | endswith("/tui_phases"))'
wait_file "$T/ph2/phase1.ready"
"$MT" top --json "$mtpid" >"$T/w1.json" || fail "top --json (run 2)"
assert_eq 1000000 "$(jq "$sel | .live_bytes" "$T/w1.json")" "run 2 phase 1 live heap"
touch "$T/ph2/go2"
wait_file "$T/ph2/phase2.ready"
"$MT" top --json "$mtpid" >"$T/w2.json" || fail "top --json (run 2, phase 2)"
assert_eq 2000000 "$(jq "$sel | .live_bytes" "$T/w2.json")" "run 2 phase 2 live heap"
touch "$T/ph2/go3"
for i in $(seq 600); do # the target's end reaches the aggregator (bash holds the session)
  "$MT" top --json "$mtpid" >"$T/w3.json" || fail "top --json (run 2, end)"
  [ "$(jq "$sel | .ended" "$T/w3.json")" = 1 ] && break
  sleep 0.1
done
assert_eq 1 "$(jq "$sel | .ended" "$T/w3.json")" "target ended"
echo >"$T/ph2/hold"
wait "$mtpid" || fail "run 2 failed: $(cat "$T/run2.out")"
row=$(sql "$T/w.db" "SELECT end_live_bytes, n_allocs, n_frees, n_errors, peak_heap_bytes
                     FROM processes WHERE exe LIKE '%/tui_phases'")
assert_eq "$row" "$(jq -r "$sel | [.live_bytes, .n_allocs, .n_frees, .n_errors, .peak_bytes] | join(\"|\")" "$T/w3.json")" \
  "final figures: database vs live (live, allocs, frees, errors, peak)"
assert_eq 128 "$(jq '[.sites[] | select(.location | startswith("leak_site"))][0].leak_bytes' "$T/w3.json")" \
  "leaked at leak_site (exit scan)"

# ---- run 3: 4 threads churning addresses, attached at whatever moment the
# first `top` lands (catch-up with records still in the rings): the final
# figures must be exact all the same
mkdir "$T/ph3" && mkfifo "$T/ph3/hold"
"$MT" run -o "$T/c.mtrace" -- bash -c '"$0" 200000 && read -r _ <"$1/hold"' \
  "$TGT/an_churn" "$T/ph3" >"$T/run3.out" 2>&1 &
mtpid=$!
sel='.processes[] | select(.exe | endswith("/an_churn"))'
for i in $(seq 600); do
  "$MT" top --json "$mtpid" >"$T/c.json" 2>/dev/null &&
    [ "$(jq "$sel | .ended" "$T/c.json")" = 1 ] && break
  sleep 0.1
done
assert_eq 1 "$(jq "$sel | .ended" "$T/c.json")" "an_churn ended"
echo >"$T/ph3/hold"
wait "$mtpid" || fail "run 3 failed: $(cat "$T/run3.out")"
row=$(sql "$T/c.db" "SELECT end_live_bytes, n_allocs, n_frees, n_errors, peak_heap_bytes
                     FROM processes WHERE exe LIKE '%/an_churn'")
assert_eq "$row" "$(jq -r "$sel | [.live_bytes, .n_allocs, .n_frees, .n_errors, .peak_bytes] | join(\"|\")" "$T/c.json")" \
  "an_churn: database vs live (live, allocs, frees, errors, peak)"

# held PROG DIR [OPTS...]: `memtrace run` of PROG held open by bash after
# PROG ended (whatever its status) until DIR/hold is written; sets mtpid
# and waits for PROG's end to reach the aggregator, into $T/DIR.json.
held() {
  local prog=$1 dir=$2
  shift 2
  mkdir "$T/$dir" && mkfifo "$T/$dir/hold"
  "$MT" run "$@" -o "$T/$dir.mtrace" -- bash -c '"$0"; read -r _ <"$1/hold"' \
    "$TGT/$prog" "$T/$dir" >"$T/$dir.out" 2>&1 &
  mtpid=$!
  sel=".processes[] | select(.exe | endswith(\"/$prog\"))"
  for i in $(seq 600); do
    "$MT" top --json "$mtpid" >"$T/$dir.json" 2>/dev/null &&
      [ "$(jq "$sel | .ended" "$T/$dir.json")" = 1 ] && return 0
    sleep 0.1
  done
  fail "$prog never ended in the live view"
}

# ---- run 4: client API (tests/targets/client_slab.c)
held client_slab slab
j=$T/slab.json
assert_eq slab "$(jq -r '.pools[0].name' "$j")" "pool name"
assert_eq "7040 8192 1152" "$(jq -r '.pools[0] | "\(.peak_live_bytes) \(.peak_held_bytes) \(.peak_held_bytes - .peak_live_bytes)"' "$j")" \
  "pool peak (target header)"
assert_eq "start,phase1-done,phase2-done" "$(jq -r '[.markers[].name] | join(",")' "$j")" "markers"
assert_eq "double_free pool_free" "$(jq -r '.errors[0] | "\(.kind) \(.api)"' "$j")" "pool error"
tui_start s "$MT" top "$mtpid"
tui_keys s x
tui_wait_for s "slab: $(jq .pools[0].live_bytes "$j") live in $(jq .pools[0].live_chunks "$j") chunks, held $(jq .pools[0].held_bytes "$j"), waste $(jq .pools[0].waste_bytes "$j"), leaked 15" "$T/slab.s1"
assert_contains "$T/slab.s1" "[phase2-done]" "newest marker in the header"
assert_contains "$T/slab.s1" ": mark" "markers in the legend"
tui_keys s q
echo >"$T/slab/hold"
wait "$mtpid" || fail "run 4 failed: $(cat "$T/slab.out")"
row=$(sql "$T/slab.db" "SELECT name, end_live_bytes, end_live_chunks, end_held_bytes,
                        end_held_bytes - end_live_bytes, peak_live_bytes, peak_held_bytes, max_held_bytes,
                        n_allocs, n_frees, n_errors, leaked_chunks FROM pools")
assert_eq "$row" "$(jq -r '.pools[0] | [.name, .live_bytes, .live_chunks, .held_bytes, .waste_bytes,
    .peak_live_bytes, .peak_held_bytes, .max_held_bytes, .n_allocs, .n_frees, .n_errors,
    .leak_chunks] | join("|")' "$j")" "pool: database vs live"
assert_eq "$(sql "$T/slab.db" "SELECT group_concat(t_ns || ' ' || kind || ' ' || name, ',') FROM
    (SELECT * FROM markers ORDER BY t_ns, seq)")" \
  "$(jq -r '[.markers[] | "\(.t_ns) \(.kind) \(.name)"] | join(",")' "$j")" "markers: database vs live"
row=$(sql "$T/slab.db" "SELECT end_live_bytes, n_allocs, n_frees, n_errors, peak_heap_bytes
                        FROM processes WHERE exe LIKE '%/client_slab'")
assert_eq "$row" "$(jq -r "$sel | [.live_bytes, .n_allocs, .n_frees, .n_errors, .peak_bytes] | join(\"|\")" "$j")" \
  "client_slab: database vs live (live, allocs, frees, errors, peak)"

# ---- run 5: --no-errors (tests/targets/err_double_free_leak.c)
held err_double_free_leak nerr --no-errors
j=$T/nerr.json
assert_eq false "$(jq .errors_checked "$j")" "session errors_checked"
assert_eq false "$(jq "$sel | .errors_checked" "$j")" "process errors_checked"
assert_eq 0 "$(jq .n_errors "$j")" "nothing judged"
tui_start n "$MT" top "$mtpid"
tui_wait_for n "memory errors: not checked" "$T/nerr.s1"
grep -q "errors 0" "$T/nerr.s1" && fail "top shows errors 0 for --no-errors"
tui_keys n q
echo >"$T/nerr/hold"
wait "$mtpid" || fail "run 5 failed: $(cat "$T/nerr.out")"
pass
