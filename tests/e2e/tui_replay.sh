#!/usr/bin/env bash
# tui_replay.sh — the live aggregator's figures equal the database's
#
# `memtrace tui --replay TRACE --json` feeds a recorded trace through the
# aggregator `run --live` uses (analyzer/live) and prints its final
# snapshot; every figure must equal what `memtrace analyze` computed: live
# heap at the end, peak, allocations, frees, errors, and each site's live
# and allocated bytes. an_churn (4 threads, address reuse) checks that the
# aggregator restores order across rings. client_slab (client API): its
# chunks count as heap blocks and its malloc'd superblocks do not, its
# pool's figures and its markers equal the pools and markers tables.
# Issue #6.
. "$(dirname "$0")/lib.sh"
[ -x "$TGT/tui_phases" ] && [ -x "$TGT/an_churn" ] || skip "targets not built"
export MEMTRACE_PRELOAD=$MT_PRELOAD
mkdir "$T/ph" && touch "$T/ph/go2" "$T/ph/go3"

# check NAME: compares $T/NAME.json with $T/NAME.db
check() {
  local j=$T/$1.json db=$T/$1.db
  assert_eq "$(sql "$db" "SELECT peak_heap_bytes FROM session")" "$(jq .peak_bytes "$j")" "$1 peak"
  assert_eq "$(sql "$db" "SELECT n_allocs FROM session")" "$(jq .n_allocs "$j")" "$1 allocations"
  assert_eq "$(sql "$db" "SELECT n_frees FROM session")" "$(jq .n_frees "$j")" "$1 frees"
  assert_eq "$(sql "$db" "SELECT n_errors FROM session")" "$(jq .n_errors "$j")" "$1 errors"
  assert_eq "$(sql "$db" "SELECT sum(end_live_bytes) FROM processes")" "$(jq .live_bytes "$j")" "$1 live at end"
  # per site, keyed by leaf location: live bytes, allocated bytes, allocations
  sql "$db" "SELECT replace(l.location, rtrim(l.file, replace(l.file, '/', '')), '') AS loc,
             sum(s.end_live_bytes), sum(s.alloc_bytes), sum(s.n_allocs)
             FROM sites s JOIN stack_leaf l USING (stack_id) WHERE l.file IS NOT NULL
             GROUP BY loc ORDER BY loc" >"$T/$1.db.sites"
  jq -r '.sites[] | select(.location | test(":[0-9]+( \\[inlined\\])?$")) |
         [(.location | sub(" \\[inlined\\]$"; "") | sub("^\\[pool:[^]]*\\] "; "")),
          .live_bytes, .alloc_bytes, .n_allocs] | @tsv' "$j" |
    awk -F'\t' '{k=$1; l[k]+=$2; a[k]+=$3; n[k]+=$4} END {for (k in l) print k "|" l[k] "|" a[k] "|" n[k]}' |
    sort >"$T/$1.live.sites"
  diff "$T/$1.db.sites" "$T/$1.live.sites" >&2 || fail "$1: per-site figures differ"
}

timeout 120 "$MT" run -o "$T/p.mtrace" -- "$TGT/tui_phases" "$T/ph" >"$T/p.out" 2>&1 || { cat "$T/p.out"; fail "run phases"; }
"$MT" tui --replay --json "$T/p.mtrace" >"$T/p.json" || fail "replay phases"
check p
assert_eq "double_free" "$(jq -r '.errors[0].kind' "$T/p.json")" "error kind"
assert_eq 128 "$(jq '[.sites[] | select(.location | startswith("leak_site"))][0].leak_bytes' "$T/p.json")" "leaked at leak_site"

timeout 120 "$MT" run -o "$T/c.mtrace" -- "$TGT/an_churn" >"$T/c.out" 2>&1 || { cat "$T/c.out"; fail "run churn"; }
"$MT" tui --replay --json "$T/c.mtrace" >"$T/c.json" || fail "replay churn"
check c
assert_ge 4 "$(jq '.threads | length' "$T/c.json")" "churn threads"

[ -x "$TGT/client_slab" ] || skip "client_slab not built"
timeout 120 "$MT" run -o "$T/s.mtrace" -- "$TGT/client_slab" >"$T/s.out" 2>&1 # exits 7
[ -f "$T/s.db" ] || { cat "$T/s.out"; fail "run client_slab"; }
"$MT" tui --replay --json "$T/s.mtrace" >"$T/s.json" || fail "replay client_slab"
check s
assert_eq "$(sql "$T/s.db" "SELECT name, end_live_bytes, end_live_chunks, end_held_bytes, peak_live_bytes,
    peak_held_bytes, max_held_bytes, n_allocs, n_frees, n_errors, leaked_chunks FROM pools")" \
  "$(jq -r '.pools[0] | [.name, .live_bytes, .live_chunks, .held_bytes, .peak_live_bytes,
    .peak_held_bytes, .max_held_bytes, .n_allocs, .n_frees, .n_errors, .leak_chunks] | join("|")' "$T/s.json")" \
  "client_slab: pool"
assert_eq "$(sql "$T/s.db" "SELECT group_concat(t_ns || ' ' || name, ',') FROM (SELECT * FROM markers ORDER BY t_ns, seq)")" \
  "$(jq -r '[.markers[] | "\(.t_ns) \(.name)"] | join(",")' "$T/s.json")" "client_slab: markers"
assert_eq 960 "$(jq '[.sites[] | select(.location | startswith("[pool:slab] slab_alloc"))] | map(.leak_bytes) | add' "$T/s.json")" \
  "15 chunks of 64 B leaked (target header)"
pass
