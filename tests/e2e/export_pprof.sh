#!/usr/bin/env bash
# export_pprof.sh — `go tool pprof` reads memtrace's pprof export
#
# Records tests/targets/example, exports pprof (gzipped protobuf) and runs
# Go's own reader on it: each of the four sample types totals what the
# database says (alloc_objects = allocations, alloc_space = bytes
# allocated, inuse_* = live at the peak, or at the end with --inuse end),
# and the top entries name the database's top sites. docs/reports.md.
# Issue #5.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/report_common.bash"
rp_require run export -- example
command -v go >/dev/null || skip "go not installed (golang-go, scripts/deps.sh)"
export HOME=$T GOCACHE=$T/gocache PPROF_TMPDIR=$T
rp_record ex "$TGT/example"
DB=$T/ex.db
rp_mt export "$DB" --format pprof -o "$T/p.pb.gz"
gzip -t "$T/p.pb.gz" || fail "not gzip"
rp_mt export "$DB" --format pprof --inuse end -o "$T/end.pb.gz"

# pprof_top FILE INDEX: `go tool pprof -top` in exact units
pprof_top() {
    timeout 120 go tool pprof -top -unit=B -sample_index="$2" "$1" >"$T/top.$2" 2>"$T/top.err" ||
        { cat "$T/top.err" >&2; fail "go tool pprof -sample_index=$2"; }
}
# total FILE: the "Total samples = N" of a -top output, units stripped
total() { sed -n 's/.*Total samples = \([0-9]*\).*/\1/p' "$1"; }

pprof_top "$T/p.pb.gz" alloc_objects
assert_eq "$(sql "$DB" "SELECT sum(n_allocs) FROM sites")" "$(total "$T/top.alloc_objects")" "alloc_objects total"
top_fn=$(sql "$DB" "SELECT l.function FROM sites s JOIN stack_leaf l USING (stack_id) ORDER BY s.n_allocs DESC LIMIT 1")
top_n=$(sql "$DB" "SELECT max(n_allocs) FROM sites")
awk 'f { print; exit } /flat%/ { f = 1 }' "$T/top.alloc_objects" | grep -qE "^ *${top_n}B? .* $top_fn\$" ||
    { cat "$T/top.alloc_objects" >&2; fail "alloc_objects top line is not $top_n at $top_fn"; }

pprof_top "$T/p.pb.gz" alloc_space
assert_eq "$(sql "$DB" "SELECT sum(alloc_bytes) FROM sites")" "$(total "$T/top.alloc_space")" "alloc_space total"

pprof_top "$T/p.pb.gz" inuse_space
assert_eq "$(sql "$DB" "SELECT peak_heap_bytes FROM processes")" "$(total "$T/top.inuse_space")" "inuse_space total = peak"
peak_site=$(sql "$DB" "SELECT peak_bytes || ' ' || l.function FROM top_sites_at_peak t JOIN stack_leaf l USING (stack_id) ORDER BY t.peak_bytes DESC LIMIT 1")
awk 'f { print; exit } /flat%/ { f = 1 }' "$T/top.inuse_space" | grep -qE "^ *${peak_site%% *}B .* ${peak_site#* }\$" ||
    { cat "$T/top.inuse_space" >&2; fail "inuse_space top line is not $peak_site"; }
grep -q "^Type: inuse_space" "$T/top.inuse_space" || fail "inuse_space is the default type"

pprof_top "$T/p.pb.gz" inuse_objects
assert_eq "$(sql "$DB" "SELECT peak_heap_blocks FROM processes")" "$(total "$T/top.inuse_objects")" "inuse_objects total"

pprof_top "$T/end.pb.gz" inuse_space
assert_eq "$(sql "$DB" "SELECT sum(end_live_bytes) FROM sites")" "$(total "$T/top.inuse_space")" "--inuse end total"
grep -q "list_build" "$T/top.inuse_space" || fail "the leak site is in the end profile"

# file:line information survives (pprof -list would need sources; -lines shows them)
timeout 120 go tool pprof -top -lines -sample_index=inuse_space "$T/p.pb.gz" >"$T/lines" 2>/dev/null
grep -q "example.c:$(sql "$DB" "SELECT l.line FROM top_sites_at_peak t JOIN stack_leaf l USING (stack_id) ORDER BY t.peak_bytes DESC LIMIT 1")" "$T/lines" ||
    fail "file:line of the top site"

# refusing binary output on a terminal is tested by hand; here: bad options
"$MT" export "$DB" --format pprof --inuse later -o "$T/x" 2>"$T/e"
assert_eq 2 "$?" "bad --inuse"
pass
