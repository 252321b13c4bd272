#!/usr/bin/env bash
# analyze_streaming.sh — a 10x longer trace of the same program, about the same memory
#
# tests/targets/an_churn.c keeps 256 blocks live whatever the number of
# rounds; `memtrace analyze` of 20000 and 200000 rounds (80004 and 800004
# allocations) must stay within 1.5x max RSS (GNU time %M), with one row
# per allocation and with --no-allocations: the analysis keeps the live set
# and the stacks, a bounded queue of rows for its writer thread, and a
# SQLite page cache capped at 4 MiB (analyzer/db/db.c), which the short
# trace already fills. Measured 41.8 -> 45.4 MiB with rows; the margin
# covers the trace reader's reorder window, which varies with how the
# collector drained the rings of each recording (32-39 MiB). Also: 4
# threads, heavy address reuse -> 0 errors, no leak of the program's own
# blocks, and a database SQLite finds sound (the allocations table's pages
# are the analysis's own, analyzer/analyze/an_writer.c). Issue #3.
. "$(dirname "$0")/lib.sh"
[ -x /usr/bin/time ] || skip "GNU time not installed"
[ -x "$TGT/an_churn" ] || skip "target not built"
case "$("$MT" run --help 2>&1) $("$MT" analyze --help 2>&1)" in
*"not available in this build"*) skip "memtrace run/analyze not linked" ;;
esac
[ "${MT_SANITIZE:-0}" = 1 ] && skip "RSS under ASan measures the sanitizer"
export MEMTRACE_PRELOAD=$MT_PRELOAD
for n in 20000 200000; do
    timeout 200 "$MT" run --no-analyze -o "$T/c$n.mtrace" -- "$TGT/an_churn" $n >/dev/null 2>&1 || fail "run $n"
    /usr/bin/time -f %M -o "$T/rss$n" "$MT" analyze "$T/c$n.mtrace" -o "$T/c$n.db" >/dev/null || fail "analyze $n"
    /usr/bin/time -f %M -o "$T/nrss$n" "$MT" analyze --no-allocations "$T/c$n.mtrace" -o "$T/n$n.db" >/dev/null || fail "analyze $n"
done
small=$(tail -1 "$T/nrss20000")
big=$(tail -1 "$T/nrss200000")
echo "max RSS --no-allocations: $small KiB (20000 rounds), $big KiB (200000 rounds)"
[ "$big" -lt $((small * 3 / 2)) ] || fail "analysis memory grows with trace length: $small -> $big KiB"
small=$(tail -1 "$T/rss20000")
big=$(tail -1 "$T/rss200000")
echo "max RSS with allocations: $small KiB (20000 rounds), $big KiB (200000 rounds)"
[ "$big" -lt $((small * 3 / 2)) ] || fail "analysis memory grows with trace length (allocation rows): $small -> $big KiB"
assert_eq ok "$(sql "$T/c200000.db" "PRAGMA integrity_check")" "database integrity"
assert_eq 0 "$(sql "$T/c200000.db" "SELECT count(*) FROM errors")" "errors"
assert_eq 0 "$(sql "$T/c200000.db" "SELECT count(*) FROM leaks_by_site WHERE location LIKE 'churn %'")" "program leaks"
assert_eq 800000 "$(sql "$T/c200000.db" "SELECT count(*) FROM allocations a JOIN stack_leaf l USING (stack_id) WHERE l.function = 'churn'")" "every allocation stored"
pass
