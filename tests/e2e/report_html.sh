#!/usr/bin/env bash
# report_html.sh — the html report renders offline in headless Chromium
#
# Records tests/targets/example, writes `report --format html`, then opens
# the page in headless Chromium (no network: the libraries are inside the
# page): no console message at all (our page logs nothing when it works),
# <body data-rendered="ok"> set by app.js after every view was drawn, the
# uPlot chart and the d3 flame graph present in the DOM, the leak table
# holding the database's leak sites, and a screenshot that is a real
# picture. docs/reports.md. Issue #5.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/report_common.bash"
rp_require run report -- example
CHROME=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$CHROME" ] || skip "chromium not installed (scripts/deps.sh installs it)"
# chromium writes dconf and config under $HOME and $XDG_*: keep them in $T
mkdir -m 700 -p "$T/home/run"
CHROME_ENV=(env HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config" XDG_CACHE_HOME="$T/home/.cache"
    XDG_RUNTIME_DIR="$T/home/run")
rp_record ex "$TGT/example"
DB=$T/ex.db
rp_mt report "$DB" --format html -o "$T/r.html"

# The page must not reach out: no http(s) URL is loaded by any tag.
grep -Eo '<(script|link|img)[^>]*(src|href)="https?:' "$T/r.html" && fail "the page loads something remote"

chrome() {
    timeout 120 "${CHROME_ENV[@]}" "$CHROME" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --user-data-dir="$T/profile" \
        --enable-logging=stderr --v=0 --virtual-time-budget=5000 --window-size=1280,2200 "$@" \
        "file://$T/r.html"
}
chrome --dump-dom >"$T/dom.html" 2>"$T/chrome.log" || { tail "$T/chrome.log" >&2; fail "chromium --dump-dom"; }
if grep -F "CONSOLE" "$T/chrome.log"; then fail "the page logged to the console"; fi
grep -q 'data-rendered="ok"' "$T/dom.html" ||
    fail "app.js did not finish: $(grep -o 'data-rendered="[^"]*"' "$T/dom.html")"
grep -q 'class="uplot' "$T/dom.html" || fail "no uPlot chart in the DOM"
grep -q '<canvas' "$T/dom.html" || fail "the chart has no canvas"
grep -q 'class="partition d3-flame-graph"' "$T/dom.html" || fail "no flame graph svg"
frames=$(grep -o 'class="frame"' "$T/dom.html" | wc -l)
assert_ge "$(sql "$DB" "SELECT count(DISTINCT function) FROM stack_trace WHERE stack_id IN (SELECT stack_id FROM sites WHERE alloc_bytes > 0)")" "$frames" "flame graph frames"
grep -q 'name="pages_churn"' "$T/dom.html" || fail "flame graph lacks pages_churn"

# Every leak site of the database is a row of the rendered leak table
# (the rows are built by app.js, so this also proves the data was read).
grep -o '<tr class="leak-row">.*' "$T/dom.html" | sed 's/<tr class="leak-row">/\n&/g' >"$T/leak_rows"
n_rows=$(grep -c 'leak-row' "$T/leak_rows")
assert_eq "$(sql "$DB" "SELECT count(*) FROM leaks_by_site")" "$n_rows" "leak rows"
while IFS= read -r loc; do
    assert_contains "$T/leak_rows" "$loc" "leak table row"
done < <(sql "$DB" "SELECT DISTINCT location FROM leaks_by_site")
grep 'leak-row' "$T/leak_rows" | grep 'list_build' | grep -q '>definite<' || fail "definite leak at list_build not shown"
grep -q 'class="error-row"' "$T/dom.html" || fail "error table empty"

# A screenshot that is a real picture, not a blank page.
chrome --screenshot="$T/r.png" >/dev/null 2>>"$T/chrome.log" || fail "chromium --screenshot"
[ -f "$T/r.png" ] || fail "no screenshot"
file "$T/r.png" | grep -q 'PNG image data, 1280 x 2200' || fail "screenshot: $(file "$T/r.png")"
assert_ge 50000 "$(stat -c %s "$T/r.png")" "screenshot size (a blank page compresses to a few KiB)"
[ -n "${MT_KEEP_SCREENSHOT:-}" ] && cp "$T/r.png" "$MT_KEEP_SCREENSHOT"
pass
