#!/usr/bin/env bash
# diff_sites.sh — `memtrace diff` matches sites by symbols and reports changes
#
# Three recordings: tests/targets/an_churn with 200 and with 2000 rounds
# (same sites, ten times the allocations), and tests/targets/example (other
# sites). Checks: a database against itself changes nothing; the churn
# site is "changed" with exactly the allocation delta the two databases
# hold although both runs have different addresses; example vs an_churn
# gives "new" and "gone" sites with their leaks; json and text agree.
# docs/reports.md. Issue #5.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/report_common.bash"
rp_require run diff -- an_churn example
command -v jq >/dev/null || skip "jq not installed"
rp_record small "$TGT/an_churn" 200
rp_record big "$TGT/an_churn" 2000
rp_record ex "$TGT/example"

rp_mt diff "$T/small.db" "$T/small.db" >"$T/same.txt"
assert_contains "$T/same.txt" "(no site changed)" "self diff"
rp_mt diff "$T/small.db" "$T/small.db" --format json >"$T/same.json"
assert_eq 0 "$(jq '[.sites[] | select(.status != "same")] | length' "$T/same.json")" "self diff json"

rp_mt diff "$T/small.db" "$T/big.db" --format json >"$T/churn.json"
jq -e . "$T/churn.json" >/dev/null || fail "diff json does not parse"
q="SELECT sum(s.n_allocs) FROM sites s JOIN stack_leaf l USING (stack_id) WHERE l.function = 'churn'"
a=$(sql "$T/small.db" "$q")
b=$(sql "$T/big.db" "$q")
assert_ge 200 "$a" "churn allocations (small)"
[ "$b" -gt "$a" ] || fail "big run allocates more at churn ($a vs $b)"
row=$(jq -c '.sites[] | select(.key | startswith("churn@an_churn.c;"))' "$T/churn.json")
[ -n "$row" ] || fail "no churn site in the diff"
assert_eq "changed|$a|$b|$((b - a))" "$(jq -r '"\(.status)|\(.a.n_allocs)|\(.b.n_allocs)|\(.delta.n_allocs)"' <<<"$row")" "churn site"
assert_eq "$(sql "$T/big.db" "SELECT n_allocs FROM session")" "$(jq '.b.n_allocs' "$T/churn.json")" "b totals"
rp_mt diff "$T/small.db" "$T/big.db" >"$T/churn.txt"
grep -E "^changed .* $a -> $b \(\+$((b - a))\) +churn " "$T/churn.txt" >/dev/null || { cat "$T/churn.txt" >&2; fail "text churn row"; }

rp_mt diff "$T/small.db" "$T/ex.db" --format json >"$T/other.json"
new_leak=$(jq '[.sites[] | select(.status == "new") | .b.leaked_bytes] | add' "$T/other.json")
assert_eq "$(sql "$T/ex.db" "SELECT sum(bytes) FROM leak_totals WHERE class <> 'reachable'")" "$new_leak" "new sites carry example's leaks"
assert_ge 1 "$(jq '[.sites[] | select(.status == "gone" and (.key | startswith("churn@")))] | length' "$T/other.json")" "churn site gone"

"$MT" diff "$T/small.db" >"$T/o" 2>"$T/e"
assert_eq 2 "$?" "one database is a usage error"
"$MT" diff "$T/small.db" "$T/nothing.db" >"$T/o" 2>"$T/e" && fail "missing B accepted"
assert_eq 1 "$(wc -l <"$T/e")" "one error line"
pass
