#!/usr/bin/env bash
# export_folded.sh — folded stacks add up to the database, for every value
#
# Records tests/targets/example and exports folded stacks with each
# --value: the sum of the line values equals the database's total (bytes
# allocated, allocations, leaked, live at the peak), every line is
# "frame;frame;... N" with the allocating function last, and the peak's
# top site is a line of its own. docs/reports.md. Issue #5.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/report_common.bash"
rp_require run export -- example
rp_record ex "$TGT/example"
DB=$T/ex.db

# folded_sum FILE: sum of the last field of every line
folded_sum() { awk '{ s += $NF } END { printf "%d\n", s }' "$1"; }

rp_mt export "$DB" --format folded -o "$T/bytes.folded"
assert_eq "$(sql "$DB" "SELECT alloc_bytes FROM session")" "$(folded_sum "$T/bytes.folded")" "bytes (default)"
rp_mt export "$DB" --format folded --value allocs -o "$T/allocs.folded"
assert_eq "$(sql "$DB" "SELECT n_allocs FROM session")" "$(folded_sum "$T/allocs.folded")" "allocs"
rp_mt export "$DB" --format folded --value peak -o "$T/peak.folded"
assert_eq "$(sql "$DB" "SELECT peak_heap_bytes FROM session")" "$(folded_sum "$T/peak.folded")" "peak"
rp_mt export "$DB" --format folded --value leaked -o "$T/leaked.folded"
assert_eq "$(sql "$DB" "SELECT sum(bytes) FROM leak_totals WHERE class <> 'reachable'")" "$(folded_sum "$T/leaked.folded")" "leaked"

bad=$(grep -cvE '^[^ ;]([^;]*;)*[^;]+ [0-9]+$' "$T/bytes.folded")
assert_eq 0 "$bad" "every line is frames then a value"
peak_line=$(sql "$DB" "SELECT l.function || ' ' || t.peak_bytes FROM top_sites_at_peak t JOIN stack_leaf l USING (stack_id) ORDER BY t.peak_bytes DESC LIMIT 1")
grep -qE "^_start;.*;main;$peak_line\$" "$T/peak.folded" || { cat "$T/peak.folded" >&2; fail "peak line '$peak_line'"; }
grep -qE ";list_build 240\$" "$T/leaked.folded" || fail "leaked list_build line"
rp_mt export "$DB" --format folded >"$T/stdout.folded"
cmp -s "$T/stdout.folded" "$T/bytes.folded" || fail "stdout and -o differ"
pass
