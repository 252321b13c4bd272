# tests/e2e/badinput_common.bash — sourced by badinput_*.sh and fault_*.sh
#
# The product rule these tests hold every verb to (docs/cli.md): bad input
# gets exactly one line on stderr, "memtrace <verb>: ...", and the
# documented non-zero exit; never a crash (status >= 128, a sanitizer
# report), a hang (timeout's 124) or a partial output file.
# Needs lib.sh sourced first.

# expect_fail VERB CODE WHAT -- memtrace-args...
# Runs memtrace with stdin from /dev/null under a 60 s timeout (generous: a loaded sanitizer build is slow; a hang still fails).
expect_fail() {
    local verb=$1 code=$2 what=$3
    shift 4
    timeout 60 "$MT" "$@" </dev/null >"$T/bi.out" 2>"$T/bi.err"
    local rc=$?
    [ "$rc" -ne 124 ] || fail "$what: memtrace $* hung"
    [ "$rc" -lt 128 ] || { cat "$T/bi.err" >&2; fail "$what: memtrace $* crashed ($rc)"; }
    if grep -qE 'runtime error|Sanitizer|AddressSanitizer' "$T/bi.err"; then
        cat "$T/bi.err" >&2
        fail "$what: sanitizer report"
    fi
    [ "$rc" -eq "$code" ] || { cat "$T/bi.err" >&2; fail "$what: exit $rc, expected $code"; }
    assert_eq 1 "$(wc -l <"$T/bi.err")" "$what: stderr lines"
    case "$(cat "$T/bi.err")" in
    "memtrace $verb: "*) ;;
    *) fail "$what: error line does not start 'memtrace $verb: ': $(cat "$T/bi.err")" ;;
    esac
}

# expect_ok WHAT -- memtrace-args...: exit 0, nothing on stderr.
expect_ok() {
    local what=$1
    shift 2
    timeout 60 "$MT" "$@" </dev/null >"$T/bi.out" 2>"$T/bi.err"
    local rc=$?
    [ "$rc" -eq 0 ] || { cat "$T/bi.err" >&2; fail "$what: exit $rc"; }
    [ ! -s "$T/bi.err" ] || { cat "$T/bi.err" >&2; fail "$what: stderr not empty"; }
}

# no_output PATH WHAT: neither PATH nor a temp file beside it exists.
no_output() {
    [ ! -e "$1" ] || fail "$2: $1 was left behind"
    local left
    left=$(find "$(dirname "$1")" -maxdepth 1 -name "$(basename "$1").tmp-*" 2>/dev/null | head -n1)
    [ -z "$left" ] || fail "$2: temp file $left was left behind"
}

# bad_files DIR: the inputs no verb may choke on. A deterministic
# pseudo-random binary (so a failure reproduces), a text file, an empty
# file, a directory, an SQLite database of someone else.
bad_files() {
    local d=$1
    mkdir -p "$d/adir"
    : >"$d/empty"
    LC_ALL=C awk 'BEGIN { srand(42); for (i = 0; i < 4096; i++) printf "%c", int(rand() * 256) }' \
        >"$d/random.bin"
    printf 'hello, this is text\nnot a database, not a trace\n' >"$d/text.txt"
    sqlite3 "$d/foreign.db" 'CREATE TABLE t(x); INSERT INTO t VALUES (1);' ||
        fail "sqlite3 cannot make a foreign database"
}

# good_db DIR: records tests/targets/leak_list into DIR/good.mtrace and
# DIR/good.db, then derives a database of another schema version, one
# without its meta table and one cut in half. Skips without a preload.
good_db() {
    local d=$1
    [ -f "${MT_PRELOAD:-}" ] && [ -x "$TGT/leak_list" ] || skip "no preload or target"
    MEMTRACE_PRELOAD=$MT_PRELOAD timeout 120 "$MT" run -o "$d/good.mtrace" --db "$d/good.db" \
        -- "$TGT/leak_list" >"$d/run.out" 2>&1 || { cat "$d/run.out"; fail "recording leak_list"; }
    cp "$d/good.db" "$d/wrongver.db"
    sql "$d/wrongver.db" "UPDATE meta SET value = '999' WHERE key = 'schema_version'"
    cp "$d/good.db" "$d/nometa.db"
    sql "$d/nometa.db" "DROP TABLE meta"
    head -c $(($(stat -c %s "$d/good.db") / 2)) "$d/good.db" >"$d/half.db"
}
