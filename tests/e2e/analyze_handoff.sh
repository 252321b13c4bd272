#!/usr/bin/env bash
# analyze_handoff.sh — one thread allocates, another frees, addresses reused: no leaks, no errors
#
# tests/targets/an_handoff.c: 2 producer threads allocate 20000 blocks each
# at handoff_alloc and pass them through a 16-slot queue to 2 consumer
# threads that free them. glibc reuses a few hundred addresses for 40000
# blocks, so an analysis that matched frees to allocations by address in
# the wrong order would report leaks or errors. Expected: 0 errors, 0 leaks
# at the program's sites, every block freed by a thread other than its
# allocator, none temporary, no unmatched free. Issue #3.
. "$(dirname "$0")/lib.sh"
[ -x "$TGT/an_handoff" ] || skip "target not built"
case "$("$MT" run --help 2>&1) $("$MT" analyze --help 2>&1)" in
*"not available in this build"*) skip "memtrace run/analyze not linked" ;;
esac
export MEMTRACE_PRELOAD=$MT_PRELOAD
timeout 120 "$MT" run -o "$T/h.mtrace" -- "$TGT/an_handoff" 20000 >"$T/run.out" 2>&1 ||
    { cat "$T/run.out"; fail "run"; }
DB=$T/h.db
[ -f "$DB" ] || fail "run did not write $DB"
site="FROM allocations a JOIN stack_leaf l USING (stack_id) WHERE l.function = 'handoff_alloc'"
assert_eq 40000 "$(sql "$DB" "SELECT count(*) $site")" "allocations at handoff_alloc"
assert_eq 0 "$(sql "$DB" "SELECT count(*) $site AND (free_tid IS NULL OR free_tid = tid)")" \
    "blocks not freed by another thread"
assert_eq 0 "$(sql "$DB" "SELECT sum(temporary) $site")" "temporaries"
distinct=$(sql "$DB" "SELECT count(DISTINCT addr) $site")
[ "$distinct" -le 4000 ] || fail "addresses not reused enough to test anything: $distinct distinct"
assert_eq 0 "$(sql "$DB" "SELECT count(*) FROM leaks_by_site WHERE function LIKE 'handoff_%' OR file LIKE '%/an_handoff.c'")" \
    "leaks at the program's sites"
assert_eq 0 "$(sql "$DB" "SELECT count(*) FROM errors")" "errors"
assert_eq 0 "$(sql "$DB" "SELECT unmatched_frees FROM session")" "unmatched frees"
assert_eq 40000 "$(sql "$DB" "SELECT sum(s.n_frees) FROM sites s JOIN stack_leaf l USING (stack_id) WHERE l.function = 'handoff_alloc'")" \
    "site's frees"
pass
