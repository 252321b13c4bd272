#!/usr/bin/env bash
# check_suppressions.sh — suppressions remove exactly what they match
#
# LeakSanitizer-format files (leak:, error kinds, anchors, wildcards,
# comments), the target's own __lsan_default_suppressions (gate_lsan) and
# the built-in list of glibc's one-time allocations (leak_thread's DTVs).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/check_lib.bash"
check_require gate_sites gate_lsan err_double_free leak_thread

record ab gate_sites a b
mt_check ab_none "$T/ab.db"
expect_rc ab_none 1
assert_eq 2 "$(count_lines "$T/ab_none.out" "FAIL leak-definite:")" "two leaks unsuppressed"

printf '# only a\nleak:^gate_site_a$\n' >"$T/a.supp"
mt_check ab_a --suppressions "$T/a.supp" -v "$T/ab.db"
expect_rc ab_a 1
assert_eq 1 "$(count_lines "$T/ab_a.out" "FAIL leak-definite:")" "one leak left"
assert_contains "$T/ab_a.out" "FAIL leak-definite: 48 B in 1 block definitely lost at gate_site_b" "b stays"
assert_contains "$T/ab_a.out" "supp leak-definite: 32 B" "a suppressed"
assert_contains "$T/ab_a.out" "1 by leak:^gate_site_a$ ($T/a.supp:2)" "hit counted with its line"

printf 'leak:gate_site_*\n' >"$T/both.supp"
mt_check ab_both --suppressions "$T/both.supp" "$T/ab.db"
expect_rc ab_both 0

# a file pattern: both sites are in gate_sites.c
printf 'leak:gate_sites.c$\n' >"$T/file.supp"
mt_check ab_file --suppressions "$T/file.supp" "$T/ab.db"
expect_rc ab_file 0

# an error kind: only that kind is suppressed
record df err_double_free
printf 'mismatched-free:release\n' >"$T/wrong.supp"
mt_check df_wrong --suppressions "$T/wrong.supp" "$T/df.db"
expect_rc df_wrong 1
printf 'double-free:^release$\n' >"$T/df.supp"
mt_check df_ok --suppressions "$T/df.supp" "$T/df.db"
expect_rc df_ok 0

printf 'leak:x\nfrobnicate:y\n' >"$T/bad.supp"
mt_check bad --suppressions "$T/bad.supp" "$T/df.db"
expect_rc bad 2
assert_contains "$T/bad.err" "bad.supp:2" "bad line named"

# the target's own list: 64 B suppressed, 32 B fails
mt_check lsan -v -- "$TGT/gate_lsan"
expect_rc lsan 1
assert_contains "$T/lsan.out" "FAIL leak-definite: 32 B in 1 block definitely lost at gate_lsan_kept" "kept leak"
assert_contains "$T/lsan.out" "supp leak-definite: 64 B in 1 block definitely lost at gate_lsan_ignored" "own suppression"
assert_contains "$T/lsan.out" "__lsan_default_suppressions" "origin named"

# built-ins: glibc's thread DTVs (possibly lost) pass by default only
record thread leak_thread
mt_check thread_default "$T/thread.db"
expect_rc thread_default 0
mt_check thread_raw --no-default-suppressions "$T/thread.db"
expect_rc thread_raw 1
assert_contains "$T/thread_raw.out" "FAIL leak-possible:" "DTV reported without built-ins"
pass
