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

/* The marker of the scope at or before the cursor, NULL if none
 * (tui_view.c). */
const struct tui_marker *tui_view_marker(const struct tui_view *v);
/* 1 if marker m belongs to the view's scope (all processes, or its pid). */
int tui_view_marker_shown(const struct tui_view *v, const struct tui_marker *m);

/* ---- client-API data of a database (tui_pools.c) ---- */

struct sqlite3;
/* Every marker of db in time order. OUT: *out (free()), *n_out. 0,
 * MT_ESQLITE or -ENOMEM. */
int tui_markers_load(struct sqlite3 *db, struct tui_marker **out, size_t *n_out);
/* The pools popup: scope proc_id (< 0: all), state at cursor_ns. 0,
 * MT_ESQLITE or -ENOMEM. */
int tui_pools_lines(struct sqlite3 *db, int64_t proc_id, uint64_t cursor_ns, int have_allocs,
                    int exact, struct live_lines *out);

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
