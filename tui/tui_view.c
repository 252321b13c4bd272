/*
 * tui_view.c — the view's loop: snapshots, keys, sorting, filtering, scope
 *
 * tui_run() is the one entry point for `run --live`, `top` and `tui DB`.
 * It asks its source for a snapshot when the scope or the cursor changes
 * and, for live sources, every refresh_ms; every key is handled against
 * the last snapshot, so the screen never waits on the source to react.
 * Keys: docs/tui.md (and the `?` popup, tui_draw.c).
 *
 * SPDX-License-Identifier: MIT
 */
#include "tui_int.h"

#include <curses.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TUI_KEY_WAIT_MS 100 /* getch timeout: keys feel immediate, refresh stays paced */
#define TUI_ESC 27

/* ------------------------------------------------------------ rows */

static const struct tui_view *tui_sort_view; /* qsort has no context argument */

static uint64_t tui_sort_key(const struct live_site_row *s, int sort)
{
    switch (sort) {
    case TUI_SORT_TOTAL: return s->alloc_bytes;
    case TUI_SORT_COUNT: return s->n_allocs;
    case TUI_SORT_LEAKED: return s->leak_bytes;
    default: return s->live_bytes;
    }
}

static int tui_row_cmp(const void *x, const void *y)
{
    const struct tui_view *v = tui_sort_view;
    const struct live_site_row *a = &v->snap.sites[*(const size_t *)x];
    const struct live_site_row *b = &v->snap.sites[*(const size_t *)y];
    uint64_t ka = tui_sort_key(a, v->sort), kb = tui_sort_key(b, v->sort);
    int c = ka == kb ? 0 : ka < kb ? 1 : -1;
    if (!c) c = a->alloc_bytes == b->alloc_bytes ? 0 : a->alloc_bytes < b->alloc_bytes ? 1 : -1;
    if (!c) c = a->stack_id < b->stack_id ? -1 : a->stack_id > b->stack_id;
    return v->reverse ? -c : c;
}

static int tui_row_match(const struct tui_view *v, const struct live_site_row *s)
{
    if (!v->filter[0]) return 1;
    return (s->label && strcasestr(s->label, v->filter)) ||
           (s->search && strcasestr(s->search, v->filter));
}

void tui_view_rows(struct tui_view *v)
{
    free(v->rows);
    v->rows = calloc(v->snap.n_sites + 1, sizeof *v->rows);
    v->n_rows = 0;
    if (!v->rows) return;
    for (size_t i = 0; i < v->snap.n_sites; i++)
        if (tui_row_match(v, &v->snap.sites[i])) v->rows[v->n_rows++] = i;
    tui_sort_view = v;
    qsort(v->rows, v->n_rows, sizeof *v->rows, tui_row_cmp);
}

/* ------------------------------------------------------------ source */

static void tui_fetch(struct tui_view *v)
{
    struct live_snap s;
    int rc = v->src->snapshot(v->src->ctx, &v->req, &s);
    if (rc) {
        v->src_err = rc;
        return;
    }
    v->src_err = 0;
    live_snap_free(&v->snap);
    v->snap = s;
    v->have_snap = 1;
    if (v->src->post_mortem) v->req.cursor_ns = s.cursor_ns, v->req.flags |= LIVE_REQ_F_CURSOR;
    tui_view_rows(v);
}

static void tui_open_stack(struct tui_view *v)
{
    if (!v->n_rows) return;
    const struct live_site_row *s = &v->snap.sites[v->rows[v->sel]];
    live_lines_free(&v->lines);
    if (v->src->stack(v->src->ctx, s->pid, s->gen, s->stack_id, &v->lines))
        live_lines_add(&v->lines, "(stack not available)");
    snprintf(v->lines_title, sizeof v->lines_title, " stack %u of pid %u: %.100s ", s->stack_id,
             s->pid, s->label ? s->label : "?");
    v->lines_top = 0;
    v->popup = TUI_POP_STACK;
}

static void tui_open_procs(struct tui_view *v)
{
    char line[512], a[24], b[24], c[24], e[24];
    int unchecked = 0;
    live_lines_free(&v->lines);
    live_lines_add(&v->lines, "   PID   GEN STATE      LIVE      PEAK       RSS   ALLOCS  ERRORS  EXE");
    for (size_t i = 0; i < v->snap.n_procs; i++) {
        const struct live_proc_row *p = &v->snap.procs[i];
        tui_fmt_bytes(a, sizeof a, p->live_bytes, v->exact);
        tui_fmt_bytes(b, sizeof b, p->peak_bytes, v->exact);
        tui_fmt_bytes(c, sizeof c, p->rss, v->exact);
        snprintf(e, sizeof e, "%llu%s", (unsigned long long)p->n_errors,
                 p->errors_checked ? "" : "*"); /* * : recorded with --no-errors */
        unchecked |= !p->errors_checked;
        snprintf(line, sizeof line, "%6u %5u %-6s %9s %9s %9s %8llu %7s  %s", p->pid, p->gen,
                 p->ended ? "ended" : "run", a, b, c, (unsigned long long)p->n_allocs, e,
                 p->exe ? p->exe : "?");
        live_lines_add(&v->lines, line);
    }
    if (unchecked)
        live_lines_add(&v->lines,
                       "  * not checked (--no-errors): only pools' errors, no leak scan");
    live_lines_add(&v->lines, "");
    live_lines_add(&v->lines, "   PID    TID NAME              LIVE    ALLOCS     BYTES    FREES");
    for (size_t i = 0; i < v->snap.n_threads; i++) {
        const struct live_thread_row *t = &v->snap.threads[i];
        tui_fmt_bytes(a, sizeof a, t->live_bytes, v->exact);
        tui_fmt_bytes(b, sizeof b, t->alloc_bytes, v->exact);
        snprintf(line, sizeof line, "%6u %6u %-16s %7s %9llu %9s %8llu", t->pid, t->tid,
                 t->name, a, (unsigned long long)t->n_allocs, b, (unsigned long long)t->n_frees);
        live_lines_add(&v->lines, line);
    }
    snprintf(v->lines_title, sizeof v->lines_title, " processes and threads ");
    v->lines_top = 0;
    v->popup = TUI_POP_PROCS;
}

static void tui_open_pools(struct tui_view *v)
{
    live_lines_free(&v->lines);
    if (tui_pools_lines(&v->snap, v->src->post_mortem, v->exact, &v->lines))
        live_lines_add(&v->lines, "(pools not available)");
    snprintf(v->lines_title, sizeof v->lines_title, " pools ");
    v->lines_top = 0;
    v->popup = TUI_POP_POOLS;
}

/* ------------------------------------------------------------ markers */

const struct live_marker *tui_view_marker(const struct tui_view *v)
{
    const struct live_marker *best = NULL;
    uint64_t t = v->src->post_mortem ? v->snap.cursor_ns : UINT64_MAX;
    for (size_t i = 0; i < v->snap.n_markers && v->snap.markers[i].t_ns <= t; i++)
        best = &v->snap.markers[i]; /* in time order */
    return best;
}

/* m / M: the cursor to the next / previous marker of the scope. 1 if it
 * moved. Markers in one nanosecond are one stop. */
static int tui_marker_jump(struct tui_view *v, int dir, uint64_t *c)
{
    const struct live_marker *to = NULL;
    for (size_t i = 0; i < v->snap.n_markers; i++) {
        const struct live_marker *m = &v->snap.markers[i];
        if (dir > 0 && m->t_ns > *c) {
            to = m;
            break;
        }
        if (dir < 0 && m->t_ns < *c) to = m;
    }
    if (!to) return 0;
    *c = to->t_ns;
    return 1;
}

/* ------------------------------------------------------------ scope */

/* Tab: all processes, then each process in turn (dir +1 / -1). */
static void tui_next_proc(struct tui_view *v, int dir)
{
    int n = (int)v->snap.n_procs, cur = -1;
    for (int i = 0; i < n && v->req.pid; i++)
        if (v->snap.procs[i].pid == v->req.pid && v->snap.procs[i].gen == v->req.gen) cur = i;
    int next = cur + dir;
    if (next < -1) next = n - 1;
    if (next >= n) next = -1;
    v->req.pid = next < 0 ? 0 : v->snap.procs[next].pid;
    v->req.gen = next < 0 ? 0 : v->snap.procs[next].gen;
    v->req.tid = 0;
    v->sel = v->top = 0;
}

/* t: all threads of the scope, then each thread (and its process). */
static void tui_next_thread(struct tui_view *v)
{
    int n = (int)v->snap.n_threads, cur = -1;
    for (int i = 0; i < n && v->req.tid; i++)
        if (v->snap.threads[i].tid == v->req.tid) cur = i;
    int next = cur + 1 >= n ? -1 : cur + 1;
    if (next < 0) {
        v->req.tid = 0;
    } else {
        v->req.tid = v->snap.threads[next].tid;
        if (v->req.pid) return;
        v->req.pid = v->snap.threads[next].pid; /* the snapshot then lists only its threads */
        v->req.gen = v->snap.threads[next].gen;
    }
    v->sel = v->top = 0;
}

/* ------------------------------------------------------------ keys */

static void tui_key_edit(struct tui_view *v, int ch)
{
    size_t n = strlen(v->edit);
    if (ch == '\n' || ch == KEY_ENTER || ch == '\r') {
        snprintf(v->filter, sizeof v->filter, "%s", v->edit);
        v->editing = 0;
        v->sel = v->top = 0;
        tui_view_rows(v);
    } else if (ch == TUI_ESC) {
        v->editing = 0;
    } else if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && n) {
        v->edit[n - 1] = '\0';
    } else if (ch >= 32 && ch < 127 && n + 1 < sizeof v->edit) {
        v->edit[n] = (char)ch;
        v->edit[n + 1] = '\0';
    }
}

static int tui_key_popup(struct tui_view *v, int ch)
{
    if (v->popup == TUI_POP_NONE) return 0;
    switch (ch) {
    case 'q': case TUI_ESC: case '\n': case KEY_ENTER: case '?': v->popup = TUI_POP_NONE; break;
    case KEY_UP: case 'k': v->lines_top--; break;
    case KEY_DOWN: case 'j': v->lines_top++; break;
    case KEY_PPAGE: v->lines_top -= LINES - 4; break;
    case KEY_NPAGE: v->lines_top += LINES - 4; break;
    default: break;
    }
    return 1;
}

/* Post-mortem cursor keys. 1 if handled (a new snapshot is needed). */
static int tui_key_cursor(struct tui_view *v, int ch)
{
    if (!v->src->post_mortem) return 0;
    uint64_t span = v->snap.duration_ns ? v->snap.duration_ns : 1;
    uint64_t col = span / (uint64_t)(COLS > 20 ? COLS - 9 : 10) + 1, tenth = span / 10 + 1;
    uint64_t c = v->req.cursor_ns;
    switch (ch) {
    case KEY_LEFT: c = c > col ? c - col : 0; break;
    case KEY_RIGHT: c += col; break;
    case '[': c = c > tenth ? c - tenth : 0; break;
    case ']': c += tenth; break;
    case 'p': c = v->snap.peak_ns; break;
    case 'e': c = span; break;
    case 'm': if (!tui_marker_jump(v, 1, &c)) return 0; break;
    case 'M': if (!tui_marker_jump(v, -1, &c)) return 0; break;
    default: return 0;
    }
    v->req.cursor_ns = c > span ? span : c;
    v->req.flags |= LIVE_REQ_F_CURSOR;
    return 1;
}

/* Table keys. Returns 1 if a new snapshot is needed. */
static int tui_key_table(struct tui_view *v, int ch)
{
    int page = LINES > 15 ? LINES - 15 : 1;
    switch (ch) {
    case KEY_UP: case 'k': if (v->sel > 0) v->sel--; break;
    case KEY_DOWN: case 'j': if (v->sel + 1 < (int)v->n_rows) v->sel++; break;
    case KEY_PPAGE: v->sel = v->sel > page ? v->sel - page : 0; break;
    case KEY_NPAGE: v->sel += page; break;
    case KEY_HOME: v->sel = 0; break;
    case KEY_END: v->sel = v->n_rows ? (int)v->n_rows - 1 : 0; break;
    case 's': v->sort = (v->sort + 1) % TUI_SORT_N; tui_view_rows(v); break;
    case '1': case '2': case '3': case '4': v->sort = ch - '1'; tui_view_rows(v); break;
    case 'r': v->reverse = !v->reverse; tui_view_rows(v); break;
    case 'x': v->exact = !v->exact; break;
    case '/': v->editing = 1; snprintf(v->edit, sizeof v->edit, "%s", v->filter); break;
    case '\n': case '\r': case KEY_ENTER: tui_open_stack(v); break;
    case '?': v->popup = TUI_POP_HELP; v->lines_top = 0; break;
    case 'P': tui_open_procs(v); break;
    case 'o': tui_open_pools(v); break;
    case '\t': tui_next_proc(v, 1); return 1;
    case KEY_BTAB: tui_next_proc(v, -1); return 1;
    case 't': tui_next_thread(v); return 1;
    case 'q': v->quit = 1; break;
    default: return tui_key_cursor(v, ch);
    }
    return 0;
}

/* ------------------------------------------------------------ loop */

static uint64_t tui_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void tui_colors(struct tui_view *v)
{
    const char *nc = getenv("NO_COLOR");
    v->color = has_colors() && !(nc && nc[0]);
    if (!v->color) return;
    start_color();
    use_default_colors();
    init_pair(TUI_PAIR_HEAP, COLOR_GREEN, -1);
    init_pair(TUI_PAIR_RSS, COLOR_CYAN, -1);
    init_pair(TUI_PAIR_ERR, COLOR_RED, -1);
    init_pair(TUI_PAIR_TITLE, COLOR_YELLOW, -1);
    init_pair(TUI_PAIR_CURSOR, COLOR_MAGENTA, -1);
    init_pair(TUI_PAIR_MARKER, COLOR_BLUE, -1);
}

/* 1 while a live source may still change what the view shows: until its
 * final snapshot, or for a session socket until the socket is gone too
 * (the session stops serving a moment after it finished). */
static int tui_source_open(const struct tui_view *v)
{
    if (v->src->post_mortem) return 0;
    if (!v->have_snap || !v->snap.finished) return 1;
    return v->src->until_gone && !v->src_err;
}

/* getch() returns ERR at once, forever, when the terminal has gone away
 * (tmux killed, ssh dropped): without this check the view would spin a
 * core. `run` forwards SIGHUP to the program, so no signal ends us. */
static int tui_terminal_gone(void)
{
    struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR | POLLNVAL));
}

static void tui_loop(struct tui_view *v)
{
    uint64_t next = 0;
    while (!v->quit) {
        uint64_t now = tui_now_ms();
        if (now >= next && tui_source_open(v)) {
            tui_fetch(v);
            next = now + (uint64_t)(v->src->refresh_ms > 0 ? v->src->refresh_ms : 500);
        }
        tui_draw(v);
        int ch = getch();
        if (ch == ERR && tui_terminal_gone()) break;
        if (ch == ERR || ch == KEY_RESIZE) continue;
        if (v->editing) tui_key_edit(v, ch);
        else if (!tui_key_popup(v, ch) && tui_key_table(v, ch)) next = 0;
        if (v->src->post_mortem && next == 0) {
            tui_fetch(v);
            next = 1;
        }
    }
}

int tui_run(const struct tui_source *src)
{
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) return -ENOTTY;
    struct tui_view v = {.src = src, .req = src->start};
    if (src->post_mortem) tui_fetch(&v);
    if (!newterm(NULL, stdout, stdin)) return -ENOTTY;
    set_escdelay(25);
    cbreak();
    noecho();
    keypad(stdscr, TRUE);
    curs_set(0);
    timeout(TUI_KEY_WAIT_MS);
    tui_colors(&v);
    tui_loop(&v);
    endwin();
    live_snap_free(&v.snap);
    live_lines_free(&v.lines);
    free(v.rows);
    return 0;
}
