#!/usr/bin/env bash
# check_reports.sh — JUnit, SARIF and GitHub annotations of `memtrace check`
#
# JUnit validates against the common (Apache Ant) schema with xmllint; SARIF
# against the OASIS SARIF 2.1.0 JSON schema (both bundled in tests/data/)
# with python3-jsonschema; locations are repo-relative with lines,
# fingerprints are stable across two runs, and GITHUB_ACTIONS=true prints
# ::error workflow commands.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/check_lib.bash"
check_require example gate_sites
command -v xmllint >/dev/null || skip "xmllint not installed (libxml2-utils)"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
"$PY" -c 'import jsonschema' 2>/dev/null || skip "python3-jsonschema not installed"
DATA=$MT_SRC_DIR/tests/data

# example.c: a double free, a definite leak, indirect and reachable blocks
for run in 1 2; do
    mt_check ex$run --source-root "$MT_SRC_DIR" --junit "$T/ex$run.xml" --sarif "$T/ex$run.sarif" \
        -- "$TGT/example"
    expect_rc ex$run 1
done
mt_check clean --source-root "$MT_SRC_DIR" --junit "$T/clean.xml" --sarif "$T/clean.sarif" \
    -- "$TGT/gate_sites"
expect_rc clean 0

# JUnit
xmllint --noout --schema "$DATA/junit.xsd" "$T/ex1.xml" "$T/clean.xml" 2>"$T/xmllint.err" ||
    { cat "$T/xmllint.err" >&2; fail "JUnit does not validate"; }
assert_eq 2 "$(xmllint --xpath 'string(/testsuite/@failures)' "$T/ex1.xml")" "JUnit failures"
assert_eq 0 "$(xmllint --xpath 'string(/testsuite/@failures)' "$T/clean.xml")" "clean JUnit"
assert_eq 1 "$(xmllint --xpath 'count(//testcase[@name="double-free"]/failure)' "$T/ex1.xml")" \
    "double-free testcase failed"
assert_eq 0 "$(xmllint --xpath 'count(//testcase[@name="leak-indirect"]/failure)' "$T/ex1.xml")" \
    "indirect not judged"

# SARIF
"$PY" "$MT_SRC_DIR/tests/e2e/gate_sarif_validate.py" "$DATA/sarif-2.1.0.schema.json" \
    "$T/ex1.sarif" "$T/clean.sarif" || fail "SARIF does not validate"
"$PY" - "$T/ex1.sarif" "$T/ex2.sarif" <<'PYEOF' || fail "SARIF content"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
run = a["runs"][0]
rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
assert "external/cwe/cwe-415" in rules["double-free"]["properties"]["tags"], rules["double-free"]
assert "CWE-401" in rules["leak-definite"]["properties"]["tags"]
assert "CWE-762" in rules["mismatched-free"]["properties"]["tags"]
assert rules["leak-definite"]["helpUri"].startswith("https://")
res = {r["ruleId"]: r for r in run["results"]}
df, leak = res["double-free"], res["leak-definite"]
for r in (df, leak):
    assert r["level"] == "error", r["level"]
    loc = r["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "tests/targets/example.c", loc
    assert loc["artifactLocation"]["uriBaseId"] == "SRCROOT"
    assert loc["region"]["startLine"] > 0
    assert r["codeFlows"][0]["threadFlows"][0]["locations"], "stack flow"
msgs = [l["message"]["text"] for l in df["relatedLocations"]]
assert any(m.startswith("allocated") for m in msgs) and any(m.startswith("first freed") for m in msgs), msgs
assert res["leak-indirect"]["level"] == "note"
assert not any("_IO_file_doallocate" in json.dumps(r) for r in run["results"]), "suppressed left out"
fa = {r["ruleId"] + str(r["locations"][0]["physicalLocation"].get("region")): r["partialFingerprints"] for r in run["results"]}
fb = {r["ruleId"] + str(r["locations"][0]["physicalLocation"].get("region")): r["partialFingerprints"] for r in b["runs"][0]["results"]}
assert fa == fb, "fingerprints differ between runs"
assert len({json.dumps(v) for v in fa.values()}) == len(fa), "fingerprints not unique"
PYEOF

# GitHub annotations only under GitHub Actions
(cd "$T" && GITHUB_ACTIONS=true "$MT" check --source-root "$MT_SRC_DIR" -- "$TGT/example") \
    >"$T/gh.out" 2>"$T/gh.err"
assert_eq 2 "$(grep -c '^::error file=tests/targets/example.c,line=[0-9]*,title=memtrace ' "$T/gh.out")" \
    "two annotations"
assert_eq 0 "$(grep -c '^::error' "$T/ex1.out" || true)" "no annotations outside Actions"
pass
