#!/usr/bin/env bash
# report_formats.sh — text, markdown and json reports agree with the database
#
# Records tests/targets/example (peak made of pages_churn, leaks at
# list_build, one double free) and checks that every format carries the
# database's totals and top sites: session and process totals, the top
# peak site and its share, leak totals per class, leak and error sites with
# their stacks. Nothing is hard-coded that the database does not say.
# docs/reports.md. Issue #5.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/report_common.bash"
rp_require run report -- example
command -v jq >/dev/null || skip "jq not installed"
rp_record ex "$TGT/example"
DB=$T/ex.db

rp_mt report "$DB" >"$T/r.txt"
rp_mt report "$DB" --format markdown -o "$T/r.md"
rp_mt report "$DB" -o "$T/r.json"
jq -e . "$T/r.json" >/dev/null || fail "json report does not parse"

# --- totals: the same numbers in every format
n_allocs=$(sql "$DB" "SELECT n_allocs FROM session")
alloc_bytes=$(sql "$DB" "SELECT alloc_bytes FROM session")
peak=$(sql "$DB" "SELECT peak_heap_bytes FROM processes WHERE proc_id = 1")
assert_ge 100 "$n_allocs" "example allocates"
for f in r.txt r.md; do
    assert_contains "$T/$f" "$n_allocs, $alloc_bytes B" "$f: allocations"
    assert_contains "$T/$f" "$peak B" "$f: peak heap"
done
assert_eq "$n_allocs|$alloc_bytes" "$(jq -r '"\(.session.n_allocs)|\(.session.alloc_bytes)"' "$T/r.json")" "json totals"
assert_eq "$peak" "$(jq '.processes[0].peak_heap_bytes' "$T/r.json")" "json peak"
assert_eq "$(sql "$DB" "SELECT count(*) FROM sites")" "$(jq '.sites | length' "$T/r.json")" "json has every site"
assert_eq "$(sql "$DB" "SELECT sum(alloc_bytes) FROM sites")" "$(jq '[.sites[].alloc_bytes] | add' "$T/r.json")" "json sites add up"

# --- the top site at the peak, with its share
top=$(sql "$DB" "SELECT peak_bytes || '|' || location FROM top_sites_at_peak ORDER BY peak_bytes DESC LIMIT 1")
top_bytes=${top%%|*}
top_loc=${top#*|}
case "$top_loc" in pages_churn*) ;; *) fail "top peak site is '$top_loc', expected pages_churn" ;; esac
share=$(sql "$DB" "SELECT printf('%.1f%%', 100 * share) FROM top_sites_at_peak ORDER BY peak_bytes DESC LIMIT 1")
grep -F "$top_loc" "$T/r.txt" | grep -qF "$top_bytes B" || fail "text: top peak site line"
assert_contains "$T/r.txt" "($share)" "text: peak share"
assert_eq "$top_loc" "$(jq -r '.processes[0].peak_sites[0].location' "$T/r.json")" "json top peak site"

# --- leaks per class, and the leak site with its stack
while IFS='|' read -r class blocks bytes; do
    unit=blocks
    [ "$blocks" = 1 ] && unit=block # "1 block", never "1 blocks"
    grep -E "^ *$class +$blocks $unit, $bytes B" "$T/r.txt" >/dev/null || fail "text: $class total"
    assert_contains "$T/r.md" "**$class**: $blocks $unit, $bytes B" "markdown: $class total"
    assert_eq "$blocks|$bytes" "$(jq -r --arg c "$class" '.leak_totals[] | select(.class == $c) | "\(.blocks)|\(.bytes)"' "$T/r.json")" "json $class total"
done < <(sql "$DB" "SELECT class, sum(blocks), sum(bytes) FROM leak_totals GROUP BY class")
assert_eq 1 "$(sql "$DB" "SELECT count(*) FROM leaks_by_site WHERE class = 'definite' AND function = 'list_build'")" "database: definite leak at list_build"
def_loc=$(sql "$DB" "SELECT location FROM leaks_by_site WHERE class = 'definite' AND function = 'list_build'")
assert_contains "$T/r.txt" "definite: 24 B in 1 block at $def_loc" "text: definite leak site"
assert_contains "$T/r.md" "definite: 24 B in 1 block at $def_loc" "markdown: definite leak site"
grep -A2 "definite: 24 B in 1 block" "$T/r.txt" | grep -q "#1  main " || fail "text: leak stack shows main"
assert_eq "$def_loc" "$(jq -r '.processes[0].leaks[] | select(.class == "definite") | .location' "$T/r.json")" "json definite leak"
sid=$(jq '.processes[0].leaks[] | select(.class == "definite") | .stack_id' "$T/r.json")
fid=$(jq ".stacks[\"$sid\"][1]" "$T/r.json")
assert_eq main "$(jq -r ".frames[\"$fid\"].function" "$T/r.json")" "json stack frame 1 of the leak"

# --- the memory error with its stacks
kind=$(sql "$DB" "SELECT kind FROM errors LIMIT 1")
assert_eq double_free "$kind" "database: example's error"
assert_contains "$T/r.txt" "double_free: free(0x" "text: error line"
assert_contains "$T/r.txt" "allocated at:" "text: allocation stack"
assert_eq "$(sql "$DB" "SELECT at FROM errors_readable")" "$(jq -r '.processes[0].errors[0].at' "$T/r.json")" "json error location"

# --- histograms sum to the allocation count
assert_eq "$n_allocs" "$(jq '[.processes[0].size_histogram[].count] | add' "$T/r.json")" "json size histogram"

# --- errors a user can cause: one line, non-zero
"$MT" report "$T/missing.db" >"$T/o" 2>"$T/e" && fail "missing database accepted"
assert_eq 1 "$(wc -l <"$T/e")" "one error line"
"$MT" report "$DB" --format pdf >"$T/o" 2>"$T/e"
assert_eq 2 "$?" "bad format is a usage error"
pass
