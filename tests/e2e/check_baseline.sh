#!/usr/bin/env bash
# check_baseline.sh — with --baseline only new or grown leaks fail
#
# The baseline leaks at gate_site_a. The same leak again passes; a new leak
# at gate_site_b fails alone; leaking twice at gate_site_a (grown) fails.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/check_lib.bash"
check_require gate_sites

record base gate_sites a
mt_check same --baseline "$T/base.db" -- "$TGT/gate_sites" a
expect_rc same 0
assert_contains "$T/same.out" "1 in the baseline" "old leak counted"

mt_check new --baseline "$T/base.db" -- "$TGT/gate_sites" a b
expect_rc new 1
assert_eq 1 "$(count_lines "$T/new.out" "FAIL ")" "only the new leak fails"
assert_contains "$T/new.out" "FAIL leak-definite: 48 B in 1 block definitely lost at gate_site_b" "new leak"

mt_check grown --baseline "$T/base.db" -- "$TGT/gate_sites" a a
expect_rc grown 1
assert_contains "$T/grown.out" "site grew from 32 B to 64 B" "growth shown"

# a baseline with the new leak too: passes; a missing baseline: 125
record base_ab gate_sites a b
mt_check ab --baseline "$T/base_ab.db" -- "$TGT/gate_sites" b a
expect_rc ab 0
mt_check nobase --baseline "$T/none.db" "$T/base.db"
expect_rc nobase 125
pass
