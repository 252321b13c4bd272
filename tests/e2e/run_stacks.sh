#!/usr/bin/env bash
# run_stacks.sh — recorded stacks resolve, with binutils' addr2line, to the code that allocated
#
# Records tests/targets/rec_api.cpp, takes each test allocation's stack id
# from its alloc line, the frames from the stack line and the load bias and
# segments from the module lines, and runs `addr2line -f -C -e rec_api` on
# frame - bias - 1 for the frames inside the executable. Every call site
# must read rec_site_<name> -> rec_api_run -> main, innermost first.
# Independent of memtrace's own symbolizer. Issue #2.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rec_common.bash"
rec_require rec_api
command -v addr2line >/dev/null || skip "addr2line (binutils) not installed"

REC_DETAIL=1 rec_record api "$TGT/rec_api"
assert_eq 0 "$REC_STATUS" "memtrace run exit status"
S=$T/api.sum
D=$T/api.dump
pid=$(rec_root_pid "$S")
[ -n "$pid" ] || fail "no process record for the root image"
grep -qE "^module pid=$pid gen=0 .* path=.*/rec_api$" "$D" || fail "no module record for the executable"

# site SIZE FUNCTION: the allocation of SIZE was made in FUNCTION.
site() {
    local stack names want
    stack=$(rec_lines "$S" "D $pid 0 $1" | awk '{ print $NF; exit }')
    [ -n "$stack" ] || fail "no allocation of size $1"
    [ "$stack" != 0 ] || fail "allocation of size $1 has no stack (id 0)"
    rec_frames "$D" "$pid" 0 "$stack" | grep -q . || fail "stack $stack of size $1 has no stack record"
    names=$(rec_symbolize "$D" "$pid" 0 "$stack" /rec_api | head -3 | tr '\n' ' ')
    want="$2 rec_api_run main "
    assert_eq "$want" "$names" "frames of the size-$1 allocation in rec_api"
}

site 10007 rec_site_malloc
site 30027 rec_site_calloc
site 10037 rec_site_realloc_null
site 10039 rec_site_realloc_move
site 10243 rec_site_realloc_move
site 1048601 rec_site_realloc_move
site 70427 rec_site_reallocarray
site 10067 rec_site_posix_memalign
site 10048 rec_site_aligned_alloc
site 10069 rec_site_memalign
site 10079 rec_site_valloc
site 10091 rec_site_pvalloc
site 10093 rec_site_new
site 10099 rec_site_new_sized
site 10103 rec_site_new_nothrow
site 10111 rec_site_new_aligned
site 10133 rec_site_new_aligned_sized
site 10139 rec_site_new_aligned_nothrow
site 10141 rec_site_new_array
site 10151 rec_site_new_array_sized
site 10159 rec_site_new_array_nothrow
site 10163 rec_site_new_array_aligned
site 10169 rec_site_new_array_aligned_sized
site 10177 rec_site_new_array_aligned_nothrow

# Interning: two sites never share a stack id, each stack is sent once.
n_ids=$(rec_lines "$S" "D $pid 0 (10007|10093|10141|10163)" | awk '{ print $NF }' | sort -u | wc -l)
assert_eq 4 "$n_ids" "distinct stack ids of four distinct call sites"
dups=$(grep -E "^stack pid=$pid gen=0 " "$D" | sed -E 's/.* id=([0-9]+) .*/\1/' | sort | uniq -d)
assert_eq "" "$dups" "stack ids sent more than once"
pass
