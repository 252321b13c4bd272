#!/usr/bin/env bash
# diff_pools.sh — `memtrace diff` compares client pools by name
#
# A = tests/targets/client_slab.c's database (pool slab), C = client_arena's
# (pool frame): slab is gone and frame new, with every figure of their pools
# rows. B is a copy of A whose slab pool wasted 100 more bytes and leaked
# 3 fewer chunks (edited with SQL, the diff reads only the rows): changed,
# with those deltas. An identical pair lists no pool unless --all.
# docs/reports.md, "diff". Issue #7.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/report_common.bash"
rp_require run diff -- client_slab client_arena
rp_record a "$TGT/client_slab"
rp_record c "$TGT/client_arena"
cp "$T/a.db" "$T/b.db"
sqlite3 "$T/b.db" "UPDATE pools SET peak_waste_bytes = peak_waste_bytes + 100, leaked_chunks = leaked_chunks - 3"
read -r waste lc < <(sql "$T/a.db" "SELECT peak_waste_bytes, leaked_chunks FROM pools WHERE name = 'slab'" | tr '|' ' ')
assert_eq 1152 "$waste" "slab waste (target header)"

rp_mt diff "$T/a.db" "$T/b.db" -o "$T/ab.txt"
assert_contains "$T/ab.txt" "changed  pool slab" "changed pool"
assert_contains "$T/ab.txt" "waste at peak $waste -> $((waste + 100)) (+100)" "waste delta"
assert_contains "$T/ab.txt" "leaked chunks $lc -> $((lc - 3)) (-3)" "leaked chunks delta"
rp_mt diff "$T/a.db" "$T/b.db" --format json -o "$T/ab.json"
assert_eq "changed 100 -3" "$(jq -r '.pools[] | select(.name == "slab") | "\(.status) \(.delta.peak_waste_bytes) \(.delta.leaked_chunks)"' "$T/ab.json")" "json pool delta"
jq -e '.format == "memtrace-diff" and (.sites | type == "array")' "$T/ab.json" >/dev/null || fail "the sites document is intact"

rp_mt diff "$T/a.db" "$T/c.db" --format json -o "$T/ac.json"
while IFS='|' read -r name n live held w lc lb errs; do
    assert_eq "gone $n $live $held $w $lc $lb $errs" "$(jq -r --arg n "$name" '.pools[] | select(.name == $n) | "\(.status) \(.a.n_allocs) \(.a.peak_live_bytes) \(.a.peak_held_bytes) \(.a.peak_waste_bytes) \(.a.leaked_chunks) \(.a.leaked_bytes) \(.a.n_errors)"' "$T/ac.json")" "gone pool $name"
done < <(sql "$T/a.db" "SELECT name, n_allocs, peak_live_bytes, peak_held_bytes, peak_waste_bytes, leaked_chunks, leaked_bytes, n_errors FROM pools")
assert_eq "new null $(sql "$T/c.db" "SELECT peak_waste_bytes FROM pools WHERE name = 'frame'")" \
    "$(jq -r '.pools[] | select(.name == "frame") | "\(.status) \(.a) \(.b.peak_waste_bytes)"' "$T/ac.json")" "new pool frame"

rp_mt diff "$T/a.db" "$T/a.db" -o "$T/aa.txt"
assert_contains "$T/aa.txt" "Pools: no pool changed" "identical pools"
rp_mt diff --all "$T/a.db" "$T/a.db" --format json -o "$T/aa.json"
assert_eq "same" "$(jq -r '.pools[0].status' "$T/aa.json")" "--all lists unchanged pools"
pass
