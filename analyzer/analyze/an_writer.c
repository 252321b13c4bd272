/*
 * an_writer.c — the allocations rows, ordered and encoded on a second thread
 *
 * One row per allocation is most of what the analysis writes, and SQLite's
 * insert path costs ~600 ns per row of this table however it is fed, more
 * than the analysis of the two events behind the row (docs/performance.md,
 * "Analysis"). SQLite has no bulk-load API, so the rows do not go through
 * SQLite at all during the run: an_out_alloc() copies a row into a batch
 * here, and a writer thread puts the rows in alloc_id order, encodes each
 * as an SQLite record and appends it to a table B-tree it writes itself
 * (db/db_bulk.c), which an_rows.c splices into the database once SQLite
 * has closed it. Every other table goes through SQLite as before.
 *
 * Design notes
 *   1. Memory: AN_WQ_BATCHES batches of AN_WQ_ROWS rows, the ordering
 *      window of AN_WO_ROWS rows, one B-tree page, and the spill's buffer
 *      (db/db_spill.c). Nothing grows with the number of rows except the
 *      B-tree's (rowid, page) per leaf.
 *   2. The analysis thread only copies a row into the batch being filled
 *      (a cache-hot sequential write); when it is full it is handed over,
 *      and the analysis waits only when every batch is queued. Ordering,
 *      encoding and I/O are the writer's.
 *   3. alloc_id is the table's rowid and follows allocation order, but a
 *      row becomes final when its block is freed. The writer holds rows in
 *      a window indexed by alloc_id (slot = alloc_id mod AN_WO_ROWS): the
 *      row the window starts at goes out as soon as it comes, with the
 *      run of held rows after it, and when a row lands beyond the window
 *      the window moves on, appending what it held smallest first; so the
 *      B-tree gets rows in rowid order. A row that comes after its turn
 *      (a block that outlived the window, or a leak drained at the end
 *      below the window) cannot be appended: it goes to the spill, and
 *      an_rows.c inserts it through SQL after the splice.
 *   4. Rows are stored as SQLite would: the INTEGER PRIMARY KEY is the
 *      cell's rowid and NULL in the record; enums become their names.
 *   5. The first I/O error stops the writer; an_writer_row() and
 *      an_writer_stop() return it (message in the analysis's errbuf).
 *      Without a thread (pthread_create failed) the batches are handled
 *      on the analysis thread.
 *
 * SPDX-License-Identifier: MIT
 */
#include "analyze/analyze_int.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_bulk.h"
#include "trace/trace.h"

/* Rows per batch: 4096 x ~100 bytes = 400 KiB, large enough that handing a
 * batch over (a mutex and a condition variable) costs nothing per row. */
#define AN_WQ_ROWS 4096u
/* Batches in flight: one being filled, the rest queued or being written.
 * 4 lets the analysis run ahead through bursts without unbounded memory. */
#define AN_WQ_BATCHES 4u
/* Rows ahead of the one being written whose batch line is prefetched. */
#define AN_WQ_AHEAD 8u
/* The ordering window (design note 3): 65536 x ~100 bytes = 6.4 MiB, of
 * which only the part near the newest ids is hot. A power of two: slots
 * are alloc_id & (AN_WO_ROWS - 1). */
#define AN_WO_ROWS 65536u
#define AN_W_COLS 19 /* columns of allocations, schema.sql */
/* Room for a name of an enum (the longest, an api's, has 24 bytes): the
 * encoder copies this many bytes, so a name's serial type always fits in
 * one byte (2 * 31 + 13 < 128). */
#define AN_W_NAME_MAX 32
/* Late rows kept in memory before the spill sorts them to a file. */
#define AN_W_SPILL_MEM (8u << 20)
/* Pages db_bulk leaves for SQLite beyond its pages at the start: the
 * other tables of a typical trace fit, so few leaves move at the end. */
#define AN_W_RESERVE_PAGES 16u

/* ------------------------------------------------------------ types */

struct an_wbatch {
    struct an_arow *rows; /* owned, AN_WQ_ROWS */
    size_t n;
};

/* Design note 3: rows waiting for their turn. */
struct an_worder {
    struct an_arow *slot; /* owned, AN_WO_ROWS; holds id if slot.alloc_id == id */
    int64_t base;         /* smallest alloc_id not yet appended or passed */
    int64_t max;          /* largest alloc_id held so far */
};

/* A name and its length, for the record's text columns; padded so that
 * the encoder copies AN_W_NAME_MAX bytes whatever the length. */
struct an_wname {
    char z[AN_W_NAME_MAX];
    uint32_t n;
};

struct an_writer {
    /* The analysis thread's side, on a cache line of its own: the batch
     * being filled (b[head]'s rows) and its count. The writer never reads
     * these; b[head].n is set when the batch is handed over. */
    _Alignas(64) struct an_arow *fill;
    size_t n_fill;
    _Alignas(64) struct an_state *st; /* borrowed: the analysis that owns us */
    struct an_rows rows;              /* owned: the B-tree, the spill, the root page */
    struct an_worder ord;             /* writer thread only */
    uint8_t *rec;                     /* owned: DB_RECORD_MAX bytes, the record being encoded */
    struct an_wname fam[MT_FAM_COUNT], api[AN_API_END], leak[6], unknown;
    struct an_wbatch b[AN_WQ_BATCHES];
    size_t head;     /* batch the analysis fills */
    size_t tail;     /* next batch the writer takes */
    size_t n_queued; /* full batches handed over, not yet written */
    int have_sync;   /* mu and the condition variables are initialized */
    int threaded;    /* 1: a writer thread runs */
    int stop;        /* analysis done: write what is queued, then exit */
    int err;         /* first error of the writer, sticky */
    char msg[256];   /* its message */
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv_full; /* a batch was queued, or stop */
    pthread_cond_t cv_free; /* a batch was written */
};

/* Names of the api codes beyond enum mt_api: the client API's pools. */
static const char *const an_w_pool_apis[AN_API_END - MT_API_COUNT] = {"pool_alloc", "pool_free",
                                                                      "pool_reset", "pool_destroy"};
static const char *const an_w_leak_names[6] = {NULL,       "definite",  "indirect",
                                               "possible", "reachable", "unclassified"};

/* ------------------------------------------------------------ encoding */

static const struct an_wname *an_w_name(const struct an_writer *w, const struct an_wname *tab,
                                        unsigned n, unsigned idx)
{
    return idx < n && tab[idx].n ? &tab[idx] : &w->unknown;
}

static struct db_val an_w_vint(int64_t v)
{
    return (struct db_val){.type = DB_VAL_INT, .i = v};
}

static struct db_val an_w_vtext(const char *z, uint32_t n)
{
    return (struct db_val){.type = DB_VAL_TEXT, .z = z, .n = n};
}

/* The record of r through db_record_put (design note 4): for the rows
 * whose family is a text of the caller's (pools, maybe long), and to
 * check the fast encoder below in debug builds. */
static size_t an_w_encode_vals(const struct an_writer *w, const struct an_arow *r, uint8_t *out)
{
    struct db_val v[AN_W_COLS] = {{0}}; /* [0] alloc_id: the rowid; unset = NULL */
    const struct an_wname *fam = an_w_name(w, w->fam, MT_FAM_COUNT, r->family);
    const struct an_wname *api = an_w_name(w, w->api, AN_API_END, r->api);
    v[1] = an_w_vint(r->proc_id);
    v[2] = an_w_vint(r->tid);
    v[3] = an_w_vint((int64_t)r->addr);
    v[4] = an_w_vint((int64_t)r->size);
    v[5] = an_w_vint((int64_t)r->usable);
    v[6] = r->family_z ? an_w_vtext(r->family_z, (uint32_t)strlen(r->family_z))
                       : an_w_vtext(fam->z, fam->n);
    v[7] = an_w_vtext(api->z, api->n);
    v[8] = an_w_vint(r->realloc);
    v[9] = an_w_vint(r->stack);
    v[10] = an_w_vint((int64_t)r->seq);
    v[11] = an_w_vint((int64_t)r->t_ns);
    if (r->freed) {
        const struct an_wname *fapi = an_w_name(w, w->api, AN_API_END, r->free_api);
        v[12] = an_w_vint((int64_t)r->free_seq);
        v[13] = an_w_vint((int64_t)r->free_ns);
        v[14] = an_w_vint(r->free_tid);
        v[15] = an_w_vtext(fapi->z, fapi->n);
        if (r->free_stack) v[16] = an_w_vint(r->free_stack);
    }
    v[17] = an_w_vint(r->temporary);
    if (r->leak_class) {
        const struct an_wname *leak = an_w_name(w, w->leak, 6, r->leak_class);
        v[18] = an_w_vtext(leak->z, leak->n);
    }
    return db_record_put(v, AN_W_COLS, out);
}

/* One integer column: its serial type (the smallest that holds v, 8 and 9
 * for 0 and 1) into *type, its big-endian bytes at p. Writes 8 bytes
 * whatever the length (the buffer has room); returns the end. */
static inline uint8_t *an_w_col_int(uint8_t *type, uint8_t *p, int64_t v)
{
    static const uint8_t type_of_bytes[9] = {0, 1, 2, 3, 4, 5, 5, 6, 6};
    static const uint8_t bytes_of_type[7] = {0, 1, 2, 3, 4, 6, 8};
    if ((uint64_t)v <= 1) {
        *type = (uint8_t)(8 + v);
        return p;
    }
    uint64_t mag = v < 0 ? ~(uint64_t)v : (uint64_t)v; /* the bits besides the sign */
    unsigned bits = mag ? 65u - (unsigned)__builtin_clzll(mag) : 1u;
    unsigned t = type_of_bytes[(bits + 7) / 8], n = bytes_of_type[t];
    uint64_t be = __builtin_bswap64((uint64_t)v << (64 - 8 * n));
    memcpy(p, &be, 8);
    *type = (uint8_t)t;
    return p + n;
}

static inline uint8_t *an_w_col_name(uint8_t *type, uint8_t *p, const struct an_wname *nm)
{
    *type = (uint8_t)(2 * nm->n + 13);
    memcpy(p, nm->z, AN_W_NAME_MAX);
    return p + nm->n;
}

/* The record of r into w->rec (design note 4): every serial type fits in
 * a byte, so the header is 20 bytes; the values follow. Returns its
 * length. */
static size_t an_w_encode(struct an_writer *w, const struct an_arow *r)
{
    if (r->family_z) return an_w_encode_vals(w, r, w->rec);
    uint8_t *t = w->rec + 1, *p = w->rec + 1 + AN_W_COLS;
    w->rec[0] = 1 + AN_W_COLS;
    t[0] = 0; /* alloc_id: the rowid */
    p = an_w_col_int(&t[1], p, r->proc_id);
    p = an_w_col_int(&t[2], p, r->tid);
    p = an_w_col_int(&t[3], p, (int64_t)r->addr);
    p = an_w_col_int(&t[4], p, (int64_t)r->size);
    p = an_w_col_int(&t[5], p, (int64_t)r->usable);
    p = an_w_col_name(&t[6], p, an_w_name(w, w->fam, MT_FAM_COUNT, r->family));
    p = an_w_col_name(&t[7], p, an_w_name(w, w->api, AN_API_END, r->api));
    p = an_w_col_int(&t[8], p, r->realloc);
    p = an_w_col_int(&t[9], p, r->stack);
    p = an_w_col_int(&t[10], p, (int64_t)r->seq);
    p = an_w_col_int(&t[11], p, (int64_t)r->t_ns);
    memset(&t[12], 0, 5); /* NULL while never freed */
    if (r->freed) {
        p = an_w_col_int(&t[12], p, (int64_t)r->free_seq);
        p = an_w_col_int(&t[13], p, (int64_t)r->free_ns);
        p = an_w_col_int(&t[14], p, r->free_tid);
        p = an_w_col_name(&t[15], p, an_w_name(w, w->api, AN_API_END, r->free_api));
        if (r->free_stack) p = an_w_col_int(&t[16], p, r->free_stack);
    }
    p = an_w_col_int(&t[17], p, r->temporary);
    t[18] = 0;
    if (r->leak_class) p = an_w_col_name(&t[18], p, an_w_name(w, w->leak, 6, r->leak_class));
    size_t len = (size_t)(p - w->rec);
#ifndef NDEBUG /* the fast encoder writes what the general one writes */
    uint8_t *check = w->rec + DB_RECORD_MAX / 2;
    assert(an_w_encode_vals(w, r, check) == len && !memcmp(check, w->rec, len));
#endif
    return len;
}

/* The names of the enums, padded (AN_W_NAME_MAX); a longer one (a future
 * api) stays empty and is written as "?". */
static void an_w_name_set(struct an_wname *nm, const char *z)
{
    size_t n = z ? strlen(z) : 0;
    if (!n || n >= AN_W_NAME_MAX) return;
    memcpy(nm->z, z, n);
    nm->n = (uint32_t)n;
}

static void an_w_names(struct an_writer *w)
{
    for (unsigned i = 0; i < MT_FAM_COUNT; i++) an_w_name_set(&w->fam[i], trace_family_name(i));
    for (unsigned i = 0; i < AN_API_END; i++)
        an_w_name_set(&w->api[i],
                      i < MT_API_COUNT ? trace_api_name(i) : an_w_pool_apis[i - MT_API_COUNT]);
    for (unsigned i = 0; i < 6; i++) an_w_name_set(&w->leak[i], an_w_leak_names[i]);
    an_w_name_set(&w->unknown, "?");
}

/* Appends r to the B-tree, or to the spill when it is late (design note
 * 3). 0 or -errno with w->msg set. */
static int an_w_emit(struct an_writer *w, const struct an_arow *r)
{
    size_t len = an_w_encode(w, r);
    int rc = db_bulk_append(w->rows.bulk, r->alloc_id, w->rec, len);
    if (rc == DB_BULK_ORDER || rc == DB_BULK_BIG)
        rc = db_spill_add(w->rows.spill, r->alloc_id, w->rec, len);
    if (rc) snprintf(w->msg, sizeof w->msg, "writing allocations: %s", strerror(-rc));
    return rc;
}

/* ------------------------------------------------------------ ordering */

/* Appends the held rows below alloc_id `to`, smallest first; the window
 * then starts at `to`. */
static int an_wo_pass(struct an_writer *w, int64_t to)
{
    struct an_worder *o = &w->ord;
    int64_t end = to - o->base < (int64_t)AN_WO_ROWS ? to : o->base + AN_WO_ROWS;
    int rc = 0;
    for (int64_t id = o->base; id < end && !rc; id++) {
        struct an_arow *s = &o->slot[id & (AN_WO_ROWS - 1)];
        /* Not final yet, or not a row of ours. A slot is never cleared: an
         * old row in it has an id AN_WO_ROWS lower, never id. */
        if (s->alloc_id != id) continue;
        rc = an_w_emit(w, s);
    }
    o->base = to;
    return rc;
}

/* Takes one row into the window, moving the window on first if r is
 * beyond it; a row below the window is late and goes straight out. */
static int an_wo_place(struct an_writer *w, const struct an_arow *r)
{
    struct an_worder *o = &w->ord;
    int64_t id = r->alloc_id;
    if (id < o->base) return an_w_emit(w, r);
    if (id - o->base >= (int64_t)AN_WO_ROWS) {
        int rc = an_wo_pass(w, id - AN_WO_ROWS + 1);
        if (rc) return rc;
    }
    if (id > o->max) o->max = id;
    if (id != o->base) {
        o->slot[id & (AN_WO_ROWS - 1)] = *r;
        return 0;
    }
    /* The oldest row the window waits for: it and the run of final rows
     * after it go out now, while they are still in cache (held until the
     * window had to move, every slot was cold by then). */
    int rc = an_w_emit(w, r);
    while (!rc && ++o->base <= o->max) {
        const struct an_arow *s = &o->slot[o->base & (AN_WO_ROWS - 1)];
        if (s->alloc_id != o->base) break;
        rc = an_w_emit(w, s);
    }
    return rc;
}

/* Every row of one batch through the window. */
static int an_w_write(struct an_writer *w, const struct an_wbatch *b)
{
    size_t n = b->n; /* read once: the line is the analysis thread's too */
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) rc = an_wo_place(w, &b->rows[i]);
    return rc;
}

/* ------------------------------------------------------------ thread */

/* The writer as a batch thread (Linux SCHED_BATCH, same share of the CPU):
 * its wake-ups never preempt the analysis or the feed thread, the
 * critical path on two cores. Measured: 3-4 % less wall time with rows,
 * the same CPU time. Best effort: a failure changes nothing else. */
static void an_w_batch_policy(void)
{
#ifdef SCHED_BATCH
    struct sched_param sp = {0};
    pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
#endif
}

static void *an_w_main(void *arg)
{
    struct an_writer *w = arg;
    an_w_batch_policy();
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
    if (!w->err) w->err = an_wo_pass(w, w->ord.max + 1); /* the rows still held */
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Hands the filled batch to the writer (or writes it here without a
 * thread) and moves to the next free one. 0 or the writer's error. */
static int an_w_submit(struct an_state *st, struct an_writer *w)
{
    int rc;
    if (!w->threaded) {
        w->b[w->head].n = w->n_fill;
        rc = w->err ? w->err : an_w_write(w, &w->b[w->head]);
        w->b[w->head].n = w->n_fill = 0;
        if (rc) mt_errbuf_set(st->eb, "%s", w->msg);
        return w->err = rc;
    }
    pthread_mutex_lock(&w->mu);
    w->b[w->head].n = w->n_fill;
    w->head = (w->head + 1) % AN_WQ_BATCHES;
    w->n_queued++;
    pthread_cond_signal(&w->cv_full);
    while (w->n_queued == AN_WQ_BATCHES && !w->err) pthread_cond_wait(&w->cv_free, &w->mu);
    rc = w->err;
    pthread_mutex_unlock(&w->mu);
    w->fill = w->b[w->head].rows; /* free now: the writer is past it */
    w->n_fill = 0;
    if (rc) mt_errbuf_set(st->eb, "%s", w->msg);
    return rc;
}

/* ------------------------------------------------------------ exported */

int an_writer_row(struct an_state *st, const struct an_arow *row)
{
    struct an_writer *w = st->writer;
    /* The batch's lines were last read on the writer's core: ask for them
     * a few rows ahead, or every store waits for its line (measured: 3 to
     * 5 % of the analysis thread's time). */
    if (w->n_fill + AN_WQ_AHEAD < AN_WQ_ROWS)
        __builtin_prefetch(&w->fill[w->n_fill + AN_WQ_AHEAD], 1, 3);
    w->fill[w->n_fill++] = *row;
    return w->n_fill == AN_WQ_ROWS ? an_w_submit(st, w) : 0;
}

/* Reads one integer of the database (a pragma or the root page). */
static int an_w_query(struct an_state *st, const char *sql, int64_t *out)
{
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &q, NULL);
    if (rc == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
        *out = sqlite3_column_int64(q, 0);
    else
        mt_errbuf_set(st->eb, "reading the database layout: %s", sqlite3_errmsg(st->db));
    rc = rc == SQLITE_OK && sqlite3_column_type(q, 0) == SQLITE_INTEGER ? 0 : MT_ESQLITE;
    sqlite3_finalize(q);
    return rc;
}

/* The B-tree and the spill, next to the database being built. */
static int an_w_files(struct an_state *st, struct an_writer *w)
{
    int64_t page_size, n_pages, root;
    int reserved = -1; /* -1: only ask (SQLITE_FCNTL_RESERVE_BYTES) */
    int rc = an_w_query(st, "PRAGMA page_size", &page_size);
    if (!rc) rc = an_w_query(st, "PRAGMA page_count", &n_pages);
    if (!rc)
        rc = an_w_query(st,
                        "SELECT rootpage FROM sqlite_schema"
                        " WHERE type = 'table' AND name = 'allocations'",
                        &root);
    if (rc) return rc;
    if (sqlite3_file_control(st->db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserved) != SQLITE_OK ||
        reserved < 0)
        reserved = 0; /* a wrong guess only makes the splice refuse (an_rows.c falls back) */
    const char *db_path = sqlite3_db_filename(st->db, "main");
    size_t len = strlen(db_path) + 8;
    char *path = malloc(len);
    if (!path) return -ENOMEM;
    w->rows.root = (uint32_t)root;
    snprintf(path, len, "%s-rows", db_path);
    rc = db_bulk_open(&w->rows.bulk, path, (uint32_t)page_size, (uint32_t)reserved,
                      (uint32_t)n_pages + AN_W_RESERVE_PAGES);
    snprintf(path, len, "%s-spill", db_path);
    if (!rc) rc = db_spill_open(&w->rows.spill, path, AN_W_SPILL_MEM);
    if (rc) mt_errbuf_set(st->eb, "creating %s: %s", path, strerror(-rc));
    free(path);
    return rc;
}

int an_writer_start(struct an_state *st)
{
    struct an_writer *w = aligned_alloc(64, sizeof *w); /* for the _Alignas(64) lines */
    if (!w) return -ENOMEM;
    memset(w, 0, sizeof *w);
    w->st = st;
    st->writer = w;
    for (size_t i = 0; i < AN_WQ_BATCHES; i++)
        if (!(w->b[i].rows = malloc(AN_WQ_ROWS * sizeof *w->b[i].rows))) return -ENOMEM;
    w->fill = w->b[0].rows;
    w->ord.slot = calloc(AN_WO_ROWS, sizeof *w->ord.slot);
    w->ord.base = 1; /* alloc_ids start at 1 */
    w->rec = malloc(DB_RECORD_MAX);
    if (!w->ord.slot || !w->rec) return -ENOMEM;
    an_w_names(w);
    int rc = an_w_files(st, w);
    if (rc) return rc;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv_full, NULL);
    pthread_cond_init(&w->cv_free, NULL);
    w->have_sync = 1;
    w->threaded = pthread_create(&w->th, NULL, an_w_main, w) == 0; /* design note 5 */
    return 0;
}

/* Tells the thread to finish (abandon: with what is queued unwritten) and
 * joins it. */
static void an_w_join(struct an_writer *w, int abandon)
{
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    if (abandon && !w->err) w->err = -ECANCELED;
    pthread_cond_signal(&w->cv_full);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->th, NULL);
    w->threaded = 0;
}

int an_writer_stop(struct an_state *st)
{
    struct an_writer *w = st->writer;
    if (!w) return 0;
    int rc = w->n_fill ? an_w_submit(st, w) : 0;
    if (w->threaded)
        an_w_join(w, 0);
    else if (!rc && !w->err)
        w->err = an_wo_pass(w, w->ord.max + 1);
    if (!rc && w->err) {
        rc = w->err;
        mt_errbuf_set(st->eb, "%s", w->msg);
    }
    return rc;
}

unsigned an_writer_api_code(const char *name)
{
    for (unsigned i = 0; i < AN_API_END; i++)
        if (!strcmp(name, i < MT_API_COUNT ? trace_api_name(i) : an_w_pool_apis[i - MT_API_COUNT]))
            return i;
    return AN_API_END;
}

unsigned an_writer_leak_code(const char *name)
{
    for (unsigned i = 1; name && i < 6; i++)
        if (!strcmp(name, an_w_leak_names[i])) return i;
    return 0;
}

const struct an_rows *an_writer_rows(const struct an_state *st)
{
    return st->writer ? &st->writer->rows : NULL;
}

void an_writer_destroy(struct an_state *st)
{
    struct an_writer *w = st->writer;
    if (!w) return;
    if (w->threaded) an_w_join(w, 1);
    if (w->have_sync) {
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv_full);
        pthread_cond_destroy(&w->cv_free);
    }
    db_bulk_close(w->rows.bulk);
    db_spill_close(w->rows.spill);
    for (size_t i = 0; i < AN_WQ_BATCHES; i++) free(w->b[i].rows);
    free(w->ord.slot);
    free(w->rec);
    free(w);
    st->writer = NULL;
}
