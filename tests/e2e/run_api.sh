#!/usr/bin/env bash
# run_api.sh — every interposed entry point is recorded once, with its size, family and api
#
# Records tests/targets/rec_api.cpp, whose header lists one allocation per
# call site with a size of its own, and checks each row of that table in the
# dump: exactly one ALLOC of the size with the expected family and api, and
# its FREE through the expected release api; usable >= size; the promised
# alignment; no errors, no stray or unpaired records. Issue #2.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rec_common.bash"
rec_require rec_api

REC_DETAIL=1 rec_record api "$TGT/rec_api"
assert_eq 0 "$REC_STATUS" "memtrace run exit status (the program's)"
S=$T/api.sum
pid=$(rec_root_pid "$S")
[ -n "$pid" ] || fail "no process record for the root image"

# row SIZE FAMILY ALLOC_API FREE_FAMILY FREE_API: one alloc, one matching free.
# FREE_FAMILY may be an alternation: free() of an aligned block may be
# labelled with the block's family or with free's own.
row() {
    assert_eq 1 "$(rec_count "$S" "A $pid 0 $1")" "allocations of size $1"
    assert_eq 1 "$(rec_count "$S" "A $pid 0 $1 $2 $3")" "size $1 recorded as family=$2 api=$3"
    assert_eq 1 "$(rec_count "$S" "F $pid 0 $1")" "frees of the size-$1 block"
    assert_eq 1 "$(rec_count "$S" "F $pid 0 $1 $4 $5")" "size-$1 block freed as family=$4 api=$5"
}

row 10007 malloc malloc malloc free
row $((3 * 10009)) malloc calloc malloc free
row 10037 malloc realloc malloc free
row 10243 malloc malloc malloc free
row $((7 * 10061)) malloc reallocarray malloc free
row 10067 aligned posix_memalign "(malloc|aligned)" free
row 10048 aligned aligned_alloc "(malloc|aligned)" free
row 10069 aligned memalign "(malloc|aligned)" free
row 10079 aligned valloc "(malloc|aligned)" free
row 10091 aligned pvalloc "(malloc|aligned)" free
row 10093 new new new delete
row 10099 new new new delete_sized
row 10103 new new_nothrow new delete_nothrow
row 10111 new_aligned new_aligned new_aligned delete_aligned
row 10133 new_aligned new_aligned new_aligned delete_sized_aligned
row 10139 new_aligned new_aligned_nothrow new_aligned delete_aligned_nothrow
row 10141 'new[]' 'new[]' 'new[]' 'delete[]'
row 10151 'new[]' 'new[]' 'new[]' 'delete[]_sized'
row 10159 'new[]' 'new[]_nothrow' 'new[]' 'delete[]_nothrow'
row 10163 'new[]_aligned' 'new[]_aligned' 'new[]_aligned' 'delete[]_aligned'
row 10169 'new[]_aligned' 'new[]_aligned' 'new[]_aligned' 'delete[]_sized_aligned'
row 10177 'new[]_aligned' 'new[]_aligned_nothrow' 'new[]_aligned' 'delete[]_aligned_nothrow'

# The moving realloc: old block released with realloc=1, new one allocated
# with realloc=1, and realloc(p, 0) releasing the new one through api realloc.
assert_eq 1 "$(rec_count "$S" "A $pid 0 10039 malloc malloc 0")" "malloc(10039) before the realloc"
assert_eq 1 "$(rec_count "$S" "F $pid 0 10039 malloc realloc 1")" "moving realloc releases the old block (realloc=1)"
assert_eq 1 "$(rec_count "$S" "A $pid 0 1048601")" "allocations of size 1048601"
assert_eq 1 "$(rec_count "$S" "A $pid 0 1048601 malloc realloc 1")" "moving realloc's new block (api realloc, realloc=1)"
assert_eq 1 "$(rec_count "$S" "F $pid 0 1048601 malloc realloc")" "realloc(p, 0) frees through api realloc"

SIZES="10007|30027|10037|10039|10243|1048601|70427|10067|10048|10069|10079|10091|10093|10099"
SIZES="$SIZES|10103|10111|10133|10139|10141|10151|10159|10163|10169|10177"

# Nothing unpaired, nothing allocated onto a live address, no error.
rec_assert_no_errors "$S"
assert_eq 0 "$(rec_count "$S" "Z $pid 0")" "allocations onto an address still live"
assert_eq "" "$(rec_lines "$S" "U $pid 0")" "frees of addresses never allocated"
assert_eq 0 "$(rec_count "$S" "L $pid 0 ($SIZES)")" "test blocks left live"
rec_assert_seq_ok "$S"
assert_eq 1 "$(rec_n "$S" "X $pid 0 0")" "exit record with status 0"

# usable >= size for every allocation; the alignment each call promised.
# D pid gen size family api realloc addr usable tid stack
while read -r _ _ _ size _ api _ addr usable _ _; do
    [ "$usable" -ge "$size" ] || fail "usable $usable < size $size (api $api)"
    case $api in
    posix_memalign | aligned_alloc | *aligned*) align=64 ;;
    memalign) align=128 ;;
    valloc | pvalloc) align=4096 ;;
    *) align=16 ;; # glibc's MALLOC_ALIGNMENT on x86_64
    esac
    [ $((addr % align)) -eq 0 ] || fail "api $api returned $addr, not $align-aligned"
done < <(rec_lines "$S" "D $pid 0 ($SIZES)")
assert_eq 24 "$(rec_n "$S" "D $pid 0 ($SIZES)")" "test allocations seen"
pass
