#!/usr/bin/env bash
# check_leaks.sh — each leak class fails the gate when chosen (exit 1)
#
# Default: definitely and possibly lost fail, indirectly lost and still
# reachable are reported only (valgrind's --errors-for-leak-kinds). Each
# class fails when named in --fail-on. --max-leaked-bytes tolerates leaks up
# to a limit. Ground truth: the headers of tests/targets/leak_*.c.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/check_lib.bash"
check_require leak_list leak_interior leak_global gate_sites

record list leak_list
record interior leak_interior
record global leak_global

mt_check list_default "$T/list.db"
expect_rc list_default 1
assert_contains "$T/list_default.out" "FAIL leak-definite: 32 B in 1 block definitely lost at list_build" "definite"
assert_contains "$T/list_default.out" "info leak-indirect: 288 B in 9 blocks" "indirect reported only"
assert_contains "$T/list_default.out" "info leak-reachable: 160 B in 5 blocks" "reachable reported only"

mt_check list_indirect --fail-on indirect "$T/list.db"
expect_rc list_indirect 1
assert_contains "$T/list_indirect.out" "FAIL leak-indirect: 288 B" "indirect fails when chosen"
assert_contains "$T/list_indirect.out" "info leak-definite:" "definite not chosen"

mt_check interior_default "$T/interior.db"
expect_rc interior_default 1
assert_contains "$T/interior_default.out" "FAIL leak-possible:" "possible fails by default"

mt_check global_default "$T/global.db"
expect_rc global_default 1 # its evicted entry is definitely lost
mt_check global_reach --fail-on reachable "$T/global.db"
expect_rc global_reach 1
assert_contains "$T/global_reach.out" "FAIL leak-reachable:" "reachable fails when chosen"
mt_check global_none --fail-on none "$T/global.db"
expect_rc global_none 0

# only a kept block: passes by default, fails on reachable
record keep gate_sites keep
mt_check keep_default "$T/keep.db"
expect_rc keep_default 0
mt_check keep_reach --fail-on reachable "$T/keep.db"
expect_rc keep_reach 1
assert_contains "$T/keep_reach.out" "FAIL leak-reachable: 100 B in 1 block" "kept block"

# --max-leaked-bytes: 32 B definitely lost in leak_list
mt_check limit_ok --max-leaked-bytes 32 "$T/list.db"
expect_rc limit_ok 0
mt_check limit_low --max-leaked-bytes 31 "$T/list.db"
expect_rc limit_low 1
assert_contains "$T/limit_low.out" "leaked 32 B (limit 31 B)" "limit line"
pass
