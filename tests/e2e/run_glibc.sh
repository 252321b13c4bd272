#!/usr/bin/env bash
# run_glibc.sh — under the preload every allocator answer is glibc's own
#
# Runs tests/targets/rec_glibc.cpp natively and under `memtrace run`, and
# requires the two reports to be identical line for line (errno values,
# NULL answers, alignment rounding, errno kept across free), then checks
# the answers glibc documents, so that a native run that went wrong is
# caught too. Issue #2: "each call behaves exactly as glibc's does".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rec_common.bash"
rec_require rec_glibc

"$TGT/rec_glibc" "$T/native.txt" || fail "rec_glibc failed natively"
rec_record glibc "$TGT/rec_glibc" "$T/traced.txt"
assert_eq 0 "$REC_STATUS" "memtrace run exit status"
diff -u "$T/native.txt" "$T/traced.txt" >"$T/diff.txt" || { cat "$T/diff.txt" >&2; fail "answers differ under the preload"; }

R=$T/traced.txt
for want in "calloc_overflow NULL ENOMEM" "malloc_max NULL ENOMEM" \
    "reallocarray_overflow NULL ENOMEM" "realloc_max NULL ENOMEM kept" \
    "posix_memalign_3 EINVAL unchanged" "posix_memalign_4 EINVAL unchanged" \
    "posix_memalign_0 EINVAL unchanged" "posix_memalign_max ENOMEM" \
    "malloc_zero nonnull" "usable_null 0" "usable_ok 1" "calloc_zeroed 1" \
    "errno_free 4242" "errno_free_null 4242" "errno_free_mmapped 4242" \
    "errno_delete 4242" "errno_malloc_ok 4242" "new_max bad_alloc" \
    "new_nothrow_max NULL" "new_array_max bad_alloc"; do
    grep -qxF "$want" "$R" || { cat "$R" >&2; fail "expected line '$want'"; }
done

# Failed calls leave no ALLOC behind and refused frees no error.
S=$T/glibc.sum
rec_assert_no_errors "$S"
pid=$(rec_root_pid "$S")
assert_eq 1 "$(rec_count "$S" "A $pid 0 10193 malloc malloc")" "the block realloc(p, SIZE_MAX) kept"
assert_eq 1 "$(rec_count "$S" "F $pid 0 10193 malloc free")" "its free after the failed realloc"
assert_eq 0 "$(rec_count "$S" "A $pid 0 (18446744073709551615|9223372036854775807)")" "allocations recorded for calls that failed"
pass
