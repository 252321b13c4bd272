#!/usr/bin/env bash
# check_errors.sh — each memory error kind fails the gate (exit 1)
#
# Every err_* target of tests/targets/ makes one kind of error; the gate
# must fail with that rule's id and point at the program's own source line.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/check_lib.bash"
check_require err_double_free err_free_global err_free_stack err_free_interior \
    err_mismatch err_realloc_freed err_double_free_threads

expect_error() { # TARGET RULE
    mt_check "$1" --source-root "$MT_SRC_DIR" -- "$TGT/$1"
    expect_rc "$1" 1
    assert_contains "$T/$1.out" "FAIL $2:" "$1 reports $2"
    assert_contains "$T/$1.out" "tests/targets/$1.c" "$1 points at its source"
    assert_contains "$T/$1.out" "memtrace check: FAILED" "$1 verdict"
}

expect_error err_double_free double-free
assert_contains "$T/err_double_free.out" "first freed at release" "first free's stack"
expect_error err_double_free_threads double-free
expect_error err_free_global invalid-free
assert_contains "$T/err_free_global.out" "global address" "global subkind"
expect_error err_free_stack invalid-free
assert_contains "$T/err_free_stack.out" "stack address" "stack subkind"
expect_error err_free_interior invalid-free
assert_contains "$T/err_free_interior.out" "inside a live block" "interior subkind"
expect_error err_realloc_freed realloc-of-freed

mt_check err_mismatch --source-root "$MT_SRC_DIR" -- "$TGT/err_mismatch"
expect_rc err_mismatch 1
n=$(count_lines "$T/err_mismatch.out" "FAIL mismatched-free:")
assert_eq 6 "$n" "one finding per mismatched call"

# errors are judged only when asked for
mt_check df_leaks_only --fail-on leaks -- "$TGT/err_double_free"
expect_rc df_leaks_only 0
assert_contains "$T/df_leaks_only.out" "info double-free:" "still reported"
pass
