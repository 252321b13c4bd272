# tests/e2e/check_lib.bash — helpers shared by the gate's end-to-end tests
#
# Sourced after lib.sh by tests/e2e/check_*.sh (issue #5). Not a test itself:
# ctest only picks up *.sh. Runs `memtrace check` on real programs from
# tests/targets/ and keeps its exit code, stdout and stderr in files so a
# failing assertion can show them. Exit codes are those of docs/cli.md
# ("check"): 0 passed, 1 gate failed, 3 program failed, 2 usage, 125 error.

CHECK_TIMEOUT=${CHECK_TIMEOUT:-120} # seconds any one memtrace command may take

# check_require TARGET...: skip while memtrace check or a target is missing.
check_require() {
    [ -x "$MT" ] || skip "memtrace binary not built: $MT"
    case "$("$MT" check --help 2>&1)" in
    *"not available in this build"*) skip "memtrace check not built" ;;
    esac
    local t
    for t in "$@"; do [ -e "$TGT/$t" ] || skip "target not built: $TGT/$t"; done
}

# mt_check NAME ARGS...: runs `memtrace check ARGS` in $T, output in
# $T/NAME.out and $T/NAME.err, exit code in CHECK_RC.
mt_check() {
    local name=$1
    shift
    (cd "$T" && timeout "$CHECK_TIMEOUT" "$MT" check --no-github "$@") >"$T/$name.out" 2>"$T/$name.err"
    CHECK_RC=$?
    [ "$CHECK_RC" -ne 124 ] || { cat "$T/$name.err" >&2; fail "memtrace check timed out: $*"; }
}

# expect_rc NAME CODE: the last mt_check NAME exited with CODE.
expect_rc() {
    [ "$CHECK_RC" -eq "$2" ] && return 0
    echo "--- stdout of $1" >&2
    cat "$T/$1.out" >&2
    echo "--- stderr of $1" >&2
    cat "$T/$1.err" >&2
    fail "$1: expected exit $2, got $CHECK_RC"
}

# record NAME TARGET ARGS...: records a target once into $T/NAME.db (the
# verdict of that run is not asserted here).
record() {
    local name=$1 target=$2
    shift 2
    mt_check "rec_$name" --db "$T/$name.db" -- "$TGT/$target" "$@"
    [ -f "$T/$name.db" ] || { cat "$T/rec_$name.err" >&2; fail "recording $target left no database"; }
}

# count_lines FILE PREFIX: lines of FILE starting with PREFIX.
count_lines() { grep -c -- "^$2" "$1" || true; }
