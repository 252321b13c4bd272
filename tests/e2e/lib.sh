# tests/e2e/lib.sh — sourced by every end-to-end script.
#
# ctest sets MEMTRACE_BIN, MT_PRELOAD, MT_TARGET_DIR, MT_SRC_DIR, MT_BUILD_DIR
# and MT_SANITIZE (tests/CMakeLists.txt). Each script gets a private temp dir
# in $T, removed at exit unless the test failed (then kept and printed).
# A script exits 0 to pass, 77 to skip (with a reason), anything else fails.
set -uo pipefail

: "${MEMTRACE_BIN:?run through ctest}" "${MT_TARGET_DIR:?}" "${MT_SRC_DIR:?}"
MT=$MEMTRACE_BIN
TGT=$MT_TARGET_DIR
T=$(mktemp -d "${TMPDIR:-/tmp}/mt-e2e.XXXXXX")
mt_failed=0
mt_cleanup() { if [ "$mt_failed" -eq 0 ]; then rm -rf "$T"; else echo "kept $T" >&2; fi; }
trap mt_cleanup EXIT

fail() { mt_failed=1; echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*" >&2; exit 77; }
pass() { echo "PASS: ${1:-$(basename "$0")}"; exit 0; }

# assert_eq EXPECTED ACTUAL WHAT
assert_eq() { [ "$1" == "$2" ] || fail "$3: expected '$1', got '$2'"; }
# assert_ge MIN ACTUAL WHAT
assert_ge() { [ "$2" -ge "$1" ] 2>/dev/null || fail "$3: expected >= $1, got '$2'"; }
# assert_contains HAYSTACK_FILE NEEDLE WHAT
assert_contains() { grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "$3: '$2' not found in $1"; }; }

# sql DB QUERY: one query through the sqlite3 shell, list mode.
sql() { sqlite3 -batch -noheader "$1" "$2"; }
