# tests/e2e/rec_common.bash — helpers shared by the recorder's end-to-end tests
#
# Sourced after lib.sh by tests/e2e/run_*.sh and crash_*.sh (issue #2). Not
# a test itself: ctest only picks up *.sh. Records a target with
# `memtrace run --no-analyze`, dumps the trace as text and reduces the text
# to counts with rec_summary.awk (the line formats are listed there). Stack
# checks resolve frames with binutils' addr2line from the module records,
# so they do not depend on memtrace's own symbolizer.

REC_AWK="$MT_SRC_DIR/tests/e2e/rec_summary.awk"
REC_TIMEOUT=${REC_TIMEOUT:-60} # seconds any one memtrace command may take

# rec_require TARGET...: skip while memtrace, its preload, `run`, `dump` or a
# target is not built yet; every other problem is a failure.
rec_require() {
    [ -x "$MT" ] || skip "memtrace binary not built: $MT"
    [ -f "${MT_PRELOAD:-}" ] || skip "libmemtrace.so not built: ${MT_PRELOAD:-unset}"
    local verb out
    for verb in run dump; do
        out=$("$MT" "$verb" --help 2>&1)
        case "$out" in *"not available in this build"*) skip "memtrace $verb not built yet" ;; esac
    done
    local t
    for t in "$@"; do [ -e "$TGT/$t" ] || skip "target not built: $TGT/$t"; done
}

# rec_record NAME PROG ARGS...: records PROG into $T/NAME.mtrace, keeps
# memtrace's status in REC_STATUS, then dumps to $T/NAME.dump and summarises
# to $T/NAME.sum. Fails when the dump fails.
rec_record() {
    local name=$1
    shift
    timeout "$REC_TIMEOUT" "$MT" run -o "$T/$name.mtrace" --no-analyze ${REC_RUN_OPTS:-} -- "$@" \
        >"$T/$name.run.out" 2>"$T/$name.run.err"
    REC_STATUS=$?
    [ "$REC_STATUS" -ne 124 ] || { cat "$T/$name.run.err" >&2; fail "memtrace run timed out: $*"; }
    rec_dump "$name"
}

# rec_dump NAME: $T/NAME.mtrace -> $T/NAME.dump and $T/NAME.sum.
rec_dump() {
    local name=$1
    [ -s "$T/$name.mtrace" ] || { cat "$T/$name.run.err" >&2; fail "no trace written: $T/$name.mtrace"; }
    timeout "$REC_TIMEOUT" "$MT" dump "$T/$name.mtrace" >"$T/$name.dump" 2>"$T/$name.dump.err" ||
        { cat "$T/$name.dump.err" >&2; fail "memtrace dump $T/$name.mtrace failed"; }
    awk -v detail="${REC_DETAIL:-0}" -f "$REC_AWK" "$T/$name.dump" >"$T/$name.sum" ||
        fail "rec_summary.awk failed on $T/$name.dump"
}

# rec_count SUMFILE PATTERN: sum of the counts (last field) of the summary
# lines that start with the extended regex PATTERN followed by a space; 0
# when none. "A 12 0 10067 aligned posix_memalign" or "F 12 0 10067
# (malloc|aligned) free". "[]" is literal (api names like new[]); other
# bracket expressions keep their regex meaning.
rec_count() {
    rec_lines "$1" "$2" | awk '{ s += $NF } END { print s + 0 }'
}

# rec_lines SUMFILE PATTERN: the summary lines matching as for rec_count.
rec_lines() {
    local re=${2//"[]"/\\[\\]}
    REC_RE="^($re) " awk '$0 " " ~ ENVIRON["REC_RE"]' "$1"
}

# rec_n SUMFILE PATTERN: how many summary lines match (for the record lines
# P, X, Q, S, T, M, N, whose last field is not a count).
rec_n() {
    rec_lines "$1" "$2" | wc -l
}

# rec_root_pid SUMFILE: pid of the first image that was neither forked nor exec'd.
rec_root_pid() {
    awk '$1 == "P" && $3 == 0 && $6 == 0 { print $2; exit }' "$1"
}

# rec_assert_seq_ok SUMFILE: every image's seq ran 0,1,2,... without a hole.
rec_assert_seq_ok() {
    local bad
    bad=$(awk '$1 == "S" && $5 != "ok"' "$1")
    [ -z "$bad" ] || fail "sequence numbers not dense/ordered: $bad"
    [ "$(rec_n "$1" S)" -gt 0 ] || fail "no seq-carrying records at all"
}

# rec_assert_no_errors SUMFILE: no error records anywhere.
rec_assert_no_errors() {
    local errs
    errs=$(rec_lines "$1" E)
    [ -z "$errs" ] || fail "unexpected error records: $errs"
}

# rec_assert_flood SUMFILE THREADS ITERS [WHAT]: a rec_flood recording is
# exact: each of its four sizes allocated and freed THREADS * ITERS / 4
# times by the root process, no error records, dense seqs, and the process
# ended normally with nothing dropped. Sets REC_PID to the root pid.
rec_assert_flood() {
    local s=$1 each=$(($2 * $3 / 4)) what=${4:+$4: } size
    REC_PID=$(rec_root_pid "$s")
    [ -n "$REC_PID" ] || fail "${what}no process record"
    for size in 1009 1013 1019 1021; do
        assert_eq $each "$(rec_count "$s" "A $REC_PID 0 $size malloc malloc 0")" "${what}allocations of $size"
        assert_eq $each "$(rec_count "$s" "F $REC_PID 0 $size malloc free 0")" "${what}frees of $size blocks"
    done
    rec_assert_no_errors "$s"
    rec_assert_seq_ok "$s"
    assert_eq 1 "$(rec_n "$s" "Q $REC_PID 0 exited 0 0")" "${what}proc_end: exited 0, dropped 0"
}

# rec_frames DUMP PID GEN STACK_ID: the frames of one stack, one per line.
rec_frames() {
    awk -v pid="pid=$2" -v gen="gen=$3" -v id="id=$4" '
        $1 == "stack" && $2 == pid && $3 == gen {
            found = 0; frames = ""
            for (i = 4; i <= NF; i++) {
                if ($i == id) found = 1
                if (index($i, "frames=") == 1) frames = substr($i, 8)
            }
            if (found) { gsub(",", "\n", frames); print frames; exit }
        }' "$1"
}

# rec_modules DUMP PID GEN: "bias lo hi path" per executable segment of
# every module record of the image (lo/hi absolute, decimal).
rec_modules() {
    local bias segs path seg vaddr memsz flags line
    grep -E "^module pid=$2 gen=$3 " "$1" | while IFS= read -r line; do
        bias=$(sed -E 's/.* bias=([^ ]+).*/\1/' <<<"$line")
        segs=$(sed -E 's/.* segs=([^ ]+).*/\1/' <<<"$line")
        path=${line#* path=}
        IFS=, read -ra seg <<<"$segs"
        for s in "${seg[@]}"; do
            IFS=: read -r vaddr memsz flags <<<"$s"
            echo "$((bias)) $((bias + vaddr)) $((bias + vaddr + memsz)) $path"
        done
    done
}

# rec_symbolize DUMP PID GEN STACK_ID MODULE_SUFFIX: function names (demangled,
# argument lists cut) of the stack's frames that fall in the module whose
# path ends in MODULE_SUFFIX, innermost first. Return addresses point after
# the call, so each is looked up at addr - 1.
rec_symbolize() {
    local dump=$1 pid=$2 gen=$3 sid=$4 suffix=$5
    local mods frame bias lo hi path a
    mods=$(rec_modules "$dump" "$pid" "$gen")
    [ -n "$mods" ] || fail "no module records for pid $pid gen $gen"
    for frame in $(rec_frames "$dump" "$pid" "$gen" "$sid"); do
        a=$((frame))
        while read -r bias lo hi path; do
            [[ "$path" == *"$suffix" ]] || continue
            if [ "$a" -ge "$lo" ] && [ "$a" -lt "$hi" ]; then
                addr2line -f -C -e "$path" "$(printf '0x%x' $((a - bias - 1)))" | head -1 |
                    sed 's/(.*//'
                break
            fi
        done <<<"$mods"
    done
}

# rec_wait_file PATH SECONDS: waits until PATH exists; fails after SECONDS.
rec_wait_file() {
    local i
    for ((i = 0; i < $2 * 20; i++)); do
        [ -e "$1" ] && return 0
        sleep 0.05
    done
    fail "$1 did not appear within $2 s"
}

# rec_wait_gone PID SECONDS: waits until PID has ended (gone or a zombie).
rec_wait_gone() {
    local i state
    for ((i = 0; i < $2 * 20; i++)); do
        state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 0
        [ "$state" = Z ] && return 0
        sleep 0.05
    done
    fail "process $1 still running after $2 s"
}
