#!/usr/bin/env bash
# analyze_fork.sh — a forked child's leaks belong to the child's pid, the parent's to the parent's
#
# tests/targets/an_fork.c forks; the child leaks 3 x 555 bytes at
# child_leak and exits, then the parent leaks 2 x 777 at parent_leak. Both
# write their pid to a file, so the test knows which is which. The
# database must attribute each leak to the right pid (through processes),
# mark the child as forked from the parent, and hold no errors. Issue #3.
. "$(dirname "$0")/lib.sh"
[ -x "$TGT/an_fork" ] || skip "target not built"
case "$("$MT" run --help 2>&1) $("$MT" analyze --help 2>&1)" in
*"not available in this build"*) skip "memtrace run/analyze not linked" ;;
esac
export MEMTRACE_PRELOAD=$MT_PRELOAD
timeout 120 "$MT" run -o "$T/f.mtrace" -- "$TGT/an_fork" "$T/pids" >"$T/run.out" 2>&1 ||
    { cat "$T/run.out"; fail "run"; }
DB=$T/f.db
[ -f "$DB" ] || fail "run did not write $DB"
# Both processes' leak rows go to the allocations table in one alloc_id order (an_final.c).
assert_eq ok "$(sql "$DB" "PRAGMA integrity_check")" "database integrity"
assert_eq "$(sql "$DB" "SELECT sum(n_allocs) FROM processes")" "$(sql "$DB" "SELECT count(*) FROM allocations")" "one row per allocation"
child=$(awk '$1 == "child" { print $2 }' "$T/pids")
parent=$(awk '$1 == "parent" { print $2 }' "$T/pids")
[ -n "$child" ] && [ -n "$parent" ] && [ "$child" != "$parent" ] || fail "pids not written: $(cat "$T/pids")"
assert_eq "$child|3|1665" "$(sql "$DB" "SELECT group_concat(DISTINCT pid), sum(blocks), sum(bytes) FROM leaks_by_site WHERE function = 'child_leak'")" \
    "child's leaks"
assert_eq "$parent|2|1554" "$(sql "$DB" "SELECT group_concat(DISTINCT pid), sum(blocks), sum(bytes) FROM leaks_by_site WHERE function = 'parent_leak'")" \
    "parent's leaks"
assert_eq "1|$parent" "$(sql "$DB" "SELECT c.forked, p.pid FROM processes c JOIN processes p ON p.proc_id = c.parent_proc_id WHERE c.pid = $child")" \
    "child forked from the parent"
assert_eq 10 "$(sql "$DB" "SELECT s.n_frees FROM sites s JOIN processes p USING (proc_id) JOIN stack_leaf l USING (stack_id) WHERE p.pid = $child AND l.function = 'main' AND s.n_allocs = 10")" \
    "child's freed blocks in the child"
assert_eq 0 "$(sql "$DB" "SELECT count(*) FROM errors")" "errors"
pass
