/*
 * app.js — the memtrace html report's front end (embedded by embed.sh)
 *
 * Reads the report json (docs/reports.md) from <script id="mt-data"> and
 * draws: summary cards, heap and RSS over time (uPlot), a flame graph whose
 * cost is selectable (d3-flame-graph: allocations, bytes, live at peak,
 * leaked; click to zoom, search), and sortable tables of peak sites, leaks
 * with their stacks, memory errors, all sites, fragmentation and
 * histograms. Client-API runs add markers (vertical lines on the heap
 * chart and a list), pools (live chunk bytes against bytes held, waste,
 * leaked chunks) and on-demand leak checks; pool chunks are the family
 * "pool:<name>" in the site tables and in the flame graph (a filter, and
 * a "[pool:<name>]" frame above the allocating call). Everything is offline: the libraries are bundled in the page.
 * On success it sets <body data-rendered="ok">; on an exception, "error: ...".
 *
 * SPDX-License-Identifier: MIT
 */
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('mt-data').textContent);
  var modules = {};
  (D.modules || []).forEach(function (m) { modules[m.module_id] = m.path; });

  /* ---------------------------------------------------------- helpers */
  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'cls') e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    });
    (kids || []).forEach(function (c) { if (c != null) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }
  function human(v) {
    if (v == null) return 'n/a';
    var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0, x = Number(v);
    while (Math.abs(x) >= 1024 && i < 4) { x /= 1024; i++; }
    return i === 0 ? x.toFixed(0) + ' B' : x.toFixed(1) + ' ' + u[i];
  }
  function bytesCell(v) { return v == null ? '' : v + ' B' + (v >= 1024 ? ' (' + human(v) + ')' : ''); }
  function pct(v) { return v == null ? 'n/a' : (100 * v).toFixed(1) + '%'; }
  function secs(ns) { return ns == null ? '' : (ns / 1e9).toFixed(3) + ' s'; }
  function dur(v) {
    return v < 1e3 ? v.toFixed(0) + ' ns' : v < 1e6 ? (v / 1e3).toFixed(1) + ' us' : v < 1e9 ? (v / 1e6).toFixed(1) + ' ms' : (v / 1e9).toFixed(2) + ' s';
  }
  function base(p) { return p ? p.replace(/.*\//, '') : '?'; }
  function frameName(f) {
    if (!f) return '??';
    if (f['function']) return f['function'];
    return base(modules[f.module_id]) + '+0x' + Number(f.module_offset).toString(16);
  }
  function frameLabel(f) {
    if (!f) return '??';
    var fn = f['function'] || '??';
    if (f.file) return fn + ' ' + f.file + ':' + f.line;
    return fn + ' (' + (modules[f.module_id] || '?') + '+0x' + Number(f.module_offset).toString(16) + ')';
  }
  function stackFrames(id) { return ((D.stacks || {})[id] || []).map(function (fid) { return D.frames[fid]; }); }
  function stackNode(id, caption) {
    var lines = stackFrames(id).map(function (f, i) {
      return '#' + i + ' ' + frameLabel(f) + (f && f.inlined ? ' (inlined)' : '');
    });
    return el('details', {}, [el('summary', { text: caption || 'stack' }),
      el('pre', { text: lines.length ? lines.join('\n') : '(no stack)' })]);
  }
  function leaked(s) {
    return (s.leak_definite_bytes || 0) + (s.leak_indirect_bytes || 0) +
      (s.leak_possible_bytes || 0) + (s.leak_unclassified_bytes || 0);
  }

  var TABLE_ROWS = 1000; /* rows drawn per table: the DOM stays fast on big runs */

  /* A sortable table. cols: {title, key, num, cell(row) -> node|string}. */
  function table(cols, rows, rowCls, sortKey, sortDir) {
    var t = el('table', { cls: 'mt-table' }), tb = el('tbody'), dir = sortDir || -1, by = sortKey;
    var note = el('caption', { cls: 'mt-empty' });
    t.appendChild(note);
    var head = el('tr', {}, cols.map(function (c) { return el('th', { text: c.title }); }));
    function val(r, c) { return c.key ? r[c.key] : (c.sort ? c.sort(r) : ''); }
    function fill() {
      var col = cols.filter(function (c) { return c.key === by || c.title === by; })[0];
      var sorted = rows.slice();
      if (col) sorted.sort(function (a, b) {
        var x = val(a, col), y = val(b, col);
        if (x == null) x = col.num ? -Infinity : ''; if (y == null) y = col.num ? -Infinity : '';
        return (x < y ? -1 : x > y ? 1 : 0) * dir;
      });
      tb.textContent = '';
      if (sorted.length > TABLE_ROWS) {
        note.textContent = 'showing ' + TABLE_ROWS + ' of ' + sorted.length + ' rows (sorted by ' + (col ? col.title : '-') + '; the json report has them all)';
        sorted = sorted.slice(0, TABLE_ROWS);
      }
      sorted.forEach(function (r) {
        tb.appendChild(el('tr', { cls: rowCls || '' }, cols.map(function (c) {
          var v = c.cell ? c.cell(r) : r[c.key];
          var td = el('td', { cls: c.num ? 'num' : (c.loc ? 'loc' : '') });
          if (v != null && typeof v === 'object') td.appendChild(v); else td.textContent = v == null ? '' : v;
          return td;
        })));
      });
      Array.prototype.forEach.call(head.children, function (th, i) {
        th.className = cols[i] === col ? (dir < 0 ? 'sorted-desc' : 'sorted-asc') : '';
      });
    }
    Array.prototype.forEach.call(head.children, function (th, i) {
      th.addEventListener('click', function () {
        var k = cols[i].key || cols[i].title;
        if (by === k) dir = -dir; else { by = k; dir = cols[i].num ? -1 : 1; }
        fill();
      });
    });
    t.appendChild(el('thead', {}, [head]));
    t.appendChild(tb);
    fill();
    return rows.length ? t : el('p', { cls: 'mt-empty', text: '(none)' });
  }
  function locCell(r) {
    return el('div', {}, [r.location || stackFrames(r.stack_id).map(frameLabel)[0] || '?', stackNode(r.stack_id)]);
  }

  /* ---------------------------------------------------------- selection */
  var sel = document.getElementById('mt-proc');
  sel.appendChild(el('option', { value: 'all', text: 'all (' + D.processes.length + ')' }));
  D.processes.forEach(function (p) {
    sel.appendChild(el('option', { value: String(p.proc_id), text: 'pid ' + p.pid + (p.gen ? ' gen ' + p.gen : '') + ' ' + base(p.exe) }));
  });
  function procs() { return sel.value === 'all' ? D.processes : D.processes.filter(function (p) { return String(p.proc_id) === sel.value; }); }
  function pidOf(id) { var p = D.processes.filter(function (x) { return x.proc_id === id; })[0]; return p ? p.pid : '?'; }
  function gather(key) {
    var out = [];
    procs().forEach(function (p) { (p[key] || []).forEach(function (r) { r.pid = p.pid; out.push(r); }); });
    return out;
  }

  /* ---------------------------------------------------------- summary */
  /* Images recorded with --no-errors (errors_checked 0, docs/schema.md):
   * their frees were not judged and no leak scan ran. */
  function unchecked(ps) { return ps.filter(function (p) { return p.errors_checked === 0; }).length; }
  function errorsCard(ps, n) {
    var u = unchecked(ps);
    if (!u) return ['memory errors', n, n > 0];
    if (u < ps.length) return ['memory errors (not checked in ' + u + ' of ' + ps.length + ')', n, true];
    return ['memory errors (--no-errors)', n ? n + ' in pools, rest not checked' : 'not checked', true];
  }
  function uncheckedNote(what) {
    var u = unchecked(procs());
    if (!u) return null;
    return el('p', { cls: 'mt-unchecked', text: what + (u < procs().length ? ' in ' + u + ' of ' + procs().length + ' processes' : '') +
      ': recorded with --no-errors (no live-pointer table, no leak scan at exit).' });
  }
  function renderSummary() {
    var S = D.session || {}, ps = procs(), box = document.getElementById('mt-summary');
    function sum(k) { return ps.reduce(function (a, p) { return a + (p[k] || 0); }, 0); }
    var leaks = {};
    ps.forEach(function (p) { (p.leak_totals || []).forEach(function (l) { leaks[l['class']] = (leaks[l['class']] || 0) + l.bytes; }); });
    var peak = ps.length === 1 ? ps[0].peak_heap_bytes : S.peak_heap_bytes;
    var cards = [['processes', ps.length], ['duration', secs(S.duration_ns)], ['allocations', sum('n_allocs')],
      ['bytes allocated', human(sum('alloc_bytes'))], ['temporary', sum('n_temporary')],
      ['peak heap', human(peak)], ['peak RSS', human(ps.length === 1 ? ps[0].peak_rss_bytes : S.peak_rss_bytes)],
      errorsCard(ps, sum('n_errors'))];
    ['definite', 'indirect', 'possible', 'reachable', 'unclassified'].forEach(function (c) {
      if (leaks[c]) cards.push([c + ' leaked', human(leaks[c]), c !== 'reachable']);
    });
    box.textContent = '';
    box.appendChild(el('div', { cls: 'mt-cards' }, cards.map(function (c) {
      return el('div', { cls: 'mt-card' + (c[2] ? ' bad' : '') }, [el('b', { text: String(c[1]) }), c[0]]);
    })));
    document.getElementById('mt-command').textContent = S.argv || S.command || '';
  }

  /* ---------------------------------------------------------- chart */
  var plot = null;
  function seriesOf(tab, col) {
    var i = tab.columns.indexOf(col);
    return tab.rows.map(function (r) { return i < 0 ? null : r[i]; });
  }
  function renderChart() {
    var box = document.getElementById('mt-chart'), ps = procs();
    var tab = ps.length === 1 ? ps[0].timeline : D.timeline_total;
    box.textContent = '';
    if (plot) { plot.destroy(); plot = null; }
    if (!tab || !tab.rows.length) { box.appendChild(el('p', { cls: 'mt-empty', text: '(no timeline)' })); return; }
    var t = seriesOf(tab, 't_ns').map(function (v) { return v / 1e9; });
    var heap = seriesOf(tab, 'heap_bytes'), rss = seriesOf(tab, 'rss_bytes'), hmax = seriesOf(tab, 'heap_max_bytes');
    if (t[0] > 0) { t.unshift(0); heap.unshift(0); rss.unshift(null); hmax.unshift(null); }
    var opts = {
      width: Math.max(400, box.clientWidth - 10), height: 300,
      scales: { x: { time: false } },
      series: [{ label: 'time (s)' },
        { label: 'heap (live requested)', stroke: '#4a78b8', width: 2, value: function (u, v) { return human(v); } },
        { label: 'heap max in interval', stroke: '#9ab', width: 1, dash: [4, 4], spanGaps: true, value: function (u, v) { return human(v); } },
        { label: 'RSS', stroke: '#c6602a', width: 2, spanGaps: true, value: function (u, v) { return human(v); } }],
      axes: [{ label: 'seconds' }, { size: 80, values: function (u, vals) { return vals.map(human); } }]
    };
    opts.plugins = [markerPlugin(gather('markers'))];
    plot = new uPlot(opts, [t, heap, hmax, rss], box);
  }
  /* Markers as dashed vertical lines over the plot, each with its label;
   * DOM elements (not canvas strokes) so they can be read and hovered.
   * Rebuilt on every draw: zooming moves them. */
  function markerPlugin(list) {
    function place(u) {
      var layer = u.over.querySelector('.mt-marker-layer');
      if (!layer) { layer = el('div', { cls: 'mt-marker-layer' }); u.over.appendChild(layer); }
      layer.textContent = '';
      list.forEach(function (m, i) {
        var x = u.valToPos(m.t_ns / 1e9, 'x');
        if (!(x >= 0 && x <= u.bbox.width / (window.devicePixelRatio || 1) + 1)) return;
        layer.appendChild(el('div', { cls: 'mt-marker ' + (m.kind || 'mark'), style: 'left:' + x.toFixed(1) + 'px',
          title: m.name + ' at ' + secs(m.t_ns) + ' (seq ' + m.seq + ', pid ' + m.pid + ')', 'data-seq': String(m.seq) },
          [el('span', { cls: 'mt-marker-label', text: m.name, style: 'top:' + (2 + 14 * (i % 4)) + 'px' })]));
      });
    }
    return { hooks: { draw: [place] } };
  }

  /* ---------------------------------------------------------- flame graph */
  var chart = null;
  /* family filter: 'all', 'heap' (malloc and new) or a pool's family */
  function familyOk(s, fam) { return fam === 'all' || (fam === 'heap' ? !s.family : s.family === fam); }
  function flameData(cost, fam) {
    var ids = {}, root = { name: 'all', value: 0, children: [] };
    procs().forEach(function (p) { ids[p.proc_id] = 1; });
    (D.sites || []).forEach(function (s) {
      if (!ids[s.proc_id] || !familyOk(s, fam)) return;
      var v = cost === 'leaked_bytes' ? leaked(s) : (s[cost] || 0);
      if (v <= 0) return;
      var names = stackFrames(s.stack_id).slice().reverse().map(frameName), node = root;
      if (s.family) names.push('[' + s.family + ']');
      root.value += v;
      names.forEach(function (name) {
        var next = null;
        node.kids = node.kids || {};
        next = node.kids[name];
        if (!next) { next = { name: name, value: 0, children: [] }; node.kids[name] = next; node.children.push(next); }
        next.value += v;
        node = next;
      });
    });
    (function strip(n) { delete n.kids; n.children.forEach(strip); })(root);
    return root;
  }
  function renderFlame() {
    var cost = document.getElementById('mt-cost').value, box = document.getElementById('mt-flame');
    var data = flameData(cost, document.getElementById('mt-family').value || 'all');
    box.textContent = '';
    document.getElementById('mt-flame-total').textContent = 'total: ' +
      (cost === 'n_allocs' ? data.value + ' allocations' : data.value + ' B (' + human(data.value) + ')');
    if (!data.value) { box.appendChild(el('p', { cls: 'mt-empty', text: '(nothing for this cost)' })); chart = null; return; }
    chart = flamegraph().width(Math.max(400, box.clientWidth - 10)).cellHeight(18)
      .transitionDuration(300).minFrameSize(2).sort(true).title('')
      .setDetailsElement(document.getElementById('mt-flame-details'))
      .label(function (d) {
        return d.data.name + ': ' + (cost === 'n_allocs' ? d.value + ' allocations' : human(d.value)) +
          ' (' + (100 * d.value / data.value).toFixed(1) + '%)';
      });
    d3.select(box).datum(data).call(chart);
  }

  /* ---------------------------------------------------------- tables */
  var FAMILY = { title: 'family', key: 'family', cell: function (r) { return el('span', { cls: 'mt-family', text: r.family || 'heap' }); } };
  var NUMB = function (k) { return { title: k.t, key: k.k, num: true, cell: function (r) { return bytesCell(r[k.k]); } }; };
  function renderTables() {
    var one = procs().length === 1;
    var pidCol = { title: 'pid', key: 'pid', num: true };
    function cols(list) { return one ? list : [pidCol].concat(list); }
    var peak = document.getElementById('mt-peak'); peak.textContent = '';
    peak.appendChild(table(cols([NUMB({ t: 'live at peak', k: 'peak_bytes' }), { title: 'blocks', key: 'peak_blocks', num: true }, FAMILY,
      { title: 'share', key: 'share', num: true, cell: function (r) { return pct(r.share); } },
      { title: 'location', key: 'location', loc: true, cell: locCell }]), gather('peak_sites'), 'peak-row', 'peak_bytes'));
    var lk = document.getElementById('mt-leaks'); lk.textContent = '';
    var note = uncheckedNote('Leaks not classified (blocks not freed are "unclassified")');
    if (note) lk.appendChild(note);
    lk.appendChild(table(cols([{ title: 'class', key: 'class' }, { title: 'blocks', key: 'blocks', num: true }, FAMILY,
      NUMB({ t: 'bytes', k: 'bytes' }), { title: 'location', key: 'location', loc: true, cell: locCell }]),
      gather('leaks'), 'leak-row', 'bytes'));
    var er = document.getElementById('mt-errors'); er.textContent = '';
    note = uncheckedNote('Memory errors not checked (client pools excepted)');
    if (note) er.appendChild(note);
    er.appendChild(table(cols([{ title: 'kind', key: 'kind', cell: function (r) { return el('span', { cls: 'mt-kind', text: r.kind + (r.subkind ? ' (' + r.subkind + ')' : '') }); } },
      { title: 'call', key: 'api' }, { title: 'address', key: 'addr', cell: function (r) { return '0x' + Number(r.addr).toString(16); } },
      { title: 'time', key: 't_ns', num: true, cell: function (r) { return secs(r.t_ns); } },
      { title: 'at', key: 'at', loc: true, cell: function (r) { return el('div', {}, [r.at || '?', stackNode(r.stack_id, 'stack')]); } },
      { title: 'allocated at', key: 'allocated_at', loc: true, cell: function (r) { return r.alloc_stack_id ? el('div', {}, [r.allocated_at || '?', stackNode(r.alloc_stack_id)]) : ''; } },
      { title: 'first freed at', key: 'first_freed_at', loc: true, cell: function (r) { return r.free_stack_id ? el('div', {}, [r.first_freed_at || '?', stackNode(r.free_stack_id)]) : ''; } }]),
      gather('errors'), 'error-row', 't_ns'));
    renderPools(one, pidCol);
    renderMarkers(one, pidCol);
    renderChecks(one, pidCol);
    renderSites(one, pidCol);
    renderFrag(one, pidCol);
    renderHist();
  }
  /* ---------------------------------------------------------- client API */
  function siteList(rows, unit) {
    if (!rows || !rows.length) return '';
    return el('div', {}, rows.map(function (r) {
      var n = r.chunks != null ? r.chunks : r.blocks, u = r.family || unit ? 'chunk' : 'block';
      return el('div', { cls: 'mt-site' }, [r['class'] + ': ' + bytesCell(r.bytes) + ' in ' + n + ' ' + u + (n === 1 ? '' : 's') +
        (r.family ? ' of ' + r.family : '') + ' at ' + (r.location || '?'), stackNode(r.stack_id)]);
    }));
  }
  function renderPools(one, pidCol) {
    var c = [{ title: 'pool', key: 'name' }, FAMILY, { title: 'allocated', key: 'n_allocs', num: true },
      { title: 'freed', num: true, sort: function (r) { return r.n_allocs - r.end_live_chunks; }, cell: function (r) { return r.n_allocs - r.end_live_chunks; } },
      { title: 'live at end', key: 'end_live_chunks', num: true }, { title: 'resets', key: 'n_resets', num: true },
      NUMB({ t: 'peak live', k: 'peak_live_bytes' }), NUMB({ t: 'held at peak', k: 'peak_held_bytes' }),
      NUMB({ t: 'waste at peak', k: 'peak_waste_bytes' }),
      { title: 'waste %', num: true, sort: function (r) { return r.peak_held_bytes ? r.peak_waste_bytes / r.peak_held_bytes : 0; },
        cell: function (r) { return r.peak_held_bytes ? pct(r.peak_waste_bytes / r.peak_held_bytes) : 'n/a'; } },
      NUMB({ t: 'max held', k: 'max_held_bytes' }), { title: 'errors', key: 'n_errors', num: true },
      { title: 'leaked chunks', key: 'leaked_chunks', num: true }, NUMB({ t: 'leaked', k: 'leaked_bytes' })];
    var box = document.getElementById('mt-pools'), rows = gather('pools'); box.textContent = '';
    box.appendChild(table(one ? c : [pidCol].concat(c), rows, 'pool-row', 'peak_held_bytes'));
    rows.forEach(function (r) { /* the leaked chunks' sites, under the table: stacks need the width */
      if (!r.leaks || !r.leaks.length) return;
      box.appendChild(el('h3', { cls: 'pool-leaks', text: 'Leaked chunks of ' + r.family + (one ? '' : ' (pid ' + r.pid + ')') }));
      box.appendChild(siteList(r.leaks, 'chunk'));
    });
  }
  function renderMarkers(one, pidCol) {
    var c = [{ title: 'time', key: 't_ns', num: true, cell: function (r) { return secs(r.t_ns); } },
      { title: 'marker', key: 'name', cell: function (r) { return el('span', { cls: 'mt-marker-name', text: r.name }); } },
      { title: 'kind', key: 'kind' }, { title: 'seq', key: 'seq', num: true }, { title: 'thread', key: 'tid', num: true },
      { title: 'at', key: 'location', loc: true, cell: locCell }];
    var box = document.getElementById('mt-markers'); box.textContent = '';
    box.appendChild(table(one ? c : [pidCol].concat(c), gather('markers'), 'marker-row', 'seq', 1));
  }
  function renderChecks(one, pidCol) {
    function cls(k) {
      return { title: k, key: k + '_bytes', num: true, cell: function (r) { var n = r[k + '_blocks']; return n + ' block' + (n === 1 ? '' : 's') + ', ' + bytesCell(r[k + '_bytes']); } };
    }
    var c = [{ title: 'check', key: 'check_no', num: true }, { title: 'label', key: 'label' },
      { title: 'time', key: 't_ns', num: true, cell: function (r) { return secs(r.t_ns); } },
      { title: 'completed', key: 'completed', cell: function (r) { return r.completed ? 'yes' : 'no'; } },
      cls('definite'), cls('indirect'), cls('possible'), cls('reachable'),
      { title: 'lost at', key: 'sites', loc: true, cell: function (r) { return siteList((r.sites || []).filter(function (x) { return x['class'] !== 'reachable'; })); } }];
    var box = document.getElementById('mt-checks'); box.textContent = '';
    box.appendChild(table(one ? c : [pidCol].concat(c), gather('leak_checks'), 'check-row', 'seq', 1));
  }

  function renderSites(one, pidCol) {
    var ids = {}, rows = [];
    procs().forEach(function (p) { ids[p.proc_id] = 1; });
    (D.sites || []).forEach(function (s) {
      if (!ids[s.proc_id]) return;
      var r = Object.assign({}, s); r.pid = pidOf(s.proc_id); r.leaked = leaked(s);
      r.mean_life = s.n_frees ? s.lifetime_sum_ns / s.n_frees : null;
      rows.push(r);
    });
    var c = [{ title: 'location', key: 'location', loc: true, cell: locCell }, FAMILY, { title: 'allocations', key: 'n_allocs', num: true },
      NUMB({ t: 'bytes', k: 'alloc_bytes' }), { title: 'temporary', key: 'n_temporary', num: true },
      NUMB({ t: 'live at peak', k: 'peak_bytes' }), NUMB({ t: 'leaked', k: 'leaked' }), NUMB({ t: 'live at end', k: 'end_live_bytes' }),
      { title: 'mean lifetime', key: 'mean_life', num: true, cell: function (r) { return r.mean_life == null ? '' : dur(r.mean_life); } }];
    var box = document.getElementById('mt-sites'); box.textContent = '';
    box.appendChild(table(one ? c : [pidCol].concat(c), rows, 'site-row', 'alloc_bytes'));
  }
  function renderFrag(one, pidCol) {
    var rows = gather('fragmentation').filter(function (r) { return r.at !== 'sample'; });
    var c = [{ title: 'at', key: 'at' }, { title: 'time', key: 't_ns', num: true, cell: function (r) { return secs(r.t_ns); } },
      { title: 'external', key: 'external', num: true, cell: function (r) { return pct(r.external); } },
      { title: 'internal', key: 'internal', num: true, cell: function (r) { return pct(r.internal); } },
      { title: 'retention', key: 'retention', num: true, cell: function (r) { return pct(r.retention); } },
      NUMB({ t: 'live', k: 'live_bytes' }), NUMB({ t: 'free gaps', k: 'free_bytes' }), NUMB({ t: 'largest gap', k: 'largest_gap' })];
    var box = document.getElementById('mt-frag'); box.textContent = '';
    box.appendChild(table(one ? c : [pidCol].concat(c), rows, 'frag-row', 't_ns'));
  }
  function histTable(rows, unit) {
    var max = rows.reduce(function (a, r) { return Math.max(a, r.count); }, 0);
    return table([{ title: 'from', key: 'lo', num: true, cell: function (r) { return unit(r.lo); } },
      { title: 'to', key: 'hi', num: true, cell: function (r) { return unit(r.hi); } },
      { title: 'count', key: 'count', num: true },
      { title: '', key: 'count', cell: function (r) { return el('span', { cls: 'mt-bar', style: 'width:' + Math.ceil(200 * r.count / max) + 'px' }); } }],
      rows, 'hist-row', 'lo', 1);
  }
  function mergeHist(key) {
    var ps = procs();
    if (ps.length !== 1) return D[key] || [];
    return ps[0][key] || [];
  }
  function renderHist() {
    var box = document.getElementById('mt-hist'); box.textContent = '';
    box.appendChild(el('h3', { text: 'allocation sizes' }));
    box.appendChild(histTable(mergeHist('size_histogram'), function (v) { return human(v); }));
    box.appendChild(el('h3', { text: 'lifetimes of freed blocks' }));
    box.appendChild(histTable(mergeHist('lifetime_histogram'), dur));
  }

  function fillFamilies() {
    var fam = document.getElementById('mt-family'), seen = {};
    fam.appendChild(el('option', { value: 'all', text: 'all' }));
    fam.appendChild(el('option', { value: 'heap', text: 'heap (malloc, new)' }));
    (D.sites || []).forEach(function (s) {
      if (s.family && !seen[s.family]) { seen[s.family] = 1; fam.appendChild(el('option', { value: s.family, text: s.family })); }
    });
  }

  /* ---------------------------------------------------------- wiring */
  function renderAll() { renderSummary(); renderChart(); renderFlame(); renderTables(); }
  window.addEventListener('error', function (e) { document.body.setAttribute('data-rendered', 'error: ' + e.message); });
  try {
    sel.addEventListener('change', renderAll);
    fillFamilies();
    document.getElementById('mt-cost').addEventListener('change', renderFlame);
    document.getElementById('mt-family').addEventListener('change', renderFlame);
    document.getElementById('mt-search').addEventListener('input', function (e) { if (chart) { if (e.target.value) chart.search(e.target.value); else chart.clear(); } });
    document.getElementById('mt-reset').addEventListener('click', function () { if (chart) chart.resetZoom(); });
    renderAll();
    document.body.setAttribute('data-rendered', 'ok');
  } catch (e) {
    document.body.setAttribute('data-rendered', 'error: ' + e.message);
    console.error(e);
  }
})();
