#!/usr/bin/env bash
# report_html_pools.sh — the html report of a client-API run in headless Chromium
#
# Records tests/targets/client_slab.c (slab pool, markers start /
# phase1-done / phase2-done, one on-demand leak check), opens
# `report --format html` in headless Chromium and reads the rendered DOM:
# the page finished without a console message, every marker is a labelled
# line on the heap chart in seq order, the pools table shows the pool with
# the database's waste and leaked chunks, the leak-check table has one row
# per leak_checks row, and the flame graph holds the [pool:slab] frame.
# docs/reports.md. Issue #7.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/report_common.bash"
rp_require run report -- client_slab
CHROME=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$CHROME" ] || skip "chromium not installed (scripts/deps.sh installs it)"
# chromium writes dconf and config under $HOME and $XDG_*: keep them in $T
mkdir -m 700 -p "$T/home/run"
CHROME_ENV=(env HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config" XDG_CACHE_HOME="$T/home/.cache"
    XDG_RUNTIME_DIR="$T/home/run")
rp_record slab "$TGT/client_slab"
DB=$T/slab.db
rp_mt report "$DB" --format html -o "$T/r.html"

timeout 120 "${CHROME_ENV[@]}" "$CHROME" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --user-data-dir="$T/profile" \
    --enable-logging=stderr --v=0 --virtual-time-budget=5000 --window-size=1280,2200 \
    --dump-dom "file://$T/r.html" >"$T/dom.html" 2>"$T/chrome.log" ||
    { tail "$T/chrome.log" >&2; fail "chromium --dump-dom"; }
if grep -F "CONSOLE" "$T/chrome.log"; then fail "the page logged to the console"; fi
grep -q 'data-rendered="ok"' "$T/dom.html" ||
    fail "app.js did not finish: $(grep -o 'data-rendered="[^"]*"' "$T/dom.html")"

# markers: one labelled line per row, inside the uPlot chart, in seq order
sql "$DB" "SELECT name FROM markers ORDER BY seq" >"$T/mk.sql"
grep -o 'class="mt-marker-label"[^>]*>[^<]*<' "$T/dom.html" | sed -E 's/.*>([^<]*)</\1/' >"$T/mk.dom"
diff -u "$T/mk.sql" "$T/mk.dom" >&2 || fail "marker labels on the chart"
sql "$DB" "SELECT seq FROM markers ORDER BY seq" >"$T/seq.sql"
grep -o 'class="mt-marker [a-z]*"[^>]*data-seq="[0-9]*"' "$T/dom.html" | sed -E 's/.*data-seq="([0-9]*)"/\1/' >"$T/seq.dom"
diff -u "$T/seq.sql" "$T/seq.dom" >&2 || fail "marker lines on the chart"
grep -q 'class="u-over"[^>]*>.*<div class="mt-marker-layer">' "$T/dom.html" || fail "markers are not on the chart"
assert_eq "$(sql "$DB" "SELECT count(*) FROM markers")" "$(grep -o '<tr class="marker-row">' "$T/dom.html" | wc -l)" "markers table rows"

# pools table: the database's figures in the row of each pool
grep -o '<tr class="pool-row">.*' "$T/dom.html" | sed 's/<tr class="pool-row">/\n&/g; s/<\/tbody>/\n/g' | grep 'pool-row' >"$T/pool_rows"
assert_eq "$(sql "$DB" "SELECT count(*) FROM pools")" "$(wc -l <"$T/pool_rows")" "pool rows"
while IFS='|' read -r name fam waste held lc lb; do
    row=$(grep ">$name<" "$T/pool_rows") || fail "no row for pool $name"
    for v in "$waste B" "$held B" ">$lc<" "$lb B" ">$fam<"; do
        grep -qF -- "$v" <<<"$row" || fail "pool $name row lacks '$v'"
    done
done < <(sql "$DB" "SELECT name, family, peak_waste_bytes, peak_held_bytes, leaked_chunks, leaked_bytes FROM pools")
assert_eq 1152 "$(sql "$DB" "SELECT peak_waste_bytes FROM pools")" "slab waste (target header)"
grep -q 'Leaked chunks of pool:slab' "$T/dom.html" || fail "leaked chunk sites of the pool"

# leak checks: one row per check, with its definite figures
grep -o '<tr class="check-row">.*' "$T/dom.html" | sed 's/<tr class="check-row">/\n&/g; s/<\/tbody>/\n/g' | grep 'check-row' >"$T/check_rows"
assert_eq "$(sql "$DB" "SELECT count(*) FROM leak_checks")" "$(wc -l <"$T/check_rows")" "leak check rows"
while IFS='|' read -r n bytes; do
    grep -qF "$n block" "$T/check_rows" && grep -qF "$bytes B" "$T/check_rows" || fail "check definite $n/$bytes"
done < <(sql "$DB" "SELECT definite_blocks, definite_bytes FROM leak_checks")

# the flame graph: pool chunks under their family's frame; the family filter lists the pool
grep -q 'name="\[pool:slab\]"' "$T/dom.html" || fail "flame graph lacks [pool:slab]"
grep -q '<option value="pool:slab">' "$T/dom.html" || fail "family filter lacks pool:slab"
grep -q '<span class="mt-family">pool:slab</span>' "$T/dom.html" || fail "site tables lack the family"
pass
