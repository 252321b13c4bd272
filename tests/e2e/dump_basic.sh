#!/usr/bin/env bash
# dump_basic.sh — `memtrace dump` prints every record in the documented text format
#
# 1. A hand-made trace holding every record kind (tests/fuzz/corpus/trace/
#    valid_*.mtrace: same records framed three ways, one ring out of seq
#    order) dumps exactly as dump_basic.expected, whatever the framing.
# 2. A real recording of tests/targets/rec_fork.c: every line has the
#    "<kind> pid= gen= seq= t=" prefix, SESSION is first and STATS last,
#    each image's seq runs 0,1,2,... (leak entries share their record's seq),
#    the sizes the target allocates appear under the right pid, both images
#    end "exited 0", and --stats counts agree with the lines printed.
# Format: docs/cli.md ("dump"). Issue #2.
. "$(dirname "$0")/lib.sh"

C=$MT_SRC_DIR/tests/fuzz/corpus/trace
out=$("$MT" dump --help 2>&1)
case "$out" in *"not available in this build"*) skip "memtrace dump not built yet" ;; esac

# ---- 1. golden output of a trace with every kind
for f in valid_one_frame valid_three_frames valid_no_checksum; do
    "$MT" dump "$C/$f.mtrace" >"$T/$f.txt" 2>"$T/$f.err" || fail "dump $f exited $?"
    diff -u "$MT_SRC_DIR/tests/e2e/dump_basic.expected" "$T/$f.txt" >&2 || fail "dump of $f differs"
    [ ! -s "$T/$f.err" ] || fail "dump $f wrote to stderr: $(cat "$T/$f.err")"
done

# ---- 2. a real recording
[ -f "${MT_PRELOAD:-}" ] || skip "libmemtrace.so not built"
out=$("$MT" run --help 2>&1)
case "$out" in *"not available in this build"*) skip "memtrace run not built yet" ;; esac
[ -x "$TGT/rec_fork" ] || skip "target not built: rec_fork"

"$MT" run --no-analyze -o "$T/fork.mtrace" -- "$TGT/rec_fork" "$T/pids.txt" >"$T/run.out" 2>"$T/run.err"
assert_eq 0 $? "memtrace run status"
assert_contains "$T/run.err" "trace: $T/fork.mtrace" "run names its trace"
read -r _ child _ parent _ < <(grep '^child ' "$T/pids.txt")
[ -n "$child" ] || fail "target did not report its pids"

"$MT" dump "$T/fork.mtrace" >"$T/fork.txt" 2>"$T/fork.err"
assert_eq 0 $? "dump status"
[ ! -s "$T/fork.err" ] || fail "dump wrote to stderr: $(cat "$T/fork.err")"

bad=$(grep -Evc '^[a-z_]+ pid=[0-9]+ gen=[0-9]+ seq=([0-9]+|-) t=[0-9]+( |$)' "$T/fork.txt")
assert_eq 0 "$bad" "lines without the record prefix"
assert_eq session "$(head -n1 "$T/fork.txt" | cut -d' ' -f1)" "first record"
assert_eq stats "$(tail -n1 "$T/fork.txt" | cut -d' ' -f1)" "last record"
assert_contains "$T/fork.txt" "argv=$TGT/rec_fork $T/pids.txt" "session/process argv"

# seq dense per image; consecutive leak entries repeat their record's seq
seqerr=$(awk '{ split($3, a, "="); split($4, s, "="); if (s[2] == "-") next
    img = $2 " " a[2]; if ($1 == "leak" && last[img] == s[2] && lk[img]) next
    if (s[2] != n[img] + 0) { print img " seq " s[2] " expected " n[img] + 0; exit }
    n[img] = s[2] + 1; last[img] = s[2]; lk[img] = ($1 == "leak") }' "$T/fork.txt")
assert_eq "" "$seqerr" "seq order"

count() { grep -c -- "$1" "$T/fork.txt"; }
assert_eq 3 "$(count "^alloc pid=$parent gen=0 .* size=30011 ")" "parent's malloc(30011)"
assert_eq 5 "$(count "^alloc pid=$child gen=0 .* size=30013 ")" "child's malloc(30013)"
assert_eq 0 "$(count "^alloc pid=$parent gen=0 .* size=30013 ")" "child's size under the parent"
assert_eq 1 "$(count "^process pid=$child gen=0 .* ppid=$parent parent_gen=0 forked=1 ")" "child process record"
assert_eq 1 "$(count "^proc_end pid=$parent gen=0 .* how=exited status=0 ")" "parent's end"
assert_eq 1 "$(count "^proc_end pid=$child gen=0 .* how=exited status=0 ")" "child's end"
assert_eq 1 "$(count "^stats .* processes=2$")" "stats: two images"

# --stats agrees with the lines
"$MT" dump --stats "$T/fork.mtrace" >"$T/stats.txt" || fail "dump --stats failed"
for kind in alloc free stack module proc_end; do
    want=$(grep -c "^$kind " "$T/fork.txt")
    got=$(awk -v k="$kind" '$1 == "total" { for (i = 2; i <= NF; i++) { split($i, a, "="); if (a[1] == k) print a[2] } }' "$T/stats.txt")
    assert_eq "$want" "${got:-0}" "--stats total of $kind"
done
want=$(grep -c "^alloc pid=$child " "$T/fork.txt")
assert_contains "$T/stats.txt" "pid=$child gen=0 " "--stats line of the child"
got=$(grep "^pid=$child gen=0 " "$T/stats.txt" | tr ' ' '\n' | sed -n 's/^alloc=//p')
assert_eq "$want" "$got" "--stats allocs of the child"
pass
