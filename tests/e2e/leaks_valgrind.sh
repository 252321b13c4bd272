# tests/e2e/leaks_valgrind.sh — memtrace's leak classes agree with valgrind memcheck
#
# Each leak_* target runs under `memtrace run --no-analyze` and under
# memcheck (leak_common.bash has the options and why). For every class
# (definitely, indirectly, possibly lost, still reachable) the block counts
# must be equal and the bytes equal, and the program's own ground truth (its
# header comment) must hold in memtrace's figures. Every live block must get
# exactly one classification that joins an alloc record.
#
# The one documented difference (docs/leaks.md, "Differences"): glibc sizes
# each thread's DTV (its dynamic TLS vector, allocated by pthread_create and
# reached only through an interior pointer from the TCB, so possibly lost in
# both tools) by the number of TLS modules loaded. libmemtrace.so and
# libunwind add TLS modules, so under memtrace each DTV is larger by
# leak_tls_extra bytes. For the threaded targets the possibly lost bytes must
# differ by exactly that much per DTV block, and by nothing else.
source "$MT_SRC_DIR/tests/e2e/lib.sh"
source "$MT_SRC_DIR/tests/e2e/leak_common.bash"

# leak_heuristics holds blocks only through interior pointers that memcheck's
# default heuristics (newarray, multipleinheritance, length64, stdstring)
# accept; memtrace applies the same rules, so they are still reachable.
#
# target  expected memtrace figures for the program's own blocks:
#         definite-bytes/blocks indirect possible  dtv-blocks (possibly lost DTVs)
CASES=(
    "leak_list     32/1   288/9   0/0    0"
    "leak_tree     48/1   672/14  0/0    0"
    "leak_cycle    104/2  160/4   0/0    0"
    "leak_interior 0/0    0/0     150/2  0"
    "leak_global   200/1  0/0     0/0    0"
    "leak_thread   0/0    0/0     0/0    2"
    "leak_tls      0/0    0/0     0/0    1"
    "leak_heuristics 0/0  0/0     64/1   0"
    "leak_exit_thread 0/0 0/0     0/0    1"
)
# Still reachable ground truth: the program's blocks, then the runtime's
# (glibc's stdout buffer; for C++ also libstdc++'s emergency exception pool).
declare -A REACH=([leak_list]=5+1 [leak_tree]=0+1 [leak_cycle]=0+1 [leak_interior]=1+1
    [leak_global]=41+1 [leak_thread]=2+1 [leak_tls]=2+1 [leak_heuristics]=4+2
    [leak_exit_thread]=1+1)

progs=()
for c in "${CASES[@]}"; do progs+=("${c%% *}"); done
leak_require "${progs[@]}"

for c in "${CASES[@]}"; do
    read -r p want_def want_ind want_pos n_dtv <<<"$c"
    leak_memtrace "$p"
    leak_valgrind "$p"
    assert_eq 0 "$(leak_field "$T/$p.mt" unmatched 2)" "$p: leak entries without an alloc"
    n_classified=$(awk '$1 ~ /^(definite|indirect|possible|reachable)$/ { n += $3 } END { print n }' "$T/$p.mt")
    assert_eq "$(leak_field "$T/$p.mt" live 2)" "$n_classified" "$p: live blocks in the trace vs classified"
    assert_eq "$(leak_field "$T/$p.mt" scan 2)" "$n_classified" "$p: leak_end blocks vs entries"
    extra=$(leak_tls_extra "$p")
    for cls in definite indirect possible reachable; do
        mt_bytes=$(leak_field "$T/$p.mt" $cls 2) mt_blocks=$(leak_field "$T/$p.mt" $cls 3)
        vg_bytes=$(leak_field "$T/$p.vg" $cls 2) vg_blocks=$(leak_field "$T/$p.vg" $cls 3)
        assert_eq "$vg_blocks" "$mt_blocks" "$p: $cls blocks (valgrind vs memtrace)"
        allowed=0
        [ $cls = possible ] && allowed=$((n_dtv * extra))
        assert_eq "$allowed" "$((mt_bytes - vg_bytes))" "$p: $cls bytes, memtrace - valgrind"
    done
    # Ground truth of the program itself (the DTVs are glibc's, not the program's).
    assert_eq "$want_def" "$(leak_field "$T/$p.mt" definite 2)/$(leak_field "$T/$p.mt" definite 3)" \
        "$p: definitely lost"
    assert_eq "$want_ind" "$(leak_field "$T/$p.mt" indirect 2)/$(leak_field "$T/$p.mt" indirect 3)" \
        "$p: indirectly lost"
    pos_blocks=$(($(leak_field "$T/$p.mt" possible 3) - n_dtv))
    assert_eq "${want_pos#*/}" "$pos_blocks" "$p: possibly lost blocks besides DTVs"
    if [ "$n_dtv" -eq 0 ]; then
        assert_eq "$want_pos" "$(leak_field "$T/$p.mt" possible 2)/$pos_blocks" "$p: possibly lost"
    fi
    assert_eq "$((${REACH[$p]}))" "$(leak_field "$T/$p.mt" reachable 3)" "$p: still reachable blocks"
    echo "$p: memtrace $(tr '\n' ' ' <"$T/$p.mt")| valgrind $(tr '\n' ' ' <"$T/$p.vg")"
done
pass
