# tests/e2e/client_common.bash — shared steps of the client API tests (client_*.sh)
#
# client_run NAME: runs target NAME alone (no memtrace, nothing preloaded),
# then under `memtrace run`, and fails unless both print the same program
# output and exit with the same status. Leaves $T/NAME.db, and the status
# in $client_rc. Issue #7, docs/client-api.md.

client_run() {
    local name=$1 bin=$TGT/$1
    [ -x "$bin" ] || skip "target $name not built"
    case "$("$MT" run --help 2>&1)" in
    *"not available in this build"*) skip "memtrace run not linked" ;;
    esac
    ldd "$bin" | grep -q memtrace && fail "$name links against memtrace; it must not"
    "$bin" >"$T/$name.plain" 2>&1
    local plain_rc=$?
    MEMTRACE_PRELOAD=$MT_PRELOAD timeout 120 "$MT" run --no-summary -o "$T/$name.mtrace" \
        -- "$bin" >"$T/$name.traced" 2>&1
    client_rc=$?
    grep -v '^database: ' "$T/$name.traced" >"$T/$name.traced.prog"
    diff -u "$T/$name.plain" "$T/$name.traced.prog" >&2 || fail "$name: output differs under memtrace"
    assert_eq "$plain_rc" "$client_rc" "$name: exit status with and without memtrace"
    [ -f "$T/$name.db" ] || fail "$name: no database $T/$name.db"
    DB=$T/$name.db
}

# stack_has DB STACK_ID FUNCTION: 1 if FUNCTION is a frame of the stack.
stack_has() {
    sql "$1" "SELECT count(*) > 0 FROM stack_trace WHERE stack_id = $2 AND function = '$3'"
}
