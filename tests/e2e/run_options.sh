#!/usr/bin/env bash
# run_options.sh — `memtrace run` options and exit statuses that the recorder promises
#
# The program's exit status comes back as memtrace's; a missing or
# non-executable program gives 127/126; without -o the trace is named after
# the program and its pid; --depth bounds every stack; --free-stacks gives
# frees a stack that was sent; --no-follow-fork leaves a forked child out.
# Issue #2, docs/cli.md.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rec_common.bash"
rec_require rec_api rec_fork

# Exit statuses.
"$MT" run -o "$T/st.mtrace" --no-analyze -- sh -c 'exit 3' >/dev/null 2>&1
assert_eq 3 "$?" "status of a program that exits 3"
"$MT" run -o "$T/nf.mtrace" --no-analyze -- "$T/does-not-exist" >/dev/null 2>"$T/nf.err"
assert_eq 127 "$?" "status for a program that does not exist"
assert_eq 1 "$(wc -l <"$T/nf.err")" "error lines for a missing program"
printf 'not a program\n' >"$T/plain.txt"
"$MT" run -o "$T/nx.mtrace" --no-analyze -- "$T/plain.txt" >/dev/null 2>&1
assert_eq 126 "$?" "status for a file that cannot be executed"

# Default trace name: <program>.<pid>.mtrace in the current directory.
(cd "$T" && "$MT" run --no-analyze -- "$TGT/rec_api" >"$T/default.out" 2>&1) || fail "run without -o"
shopt -s nullglob
traces=("$T"/rec_api.*.mtrace)
assert_eq 1 "${#traces[@]}" "trace files named rec_api.<pid>.mtrace"
cp "${traces[0]}" "$T/default.mtrace"
rec_dump default
pid=$(rec_root_pid "$T/default.sum")
assert_eq "$T/rec_api.$pid.mtrace" "${traces[0]}" "default name carries the program's pid"

# --depth 3 --free-stacks
REC_RUN_OPTS="--depth 3 --free-stacks" rec_record depth "$TGT/rec_api"
assert_eq 0 "$REC_STATUS" "memtrace run --depth 3 status"
D=$T/depth.dump
[ "$(grep -c '^stack ' "$D")" -gt 0 ] || fail "no stacks at depth 3"
deep=$(grep '^stack ' "$D" | sed -E 's/.* n=([0-9]+) .*/\1/' | awk '$1 > 3' | wc -l)
assert_eq 0 "$deep" "stacks deeper than --depth 3"
grep -qE '^process .* depth=3 ' "$D" || fail "process record does not carry depth=3"
ids=$(grep '^stack ' "$D" | sed -E 's/.* id=([0-9]+) .*/\1/' | sort -u)
n_free=0
for s in $(grep '^free ' "$D" | sed -E 's/.* stack=([0-9]+).*/\1/'); do
    [ "$s" != 0 ] || fail "a free without a stack under --free-stacks"
    grep -qx "$s" <<<"$ids" || fail "free refers to stack $s, never sent"
    n_free=$((n_free + 1))
done
[ "$n_free" -ge 23 ] || fail "only $n_free frees under --free-stacks"

# --no-follow-fork: the child's events and process record are absent.
REC_RUN_OPTS=--no-follow-fork rec_record nofollow "$TGT/rec_fork" "$T/pids.txt"
assert_eq 0 "$REC_STATUS" "memtrace run --no-follow-fork status"
read -r _ child _ < <(grep '^child ' "$T/pids.txt")
read -r _ parent _ < <(grep '^parent ' "$T/pids.txt")
S=$T/nofollow.sum
assert_eq 3 "$(rec_count "$S" "A $parent 0 30011")" "parent's allocations with --no-follow-fork"
assert_eq 0 "$(grep -c "pid=$child " "$T/nofollow.dump")" "records of the child with --no-follow-fork"
pass
