#!/usr/bin/env bash
# check_exit.sh — `memtrace check` exit codes on real programs (docs/cli.md)
#
# A clean program passes (0); a program that exits non-zero or crashes is
# reported as such (3) and still judged; limits fail (1); usage errors are 2,
# a missing program 127, an unreadable database 125.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/check_lib.bash"
check_require gate_sites

mt_check clean -- "$TGT/gate_sites"
expect_rc clean 0
assert_contains "$T/clean.out" "memtrace check: PASSED" "clean verdict"

mt_check exit4 -- "$TGT/gate_sites" exit=4
expect_rc exit4 3
assert_contains "$T/exit4.out" "the program exited with 4" "exit status named"

# a crash leaves its blocks unclassified: judged only when asked for
mt_check segv -- "$TGT/gate_sites" a segv
expect_rc segv 3
assert_contains "$T/segv.out" "killed by signal 11" "signal named"
mt_check segv_fail --fail-on unclassified -- "$TGT/gate_sites" a segv
expect_rc segv_fail 1
assert_contains "$T/segv_fail.out" "FAIL leak-unclassified: 32 B in 1 block" "unclassified leak"

# the gate failing wins over the program failing (valgrind's order)
mt_check both -- "$TGT/gate_sites" a exit=5
expect_rc both 1
assert_contains "$T/both.out" "the program exited with 5" "both named"

# a forked child's leak is judged; its own exit status is not the program's
mt_check fork -- "$TGT/gate_sites" fork
expect_rc fork 1
# The child's frames lie in modules its parent recorded: the analysis
# holds a child's records until its parent's reached the fork (an_hold.c),
# so the site is symbolized whichever ring the collector drained first.
assert_contains "$T/fork.out" "FAIL leak-definite: 48 B in 1 block definitely lost" "child leak"
grep -qE "definitely lost \[pid [0-9]+\] at gate_site_b \(" "$T/fork.out" ||
    { cat "$T/fork.out" >&2; fail "child's pid and leak site named"; }
if grep -q "the program exited" "$T/fork.out"; then fail "a child's status is not the program's"; fi

# --max-peak with suffixes: the clean run's peak is a few hundred bytes
mt_check peak_ok --max-peak 1M -- "$TGT/gate_sites"
expect_rc peak_ok 0
mt_check peak_low --max-peak 16 -- "$TGT/gate_sites"
expect_rc peak_low 1
assert_contains "$T/peak_low.out" "exceeded" "peak over the limit"

# usage and environment errors
mt_check bad_opt --no-such-option -- "$TGT/gate_sites"
expect_rc bad_opt 2
mt_check bad_size --max-peak 12Q -- "$TGT/gate_sites"
expect_rc bad_size 2
mt_check bad_class --fail-on definite,bogus -- "$TGT/gate_sites"
expect_rc bad_class 2
assert_contains "$T/bad_class.err" "bogus" "bad class named"
mt_check nothing
expect_rc nothing 2
mt_check missing -- "$T/no-such-program"
expect_rc missing 127
echo "not a database" >"$T/junk.db"
mt_check junk "$T/junk.db"
expect_rc junk 125
[ "$(wc -l <"$T/junk.err")" -eq 1 ] || fail "one error line expected for a bad database"
mt_check nowrite --sarif "$T/no/such/dir/x.sarif" -- "$TGT/gate_sites"
expect_rc nowrite 125
assert_contains "$T/nowrite.err" "memtrace check: --sarif" "output failure named"
pass
