# tests/e2e/leaks_scale.sh — the leak scan classifies a large heap exactly
#
# leak_million with 131072 blocks (1024 chains, half of the heads dropped)
# under `memtrace run`: every live block must get one entry, and the
# classes must be what the program's header says: n/2 still reachable
# (plus stdout's buffer), 512 definitely lost heads, n/2 - 512 indirectly
# lost. The scan's duration is printed for the record, never asserted
# (docs/leaks.md has the 1 M-block figure).
source "$MT_SRC_DIR/tests/e2e/lib.sh"
source "$MT_SRC_DIR/tests/e2e/leak_common.bash"

N=131072
[ -x "$MT" ] || skip "memtrace binary not built"
out=$("$MT" run --help 2>&1)
case "$out" in *"not available in this build"*) skip "memtrace run not built yet" ;; esac
[ -x "$TGT/leak_million" ] || skip "target not built: leak_million"

timeout "$LEAK_TIMEOUT" "$MT" run -o "$T/m.mtrace" --no-analyze --program-output "$T/m.out" \
    -- "$TGT/leak_million" $N >"$T/run.out" 2>"$T/run.err" || { cat "$T/run.err" >&2; fail "run failed"; }
grep -q '^done' "$T/m.out" || fail "leak_million did not reach its end"
"$MT" dump "$T/m.mtrace" >"$T/m.dump" || fail "dump failed"
awk -f "$LEAK_AWK" "$T/m.dump" >"$T/m.mt" || fail "leak_classes.awk failed"

assert_eq 0 "$(leak_field "$T/m.mt" unmatched 2)" "leak entries without an alloc"
assert_eq "$((N + 1))" "$(leak_field "$T/m.mt" live 2)" "live blocks in the trace"
assert_eq "$((N + 1))" "$(leak_field "$T/m.mt" scan 2)" "blocks the scan classified"
assert_eq "$((N / 2 + 1))" "$(leak_field "$T/m.mt" reachable 3)" "still reachable blocks"
assert_eq 512 "$(leak_field "$T/m.mt" definite 3)" "definitely lost blocks"
assert_eq "$((N / 2 - 512))" "$(leak_field "$T/m.mt" indirect 3)" "indirectly lost blocks"
assert_eq 0 "$(leak_field "$T/m.mt" possible 3)" "possibly lost blocks"
assert_eq "$((512 * 32))" "$(leak_field "$T/m.mt" definite 2)" "definitely lost bytes"
grep -o 'duration_ns=[0-9]*' "$T/m.dump" | sed "s/^/leak scan of $N blocks: /"
pass
