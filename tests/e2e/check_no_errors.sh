#!/usr/bin/env bash
# check_no_errors.sh — a --no-errors recording says "not checked", never 0
#
# tests/targets/err_double_free_leak loses a 48-byte block, then frees a
# 64-byte block twice. Under `memtrace run --no-errors` nothing judges the
# second free (it reaches glibc, which may abort the program: its status
# is not asserted) and no leak scan runs, so:
#   - the summary says "memory errors  not checked" and "leaks  not
#     classified", never "memory errors  0"; the block is unclassified;
#   - the database: processes.errors_checked = 0, session.errors_checked
#     = 0, "no_errors" in session.options, no error row, and the trace's
#     process record carries MT_OPT_NO_ERRORS (dump opts=4);
#   - report text, markdown, json and html say so, and so does diff
#     against the checked recording;
#   - check (docs/ci.md, "Recordings without error checking"): the default
#     --fail-on and --fail-on double-free fail (exit 1) with one
#     "FAIL not-checked:" line; --fail-on unclassified judges the real
#     leak (FAIL leak-unclassified, no not-checked line); --fail-on none
#     passes with a note; MEMTRACE_NO_ERRORS=1 memtrace check -- prog
#     fails as not checked; JUnit and SARIF carry it.
# The same target recorded normally is the regression that lets every
# assertion above fail: the double free and the definite leak are
# reported, the summary prints "memory errors  1", errors_checked = 1, and
# check fails on them with no not-checked line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/check_lib.bash"
check_require err_double_free_leak
[ -f "${MT_PRELOAD:-}" ] || skip "libmemtrace.so not built"
export MEMTRACE_PRELOAD=$MT_PRELOAD
P=$TGT/err_double_free_leak

# run NAME OPTS...: memtrace run into $T/NAME.db, summary in $T/NAME.sum.
run() {
    local name=$1
    shift
    (cd "$T" && timeout "$CHECK_TIMEOUT" "$MT" run "$@" --db "$T/$name.db" -o "$T/$name.mtrace" \
        --program-output "$T/$name.prog" -- "$P") >"$T/$name.sum" 2>&1
    [ -f "$T/$name.db" ] || { cat "$T/$name.sum" >&2; fail "run $*: no database"; }
}
# report NAME FORMAT: memtrace report of $T/NAME.db into $T/NAME.FORMAT.
report() {
    timeout "$CHECK_TIMEOUT" "$MT" report "$T/$1.db" --format "$2" -o "$T/$1.$2" 2>"$T/report.err" ||
        { cat "$T/report.err" >&2; fail "report --format $2 of $1"; }
}

# ---- checked (regression): the error and the leak are found
run checked
assert_contains "$T/checked.sum" "memory errors  1" "summary of a checked run"
grep -q "not checked\|not classified" "$T/checked.sum" && fail "a checked run says 'not checked'"
assert_eq "1|1|double_free" "$(sql "$T/checked.db" "SELECT p.errors_checked, s.errors_checked,
    (SELECT group_concat(kind) FROM errors) FROM processes p, session s")" "checked database"
assert_eq "definite|48" "$(sql "$T/checked.db" "SELECT class, bytes FROM leaks_by_site
    WHERE function = 'lose'")" "the lost block, classified"
report checked text
assert_contains "$T/checked.text" "memory errors      1" "report of a checked run"
mt_check checked_gate "$T/checked.db"
expect_rc checked_gate 1
assert_contains "$T/checked_gate.out" "FAIL double-free:" "gate on the checked run"
assert_contains "$T/checked_gate.out" "FAIL leak-definite:" "gate on the checked run"
[ "$(count_lines "$T/checked_gate.out" "FAIL not-checked")" = 0 ] || fail "checked run: not-checked line"

# ---- --no-errors: nothing judged, and everything says so
run noerr --no-errors
S=$T/noerr.sum
assert_contains "$S" "memory errors  not checked (recorded with --no-errors)" "summary: errors"
assert_contains "$S" "leaks          not classified, no leak scan (recorded with --no-errors)" "summary: leaks"
grep -q "memory errors  0" "$S" && fail "the summary claims 0 memory errors"
grep -Eq "unclassified +1 block, 48 B" "$S" || { cat "$S" >&2; fail "summary: the lost block unclassified"; }
assert_eq "0|0|no_errors|0" "$(sql "$T/noerr.db" "SELECT p.errors_checked, s.errors_checked,
    s.options, (SELECT count(*) FROM errors) FROM processes p, session s")" "database of --no-errors"
assert_eq "unclassified|48" "$(sql "$T/noerr.db" "SELECT class, bytes FROM leaks_by_site
    WHERE function = 'lose'")" "the lost block, unclassified"
timeout "$CHECK_TIMEOUT" "$MT" dump "$T/noerr.mtrace" >"$T/noerr.dump" || fail "dump"
assert_eq 1 "$(grep -c '^process .* opts=4 ' "$T/noerr.dump")" "MT_OPT_NO_ERRORS in the process record"
assert_eq 1 "$(grep -c '^session .* opts=4 ' "$T/noerr.dump")" "MT_OPT_NO_ERRORS in the session record"

report noerr text
assert_contains "$T/noerr.text" "memory errors      not checked (recorded with --no-errors)" "report text"
assert_contains "$T/noerr.text" "(not checked: recorded with --no-errors)" "report text: errors section"
assert_contains "$T/noerr.text" "(not classified: no leak scan, recorded with --no-errors)" "report text: leaks"
report noerr markdown
assert_contains "$T/noerr.markdown" "- **memory errors**: not checked (recorded with --no-errors)" "report markdown"
report noerr json
assert_eq "0 no_errors 0" "$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(d["session"]["errors_checked"], d["session"]["options"], d["processes"][0]["errors_checked"])' \
    "$T/noerr.json")" "report json"
report noerr html
CHROME=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -n "$CHROME" ]; then # what the page shows, not only what it holds
    mkdir -m 700 -p "$T/home/run"
    timeout 120 env HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config" XDG_CACHE_HOME="$T/home/.cache" \
        XDG_RUNTIME_DIR="$T/home/run" "$CHROME" --headless --no-sandbox --disable-gpu \
        --disable-background-networking --disable-component-update --disable-sync --no-first-run \
        --user-data-dir="$T/profile" --virtual-time-budget=5000 --dump-dom "file://$T/noerr.html" \
        >"$T/dom.html" 2>"$T/chrome.log" || { tail "$T/chrome.log" >&2; fail "chromium --dump-dom"; }
    assert_contains "$T/dom.html" 'data-rendered="ok"' "html page drawn"
    assert_contains "$T/dom.html" '<b>not checked</b>memory errors (--no-errors)' "html errors card"
    assert_eq 2 "$(grep -o 'class="mt-unchecked"' "$T/dom.html" | wc -l)" "html: leaks and errors notes"
else
    echo "chromium not installed: html page not rendered (its data is checked above)" >&2
fi

timeout "$CHECK_TIMEOUT" "$MT" diff "$T/checked.db" "$T/noerr.db" >"$T/diff.out" 2>&1 || fail "diff"
grep -Eq "^  memory errors +1 -> not checked$" "$T/diff.out" || { cat "$T/diff.out" >&2; fail "diff: errors not checked"; }

crashed=$(sql "$T/noerr.db" "SELECT end_how = 'signaled' FROM processes")
passed=0
[ "$crashed" = 1 ] && passed=3 # the gate passed, the program did not (docs/cli.md, check)

mt_check dflt --junit "$T/dflt.xml" --sarif "$T/dflt.sarif" "$T/noerr.db"
expect_rc dflt 1
assert_eq 1 "$(count_lines "$T/dflt.out" "FAIL not-checked: memory errors and leak-definite, leak-possible not checked: recorded with --no-errors (1 of 1 process)")" "default --fail-on: one not-checked line"
assert_contains "$T/dflt.out" "memtrace check: FAILED: 0 failing" "verdict"
assert_contains "$T/dflt.out" "rules not checked (--no-errors)" "verdict names the reason"
assert_eq 7 "$(grep -c 'failure type="not-checked"' "$T/dflt.xml")" "junit: one failing testcase per rule not checked"
assert_eq "7 1 True" "$(python3 -c 'import json, sys
i = json.load(open(sys.argv[1]))["runs"][0]["invocations"][0]
n = [x for x in i.get("toolExecutionNotifications", []) if x["descriptor"]["id"] == "not-checked"]
print(len(n), i["properties"]["processesNotChecked"], i["properties"]["gateFailed"])' "$T/dflt.sarif")" "sarif notifications"

mt_check df --fail-on double-free "$T/noerr.db"
expect_rc df 1
assert_contains "$T/df.out" "FAIL not-checked: double-free not checked" "--fail-on double-free"

mt_check unclassified --fail-on unclassified "$T/noerr.db"
expect_rc unclassified 1
assert_contains "$T/unclassified.out" "FAIL leak-unclassified: 48 B in 1 block" "the real leak, judged"
[ "$(count_lines "$T/unclassified.out" "FAIL not-checked")" = 0 ] || fail "unclassified is checkable"

mt_check none --fail-on none "$T/noerr.db"
expect_rc none $passed
assert_contains "$T/none.out" "note: 1 of 1 process recorded with --no-errors" "--fail-on none: a note"
assert_contains "$T/none.out" "memtrace check: PASSED" "--fail-on none passes"

# the environment variable reaches check's own recording
MEMTRACE_NO_ERRORS=1 mt_check env --db "$T/env.db" -- "$P"
expect_rc env 1
assert_contains "$T/env.out" "FAIL not-checked: memory errors" "MEMTRACE_NO_ERRORS=1 memtrace check"
assert_eq 0 "$(sql "$T/env.db" "SELECT errors_checked FROM processes")" "env: database flag"
pass
