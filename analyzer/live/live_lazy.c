/*
 * live_lazy.c — attach on demand: an idle aggregator caught up from the trace being written
 *
 * Aggregating every record costs the collector thread tens of ns per event,
 * and nobody watches most runs. So `memtrace run` (without --live) keeps the
 * aggregator idle: live_agg_on_block() only counts blocks. The snapshot
 * socket still listens; the first viewer's connection wakes the aggregator,
 * which replays the trace written so far and is fed live from then on.
 * Docs: docs/tui.md ("Attaching to a session").
 *
 * Design notes
 *   1. States (enum live_state): IDLE -> WANTED (live_agg_want, socket
 *      thread, a CAS) -> ACTIVE (live_lazy_catch_up, collector thread or
 *      live_agg_finish once the collector stopped). ACTIVE is final.
 *      run --live and replays never leave ACTIVE.
 *   2. Exactness: the catch-up runs on the collector thread inside
 *      on_block, the only user of the trace writer, so no block can be
 *      written meanwhile. It flushes the writer (every block handed to it
 *      is then in the file) and feeds the file's blocks, in file order,
 *      through the same path and reorder window live blocks take: the
 *      window ends exactly as if it had been fed from the start, gaps
 *      (records still in the rings) included, and those records arrive
 *      live afterwards. Nothing is missed or counted twice.
 *   3. The block on_block is handling may or may not be in the file yet
 *      (the collector may call on_block before or after writing it). The
 *      idle count says which: every block written passed on_block once,
 *      so the file holds n_idle_blocks blocks (before) or one more
 *      (after, and then the current block must not be fed again).
 *   4. The pause: while the catch-up reads, the collector drains nothing
 *      and targets with full rings wait. It lasts as long as decoding
 *      and aggregating the trace so far (docs/tui.md gives figures).
 *
 * SPDX-License-Identifier: MIT
 */
#include "live/live_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "trace/trace.h"

/* Feeds every block of the trace to a (mu held). Returns the number of
 * blocks in *n_blocks; 0 or the error that stopped it. */
static int live_lazy_replay(struct live_agg *a, uint64_t *n_blocks)
{
    struct mt_errbuf eb = {{0}};
    struct trace_reader *r;
    int rc = trace_writer_flush(a->w);
    if (!rc) rc = trace_reader_open(a->trace_path, &r, &eb);
    if (rc) return rc;
    uint32_t pid, gen, ring;
    const void *records;
    size_t len;
    while ((rc = trace_reader_next_block(r, &pid, &gen, &ring, &records, &len, &eb)) == 1) {
        a->n_replayed += live_agg_feed_locked(a, pid, gen, ring, records, len);
        ++*n_blocks;
    }
    trace_reader_close(r);
    return rc;
}

int live_lazy_catch_up(struct live_agg *a)
{
    uint64_t n_file = 0;
    pthread_mutex_lock(&a->mu);
    int rc = a->w ? live_lazy_replay(a, &n_file) : -ESRCH;
    if (rc && !a->status) a->status = rc; /* figures would be wrong: stop */
    a->catch_up_rc = rc;
    atomic_store_explicit(&a->state, LIVE_ST_ACTIVE, memory_order_release);
    pthread_cond_broadcast(&a->ready_cv);
    pthread_mutex_unlock(&a->mu);
    return n_file > a->n_idle_blocks; /* note 3 */
}

int live_agg_set_lazy(struct live_agg *a, struct trace_writer *w, const char *trace_path)
{
    char *path = strdup(trace_path);
    if (!path) return -ENOMEM;
    pthread_mutex_lock(&a->mu);
    free(a->trace_path);
    a->trace_path = path;
    a->w = w;
    a->n_idle_blocks = 0;
    atomic_store_explicit(&a->state, LIVE_ST_IDLE, memory_order_release);
    pthread_mutex_unlock(&a->mu);
    return 0;
}

void live_agg_want(struct live_agg *a)
{
    int idle = LIVE_ST_IDLE;
    atomic_compare_exchange_strong(&a->state, &idle, LIVE_ST_WANTED);
}

int live_agg_wait_ready(struct live_agg *a, unsigned timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000u;
    until.tv_nsec += (long)(timeout_ms % 1000u) * 1000000L;
    if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
    int rc = 0;
    pthread_mutex_lock(&a->mu);
    while (atomic_load(&a->state) != LIVE_ST_ACTIVE && !a->finished && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&a->ready_cv, &a->mu, &until);
    if (atomic_load(&a->state) == LIVE_ST_ACTIVE) rc = a->catch_up_rc;
    else rc = a->finished ? -ESRCH : -ETIMEDOUT;
    pthread_mutex_unlock(&a->mu);
    return rc;
}
