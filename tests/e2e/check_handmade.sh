#!/usr/bin/env bash
# check_handmade.sh — the gate's reports on a hand-made database
#
# Builds a database with the sqlite3 shell from analyzer/db/schema.sql plus
# INSERTs: names that need escaping in XML, JSON and URIs (<, &, quotes,
# spaces, non-ASCII), frames without file or module, an error without a
# stack. JUnit and SARIF must still validate and the text must name them.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/check_lib.bash"
check_require
command -v sqlite3 >/dev/null || skip "sqlite3 shell not installed"
command -v xmllint >/dev/null || skip "xmllint not installed (libxml2-utils)"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
"$PY" -c 'import jsonschema' 2>/dev/null || skip "python3-jsonschema not installed"
DATA=$MT_SRC_DIR/tests/data

mkdir -p "$T/my src"
sqlite3 -batch "$T/hand.db" <"$MT_SRC_DIR/analyzer/db/schema.sql" || fail "schema.sql does not load"
sqlite3 -batch "$T/hand.db" <<SQL || fail "inserts"
INSERT INTO session (id, command, argv, root_pid, n_processes, peak_heap_bytes)
  VALUES (1, 'prog', 'prog --x="1" <y>', 10, 1, 100);
INSERT INTO processes (proc_id, pid, gen, exe, argv, end_how, exit_status, normal_exit, leak_scan)
  VALUES (1, 10, 0, '/nonexistent/prog', 'prog', 'exited', 0, 1, 1);
INSERT INTO modules VALUES (1, '/opt/my lib/libü.so', NULL, 0);
INSERT INTO frames VALUES (1, 'std::vector<int, A&>::push_back("x")', '$T/my src/ü & <b>.cpp', 7, 0, 1, 16, 0);
INSERT INTO frames VALUES (2, 'main', '$T/my src/main.c', 3, 0, 1, 32, 0);
INSERT INTO frames VALUES (3, NULL, NULL, 0, 0, 1, 4096, 0);
INSERT INTO frames VALUES (4, NULL, NULL, 0, 0, NULL, 12345, 0);
INSERT INTO stacks VALUES (1, 2, 1), (2, 2, 3);
INSERT INTO stack_frames VALUES (1, 0, 1), (1, 1, 2), (2, 0, 3), (2, 1, 4);
INSERT INTO sites (proc_id, stack_id, end_live_blocks, leak_definite_blocks, leak_definite_bytes)
  VALUES (1, 1, 1, 1, 24), (1, 2, 2, 2, 64);
INSERT INTO errors (proc_id, seq, kind, subkind, addr, api, stack_id) VALUES (1, 5, 'invalid_free', 'unknown', 4096, 'free', 0);
SQL

mt_check hand --source-root "$T" --junit "$T/hand.xml" --sarif "$T/hand.sarif" "$T/hand.db"
expect_rc hand 1
assert_contains "$T/hand.out" 'at std::vector<int, A&>::push_back("x") (my src/ü & <b>.cpp:7)' "escaped name in text"
assert_contains "$T/hand.out" "?? (/opt/my lib/libü.so+0x1000)" "unsymbolized frame"
assert_contains "$T/hand.out" "FAIL invalid-free: free of a pointer that is not a heap block at (no stack)" "error without stack"
assert_eq 3 "$(count_lines "$T/hand.out" "FAIL ")" "three failing findings"
xmllint --noout --schema "$DATA/junit.xsd" "$T/hand.xml" 2>"$T/xmllint.err" ||
    { cat "$T/xmllint.err" >&2; fail "JUnit does not validate"; }
assert_contains "$T/hand.xml" "push_back(&quot;x&quot;)" "XML escaping"
"$PY" "$MT_SRC_DIR/tests/e2e/gate_sarif_validate.py" "$DATA/sarif-2.1.0.schema.json" "$T/hand.sarif" ||
    fail "SARIF does not validate"
"$PY" - "$T/hand.sarif" <<'PYEOF' || fail "SARIF content"
import json, sys
run = json.load(open(sys.argv[1]))["runs"][0]
uris = [r["locations"][0].get("physicalLocation", {}).get("artifactLocation", {}).get("uri")
        for r in run["results"]]
assert "my%20src/%C3%BC%20%26%20%3Cb%3E.cpp" in uris, uris
assert "file:///opt/my%20lib/lib%C3%BC.so" in uris, uris
names = [r["locations"][0]["logicalLocations"][0]["name"] for r in run["results"]]
assert 'std::vector<int, A&>::push_back("x")' in names, names
PYEOF
pass
