/*
 * tui_int.h — state of one terminal view (private to tui/)
 *
 * tui_view.c owns the loop, the keys and the snapshot; tui_draw.c paints
 * the state below with ncurses. Layout and keys: docs/tui.md.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMTRACE_TUI_INT_H
#define MEMTRACE_TUI_INT_H

#include <stddef.h>
#include <stdint.h>

#include "tui.h"

enum tui_sort { TUI_SORT_LIVE, TUI_SORT_TOTAL, TUI_SORT_COUNT, TUI_SORT_LEAKED, TUI_SORT_N };
enum tui_popup { TUI_POP_NONE, TUI_POP_HELP, TUI_POP_STACK, TUI_POP_PROCS, TUI_POP_POOLS };

#define TUI_CHART_ROWS 6 /* chart height at 80x24; grows with the terminal */

struct tui_view {
    const struct tui_source *src; /* borrowed */
    struct live_snap snap;        /* owned: the last snapshot */
    int have_snap;
    int src_err;                  /* last snapshot error (source gone) */
    struct live_req req;          /* scope and cursor asked for */
    int sort, reverse, exact;
    char filter[128];             /* applied filter, "" = none */
    int editing;                  /* '/' typed: the status line is a prompt */
    char edit[128];
    size_t *rows;                 /* owned: indices of shown sites, sorted */
    size_t n_rows;
    int sel, top;                 /* selected row, first row shown */
    int popup;                    /* enum tui_popup */
    struct live_lines lines;      /* owned: popup text */
    int lines_top;
    char lines_title[160];
    int color;                    /* colors in use (not NO_COLOR) */
    int quit;
};

/* The snapshot's last marker at or before the cursor (live: the newest),
 * NULL if none (tui_view.c). The snapshot holds the scope's only. */
const struct live_marker *tui_view_marker(const struct tui_view *v);

/* ---- client-API data (tui_pools.c) ---- */

struct sqlite3;
/* Every marker of db in time order. OUT: *out (free()), *n_out. 0,
 * MT_ESQLITE or -ENOMEM. */
int tui_markers_load(struct sqlite3 *db, struct live_marker **out, size_t *n_out);
/* Appends the pools of scope proc_id (< 0: all) at cursor_ns to
 * out->pools; period_ns: the timeline's interval. 0, MT_ESQLITE or
 * -ENOMEM. */
int tui_pools_rows(struct sqlite3 *db, int64_t proc_id, uint64_t cursor_ns, uint64_t period_ns,
                   int have_allocs, struct live_snap *out);
/* The pools popup from s's rows, figures exact or human. 0 or -ENOMEM. */
int tui_pools_lines(const struct live_snap *s, int post_mortem, int exact, struct live_lines *out);

/* Re-applies filter and sort to the snapshot (tui_view.c). */
void tui_view_rows(struct tui_view *v);

/* Paints the whole screen (tui_draw.c). */
void tui_draw(struct tui_view *v);

#define TUI_PAIR_HEAP 1
#define TUI_PAIR_RSS 2
#define TUI_PAIR_ERR 3
#define TUI_PAIR_TITLE 4
#define TUI_PAIR_CURSOR 5
#define TUI_PAIR_MARKER 6

#endif /* MEMTRACE_TUI_INT_H */
