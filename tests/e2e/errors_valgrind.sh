# tests/e2e/errors_valgrind.sh — memtrace's memory errors agree with valgrind memcheck
#
# Each err_* target runs bare (where glibc aborts, to show the ground truth
# is real), under `memtrace run --no-analyze` and under memcheck. memtrace
# must let the program reach its end and report exactly the expected error
# kinds, each with a call stack; the multiset of kinds must match memcheck's
# once mapped: not_live and realloc_not_live are memcheck's InvalidFree
# (memcheck also says "Invalid free() / delete / delete[] / realloc()" for
# a bad realloc), mismatch is MismatchedFree. memtrace does not split
# not_live into double/stack/global/interior: the analyzer refines it
# (trace_format.h), so the tests check the kind the recorder writes.
source "$MT_SRC_DIR/tests/e2e/lib.sh"
source "$MT_SRC_DIR/tests/e2e/leak_common.bash"

# target  glibc-alone-aborts  memtrace kinds (sorted, comma separated)
CASES=(
    "err_double_free         1 not_live"
    "err_double_free_threads 1 not_live"
    "err_free_stack          1 not_live"
    "err_free_global         1 not_live"
    "err_free_interior       1 not_live"
    "err_realloc_freed       0 realloc_not_live"
    "err_mismatch            0 mismatch,mismatch,mismatch,mismatch,mismatch,mismatch"
)
progs=()
for c in "${CASES[@]}"; do progs+=("${c%% *}"); done
leak_require "${progs[@]}"

for c in "${CASES[@]}"; do
    read -r p aborts want <<<"$c"
    if [ "$aborts" = 1 ]; then
        "$TGT/$p" >/dev/null 2>&1
        assert_eq 134 "$?" "$p without memtrace: glibc abort (SIGABRT)"
    fi
    leak_memtrace "$p"
    leak_valgrind "$p"
    grep '^error ' "$T/$p.dump" >"$T/$p.errors"
    got=$(grep -o ' kind=[a-z_]*' "$T/$p.errors" | cut -d= -f2 | sort | paste -sd, -)
    assert_eq "$want" "$got" "$p: memtrace error kinds"
    ! grep -q ' stack=0 ' "$T/$p.errors" || fail "$p: an error without a call stack"
    mapped=$(sed -e 's/realloc_not_live/InvalidFree/g; s/not_live/InvalidFree/g' \
        -e 's/mismatch/MismatchedFree/g' <<<"$got" | tr , '\n' | sort | paste -sd, -)
    vg=$(grep -o '<kind>[A-Za-z]*</kind>' "$T/$p.vg.xml" | sed 's/<[^>]*>//g' | grep -v '^Leak' |
        sort | paste -sd, -)
    assert_eq "$vg" "$mapped" "$p: error kinds, valgrind vs memtrace"
    echo "$p: memtrace $got | valgrind $vg"
done

# Across threads: the second free comes from another thread than the first.
err_addr=$(grep -o ' addr=0x[0-9a-f]*' "$T/err_double_free_threads.errors" | head -1 | tr -d ' ')
first_tid=$(awk -v a="$err_addr" '$1 == "free" && index($0, " " a " ") {
        for (i = 2; i <= NF; i++) if ($i ~ /^tid=/) { print $i; exit } }' \
    "$T/err_double_free_threads.dump")
err_tid=$(grep -o ' tid=[0-9]*' "$T/err_double_free_threads.errors" | head -1 | tr -d ' ')
[ -n "$first_tid" ] && [ "$first_tid" != "$err_tid" ] ||
    fail "double free across threads: first free $first_tid, error on $err_tid"

# Mismatches: every pair once, as (allocating family -> releasing family).
pairs=$(awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
               print v["alloc_family"] "->" v["family"] }' "$T/err_mismatch.errors" | sort | paste -sd' ' -)
assert_eq "malloc->new malloc->new[] new->malloc new->new[] new[]->malloc new[]->new" "$pairs" \
    "mismatch pairs"
# realloc of a freed pointer returned NULL, as under valgrind.
grep -q '^done null' "$T/err_realloc_freed.mt.out" || fail "realloc of a freed pointer did not return NULL"
pass
