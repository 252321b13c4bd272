#!/usr/bin/env bash
# run_no_errors.sh — `memtrace run --no-errors`: a profile without the live table
#
# Without the live-pointer table the preload judges no release and runs no
# exit scan (docs/preload.md, "Profiling only"), so the test uses programs
# without memory errors (a double free would reach glibc and abort):
#   - rec_flood, 2 threads: every allocation and free is still recorded,
#     counted exactly per size, every free pairs with its allocation, seq
#     dense, no error record, no leak scan;
#   - leak_list: runs to its end; its 15 blocks (and stdout's buffer) stay
#     not freed and unclassified: no leak_begin/leak/leak_end, while the
#     same program recorded normally does get its scan (so the check above
#     can fail); MEMTRACE_NO_ERRORS=1 in the environment does the same; the
#     summary after the analysis lists the blocks as unclassified.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rec_common.bash"
rec_require rec_flood leak_list

leak_records() { grep -cE '^leak(_begin|_end)? ' "$1"; }

# --- a program that frees everything: counts exact, nothing judged
threads=2 iters=20000
REC_RUN_OPTS=--no-errors rec_record flood "$TGT/rec_flood" $threads $iters
assert_eq 0 "$REC_STATUS" "memtrace run --no-errors exit status"
S=$T/flood.sum
rec_assert_flood "$S" $threads $iters
pid=$REC_PID
assert_eq "" "$(rec_lines "$S" "U $pid 0")" "frees of addresses never allocated"
assert_eq 0 "$(rec_count "$S" "Z $pid 0")" "allocations onto an address still live"
assert_eq 0 "$(leak_records "$T/flood.dump")" "leak scan records under --no-errors"

# --- leaks: not classified, and the normal recording does classify them
rec_record normal "$TGT/leak_list"
assert_eq 0 "$REC_STATUS" "memtrace run exit status (leak_list)"
assert_eq 1 "$(grep -c '^leak_begin ' "$T/normal.dump")" "leak_begin without --no-errors"

REC_RUN_OPTS=--no-errors rec_record noerr "$TGT/leak_list"
assert_eq 0 "$REC_STATUS" "memtrace run --no-errors exit status (leak_list)"
assert_contains "$T/noerr.run.out" "done" "leak_list's last line"
S=$T/noerr.sum
pid=$(rec_root_pid "$S")
assert_eq 0 "$(leak_records "$T/noerr.dump")" "leak scan records under --no-errors"
assert_eq 1 "$(rec_n "$S" "X $pid 0 0")" "exit record (normal exit)"
assert_eq 15 "$(rec_count "$S" "A $pid 0 32 malloc malloc 0")" "32-byte nodes allocated"
assert_eq 15 "$(rec_count "$S" "L $pid 0 32")" "32-byte nodes never freed"
for kind in A L; do # the profile is the normal recording's, scan aside
    assert_eq "$(rec_lines "$T/normal.sum" "$kind $(rec_root_pid "$T/normal.sum") 0" | cut -d' ' -f4- | sort)" \
        "$(rec_lines "$S" "$kind $pid 0" | cut -d' ' -f4- | sort)" "'$kind' lines against the normal run"
done

MEMTRACE_NO_ERRORS=1 rec_record env "$TGT/leak_list"
assert_eq 0 "$REC_STATUS" "MEMTRACE_NO_ERRORS=1 memtrace run exit status"
assert_eq 0 "$(leak_records "$T/env.dump")" "leak scan records with MEMTRACE_NO_ERRORS=1"

# --- the analysis: the blocks are listed as not freed, unclassified
timeout "$REC_TIMEOUT" "$MT" run --no-errors --db "$T/an.db" --program-output "$T/an.out" \
    -- "$TGT/leak_list" >"$T/an.run.out" 2>"$T/an.run.err" || { cat "$T/an.run.err" >&2; fail "run with analysis failed"; }
cat "$T/an.run.out" "$T/an.run.err" >"$T/an.all"
grep -Eq "unclassified +16 blocks" "$T/an.all" || { cat "$T/an.all" >&2; fail "summary of a --no-errors run: no 16 unclassified blocks"; }
pass
