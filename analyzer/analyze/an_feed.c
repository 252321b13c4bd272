/*
 * an_feed.c — the trace reader on its own thread, feeding the analysis in batches
 *
 * Reading a trace (read, zstd, validation, reorder: analyzer/trace/) costs
 * about as much as analyzing it, so analyze.c's pass does not call
 * trace_reader_next() itself: a feed thread does, copies each record into
 * a batch and hands full batches over, and the analysis consumes them on
 * the other core. Order is unchanged: batches and the records in them are
 * consumed exactly in the reader's order.
 *
 * Design notes
 *   1. Memory: AN_FEED_BATCHES batches of AN_FEED_BYTES, allocated once (a
 *      batch grows only for a record larger than itself). The feed waits
 *      when every batch is full and not yet consumed.
 *   2. The reader belongs to the feed thread until an_feed_stop() joins
 *      it; the caller may then ask it about truncation and holes.
 *   3. A reader error ends the feed after the records before it, like the
 *      reader itself (its message is copied into the caller's errbuf).
 *   4. Without a thread (pthread_create failed) an_feed_next() calls the
 *      reader directly.
 *
 * SPDX-License-Identifier: MIT
 */
#include "analyze/analyze_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "trace/trace.h"

/* 1 MiB batches: ~20000 records each, so the handover (a mutex and a
 * condition variable) costs nothing per record; 4 of them let the reader
 * run ahead over a slow stretch of analysis in 4 MiB. */
#define AN_FEED_BYTES (1u << 20)
#define AN_FEED_BATCHES 4u

/* Each record in a batch: this header, then the record padded to 8. */
struct an_feed_ent {
    uint32_t pid, gen, ring, len;
};

/* Each batch on its own cache line: the feed fills one while the analysis
 * reads another, and a shared line would bounce between the cores. */
struct an_feed_batch {
    _Alignas(64) char *buf; /* owned */
    size_t cap, len;
};

/* The analysis thread's read cursor, on its own line for the same reason. */
struct an_feed_cursor {
    _Alignas(64) struct an_feed_batch *b; /* batch being read, NULL if none */
    const char *buf;
    size_t pos, len;
};

struct an_feed {
    struct trace_reader *r;  /* borrowed; the feed thread's until stop */
    struct an_feed_batch b[AN_FEED_BATCHES];
    size_t head;             /* batch the feed fills */
    size_t tail;             /* batch the analysis reads */
    size_t n_full;           /* handed over, not yet consumed */
    struct an_feed_cursor cur; /* the analysis thread's only */
    int done;                /* the feed has handed over its last batch */
    int result;              /* reader's final result: 0 or negative */
    int stop;                /* the analysis quit early */
    int threaded;
    struct mt_errbuf eb;     /* the reader's message */
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv_full, cv_free;
};

static size_t an_feed_pad(size_t n)
{
    return (n + 7u) & ~(size_t)7u;
}

/* Hands the filled batch over and waits for a free one. 0, or 1 when the
 * analysis asked to stop. */
static int an_feed_handover(struct an_feed *f, int last)
{
    pthread_mutex_lock(&f->mu);
    f->head = (f->head + 1) % AN_FEED_BATCHES;
    f->n_full++;
    f->done = last;
    pthread_cond_signal(&f->cv_full);
    while (!last && f->n_full == AN_FEED_BATCHES && !f->stop)
        pthread_cond_wait(&f->cv_free, &f->mu);
    int stop = f->stop;
    pthread_mutex_unlock(&f->mu);
    return stop;
}

/* Copies ev into the batch being filled (handing it over when full). 0,
 * 1 to stop, -ENOMEM. */
static int an_feed_put(struct an_feed *f, const struct trace_event *ev)
{
    size_t need = sizeof(struct an_feed_ent) + an_feed_pad(ev->rec->len);
    struct an_feed_batch *b = &f->b[f->head];
    if (b->len + need > b->cap && b->len) {
        if (an_feed_handover(f, 0)) return 1;
        b = &f->b[f->head];
    }
    if (need > b->cap) { /* one record larger than a batch */
        char *n = realloc(b->buf, need);
        if (!n) return -ENOMEM;
        b->buf = n;
        b->cap = need;
    }
    struct an_feed_ent e = {.pid = ev->pid, .gen = ev->gen, .ring = ev->ring, .len = ev->rec->len};
    memcpy(b->buf + b->len, &e, sizeof e);
    memcpy(b->buf + b->len + sizeof e, ev->rec, ev->rec->len);
    b->len += need;
    return 0;
}

static void *an_feed_main(void *arg)
{
    struct an_feed *f = arg;
    struct trace_event ev;
    int rc;
    while ((rc = trace_reader_next(f->r, &ev, &f->eb)) > 0)
        if ((rc = an_feed_put(f, &ev)) != 0) break;
    if (rc == 1) return NULL; /* stopped by the analysis */
    if (rc == -ENOMEM) mt_errbuf_set(&f->eb, "reading the trace: %s", mt_strerror(rc));
    pthread_mutex_lock(&f->mu);
    f->result = rc;
    pthread_mutex_unlock(&f->mu);
    an_feed_handover(f, 1);
    return NULL;
}

/* ------------------------------------------------------------ exported */

int an_feed_start(struct an_feed **out, struct trace_reader *r)
{
    /* aligned_alloc: the batches and the cursor are cache-line aligned. */
    struct an_feed *f = aligned_alloc(_Alignof(struct an_feed), sizeof *f);
    *out = f;
    if (!f) return -ENOMEM;
    memset(f, 0, sizeof *f);
    f->r = r;
    *out = f;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv_full, NULL);
    pthread_cond_init(&f->cv_free, NULL);
    for (size_t i = 0; i < AN_FEED_BATCHES; i++) {
        if (!(f->b[i].buf = malloc(AN_FEED_BYTES))) return -ENOMEM;
        f->b[i].cap = AN_FEED_BYTES;
    }
    f->threaded = pthread_create(&f->th, NULL, an_feed_main, f) == 0;
    return 0;
}

int an_feed_next(struct an_feed *f, struct trace_event *ev, struct mt_errbuf *eb)
{
    if (!f->threaded) return trace_reader_next(f->r, ev, eb); /* design note 4 */
    struct an_feed_cursor *c = &f->cur;
    for (;;) {
        if (c->pos < c->len) {
            struct an_feed_ent e;
            memcpy(&e, c->buf + c->pos, sizeof e);
            *ev = (struct trace_event){.pid = e.pid, .gen = e.gen, .ring = e.ring,
                                       .rec = (const void *)(c->buf + c->pos + sizeof e)};
            c->pos += sizeof e + an_feed_pad(e.len);
            return 1;
        }
        pthread_mutex_lock(&f->mu);
        if (c->b) { /* consumed: give it back */
            c->b->len = 0;
            f->tail = (f->tail + 1) % AN_FEED_BATCHES;
            f->n_full--;
            c->b = NULL;
            pthread_cond_signal(&f->cv_free);
        }
        while (!f->n_full && !f->done) pthread_cond_wait(&f->cv_full, &f->mu);
        int result = f->result;
        if (f->n_full) c->b = &f->b[f->tail];
        pthread_mutex_unlock(&f->mu);
        if (!c->b) {
            c->pos = c->len = 0;
            if (result < 0) memcpy(eb, &f->eb, sizeof *eb);
            return result;
        }
        c->buf = c->b->buf; /* the feed does not touch a handed-over batch */
        c->len = c->b->len;
        c->pos = 0;
    }
}

void an_feed_stop(struct an_feed *f)
{
    if (!f) return;
    if (f->threaded) {
        pthread_mutex_lock(&f->mu);
        f->stop = 1;
        pthread_cond_signal(&f->cv_free);
        pthread_mutex_unlock(&f->mu);
        pthread_join(f->th, NULL);
    }
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv_full);
    pthread_cond_destroy(&f->cv_free);
    for (size_t i = 0; i < AN_FEED_BATCHES; i++) free(f->b[i].buf);
    free(f);
}
