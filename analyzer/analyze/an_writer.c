/*
 * an_writer.c — the allocations rows, written by a second thread through a bounded queue
 *
 * One row per allocation is most of what the analysis writes, and SQLite's
 * insert path costs several times the analysis of the two events behind a
 * row (docs/performance.md, "Analysis"). So an_out_alloc() only copies the
 * row's values into a batch here, and a writer thread binds and steps them
 * on the other core while the analysis goes on. Every other table is still
 * written by the analysis thread, directly.
 *
 * Design notes
 *   1. Memory: AN_WQ_BATCHES batches of AN_WQ_ROWS rows, allocated once.
 *      The analysis thread fills one batch; when it is full it is handed
 *      to the writer, and the analysis waits only when every batch is
 *      queued (the writer is behind). Nothing else is kept per row.
 *   2. One connection, two threads. db.c opens it serialized (every
 *      sqlite3 call takes the connection's recursive mutex), and each
 *      thread steps only its own statements. The writer holds that mutex
 *      across one multi-row INSERT (AN_W_MULTI rows) so its many bind calls
 *      re-enter the mutex cheaply; the analysis thread's rare writes wait
 *      at most for one such statement.
 *   3. Rows go to SQLite in alloc_id order where possible: alloc_id is
 *      the table's rowid and follows allocation order, but a row becomes
 *      final when its block is freed. An insert below the largest rowid
 *      splits B-tree pages in the middle; measured, that made the writer
 *      ~1.7x slower than pure appends. So rows first wait in a min-heap of
 *      AN_WO_ROWS rows (on the analysis thread, which has time to spare)
 *      and leave it smallest alloc_id first; only a block that outlived
 *      the last AN_WO_ROWS frees is inserted out of order.
 *   4. The first SQLite error stops the writer; an_writer_row() and
 *      an_writer_stop() return it (message in the analysis's errbuf).
 *      Without thread support in SQLite (sqlite3_threadsafe() == 0) or
 *      pthreads, the same batches are written synchronously.
 *
 * SPDX-License-Identifier: MIT
 */
#include "analyze/analyze_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace/trace.h"

/* Rows per batch: 4096 x ~112 bytes = 448 KiB, large enough that handing a
 * batch over (a mutex and a condition variable) costs nothing per row. */
#define AN_WQ_ROWS 4096u
/* Batches in flight: one being filled, the rest queued or being written.
 * 4 lets the analysis run ahead through bursts without unbounded memory. */
#define AN_WQ_BATCHES 4u
/* Rows per INSERT statement: amortizes sqlite3_step's fixed cost; 16 x 19
 * parameters stays far below SQLITE_MAX_VARIABLE_NUMBER (999 in old builds). */
#define AN_W_MULTI 16
#define AN_W_COLS 19 /* columns of allocations, schema.sql */
/* Rows held for ordering (design note 3): 16384 x ~100 bytes = 1.6 MiB.
 * Blocks that live longer than the last 16384 frees are rare; at most
 * 65536, so a slot index fits in the low 16 bits of a heap key. */
#define AN_WO_ROWS 16384u
#define AN_WO_SLOT_BITS 16
_Static_assert(AN_WO_ROWS <= 1u << AN_WO_SLOT_BITS, "slot index must fit its key bits");

/* ------------------------------------------------------------ types */

struct an_wbatch {
    struct an_arow *rows; /* owned, AN_WQ_ROWS */
    size_t n;
};

/* The ordering heap: keys alloc_id << AN_WO_SLOT_BITS | slot, smallest on top. */
struct an_worder {
    struct an_arow *slot;         /* owned, AN_WO_ROWS rows */
    uint64_t *heap;               /* owned, n keys */
    size_t n;
};

struct an_writer {
    struct an_state *st;          /* borrowed: the analysis that owns us */
    struct an_worder ord;         /* analysis thread only */
    sqlite3_stmt *multi;          /* owned: AN_W_MULTI-row INSERT */
    struct an_wbatch b[AN_WQ_BATCHES];
    size_t head;                  /* batch the analysis fills */
    size_t tail;                  /* next batch the writer takes */
    size_t n_queued;              /* full batches handed over, not yet written */
    int threaded;                 /* 1: a writer thread runs */
    int stop;                     /* analysis done: write what is queued, then exit */
    int err;                      /* first error of the writer (MT_ESQLITE), sticky */
    char msg[256];                /* its message */
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv_full;       /* a batch was queued, or stop */
    pthread_cond_t cv_free;       /* a batch was written */
};

static const char *const an_w_leak_names[6] = {"unclassified", "definite", "indirect",
                                               "possible",     "reachable", "unclassified"};

/* ------------------------------------------------------------ binding */

static void an_w_text(sqlite3_stmt *s, int i, const char *z)
{
    sqlite3_bind_text(s, i, z, (int)strlen(z), SQLITE_STATIC);
}

/* Binds row r at parameter offset base (0 for the first row). */
static void an_w_bind(sqlite3_stmt *s, int base, const struct an_arow *r)
{
    sqlite3_bind_int64(s, base + 1, r->alloc_id);
    sqlite3_bind_int64(s, base + 2, r->proc_id);
    sqlite3_bind_int64(s, base + 3, r->tid);
    sqlite3_bind_int64(s, base + 4, (int64_t)r->addr);
    sqlite3_bind_int64(s, base + 5, (int64_t)r->size);
    sqlite3_bind_int64(s, base + 6, (int64_t)r->usable);
    an_w_text(s, base + 7, trace_family_name(r->family));
    an_w_text(s, base + 8, trace_api_name(r->api));
    sqlite3_bind_int(s, base + 9, r->realloc);
    sqlite3_bind_int64(s, base + 10, r->stack);
    sqlite3_bind_int64(s, base + 11, (int64_t)r->seq);
    sqlite3_bind_int64(s, base + 12, (int64_t)r->t_ns);
    if (r->freed) {
        sqlite3_bind_int64(s, base + 13, (int64_t)r->free_seq);
        sqlite3_bind_int64(s, base + 14, (int64_t)r->free_ns);
        sqlite3_bind_int64(s, base + 15, r->free_tid);
        an_w_text(s, base + 16, trace_api_name(r->free_api));
        if (r->free_stack) sqlite3_bind_int64(s, base + 17, r->free_stack);
        else sqlite3_bind_null(s, base + 17);
        sqlite3_bind_null(s, base + 19);
    } else {
        for (int i = 13; i <= 17; i++) sqlite3_bind_null(s, base + i);
        an_w_text(s, base + 19, an_w_leak_names[r->leak_class < 6 ? r->leak_class : 0]);
    }
    sqlite3_bind_int(s, base + 18, r->temporary);
}

/* Steps s once (the writer's variant of an_out_step: no errbuf, which
 * belongs to the analysis thread). 0 or MT_ESQLITE with w->msg set. */
static int an_w_step(struct an_writer *w, sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc == SQLITE_DONE) return 0;
    snprintf(w->msg, sizeof w->msg, "writing allocations: %s", sqlite3_errmsg(w->st->db));
    return MT_ESQLITE;
}

/* Inserts one batch: AN_W_MULTI rows per statement, the rest one by one.
 * Holds the connection's mutex per statement (design note 2). */
static int an_w_write(struct an_writer *w, const struct an_wbatch *b)
{
    sqlite3_mutex *mu = sqlite3_db_mutex(w->st->db); /* NULL when not serialized */
    sqlite3_stmt *one = w->st->st[AN_ST_ALLOC];
    size_t i = 0;
    int rc = 0;
    while (i < b->n && !rc) {
        int multi = b->n - i >= AN_W_MULTI;
        sqlite3_stmt *s = multi ? w->multi : one;
        int n = multi ? AN_W_MULTI : 1;
        sqlite3_mutex_enter(mu);
        for (int k = 0; k < n; k++) an_w_bind(s, k * AN_W_COLS, &b->rows[i + (size_t)k]);
        rc = an_w_step(w, s);
        sqlite3_mutex_leave(mu);
        i += (size_t)n;
    }
    return rc;
}

/* ------------------------------------------------------------ thread */

static void *an_w_main(void *arg)
{
    struct an_writer *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->n_queued && !w->stop) pthread_cond_wait(&w->cv_full, &w->mu);
        if (!w->n_queued) break; /* stop, and nothing left */
        struct an_wbatch *b = &w->b[w->tail];
        int failed = w->err;
        pthread_mutex_unlock(&w->mu);
        int rc = failed ? 0 : an_w_write(w, b); /* after an error: drain, write nothing */
        pthread_mutex_lock(&w->mu);
        if (rc && !w->err) w->err = rc;
        b->n = 0;
        w->tail = (w->tail + 1) % AN_WQ_BATCHES;
        w->n_queued--;
        pthread_cond_signal(&w->cv_free);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Hands the filled batch to the writer (or writes it here without a
 * thread) and moves to the next free one. 0 or the writer's error. */
static int an_w_submit(struct an_state *st, struct an_writer *w)
{
    if (!w->threaded) {
        int rc = an_w_write(w, &w->b[w->head]);
        w->b[w->head].n = 0;
        if (rc) mt_errbuf_set(st->eb, "%s", w->msg);
        return rc;
    }
    pthread_mutex_lock(&w->mu);
    w->head = (w->head + 1) % AN_WQ_BATCHES;
    w->n_queued++;
    pthread_cond_signal(&w->cv_full);
    while (w->n_queued == AN_WQ_BATCHES && !w->err) pthread_cond_wait(&w->cv_free, &w->mu);
    int rc = w->err;
    pthread_mutex_unlock(&w->mu);
    if (rc) mt_errbuf_set(st->eb, "%s", w->msg);
    return rc;
}

/* ------------------------------------------------------------ exported */

/* The multi-row INSERT: "INSERT INTO allocations VALUES (?,...),(?,...)...". */
static char *an_w_multi_sql(void)
{
    static const char head[] = "INSERT INTO allocations VALUES ";
    size_t row = 2 + 2 * AN_W_COLS; /* "(?,?,...,?)," */
    char *sql = malloc(sizeof head + AN_W_MULTI * row + 1);
    if (!sql) return NULL;
    char *p = sql + sprintf(sql, "%s", head);
    for (int k = 0; k < AN_W_MULTI; k++) {
        *p++ = k ? ',' : ' ';
        *p++ = '(';
        for (int c = 0; c < AN_W_COLS; c++) {
            *p++ = '?';
            *p++ = c + 1 < AN_W_COLS ? ',' : ')';
        }
    }
    *p = 0;
    return sql;
}

int an_writer_start(struct an_state *st)
{
    struct an_writer *w = calloc(1, sizeof *w);
    if (!w) return -ENOMEM;
    w->st = st;
    st->writer = w;
    for (size_t i = 0; i < AN_WQ_BATCHES; i++)
        if (!(w->b[i].rows = malloc(AN_WQ_ROWS * sizeof *w->b[i].rows))) return -ENOMEM;
    w->ord.slot = malloc(AN_WO_ROWS * sizeof *w->ord.slot);
    w->ord.heap = malloc(AN_WO_ROWS * sizeof *w->ord.heap);
    if (!w->ord.slot || !w->ord.heap) return -ENOMEM;
    char *sql = an_w_multi_sql();
    if (!sql) return -ENOMEM;
    int rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &w->multi, NULL);
    free(sql);
    if (rc != SQLITE_OK) {
        mt_errbuf_set(st->eb, "preparing statement: %s", sqlite3_errmsg(st->db));
        return MT_ESQLITE;
    }
    if (!sqlite3_threadsafe() || !sqlite3_db_mutex(st->db)) return 0; /* design note 4 */
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv_full, NULL);
    pthread_cond_init(&w->cv_free, NULL);
    w->threaded = pthread_create(&w->th, NULL, an_w_main, w) == 0;
    return 0;
}

/* Appends row to the batch being filled. 0 or the writer's error. */
static int an_w_queue(struct an_state *st, struct an_writer *w, const struct an_arow *row)
{
    struct an_wbatch *b = &w->b[w->head];
    b->rows[b->n++] = *row;
    return b->n == AN_WQ_ROWS ? an_w_submit(st, w) : 0;
}

static uint64_t an_wo_key(const struct an_arow *row, size_t slot)
{
    return (uint64_t)row->alloc_id << AN_WO_SLOT_BITS | slot;
}

/* Moves the key at i down to its place (heap[i] may be too large). */
static void an_wo_sift_down(struct an_worder *o, size_t i)
{
    uint64_t k = o->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= o->n) break;
        if (c + 1 < o->n && o->heap[c + 1] < o->heap[c]) c++;
        if (o->heap[c] >= k) break;
        o->heap[i] = o->heap[c];
        i = c;
    }
    o->heap[i] = k;
}

static void an_wo_push(struct an_worder *o, uint64_t k)
{
    size_t i = o->n++;
    while (i > 0 && o->heap[(i - 1) / 2] > k) {
        o->heap[i] = o->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    o->heap[i] = k;
}

int an_writer_row(struct an_state *st, const struct an_arow *row)
{
    struct an_writer *w = st->writer;
    struct an_worder *o = &w->ord;
    if (o->n < AN_WO_ROWS) { /* filling up: slots are taken in order */
        o->slot[o->n] = *row;
        an_wo_push(o, an_wo_key(row, o->n));
        return 0;
    }
    uint64_t top = o->heap[0];
    if ((uint64_t)row->alloc_id <= top >> AN_WO_SLOT_BITS) return an_w_queue(st, w, row);
    size_t slot = (size_t)(top & ((1u << AN_WO_SLOT_BITS) - 1));
    int rc = an_w_queue(st, w, &o->slot[slot]);
    o->slot[slot] = *row;
    o->heap[0] = an_wo_key(row, slot);
    an_wo_sift_down(o, 0);
    return rc;
}

/* Queues every held row, smallest alloc_id first. 0 or the writer's error. */
static int an_wo_drain(struct an_state *st, struct an_writer *w)
{
    struct an_worder *o = &w->ord;
    int rc = 0;
    while (o->n && !rc) {
        uint64_t top = o->heap[0];
        rc = an_w_queue(st, w, &o->slot[top & ((1u << AN_WO_SLOT_BITS) - 1)]);
        o->heap[0] = o->heap[--o->n];
        if (o->n) an_wo_sift_down(o, 0);
    }
    return rc;
}

int an_writer_stop(struct an_state *st)
{
    struct an_writer *w = st->writer;
    if (!w) return 0;
    int rc = an_wo_drain(st, w);
    if (!rc && w->b[w->head].n) rc = an_w_submit(st, w);
    if (w->threaded) {
        pthread_mutex_lock(&w->mu);
        w->stop = 1;
        pthread_cond_signal(&w->cv_full);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->th, NULL);
        w->threaded = 0;
        if (!rc && w->err) {
            rc = w->err;
            mt_errbuf_set(st->eb, "%s", w->msg);
        }
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv_full);
        pthread_cond_destroy(&w->cv_free);
    }
    return rc;
}

void an_writer_destroy(struct an_state *st)
{
    struct an_writer *w = st->writer;
    if (!w) return;
    if (w->threaded) {
        pthread_mutex_lock(&w->mu);
        w->stop = 1;
        w->err = w->err ? w->err : MT_ESQLITE; /* abandon what is queued */
        pthread_cond_signal(&w->cv_full);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->th, NULL);
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv_full);
        pthread_cond_destroy(&w->cv_free);
    }
    sqlite3_finalize(w->multi);
    for (size_t i = 0; i < AN_WQ_BATCHES; i++) free(w->b[i].rows);
    free(w->ord.slot);
    free(w->ord.heap);
    free(w);
    st->writer = NULL;
}
