#!/usr/bin/env bash
# client_cxx.sh — memtrace.h from C++ (tests/targets/client_cxx.cpp): a pool
# of Node chunks in a new[]'d superblock; 2 of 3 freed, one left live is a
# leak of pool:nodes; the superblock is no leak. Same behaviour without
# memtrace. Issue #7.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/client_common.bash"
client_run client_cxx
assert_eq 0 "$client_rc" "exit status"
assert_eq "nodes|3|2|1" "$(sql "$DB" "SELECT name, n_allocs, n_frees, leaked_chunks FROM pools")" "pool row"
assert_eq 1 "$(sql "$DB" "SELECT count(*) FROM allocations WHERE family = 'pool:nodes' AND leak_class IS NOT NULL")" \
    "chunk leak"
assert_eq 0 "$(sql "$DB" "SELECT count(*) FROM allocations WHERE family = 'new[]' AND leak_class IS NOT NULL")" \
    "superblock leak"
assert_eq "cxx" "$(sql "$DB" "SELECT name FROM markers")" "marker"
pass
