#!/usr/bin/env bash
# run_dlopen.sh — a dlopen'ed library's allocations: recorded, its module announced, its stacks resolvable
#
# tests/targets/rec_dlopen.c loads libmt_rec_dl.so, which makes 7 x
# malloc(40009) in rec_dl_leaf, then unloads it. Checks the counts, that a
# MODULE record for the library precedes its first allocation, that the
# allocations' frames inside the library resolve with addr2line to
# rec_dl_leaf <- rec_dl_alloc, and that a MODULE_UNLOAD of the library's
# id follows dlclose. Issue #2.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rec_common.bash"
rec_require rec_dlopen libmt_rec_dl.so
command -v addr2line >/dev/null || skip "addr2line (binutils) not installed"

lib=$TGT/libmt_rec_dl.so
REC_DETAIL=1 rec_record dl "$TGT/rec_dlopen" "$lib"
assert_eq 0 "$REC_STATUS" "memtrace run exit status"
S=$T/dl.sum
D=$T/dl.dump
pid=$(rec_root_pid "$S")
[ -n "$pid" ] || fail "no process record"
assert_eq 7 "$(rec_count "$S" "A $pid 0 40009 malloc malloc 0")" "library's allocations"
assert_eq 7 "$(rec_count "$S" "F $pid 0 40009 malloc free")" "library's blocks freed"
assert_eq 1 "$(rec_count "$S" "A $pid 0 40013")" "allocation before dlopen"
assert_eq 1 "$(rec_count "$S" "A $pid 0 40031")" "allocation after dlclose"
rec_assert_no_errors "$S"
rec_assert_seq_ok "$S"

# The module record comes before the library's first allocation.
mod_line=$(grep -nE "^module pid=$pid gen=0 .*path=.*/libmt_rec_dl\.so$" "$D" | head -1)
[ -n "$mod_line" ] || fail "no module record for libmt_rec_dl.so"
mod_id=$(sed -E 's/.* id=([0-9]+) .*/\1/' <<<"$mod_line")
first_alloc=$(grep -nE "^alloc pid=$pid gen=0 .* size=40009 " "$D" | head -1 | cut -d: -f1)
[ "${mod_line%%:*}" -lt "$first_alloc" ] || fail "module record (line ${mod_line%%:*}) after the first library allocation (line $first_alloc)"

# Every library allocation resolves to rec_dl_leaf <- rec_dl_alloc.
n=0
for stack in $(rec_lines "$S" "D $pid 0 40009" | awk '{ print $NF }' | sort -u); do
    names=$(rec_symbolize "$D" "$pid" 0 "$stack" /libmt_rec_dl.so | head -2 | tr '\n' ' ')
    assert_eq "rec_dl_leaf rec_dl_alloc " "$names" "library frames of stack $stack"
    n=$((n + 1))
done
assert_eq 1 "$n" "distinct stacks of the one library call site"
names=$(rec_symbolize "$D" "$pid" 0 "$stack" /rec_dlopen | head -1)
assert_eq main "$names" "first executable frame under the library"

# dlclose is noticed: a module_unload of the library's id after its allocations.
unload=$(grep -nE "^module_unload pid=$pid gen=0 .* id=$mod_id( |$)" "$D" | head -1 | cut -d: -f1)
[ -n "$unload" ] || fail "no module_unload for module $mod_id after dlclose"
[ "$unload" -gt "$(grep -nE "^alloc pid=$pid gen=0 .* size=40009 " "$D" | tail -1 | cut -d: -f1)" ] ||
    fail "module_unload (line $unload) before the library's last allocation"
pass
