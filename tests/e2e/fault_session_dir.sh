#!/usr/bin/env bash
# fault_session_dir.sh — `memtrace run` when no session directory can be made
#
# run makes its private session directory under $XDG_RUNTIME_DIR, else
# /dev/shm, else /tmp (docs/cli.md, run). In a private mount namespace
# where /dev/shm and /tmp are read-only and XDG_RUNTIME_DIR points nowhere,
# run must say so in one line, exit 125, leave no trace and not run the
# program. Needs unshare(1) and root; skips otherwise.
. "$(dirname "$0")/lib.sh"
[ -f "${MT_PRELOAD:-}" ] || skip "no preload library"
command -v unshare >/dev/null || skip "no unshare"
W=$(mktemp -d /var/tmp/mt-fault.XXXXXX) || skip "no /var/tmp"
trap 'rm -rf "$W"; mt_cleanup' EXIT
# The build may live under /tmp, which the namespace hides: run copies.
cp "$MT" "$W/memtrace" && cp "$MT_PRELOAD" "$W/libmemtrace.so" || fail "cannot copy the binaries"
unshare -m bash -c '
    mount --make-rprivate / && mount -t tmpfs -o ro,size=64k tmpfs /dev/shm &&
    mount -t tmpfs -o ro,size=64k tmpfs /tmp || exit 77
    cd "$1" && XDG_RUNTIME_DIR=/nonexistent MEMTRACE_PRELOAD=$2 \
        timeout 10 "$3" run -o t.mtrace -- touch ran </dev/null >out 2>err
    echo $? >rc' _ "$W" "$W/libmemtrace.so" "$W/memtrace" 2>/dev/null
[ $? -ne 77 ] && [ -f "$W/rc" ] || skip "cannot make a private mount namespace"
assert_eq 125 "$(cat "$W/rc")" "exit status"
assert_eq 1 "$(wc -l <"$W/err")" "stderr lines"
assert_contains "$W/err" "memtrace run: cannot create a session directory" "the error names the cause"
[ ! -e "$W/ran" ] || fail "the program ran without a session"
[ ! -e "$W/t.mtrace" ] || fail "a trace was left"
pass
