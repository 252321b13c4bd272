#!/usr/bin/env bash
# export_massif.sh — valgrind's ms_print reads memtrace's massif export
#
# Records tests/targets/example, exports massif and runs ms_print: it
# parses the file, draws the graph, and shows the peak snapshot whose total
# and top branch are the database's peak and top peak site; the detailed
# end snapshot holds the leak site. docs/reports.md. Issue #5.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/report_common.bash"
rp_require run export -- example
command -v ms_print >/dev/null || skip "ms_print (valgrind) not installed"
rp_record ex "$TGT/example"
DB=$T/ex.db
rp_mt export "$DB" --format massif -o "$T/massif.out"
head -3 "$T/massif.out" | grep -q '^time_unit: ms$' || fail "header"

timeout 60 ms_print "$T/massif.out" >"$T/ms.txt" 2>"$T/ms.err" || { cat "$T/ms.err" >&2; fail "ms_print"; }
peak=$(sql "$DB" "SELECT peak_heap_bytes FROM processes")
peak_c=$(echo "$peak" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta')
grep -q "Detailed snapshots: \[.*(peak)" "$T/ms.txt" || fail "no peak snapshot"
grep -qF "100.00% (${peak_c}B) (heap allocation functions)" "$T/ms.txt" || { cat "$T/ms.txt" >&2; fail "peak tree total $peak_c"; }
top=$(sql "$DB" "SELECT peak_bytes || '|' || l.function FROM top_sites_at_peak t JOIN stack_leaf l USING (stack_id) ORDER BY t.peak_bytes DESC LIMIT 1")
top_c=$(echo "${top%%|*}" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta')
grep -qE "^->[0-9.]+% \(${top_c}B\) 0x[0-9A-F]+: ${top#*|} " "$T/ms.txt" || fail "top branch ${top#*|} ${top_c}B"
assert_eq "$peak" "$(awk '/^heap_tree=peak/ { print prev } { if ($0 ~ /^mem_heap_B=/) { sub(/mem_heap_B=/, ""); prev2 = $0 } prev = prev2 }' "$T/massif.out")" "peak snapshot mem_heap_B"
tail -n 20 "$T/massif.out" | grep -q "list_build" || fail "end snapshot lacks the leak site"
"$MT" export "$DB" --format massif --pid 999999999 >"$T/o" 2>"$T/e" && fail "unknown pid accepted"
assert_contains "$T/e" "no process with pid 999999999" "unknown pid message"
pass
