# tests/e2e/report_common.bash — helpers of the report, export and diff tests
#
# Sourced after lib.sh by tests/e2e/report_*.sh, export_*.sh and diff_*.sh
# (issue #5). Not a test itself (ctest only runs *.sh). Records a target
# with `memtrace run` into $T/NAME.db so every test reads a real database.

RP_TIMEOUT=${RP_TIMEOUT:-120} # seconds any one memtrace command may take
export MEMTRACE_PRELOAD=${MT_PRELOAD:-}

# rp_require VERB... -- TARGET...: skip while a verb or target is missing.
rp_require() {
    local verb
    [ -x "$MT" ] || skip "memtrace binary not built: $MT"
    [ -f "${MT_PRELOAD:-}" ] || skip "libmemtrace.so not built"
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do
        case "$("$MT" "$1" --help 2>&1)" in
        *"not available in this build"*) skip "memtrace $1 not linked yet" ;;
        esac
        shift
    done
    [ "${1:-}" = "--" ] && shift
    for t in "$@"; do [ -x "$TGT/$t" ] || skip "target not built: $TGT/$t"; done
}

# rp_record NAME PROG ARGS...: memtrace run -> $T/NAME.db (fails if missing).
rp_record() {
    local name=$1
    shift
    timeout "$RP_TIMEOUT" "$MT" run -o "$T/$name.mtrace" -- "$@" >"$T/$name.run.out" 2>&1
    [ -f "$T/$name.db" ] || { cat "$T/$name.run.out" >&2; fail "memtrace run did not write $T/$name.db"; }
}

# rp_mt ARGS...: memtrace with a timeout; fails on a non-zero exit.
rp_mt() {
    timeout "$RP_TIMEOUT" "$MT" "$@" 2>"$T/mt.err" || { cat "$T/mt.err" >&2; fail "memtrace $*"; }
}
