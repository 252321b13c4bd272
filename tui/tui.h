/*
 * tui.h — the memtrace terminal view (ncurses), whatever feeds it
 *
 * One view, three sources: the live aggregator in this process
 * (`memtrace run --live`), a session's socket (`memtrace top`), and a
 * database with a time cursor (`memtrace tui DB`). A source fills struct
 * live_snap (analyzer/live/live.h) on request — client-API pools and
 * markers included — and the view sorts, filters and draws it. Keys and layout: docs/tui.md.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMTRACE_TUI_H
#define MEMTRACE_TUI_H

#include <stdint.h>

#include "live/live.h"

struct tui_source {
    void *ctx;
    /* Fills out for req (scope, cursor). 0 or a negative error; the view
     * keeps the previous snapshot and says the source is gone. */
    int (*snapshot)(void *ctx, const struct live_req *req, struct live_snap *out);
    /* The symbolized stack of a site. 0 or negative. */
    int (*stack)(void *ctx, uint32_t pid, uint32_t gen, uint32_t stack_id, struct live_lines *out);
    int post_mortem;        /* 1: time cursor keys, no periodic refresh */
    int refresh_ms;         /* live sources: snapshot period */
    int until_gone;         /* a session's socket: a finished session is still
                               asked until it is gone, so the view says so */
    struct live_req start;  /* the first request (scope, cursor) */
};

/* Runs the view on the terminal until the user quits. Returns 0, or
 * -ENOTTY when stdin/stdout is not a terminal ncurses can use. */
int tui_run(const struct tui_source *src);

/* ---- internal to tui/ ---- */

/* Human-readable bytes ("12.3M") or exact ("12345678") into buf. */
void tui_fmt_bytes(char *buf, size_t len, uint64_t v, int exact);
void tui_fmt_count(char *buf, size_t len, uint64_t v, int exact);
void tui_fmt_time(char *buf, size_t len, uint64_t ns);

/* The post-mortem source on a database (tui_db.c). OUT: *src filled, its
 * ctx owned by the caller: close with tui_db_close(). 0 or negative, eb
 * says what failed. */
struct mt_errbuf;
int tui_db_open(const char *path, struct tui_source *src, struct mt_errbuf *eb);
void tui_db_close(struct tui_source *src);

/* A source on an aggregator in this process (run --live, tui --replay). */
void tui_source_agg(struct live_agg *a, struct tui_source *src);

/* A source on a session socket (memtrace top). OUT: src->ctx owns the
 * connection: close with tui_source_client_close(). 0 or -errno. */
int tui_source_client(const char *sock_path, struct tui_source *src);
void tui_source_client_close(struct tui_source *src);

/* `memtrace run --live`: the view runs on a thread of its own while the
 * collector feeds a. tui_live_wait() is called once the session is over
 * (after live_agg_finish): it returns when the user quits the view.
 * OUT: *out, freed by tui_live_wait. 0 or -ENOTTY / -errno. */
struct tui_live;
int tui_live_start(struct live_agg *a, struct tui_live **out);
void tui_live_wait(struct tui_live *t);

#endif /* MEMTRACE_TUI_H */
