/*
 * tui_draw.c — paints the memtrace view: header, chart, site table, errors, popups
 *
 * Pure painting: everything comes from struct tui_view (tui_int.h), which
 * tui_view.c keeps up to date. The layout adapts to the terminal and fits
 * 80x24 exactly; see docs/tui.md for a drawing of it.
 *
 * Design notes
 *   1. Layout, top to bottom: 3 header lines, the chart, the table header,
 *      the table (whatever is left), one line per client pool when the
 *      program has pools (1 at 24 lines, up to 4; the last sums the rest),
 *      the errors panel (a title and 3+ lines), one status line. At 80x24:
 *      3 + 6 + 1 + 9 + 4 + 1, or 3 + 6 + 1 + 8 + 1 + 4 + 1 with pools.
 *   2. Only ASCII is drawn, so the screen reads the same in every locale
 *      and in a captured pane; color is an extra (off with NO_COLOR).
 *
 * SPDX-License-Identifier: MIT
 */
#include "tui_int.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>

#define TUI_MIN_COLS 60 /* below this the table has no room for a site name */
#define TUI_MIN_ROWS 16 /* header + chart + a few rows + errors */

static const char *const tui_sort_names[TUI_SORT_N] = {"LIVE", "TOTAL", "ALLOCS", "LEAKED"};

#define TUI_MAX_POOL_ROWS 4 /* pool lines on a tall terminal; `o` lists them all */

struct tui_layout {
    int chart_top, chart_rows;
    int table_top, table_rows;
    int pool_top, pool_rows;
    int err_top, err_rows;
    int status;
};

static struct tui_layout tui_layout(const struct live_snap *s)
{
    struct tui_layout l;
    int extra = LINES > 24 ? LINES - 24 : 0, pools = 1 + extra / 8;
    if (pools > TUI_MAX_POOL_ROWS) pools = TUI_MAX_POOL_ROWS;
    l.chart_top = 3;
    l.chart_rows = TUI_CHART_ROWS + (extra / 4 > 6 ? 6 : extra / 4);
    l.err_rows = 3 + (extra / 6 > 5 ? 5 : extra / 6);
    l.pool_rows = s->n_pools < (size_t)pools ? (int)s->n_pools : pools;
    l.status = LINES - 1;
    l.err_top = l.status - l.err_rows - 1;
    l.pool_top = l.err_top - l.pool_rows;
    l.table_top = l.chart_top + l.chart_rows;
    l.table_rows = l.pool_top - l.table_top - 1;
    return l;
}

/* Writes s at (y, x), clipped to the screen width. */
static void tui_put(int y, int x, const char *s)
{
    if (y < 0 || y >= LINES || x >= COLS) return;
    mvaddnstr(y, x, s, COLS - x);
}

static void tui_attr(struct tui_view *v, int pair, int on)
{
    if (!v->color || !pair) return;
    if (on) attron(COLOR_PAIR(pair));
    else attroff(COLOR_PAIR(pair));
}

/* ------------------------------------------------------------ header */

/* "errors 3", or what a scope recorded with --no-errors can say: only
 * client pools' errors are judged there. */
static void tui_errors_text(const struct live_snap *s, char *buf, size_t len)
{
    unsigned long long n = s->n_errors;
    if (!s->n_unchecked)
        snprintf(buf, len, "errors %llu", n);
    else if (s->n_unchecked < s->n_scope_procs)
        snprintf(buf, len, "errors %llu, not checked in %u of %u", n, s->n_unchecked,
                 s->n_scope_procs);
    else if (n)
        snprintf(buf, len, "errors not checked (%llu in pools)", n);
    else
        snprintf(buf, len, "errors not checked");
}

static void tui_draw_header(struct tui_view *v)
{
    const struct live_snap *s = &v->snap;
    char line[512], a[32], b[32], c[32], d[32], e[32];
    tui_fmt_time(a, sizeof a, s->elapsed_ns);
    if (v->src->post_mortem)
        snprintf(line, sizeof line, "procs %zu  %s", s->n_procs, a);
    else
        snprintf(line, sizeof line, "procs %u/%zu  %s %s", s->n_procs_running, s->n_procs,
                 s->finished ? "ended" : "elapsed", a);
    int right = (int)strlen(line), x = COLS - right;
    tui_put(0, x > 0 ? x : 0, line);
    char title[300];
    snprintf(title, sizeof title, "memtrace  %s", s->command[0] ? s->command : "?");
    attron(A_BOLD);
    tui_attr(v, TUI_PAIR_TITLE, 1);
    if (x > 1) mvaddnstr(0, 0, title, x - 1); /* the command yields to the figures */
    tui_attr(v, TUI_PAIR_TITLE, 0);
    attroff(A_BOLD);

    tui_fmt_bytes(a, sizeof a, s->live_bytes, v->exact);
    tui_fmt_count(b, sizeof b, s->live_blocks, v->exact);
    tui_fmt_bytes(c, sizeof c, s->peak_bytes, v->exact);
    tui_fmt_bytes(d, sizeof d, s->rss_bytes, v->exact);
    tui_fmt_time(e, sizeof e, s->peak_ns);
    snprintf(line, sizeof line, "heap %s in %s blocks   peak %s at %s   RSS %s", a, b, c, e, d);
    tui_put(1, 0, line);

    char errs[80];
    const struct live_marker *m = tui_view_marker(v);
    tui_fmt_count(a, sizeof a, s->n_allocs, v->exact);
    tui_fmt_count(b, sizeof b, s->n_frees, v->exact);
    tui_errors_text(s, errs, sizeof errs);
    if (v->src->post_mortem) {
        tui_fmt_time(c, sizeof c, s->cursor_ns);
        tui_fmt_time(d, sizeof d, s->duration_ns);
        snprintf(line, sizeof line, "allocs %s  frees %s  %s   cursor %s / %s%s%s%s", a, b, errs, c,
                 d, m ? "  [" : "", m ? m->name : "", m ? "]" : "");
    } else { /* the newest marker of the scope */
        snprintf(line, sizeof line, "allocs %s (%.0f/s)  frees %s (%.0f/s)  %s%s%s%s", a,
                 s->allocs_per_s, b, s->frees_per_s, errs, m ? "  [" : "", m ? m->name : "",
                 m ? "]" : "");
    }
    if (s->n_errors) tui_attr(v, TUI_PAIR_ERR, 1);
    tui_put(2, 0, line);
    if (s->n_errors) tui_attr(v, TUI_PAIR_ERR, 0);
}

/* ------------------------------------------------------------ chart */

/* Largest heap and last RSS of the history points inside each column. */
static void tui_chart_columns(const struct live_snap *s, uint64_t span, int w, uint64_t *heap,
                              uint64_t *rss, uint64_t *max)
{
    uint64_t last_rss = 0, last_heap = 0;
    size_t k = 0;
    *max = 1;
    for (int c = 0; c < w; c++) {
        uint64_t hi = span * (uint64_t)(c + 1) / (uint64_t)w;
        int any = 0;
        heap[c] = 0;
        for (; k < s->n_hist && s->hist[k].t_ns <= hi; k++, any = 1) {
            if (s->hist[k].heap_bytes > heap[c]) heap[c] = s->hist[k].heap_bytes;
            last_rss = s->hist[k].rss_bytes;
            last_heap = s->hist[k].heap_bytes;
        }
        if (!any) heap[c] = k < s->n_hist && k > 0 ? last_heap : 0;
        rss[c] = k < s->n_hist || any ? last_rss : 0;
        if (heap[c] > *max) *max = heap[c];
        if (rss[c] > *max) *max = rss[c];
    }
}

static void tui_draw_chart(struct tui_view *v, const struct tui_layout *l)
{
    const struct live_snap *s = &v->snap;
    int w = COLS - 9, rows = l->chart_rows;
    if (w < 10) return;
    uint64_t heap[COLS], rss[COLS], max;
    uint64_t span = s->duration_ns ? s->duration_ns : s->elapsed_ns;
    if (s->n_hist && s->hist[s->n_hist - 1].t_ns > span) span = s->hist[s->n_hist - 1].t_ns;
    if (!span) span = 1;
    tui_chart_columns(s, span, w, heap, rss, &max);
    int cur = v->src->post_mortem ? (int)((s->cursor_ns * (uint64_t)w) / (span + 1)) : -1;
    unsigned char mark[COLS]; /* columns holding a marker (the snapshot's: the scope's) */
    memset(mark, 0, sizeof mark);
    for (size_t i = 0; i < s->n_markers; i++)
        mark[(s->markers[i].t_ns * (uint64_t)w) / (span + 1) % (uint64_t)w] = 1;
    char lab[32];
    tui_fmt_bytes(lab, sizeof lab, max, 0);
    for (int r = 0; r < rows; r++) {
        int y = l->chart_top + r, level = rows - r; /* level rows..1 */
        mvprintw(y, 0, "%8s|", r == 0 ? lab : r == rows - 1 ? "0" : "");
        for (int c = 0; c < w; c++) {
            int hh = (int)((heap[c] * (uint64_t)rows + max - 1) / max);
            int rr = rss[c] ? (int)((rss[c] * (uint64_t)rows + max / 2) / max) : 0;
            if (rss[c] && rr == 0) rr = 1;
            int ch = ' ', pair = 0;
            if (hh >= level) ch = '#', pair = TUI_PAIR_HEAP;
            if (rr == level) ch = ch == '#' ? '=' : '-', pair = TUI_PAIR_RSS;
            if (mark[c] && ch == ' ') ch = ':', pair = TUI_PAIR_MARKER;
            if (c == cur && (ch == ' ' || ch == ':')) ch = '|', pair = TUI_PAIR_CURSOR;
            tui_attr(v, pair, 1);
            mvaddch(y, 9 + c, (chtype)ch);
            tui_attr(v, pair, 0);
        }
    }
    const char *legend = s->n_markers ? " # heap  - RSS  : mark " : " # heap  - RSS ";
    tui_put(l->chart_top, COLS - (int)strlen(legend), legend);
}

/* ------------------------------------------------------------ table */

static int tui_col_w(struct tui_view *v, int bytes)
{
    return v->exact ? (bytes ? 11 : 8) : (bytes ? 7 : 6);
}

static void tui_draw_table(struct tui_view *v, const struct tui_layout *l)
{
    int wb = tui_col_w(v, 1), wc = tui_col_w(v, 0);
    char line[1024], h[5][24];
    for (int i = 0; i < TUI_SORT_N; i++)
        snprintf(h[i], sizeof h[i], "%s%s", tui_sort_names[i],
                 v->sort == i ? (v->reverse ? "^" : "v") : "");
    snprintf(line, sizeof line, "%*s %*s %*s %*s %*s  SITE (%zu of %zu)", wb, h[0], wc, "BLOCKS",
             wb, h[1], wc, h[2], wb, h[3], v->n_rows, v->snap.n_sites);
    attron(A_REVERSE);
    mvhline(l->table_top, 0, ' ', COLS);
    tui_put(l->table_top, 0, line);
    attroff(A_REVERSE);
    if (v->sel >= (int)v->n_rows) v->sel = v->n_rows ? (int)v->n_rows - 1 : 0;
    if (v->sel < v->top) v->top = v->sel;
    if (v->sel >= v->top + l->table_rows) v->top = v->sel - l->table_rows + 1;
    int multi = v->snap.n_procs > 1 && !v->req.pid;
    /* nothing classified the leaks of a scope recorded with --no-errors */
    int unclassified = v->snap.n_unchecked && v->snap.n_unchecked == v->snap.n_scope_procs;
    for (int r = 0; r < l->table_rows && v->top + r < (int)v->n_rows; r++) {
        const struct live_site_row *s = &v->snap.sites[v->rows[v->top + r]];
        char a[24], b[24], c[24], d[24], e[24], who[16] = "";
        tui_fmt_bytes(a, sizeof a, s->live_bytes, v->exact);
        tui_fmt_count(b, sizeof b, s->live_blocks, v->exact);
        tui_fmt_bytes(c, sizeof c, s->alloc_bytes, v->exact);
        tui_fmt_count(d, sizeof d, s->n_allocs, v->exact);
        tui_fmt_bytes(e, sizeof e, s->leak_bytes, v->exact);
        if (unclassified && !s->leak_bytes) snprintf(e, sizeof e, "-");
        if (multi) snprintf(who, sizeof who, "[%u] ", s->pid);
        snprintf(line, sizeof line, "%*s %*s %*s %*s %*s  %s%s", wb, a, wc, b, wb, c, wc, d, wb,
                 e, who, s->label ? s->label : "(resolving)");
        if (v->top + r == v->sel) attron(A_REVERSE);
        mvhline(l->table_top + 1 + r, 0, ' ', COLS);
        tui_put(l->table_top + 1 + r, 0, line);
        if (v->top + r == v->sel) attroff(A_REVERSE);
    }
}

/* ------------------------------------------------------------ pools */

/* One client pool: live chunk bytes and chunks, held, waste. */
static void tui_pool_line(struct tui_view *v, const struct live_pool_row *p, char *line, size_t len)
{
    char a[24], b[24], c[24], d[24], who[16] = "", leak[40] = "";
    uint64_t waste = p->held_bytes > p->live_bytes ? p->held_bytes - p->live_bytes : 0;
    tui_fmt_bytes(a, sizeof a, p->live_bytes, v->exact);
    tui_fmt_bytes(b, sizeof b, p->held_bytes, v->exact);
    tui_fmt_bytes(c, sizeof c, waste, v->exact);
    if (v->snap.n_procs > 1 && !v->req.pid) snprintf(who, sizeof who, "[%u] ", p->pid);
    if (p->leak_chunks) {
        tui_fmt_count(d, sizeof d, p->leak_chunks, v->exact);
        snprintf(leak, sizeof leak, ", leaked %s", d);
    }
    snprintf(line, len, "pool %s%s: %s live in %llu chunk%s, held %s, waste %s%s%s", who, p->name,
             a, (unsigned long long)p->live_chunks, p->live_chunks == 1 ? "" : "s", b, c, leak,
             p->destroyed ? ", destroyed" : "");
}

/* The pools that do not fit, summed on the last pool line. */
static void tui_pools_rest(struct tui_view *v, size_t from, char *line, size_t len)
{
    uint64_t live = 0, held = 0;
    char a[24], b[24];
    for (size_t i = from; i < v->snap.n_pools; i++)
        live += v->snap.pools[i].live_bytes, held += v->snap.pools[i].held_bytes;
    tui_fmt_bytes(a, sizeof a, live, v->exact);
    tui_fmt_bytes(b, sizeof b, held, v->exact);
    snprintf(line, len, "+%zu more pools: %s live, held %s (o lists them)", v->snap.n_pools - from,
             a, b);
}

static void tui_draw_pools(struct tui_view *v, const struct tui_layout *l)
{
    char line[512];
    for (int r = 0; r < l->pool_rows; r++) {
        if (r == l->pool_rows - 1 && v->snap.n_pools > (size_t)l->pool_rows)
            tui_pools_rest(v, (size_t)r, line, sizeof line);
        else
            tui_pool_line(v, &v->snap.pools[r], line, sizeof line);
        tui_put(l->pool_top + r, 0, line);
    }
}

/* ------------------------------------------------------------ errors */

/* The panel's title: the count, or why there is none to count. */
static void tui_errors_title(const struct live_snap *s, char *buf, size_t len)
{
    unsigned long long n = s->n_errors;
    if (!s->n_unchecked)
        snprintf(buf, len, "memory errors: %llu", n);
    else if (s->n_unchecked < s->n_scope_procs)
        snprintf(buf, len, "memory errors: %llu; not checked in %u of %u processes (--no-errors)",
                 n, s->n_unchecked, s->n_scope_procs);
    else if (n)
        snprintf(buf, len, "memory errors: %llu in client pools; others not checked (--no-errors)",
                 n);
    else
        snprintf(buf, len, "memory errors: not checked, leaks not classified (--no-errors)");
}

static void tui_draw_errors(struct tui_view *v, const struct tui_layout *l)
{
    const struct live_snap *s = &v->snap;
    char line[512], t[32];
    tui_errors_title(s, line, sizeof line);
    attron(A_BOLD);
    tui_put(l->err_top, 0, line);
    attroff(A_BOLD);
    if (!s->n_errors_shown) {
        tui_put(l->err_top + 1, 2,
                s->n_unchecked ? "frees of malloc/new blocks are not judged and no leak scan runs"
                               : "none so far");
        return;
    }
    size_t n = s->n_errors_shown, first = n > (size_t)l->err_rows ? n - l->err_rows : 0;
    tui_attr(v, TUI_PAIR_ERR, 1);
    for (size_t i = first; i < n; i++) {
        const struct live_error_row *e = &s->errors[i];
        tui_fmt_time(t, sizeof t, e->t_ns);
        snprintf(line, sizeof line, "%8s %-16s %s(0x%llx) pid %u tid %u at %s", t, e->kind,
                 e->api, (unsigned long long)e->addr, e->pid, e->tid, e->at ? e->at : "?");
        tui_put(l->err_top + 1 + (int)(i - first), 0, line);
    }
    tui_attr(v, TUI_PAIR_ERR, 0);
}

/* ------------------------------------------------------------ status */

static void tui_draw_status(struct tui_view *v, const struct tui_layout *l)
{
    char line[512], scope[96] = "all processes";
    if (v->req.pid)
        snprintf(scope, sizeof scope, "pid %u%s", v->req.pid, v->req.gen ? "+exec" : "");
    if (v->req.tid) snprintf(scope + strlen(scope), sizeof scope - strlen(scope), " tid %u",
                             v->req.tid);
    attron(A_REVERSE);
    mvhline(l->status, 0, ' ', COLS);
    if (v->editing) {
        snprintf(line, sizeof line, "filter: %s_   (Enter apply, Esc cancel)", v->edit);
    } else {
        const char *state = v->src_err ? "source gone; " : v->snap.finished && !v->src->post_mortem
                                                               ? "finished; "
                                                               : "";
        snprintf(line, sizeof line, "[%s]%s%s%s %s? help q quit", scope,
                 v->filter[0] ? " filter:" : "", v->filter, v->filter[0] ? "" : "", state);
    }
    tui_put(l->status, 0, line);
    attroff(A_REVERSE);
}

/* ------------------------------------------------------------ popups */

static const char *const tui_help[] = {
    "Keys",
    "  q            quit (closes a popup first)",
    "  ?            this help",
    "  Up/Down j/k  select a site;  PgUp/PgDn, Home/End",
    "  Enter        full symbolized stack of the selected site",
    "  s            next sort column (live, total, allocs, leaked)",
    "  1 2 3 4      sort by live / total / allocs / leaked",
    "  r            reverse the sort",
    "  /            filter sites by function, file or module text",
    "  Tab, S-Tab   next / previous process (all processes first)",
    "  t            next thread of the shown processes (all first)",
    "  P            list processes and threads",
    "  o            pools (memtrace.h): live chunks now / at the cursor, waste, leaks",
    "  x            exact numbers instead of 12.3M",
    "  Post-mortem (memtrace tui DB):",
    "  Left/Right   move the time cursor by one chart column",
    "  [ ]          move the time cursor by a tenth of the run",
    "  p            jump to the peak;  e  jump to the end",
    "  m / M        jump to the next / previous marker (drawn : on the chart)",
};

static void tui_draw_box(int top, int left, int h, int w, const char *title)
{
    for (int y = top; y < top + h; y++) mvhline(y, left, ' ', w);
    mvhline(top, left, '-', w);
    mvhline(top + h - 1, left, '-', w);
    for (int y = top; y < top + h; y++) {
        mvaddch(y, left, '|');
        mvaddch(y, left + w - 1, '|');
    }
    mvaddnstr(top, left + 2, title, w - 4);
}

static void tui_draw_lines(struct tui_view *v, const char *const *lines, size_t n,
                           const char *title)
{
    int h = LINES - 2, w = COLS - 2;
    tui_draw_box(1, 1, h, w, title);
    if (v->lines_top > (int)n - 1) v->lines_top = n ? (int)n - 1 : 0;
    if (v->lines_top < 0) v->lines_top = 0;
    for (int r = 0; r < h - 2 && v->lines_top + r < (int)n; r++)
        mvaddnstr(2 + r, 3, lines[v->lines_top + r], w - 4);
    mvaddnstr(h, 3, " q/Esc close  Up/Down scroll ", w - 4);
}

void tui_draw(struct tui_view *v)
{
    erase();
    if (COLS < TUI_MIN_COLS || LINES < TUI_MIN_ROWS) {
        tui_put(0, 0, "memtrace: terminal too small (needs 60x16); q quits");
        refresh();
        return;
    }
    struct tui_layout l = tui_layout(&v->snap);
    tui_draw_header(v);
    tui_draw_chart(v, &l);
    tui_draw_table(v, &l);
    tui_draw_pools(v, &l);
    tui_draw_errors(v, &l);
    tui_draw_status(v, &l);
    if (v->popup == TUI_POP_HELP)
        tui_draw_lines(v, tui_help, sizeof tui_help / sizeof tui_help[0], " help ");
    else if (v->popup != TUI_POP_NONE)
        tui_draw_lines(v, (const char *const *)v->lines.lines, v->lines.n, v->lines_title);
    refresh();
}
