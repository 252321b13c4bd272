/*
 * tui_live.c — live sources for the view: an aggregator here, or a session socket
 *
 * `memtrace run --live` runs the view on its own thread against the
 * aggregator the collector feeds (tui_live_start/tui_live_wait);
 * `memtrace tui --replay` uses the same source on a replayed trace;
 * `memtrace top` reads a running session's socket (analyzer/live/live.h).
 * Docs: docs/tui.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include "tui.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#define TUI_LIVE_REFRESH_MS 500 /* two screens a second: readable, and cheap */

/* ------------------------------------------------------------ aggregator */

static uint64_t tui_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int tui_agg_snapshot(void *ctx, const struct live_req *req, struct live_snap *out)
{
    return live_agg_snapshot(ctx, req, tui_mono_ns(), out);
}

static int tui_agg_stack(void *ctx, uint32_t pid, uint32_t gen, uint32_t stack_id,
                         struct live_lines *out)
{
    return live_agg_stack(ctx, pid, gen, stack_id, out);
}

void tui_source_agg(struct live_agg *a, struct tui_source *src)
{
    *src = (struct tui_source){.ctx = a, .snapshot = tui_agg_snapshot, .stack = tui_agg_stack,
                               .refresh_ms = TUI_LIVE_REFRESH_MS};
}

/* ------------------------------------------------------------ socket */

static int tui_client_snapshot(void *ctx, const struct live_req *req, struct live_snap *out)
{
    return live_client_snapshot(ctx, req, out);
}

static int tui_client_stack(void *ctx, uint32_t pid, uint32_t gen, uint32_t stack_id,
                            struct live_lines *out)
{
    return live_client_stack(ctx, pid, gen, stack_id, out);
}

int tui_source_client(const char *sock_path, struct tui_source *src)
{
    struct live_client *c;
    int rc = live_client_open(sock_path, &c);
    if (rc) return rc;
    *src = (struct tui_source){.ctx = c, .snapshot = tui_client_snapshot,
                               .stack = tui_client_stack, .refresh_ms = TUI_LIVE_REFRESH_MS,
                               .until_gone = 1};
    return 0;
}

void tui_source_client_close(struct tui_source *src)
{
    live_client_close(src->ctx);
    src->ctx = NULL;
}

/* ------------------------------------------------------------ run --live */

struct tui_live {
    struct tui_source src;
    pthread_t thread;
    int rc;
};

static void *tui_live_main(void *arg)
{
    struct tui_live *t = arg;
    t->rc = tui_run(&t->src);
    return NULL;
}

int tui_live_start(struct live_agg *a, struct tui_live **out)
{
    struct tui_live *t = calloc(1, sizeof *t);
    if (!t) return -ENOMEM;
    tui_source_agg(a, &t->src);
    int rc = pthread_create(&t->thread, NULL, tui_live_main, t);
    if (rc) {
        free(t);
        return -rc;
    }
    *out = t;
    return 0;
}

void tui_live_wait(struct tui_live *t)
{
    if (!t) return;
    pthread_join(t->thread, NULL);
    free(t);
}
