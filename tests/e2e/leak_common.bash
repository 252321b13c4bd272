# tests/e2e/leak_common.bash — run a target under memtrace and under valgrind memcheck
#
# Sourced after lib.sh by tests/e2e/leaks_*.sh and errors_*.sh (issue #4).
# Not a test itself (ctest only picks up *.sh). memtrace's side records with
# `memtrace run --no-analyze` and reduces `memtrace dump` with
# leak_classes.awk; valgrind's side runs memcheck with
#   --leak-check=full --show-leak-kinds=all --error-exitcode=0
#   --run-libc-freeres=no --run-cxx-freeres=no
# The two freeres options matter: memtrace scans inside the process after its
# exit handlers, where glibc's and libstdc++'s one-time blocks (stdio
# buffers, the exception pool) are still allocated and still reachable;
# valgrind would otherwise free them before its own scan. docs/leaks.md
# explains every difference the tests allow.

LEAK_TIMEOUT=${LEAK_TIMEOUT:-120} # seconds for one program under one tool
LEAK_AWK="$MT_SRC_DIR/tests/e2e/leak_classes.awk"

# leak_require TARGET...: skip while memtrace, run/dump, valgrind or a target is missing.
leak_require() {
    [ -x "$MT" ] || skip "memtrace binary not built: $MT"
    [ -f "${MT_PRELOAD:-}" ] || skip "libmemtrace.so not built"
    local verb out t
    for verb in run dump; do
        out=$("$MT" "$verb" --help 2>&1)
        case "$out" in *"not available in this build"*) skip "memtrace $verb not built yet" ;; esac
    done
    command -v valgrind >/dev/null || skip "valgrind not installed (scripts/deps.sh installs it)"
    for t in "$@"; do [ -x "$TGT/$t" ] || skip "target not built: $TGT/$t"; done
}

# leak_memtrace PROG: records $TGT/PROG into $T/PROG.mtrace, dumps it to
# $T/PROG.dump and writes the per-class totals to $T/PROG.mt. Fails unless
# the program ran to its end ("done" printed, status 0).
leak_memtrace() {
    local p=$1
    timeout "$LEAK_TIMEOUT" "$MT" run -o "$T/$p.mtrace" --no-analyze \
        --program-output "$T/$p.mt.out" -- "$TGT/$p" >"$T/$p.run.out" 2>"$T/$p.run.err"
    local st=$?
    [ "$st" -eq 0 ] || { cat "$T/$p.run.err" >&2; fail "$p under memtrace exited $st"; }
    grep -q '^done' "$T/$p.mt.out" || fail "$p under memtrace did not reach its end"
    timeout "$LEAK_TIMEOUT" "$MT" dump "$T/$p.mtrace" >"$T/$p.dump" 2>"$T/$p.dump.err" ||
        { cat "$T/$p.dump.err" >&2; fail "memtrace dump failed for $p"; }
    awk -f "$LEAK_AWK" "$T/$p.dump" >"$T/$p.mt" || fail "leak_classes.awk failed on $p"
}

# leak_valgrind PROG: runs $TGT/PROG under memcheck; text log in $T/PROG.vg.log,
# XML in $T/PROG.vg.xml, per-class totals in $T/PROG.vg (same format as .mt).
leak_valgrind() {
    local p=$1
    timeout "$LEAK_TIMEOUT" valgrind --leak-check=full --show-leak-kinds=all --error-exitcode=0 \
        --run-libc-freeres=no --run-cxx-freeres=no --num-callers=40 \
        --xml=yes --xml-file="$T/$p.vg.xml" --log-file="$T/$p.vg.log" \
        "$TGT/$p" >"$T/$p.vg.out" 2>&1
    local st=$?
    [ "$st" -eq 0 ] || { cat "$T/$p.vg.log" >&2; fail "$p under valgrind exited $st"; }
    grep -q '^done' "$T/$p.vg.out" || fail "$p under valgrind did not reach its end"
    # Leak records in the XML: <kind>Leak_X</kind>, then <text> (a definitely
    # lost record reads "N (D direct, I indirect) bytes"), then <leakedblocks>.
    awk '
        /<kind>Leak_DefinitelyLost</ { c = "definite" }
        /<kind>Leak_IndirectlyLost</ { c = "indirect" }
        /<kind>Leak_PossiblyLost</ { c = "possible" }
        /<kind>Leak_StillReachable</ { c = "reachable" }
        c != "" && /<text>/ {
            t = $0; sub(/.*<text>/, "", t); gsub(/,/, "", t)
            if (match(t, /\([0-9]+ direct/)) t = substr(t, RSTART + 1)
            bytes[c] += t + 0
        }
        c != "" && /<leakedblocks>/ { gsub(/[^0-9]/, ""); blocks[c] += $0; c = "" }
        END {
            split("definite indirect possible reachable", o, " ")
            for (i = 1; i <= 4; i++) printf "%s %d %d\n", o[i], bytes[o[i]], blocks[o[i]]
        }' "$T/$p.vg.xml" >"$T/$p.vg" || fail "cannot read valgrind XML for $p"
}

# leak_field FILE CLASS COL: COL 2 = bytes, 3 = blocks of CLASS in FILE.
leak_field() { awk -v c="$2" -v k="$3" '$1 == c { print $k }' "$1"; }

# leak_tls_extra: bytes memtrace adds to every thread's DTV. glibc sizes a
# DTV as 16 bytes per TLS module (plus a fixed surplus); libmemtrace.so and
# its dependencies bring TLS modules a plain run does not load.
leak_tls_extra() {
    local prog=$1 n=0 lib
    local target_libs
    target_libs=$(ldd "$TGT/$prog" | awk '/=>/ { print $3 }')
    for lib in "$MT_PRELOAD" $(ldd "$MT_PRELOAD" | awk '/=>/ { print $3 }'); do
        printf '%s\n' "$target_libs" | grep -qxF "$lib" && continue
        readelf -lW "$lib" 2>/dev/null | grep -q '^ *TLS ' && n=$((n + 1))
    done
    echo $((n * 16))
}
