#!/usr/bin/env bash
# report_pools.sh — pools, markers and on-demand leak checks in text, markdown, json and pprof
#
# Records the client-API targets (tests/targets/client_slab.c, client_arena.c,
# client_cxx.cpp; their headers give the truth: slab waste 1152, arena
# waste 13568, no arena chunk leak, slab leaks 15 chunks, markers in seq
# order) and checks that every format shows each pool with the figures the
# database holds, the markers in seq order and each leak check equal to
# its leak_checks row. Expected values come from SQL on the same database.
# docs/reports.md. Issue #7.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/report_common.bash"
rp_require run report export -- client_slab client_arena client_cxx

# unit N WORD: "1 chunk" / "2 chunks"
unit() { if [ "$1" = 1 ]; then echo "$1 $2"; else echo "$1 ${2}s"; fi; }

# section FILE TITLE: the lines of one "### TITLE" / "TITLE" section.
section() { awk -v t="$2" '/^$/ {next} $0 == t || $0 == "### " t {f = 1; next} f && /^(### )?[A-Z][a-z]/ && !/^(- |  )/ {exit} f' "$1"; }

check_db() {
    local name=$1 db=$T/$1.db
    rp_mt report "$db" -o "$T/$name.txt"
    rp_mt report "$db" --format markdown -o "$T/$name.md"
    rp_mt report "$db" --format json -o "$T/$name.json"

    # pools: one entry per pools row, with its exact figures
    while IFS='|' read -r pool fam allocs live chunks held waste lc lb; do
        for f in "$T/$name.txt" "$T/$name.md"; do
            assert_contains "$f" "$pool ($fam): $(unit "$allocs" chunk) allocated" "$name: pool $pool"
            assert_contains "$f" "peak: $live B" "$name: $pool peak live"
            assert_contains "$f" "live in $(unit "$chunks" chunk) at" "$name: $pool peak chunks"
            assert_contains "$f" "$held B" "$name: $pool held at peak"
            assert_contains "$f" "waste $waste B" "$name: $pool waste"
            assert_contains "$f" "leaked: $(unit "$lc" chunk), $lb B" "$name: $pool leaked"
        done
        assert_eq "$waste" "$(jq --arg n "$pool" '[.processes[].pools[] | select(.name == $n)][0].peak_waste_bytes' "$T/$name.json")" "$name: json waste"
        assert_eq "$lc" "$(jq --arg n "$pool" '[.processes[].pools[] | select(.name == $n)][0].leaks | map(.chunks) | add // 0' "$T/$name.json")" "$name: json leaked chunks by site"
    done < <(sql "$db" "SELECT name, family, n_allocs, peak_live_bytes, peak_live_chunks, peak_held_bytes, peak_waste_bytes, leaked_chunks, leaked_bytes FROM pools")

    # every leaked chunk site is listed under Pools with its stack's leaf
    while IFS='|' read -r cls n bytes loc; do
        section "$T/$name.txt" Pools >"$T/$name.pools"
        assert_contains "$T/$name.pools" "$cls: $bytes B in $(unit "$n" chunk) at $loc" "$name: leaked chunk site"
    done < <(sql "$db" "SELECT a.leak_class, count(*), sum(a.size), l.location FROM allocations a JOIN stack_leaf l USING (stack_id) WHERE a.family LIKE 'pool:%' AND a.leak_class IS NOT NULL GROUP BY a.stack_id, a.leak_class")

    # pool chunk sites carry their family in the site lists
    while IFS='|' read -r bytes fam; do
        grep -qE "^  $bytes B( \([^)]*\))? in [0-9]+ chunks? of $fam " "$T/$name.txt" || fail "$name: peak site of $fam"
    done < <(sql "$db" "SELECT t.peak_bytes, a.family FROM top_sites_at_peak t JOIN (SELECT DISTINCT proc_id, stack_id, family FROM allocations WHERE family LIKE 'pool:%') a USING (proc_id, stack_id) WHERE t.peak_bytes > 0")
    assert_eq "$(sql "$db" "SELECT count(DISTINCT proc_id || ':' || stack_id) FROM allocations WHERE family LIKE 'pool:%'")" \
        "$(jq '[.sites[] | select(.family != null and (.family | startswith("pool:")))] | length' "$T/$name.json")" "$name: json sites with a pool family"

    # markers: the list in seq order, in every format
    sql "$db" "SELECT name FROM markers ORDER BY seq" >"$T/$name.mk.sql"
    section "$T/$name.txt" Markers | sed -E 's/^  [0-9.]+ s  ([^ ]+).*/\1/' >"$T/$name.mk.txt"
    diff -u "$T/$name.mk.sql" "$T/$name.mk.txt" >&2 || fail "$name: text markers"
    section "$T/$name.md" Markers | grep '^- ' | sed -E 's/^- [0-9.]+ s  ([^ ]+).*/\1/' >"$T/$name.mk.md"
    diff -u "$T/$name.mk.sql" "$T/$name.mk.md" >&2 || fail "$name: markdown markers"
    jq -r '.processes[].markers[].name' "$T/$name.json" >"$T/$name.mk.json"
    diff -u "$T/$name.mk.sql" "$T/$name.mk.json" >&2 || fail "$name: json markers"

    # on-demand leak checks: equal to their rows
    sqlite3 -json "$db" "SELECT * FROM leak_checks ORDER BY seq" | jq -S 'map(.)' >"$T/$name.lc.sql"
    [ -s "$T/$name.lc.sql" ] || echo '[]' >"$T/$name.lc.sql"
    jq -S '[.processes[].leak_checks[] | del(.label, .sites)]' "$T/$name.json" >"$T/$name.lc.json"
    diff -u "$T/$name.lc.sql" "$T/$name.lc.json" >&2 || fail "$name: json leak checks"
    while IFS='|' read -r no db_ db_b ib ib_b pb pb_b rb rb_b; do
        line="definite $(unit "$db_" block), $db_b B; indirect $(unit "$ib" block), $ib_b B; possible $(unit "$pb" block), $pb_b B; reachable $(unit "$rb" block), $rb_b B"
        section "$T/$name.txt" "On-demand leak checks" | sed -E 's/ \([0-9.]+ [KMG]iB\)//g' >"$T/$name.lc.txt"
        assert_contains "$T/$name.lc.txt" "check $no " "$name: check $no listed"
        assert_contains "$T/$name.lc.txt" "$line" "$name: check $no classes"
    done < <(sql "$db" "SELECT check_no, definite_blocks, definite_bytes, indirect_blocks, indirect_bytes, possible_blocks, possible_bytes, reachable_blocks, reachable_bytes FROM leak_checks ORDER BY seq")
    while IFS='|' read -r cls n bytes loc; do
        assert_contains "$T/$name.lc.txt" "$cls: $bytes B in $n " "$name: check site $loc"
    done < <(sql "$db" "SELECT s.class, s.blocks, s.bytes, l.location FROM leak_check_sites s JOIN stack_leaf l USING (stack_id) WHERE s.class <> 'reachable'")
}

for t in client_slab client_arena client_cxx; do
    rp_record "$t" "$TGT/$t"
    check_db "$t"
done

# the targets' own truth, as their headers state it
assert_eq 1152 "$(sql "$T/client_slab.db" "SELECT peak_waste_bytes FROM pools WHERE name = 'slab'")" "slab waste"
assert_contains "$T/client_slab.txt" "waste 1152 B (1.1 KiB)" "slab waste in the text"
assert_eq 13568 "$(sql "$T/client_arena.db" "SELECT peak_waste_bytes FROM pools WHERE name = 'frame'")" "arena waste"
assert_contains "$T/client_arena.txt" "leaked: 0 chunks, 0 B" "arena: resets leave no chunk leak"
assert_eq "round1 pause resume round2 round3" "$(tr '\n' ' ' <"$T/client_arena.mk.txt" | sed 's/ $//')" "arena markers"
assert_contains "$T/client_arena.txt" "pause [recording paused]" "pause marker"
assert_contains "$T/client_slab.txt" 'check 1 "after phase1-done"' "check label from the marker before it"
grep -q " 1 blocks" "$T/client_slab.txt" && fail "'1 blocks' in the text"

# a report of a program without memtrace.h has none of these sections
rp_record ex "$TGT/example"
rp_mt report "$T/ex.db" -o "$T/ex.txt"
grep -qE '^(Pools|Markers|On-demand leak checks)$' "$T/ex.txt" && fail "empty client sections printed"
assert_eq "0 0 0" "$(jq -r '[.processes[0].pools, .processes[0].markers, .processes[0].leak_checks] | map(length) | join(" ")' <("$MT" report "$T/ex.db" --format json))" "empty json arrays"

# pprof: the family label lets a profiler keep only a pool's chunks; pid is also a string
rp_mt export "$T/client_slab.db" --format pprof -o "$T/slab.pb.gz"
if command -v go >/dev/null; then
    export HOME=$T GOCACHE=$T/gocache PPROF_TMPDIR=$T
    timeout 120 go tool pprof -raw "$T/slab.pb.gz" >"$T/raw.txt" 2>"$T/go.err" || { cat "$T/go.err" >&2; fail "go tool pprof -raw"; }
    pid=$(sql "$T/client_slab.db" "SELECT pid FROM processes")
    # string labels print as one line, numeric ones on the next
    grep -qE "^ +family:\[pool:slab\] pid:\[$pid\]$" "$T/raw.txt" || fail "no string pid / family label"
    grep -qE "^ +pid:\[$pid\]$" "$T/raw.txt" || fail "numeric pid label gone"
    timeout 120 go tool pprof -top -sample_index=alloc_objects -tagfocus=family=pool:slab "$T/slab.pb.gz" >"$T/top.txt" 2>&1 || fail "tagfocus family"
    n=$(sql "$T/client_slab.db" "SELECT n_allocs FROM pools WHERE name = 'slab'")
    assert_contains "$T/top.txt" "Showing nodes accounting for $n," "pool:slab chunks alone"
fi
pass
