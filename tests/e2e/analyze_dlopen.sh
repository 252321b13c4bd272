#!/usr/bin/env bash
# analyze_dlopen.sh — a leak inside a dlopen'ed (then unloaded) library, with function and file:line
#
# tests/targets/an_dlopen.c loads libmt_an_leaklib.so, which leaks 3 x
# 12347 bytes from an_lib_leaf (the line marked AN_LIB_LEAK in
# tests/targets/lib/an_leaklib.c), and unloads it before exit. The
# database must name that function, file and line and the library's
# module, even though the module was gone at the end; nothing else of the
# program or the library leaks; no errors. Issue #3.
. "$(dirname "$0")/lib.sh"
[ -x "$TGT/an_dlopen" ] && [ -f "$TGT/libmt_an_leaklib.so" ] || skip "target not built"
case "$("$MT" run --help 2>&1) $("$MT" analyze --help 2>&1)" in
*"not available in this build"*) skip "memtrace run/analyze not linked" ;;
esac
export MEMTRACE_PRELOAD=$MT_PRELOAD
timeout 120 "$MT" run -o "$T/d.mtrace" -- "$TGT/an_dlopen" "$TGT/libmt_an_leaklib.so" >"$T/run.out" 2>&1 ||
    { cat "$T/run.out"; fail "run"; }
DB=$T/d.db
[ -f "$DB" ] || fail "run did not write $DB"
line=$(grep -n 'AN_LIB_LEAK \*/' "$MT_SRC_DIR/tests/targets/lib/an_leaklib.c" | cut -d: -f1)
base="replace(file, rtrim(file, replace(file, '/', '')), '')"
assert_eq "3|37041|an_leaklib.c:$line" \
    "$(sql "$DB" "SELECT sum(blocks), sum(bytes), $base || ':' || line FROM leaks_by_site WHERE function = 'an_lib_leaf'")" \
    "leak in the library"
if [ "$(sql "$DB" "SELECT leak_scan FROM processes")" = 1 ]; then
    assert_eq definite "$(sql "$DB" "SELECT group_concat(DISTINCT class) FROM leaks_by_site WHERE function = 'an_lib_leaf'")" "class"
fi
assert_eq libmt_an_leaklib.so \
    "$(sql "$DB" "SELECT DISTINCT replace(m.path, rtrim(m.path, replace(m.path, '/', '')), '') FROM leaks_by_site l JOIN stacks s USING (stack_id) JOIN frames f ON f.frame_id = s.leaf_frame_id JOIN modules m ON m.module_id = f.module_id WHERE l.function = 'an_lib_leaf'")" \
    "module of the leaking frame"
assert_eq 1 "$(sql "$DB" "SELECT count(*) FROM process_modules pm JOIN modules m USING (module_id) WHERE m.path LIKE '%libmt_an_leaklib.so' AND pm.unload_ns IS NOT NULL")" \
    "library recorded as unloaded"
assert_eq 1 "$(sql "$DB" "SELECT count(*) FROM leaks_by_site WHERE file LIKE '%/an_leaklib.c' OR file LIKE '%/an_dlopen.c'")" \
    "one leaking site in the program and the library"
assert_eq 100 "$(sql "$DB" "SELECT sum(s.n_frees) FROM sites s JOIN stack_leaf l USING (stack_id) WHERE l.function = 'an_lib_churn'")" \
    "the library's freed blocks"
assert_eq 0 "$(sql "$DB" "SELECT count(*) FROM errors")" "errors"
pass
