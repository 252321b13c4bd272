#!/usr/bin/env bash
# crash_collector_kill.sh — killing the collector never stops or hangs the target
#
# tests/targets/rec_finish.c allocates, writes a marker, waits for a `go`
# file, then makes 200000 malloc/free pairs (many full rings' worth) and
# writes a `done` file as its last act. The test SIGKILLs `memtrace run`
# (the collector) after the marker, creates `go`, and requires the done
# file to appear and the target to end: the producer must notice the dead
# collector on a full ring and carry on untraced (ring.h note 5).
# The cut-short trace must still dump without crashing. Issue #2.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rec_common.bash"
rec_require rec_finish

# A killed run cannot remove its session directory: make it under $T.
mkdir -m 700 "$T/run"
XDG_RUNTIME_DIR=$T/run "$MT" run -o "$T/ck.mtrace" --no-analyze -- "$TGT/rec_finish" "$T/marker" \
    "$T/go" "$T/done" >"$T/ck.run.out" 2>"$T/ck.run.err" &
mt=$!
rec_wait_file "$T/marker" 20
read -r _ tpid _ <"$T/marker"
[ -n "$tpid" ] || fail "marker without a pid"
kill -KILL "$mt" || fail "could not kill memtrace $mt"
wait "$mt" # reap it, so that it is gone and not a zombie
touch "$T/go"
rec_wait_file "$T/done" 30
read -r what dpid pairs <"$T/done"
assert_eq "done $tpid 200000" "$what $dpid $pairs" "target's final report"
rec_wait_gone "$tpid" 10

# Whatever the dead collector managed to write is readable, never a crash.
if [ -s "$T/ck.mtrace" ]; then
    timeout "$REC_TIMEOUT" "$MT" dump "$T/ck.mtrace" >"$T/ck.dump" 2>"$T/ck.dump.err"
    st=$?
    [ "$st" -lt 124 ] || { cat "$T/ck.dump.err" >&2; fail "dump of a cut-short trace: status $st"; }
    n=$(grep -cE "^alloc pid=$tpid .* size=60037 " "$T/ck.dump")
    [ "$n" -le 1000 ] || fail "cut-short trace holds $n allocations of 60037, the program made 1000"
fi
pass
