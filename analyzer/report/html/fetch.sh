#!/bin/sh
# fetch.sh — refresh vendor/ from the npm registry (maintainers only)
#
# The memtrace build never runs this: it uses the files committed in
# vendor/. Run it to update a library (change the version in package.json
# first), then ./embed.sh to regenerate ../html_assets.h, and commit both.
#
# SPDX-License-Identifier: MIT
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/package.json" "$work/"
(cd "$work" && npm install --no-audit --no-fund --ignore-scripts >/dev/null)
nm="$work/node_modules"
v="$here/vendor"
cp "$nm/d3/dist/d3.min.js" "$v/"
cp "$nm/d3/LICENSE" "$v/LICENSE.d3"
cp "$nm/d3-flame-graph/dist/d3-flamegraph.min.js" "$nm/d3-flame-graph/dist/d3-flamegraph.css" "$v/"
cp "$nm/d3-flame-graph/LICENSE" "$v/LICENSE.d3-flame-graph"
cp "$nm/uplot/dist/uPlot.iife.min.js" "$nm/uplot/dist/uPlot.min.css" "$v/"
cp "$nm/uplot/LICENSE" "$v/LICENSE.uplot"
echo "vendor/ refreshed; now run ./embed.sh"
