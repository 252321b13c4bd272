#!/usr/bin/env bash
# report_agree.sh — every report format agrees with the database, on several programs
#
# Records programs of tests/targets with known behaviour (leaks of every
# class, errors of every family, a forked child, an inlined leak) and, for
# each database, checks that text, markdown, json and the json inside the
# html page carry the same totals and the same top sites as SQL on the
# database, process by process; the folded export adds up to the same
# allocation total. docs/reports.md. Issue #5.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/report_common.bash"
targets=(an_known leak_tree leak_interior err_mismatch err_free_interior rec_fork)
rp_require run report export -- "${targets[@]}"
command -v jq >/dev/null || skip "jq not installed"

for t in "${targets[@]}"; do
    args=()
    [ "$t" = rec_fork ] && args=("$T/fork.msg")
    rp_record "$t" "$TGT/$t" "${args[@]}"
    DB=$T/$t.db
    rp_mt report "$DB" -o "$T/$t.txt"
    rp_mt report "$DB" -o "$T/$t.md"
    rp_mt report "$DB" -o "$T/$t.json"
    rp_mt report "$DB" -o "$T/$t.html"
    sed -n '/<script type="application\/json" id="mt-data">/,/<\/script>/p' "$T/$t.html" |
        sed '1d;$d' >"$T/$t.html.json"
    J=$T/$t.json
    H=$T/$t.html.json
    jq -e . "$H" >/dev/null || fail "$t: the html's data is not json"

    # session totals
    tot=$(sql "$DB" "SELECT n_allocs || '|' || alloc_bytes || '|' || n_errors FROM session")
    for f in "$J" "$H"; do
        assert_eq "$tot" "$(jq -r '.session | "\(.n_allocs)|\(.alloc_bytes)|\(.n_errors)"' "$f")" "$t: totals in $(basename "$f")"
    done
    IFS='|' read -r n_allocs alloc_bytes n_errors <<<"$tot"
    assert_contains "$T/$t.txt" "allocations        $n_allocs, $alloc_bytes B" "$t: text totals"
    assert_contains "$T/$t.md" "**memory errors**: $n_errors" "$t: markdown errors"
    rp_mt export "$DB" --format folded -o "$T/$t.folded"
    assert_eq "$alloc_bytes" "$(awk '{ s += $NF } END { printf "%d\n", s }' "$T/$t.folded")" "$t: folded total"

    # per process: peak, top peak site, leak totals, errors
    assert_eq "$(sql "$DB" "SELECT count(*) FROM processes")" "$(jq '.processes | length' "$J")" "$t: processes"
    while IFS='|' read -r proc_id pid peak blocks; do
        assert_contains "$T/$t.txt" "Process $pid" "$t: text process $pid"
        grep -A12 "^Process $pid" "$T/$t.txt" | grep -qF "peak heap          $peak B" || fail "$t: text peak of $pid"
        grep -A12 "^## Process $pid" "$T/$t.md" | grep -qF "**peak heap**: $peak B" || fail "$t: markdown peak of $pid"
        jp=".processes[] | select(.proc_id == $proc_id)"
        assert_eq "$peak|$blocks" "$(jq -r "$jp | \"\(.peak_heap_bytes)|\(.peak_heap_blocks)\"" "$J")" "$t: json peak of $pid"
        top=$(sql "$DB" "SELECT location FROM top_sites_at_peak WHERE proc_id = $proc_id ORDER BY peak_bytes DESC, stack_id LIMIT 1")
        if [ -n "$top" ]; then
            assert_eq "$top" "$(jq -r "$jp | .peak_sites[0].location" "$J")" "$t: json top peak site of $pid"
            assert_eq "$top" "$(jq -r "$jp | .peak_sites[0].location" "$H")" "$t: html top peak site of $pid"
            grep -A14 "^Process $pid" "$T/$t.txt" | grep -qF "at $top" || fail "$t: text top peak site of $pid: $top"
        fi
        want=$(sql "$DB" "SELECT group_concat(class || '=' || blocks || '/' || bytes, ' ') FROM (SELECT * FROM leak_totals WHERE proc_id = $proc_id ORDER BY class)")
        assert_eq "$want" "$(jq -r "[$jp | .leak_totals[] | \"\(.class)=\(.blocks)/\(.bytes)\"] | join(\" \")" "$J")" "$t: json leaks of $pid"
        top_leak=$(sql "$DB" "SELECT location FROM leaks_by_site WHERE proc_id = $proc_id AND class = 'definite' ORDER BY bytes DESC LIMIT 1")
        [ -z "$top_leak" ] || assert_contains "$T/$t.txt" "definite: " "$t: text definite leak"
        [ -z "$top_leak" ] || grep -qF "at $top_leak" "$T/$t.txt" || fail "$t: text leak site $top_leak"
        kinds=$(sql "$DB" "SELECT group_concat(kind, ' ') FROM (SELECT kind FROM errors WHERE proc_id = $proc_id ORDER BY seq, error_id)")
        assert_eq "$kinds" "$(jq -r "[$jp | .errors[].kind] | join(\" \")" "$J")" "$t: json errors of $pid"
        [ -z "$kinds" ] || assert_eq "$(sql "$DB" "SELECT count(*) FROM errors WHERE proc_id = $proc_id")" \
            "$(grep -A400 "^Process $pid" "$T/$t.txt" | grep -cE "^  (${kinds// /|})(\ \([a-z]+\))?: ")" "$t: text error lines of $pid"
    done < <(sql "$DB" "SELECT proc_id, pid, peak_heap_bytes, peak_heap_blocks FROM processes ORDER BY proc_id")
done
assert_ge 2 "$(sql "$T/rec_fork.db" "SELECT count(*) FROM processes")" "rec_fork has a child"
pass
