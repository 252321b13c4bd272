/*
 * trace_reorder.c — per-(pid, gen) k-way merge of sorted runs, released in seq order
 *
 * Each thread of a target writes its own ring, and the collector drains the
 * rings one after the other, so a stream's records reach the file in runs:
 * a block holds the records of one ring with seqs increasing, and the runs
 * of different rings interleave. Seq numbers are dense from 0 per process
 * image (trace_format.h), so the exact order is a merge: each stream keeps
 * its open runs — a cursor into the chunk the reader unpacked the block
 * into — in a small min-heap by head seq, and releases the head whose seq
 * is the stream's next. Nothing is copied and nothing is queued: pop hands
 * out a pointer into the chunk.
 *
 * Design notes
 *   1. A run releases back to back while its seqs stay dense (one thread
 *      running alone); only when its head jumps is it sifted down the heap,
 *      which holds about one run per ring, so a few compares per jump.
 *   2. Chunks are refcounted: the reader holds the one it fills, every
 *      unconsumed run holds its own. A chunk whose last run is consumed
 *      goes back to a small pool (REORDER_POOL_IDLE), so steady state
 *      allocates nothing. Memory is the chunks spanned by the disorder —
 *      how far out of order the file is, in whole chunks — never the file's
 *      length: a stream ends at its MT_REC_PROC_END and is freed then. The
 *      chunk of a run that pop consumed is put back at the next pop, which
 *      keeps the record handed out valid until then.
 *   3. Corruption. A run whose first seq is below the stream's next repeats
 *      a seq (found at push). A seq in two runs is found when the second
 *      one reaches the heap's top below next: a few valid records may come
 *      out before the error. A run whose last seq is REORDER_MAX_GAP or more
 *      ahead of next at the first stall after its push is corrupt: while a
 *      run waits, next does not move, so this is exactly "some record held
 *      that far ahead" (no real disorder is that wide).
 *   4. If chunks alive pass the pending bound anyway, a stalled stream that
 *      was just fed skips to its lowest held seq, counting the gap as holes,
 *      until the chunks fall below the bound: the trace stays readable in
 *      bounded memory, and the holes say what was lost.
 *   5. At a stream's end (PROC_END, or end of file in stream creation order)
 *      its runs are merged out whatever the gaps; the seqs missing between
 *      them are counted as holes. PROC_END itself comes out after them.
 *
 * SPDX-License-Identifier: MIT
 */
#include "trace/trace_reorder.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "memtrace/error.h"

/* 2^24 seqs: 16x the records that 64 rings of 1 MiB can hold at once
 * (~2.8M of 24 bytes), so only a forged or corrupt seq is that far ahead. */
#define REORDER_MAX_GAP (1ull << 24)
/* 512 MiB of chunks alive before forcing streams forward (note 4). */
#define REORDER_MAX_PENDING (512ull << 20)
/* Initial hash buckets; a power of two so that & works. Doubles at load 1. */
#define REORDER_BUCKETS 64u
/* Idle chunks kept for reuse: a few are alive at once (note 2); larger
 * ones (a forged or huge block) are freed, not kept. */
#define REORDER_POOL_IDLE 8u
#define REORDER_POOL_MAX_CAP (16u << 20)
/* First heap size of a stream: one run per ring of a busy target. */
#define REORDER_RUNS_INIT 8u

/* An unconsumed part of a block: records in increasing seq. */
struct reorder_run {
    const uint8_t *cur;        /* next record to release, never a PAD */
    const uint8_t *end;        /* end of the run */
    uint64_t head;             /* seq of cur */
    struct trace_chunk *chunk; /* holds a reference while the run is open */
    uint32_t ring;             /* ring of the block */
};

struct reorder_stream {
    uint32_t pid, gen;
    uint64_t next_seq;        /* seq to release next */
    struct reorder_run *heap; /* owned, min-heap by head, n_runs of cap_runs */
    uint32_t n_runs, cap_runs;
    uint64_t check_last;                /* highest last seq pushed since the last stall */
    bool check;                         /* check_last to be checked (note 3) */
    struct reorder_stream *hnext;       /* hash chain */
    struct reorder_stream *prev, *next; /* creation order, for finish */
};

struct trace_reorder {
    struct reorder_stream **buckets; /* owned, n_buckets chains */
    size_t n_buckets;                /* power of two */
    size_t n_streams;
    struct reorder_stream *first, *last; /* creation order */
    struct reorder_stream *recent;       /* last stream found: blocks come in runs */
    struct reorder_stream *active;       /* stream pop releases from, or NULL */
    bool ending;                         /* active ends: merge everything, then free it */
    bool finishing;                      /* end of file: end every stream */
    const struct mt_rec_hdr *coll;       /* collector record to hand out after active */
    uint32_t coll_pid, coll_gen;
    struct trace_chunk *retired; /* chunk of the run the last pop consumed */
    struct trace_chunk *pool;    /* owned, idle chunks */
    size_t n_pool;
    uint64_t chunk_bytes; /* cap of the chunks alive */
    size_t n_chunks;      /* chunks alive */
    uint64_t max_pending; /* note 4 */
    uint64_t holes;
};

static inline uint64_t reorder_seq(const uint8_t *rec)
{
    return ((const struct mt_rec_common *)(const void *)rec)->seq;
}

/* ------------------------------------------------------------ chunks */

struct trace_chunk *trace_reorder_chunk_get(struct trace_reorder *ro, size_t min_cap)
{
    struct trace_chunk *c = ro->pool;
    if (c) {
        ro->pool = c->next;
        ro->n_pool--;
    } else if (!(c = calloc(1, sizeof *c))) {
        return NULL;
    }
    if (c->cap < min_cap) {
        uint8_t *d = realloc(c->data, min_cap);
        if (!d) {
            free(c->data);
            free(c);
            return NULL;
        }
        c->data = d;
        c->cap = min_cap;
    }
    c->next = NULL;
    c->len = 0;
    c->refs = 1;
    c->counted = c->cap;
    ro->chunk_bytes += c->cap;
    ro->n_chunks++;
    return c;
}

void trace_reorder_chunk_put(struct trace_reorder *ro, struct trace_chunk *c)
{
    if (!c || --c->refs > 0) return;
    ro->chunk_bytes -= c->counted;
    ro->n_chunks--;
    if (ro->n_pool < REORDER_POOL_IDLE && c->cap <= REORDER_POOL_MAX_CAP) {
        c->next = ro->pool;
        ro->pool = c;
        ro->n_pool++;
        return;
    }
    free(c->data);
    free(c);
}

/* Counts what the reader grew c by since it got it. */
static void reorder_chunk_count(struct trace_reorder *ro, struct trace_chunk *c)
{
    ro->chunk_bytes = ro->chunk_bytes - c->counted + c->cap;
    c->counted = c->cap;
}

/* ------------------------------------------------------------ streams */

static size_t reorder_hash(uint32_t pid, uint32_t gen, size_t n_buckets)
{
    uint64_t k = ((uint64_t)pid << 32 | gen) * 0x9e3779b97f4a7c15ull;
    return (size_t)(k >> 32) & (n_buckets - 1);
}

static int reorder_rehash(struct trace_reorder *ro)
{
    size_t n = ro->n_buckets * 2;
    struct reorder_stream **b = calloc(n, sizeof *b);
    if (!b) return -ENOMEM;
    for (struct reorder_stream *s = ro->first; s; s = s->next) {
        size_t h = reorder_hash(s->pid, s->gen, n);
        s->hnext = b[h];
        b[h] = s;
    }
    free(ro->buckets);
    ro->buckets = b;
    ro->n_buckets = n;
    return 0;
}

/* The stream of (pid, gen), or NULL if there is none. */
static struct reorder_stream *reorder_stream_find(struct trace_reorder *ro, uint32_t pid,
                                                  uint32_t gen)
{
    if (ro->recent && ro->recent->pid == pid && ro->recent->gen == gen) return ro->recent;
    for (struct reorder_stream *s = ro->buckets[reorder_hash(pid, gen, ro->n_buckets)]; s;
         s = s->hnext)
        if (s->pid == pid && s->gen == gen) return ro->recent = s;
    return NULL;
}

/* Finds or creates the stream of (pid, gen). NULL when out of memory. */
static struct reorder_stream *reorder_stream_get(struct trace_reorder *ro, uint32_t pid,
                                                 uint32_t gen)
{
    struct reorder_stream *s = reorder_stream_find(ro, pid, gen);
    if (s) return s;
    if (ro->n_streams >= ro->n_buckets) (void)reorder_rehash(ro); /* else chains grow */
    s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->pid = pid;
    s->gen = gen;
    size_t h = reorder_hash(pid, gen, ro->n_buckets);
    s->hnext = ro->buckets[h];
    ro->buckets[h] = s;
    s->prev = ro->last;
    if (ro->last)
        ro->last->next = s;
    else
        ro->first = s;
    ro->last = s;
    ro->n_streams++;
    return ro->recent = s;
}

/* Unlinks and frees a stream, putting back the chunks of its open runs. */
static void reorder_stream_drop(struct trace_reorder *ro, struct reorder_stream *s)
{
    if (ro->recent == s) ro->recent = NULL;
    if (ro->active == s) ro->active = NULL;
    struct reorder_stream **pp = &ro->buckets[reorder_hash(s->pid, s->gen, ro->n_buckets)];
    while (*pp != s) pp = &(*pp)->hnext;
    *pp = s->hnext;
    if (s->prev)
        s->prev->next = s->next;
    else
        ro->first = s->next;
    if (s->next)
        s->next->prev = s->prev;
    else
        ro->last = s->prev;
    ro->n_streams--;
    for (uint32_t i = 0; i < s->n_runs; i++) trace_reorder_chunk_put(ro, s->heap[i].chunk);
    free(s->heap);
    free(s);
}

/* ------------------------------------------------------------ run heap */

/* Restores the heap below i after heap[i].head grew. */
static void reorder_sift_down(struct reorder_stream *s, uint32_t i)
{
    struct reorder_run *a = s->heap;
    struct reorder_run x = a[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= s->n_runs) break;
        if (c + 1 < s->n_runs && a[c + 1].head < a[c].head) c++;
        if (a[c].head >= x.head) break;
        a[i] = a[c];
        i = c;
    }
    a[i] = x;
}

/* Adds run to the heap. 0 or -ENOMEM. */
static int reorder_heap_add(struct reorder_stream *s, const struct reorder_run *run)
{
    if (s->n_runs == s->cap_runs) {
        uint32_t n = s->cap_runs ? s->cap_runs * 2 : REORDER_RUNS_INIT;
        struct reorder_run *h = realloc(s->heap, n * sizeof *h);
        if (!h) return -ENOMEM;
        s->heap = h;
        s->cap_runs = n;
    }
    uint32_t i = s->n_runs++;
    while (i > 0 && s->heap[(i - 1) / 2].head > run->head) {
        s->heap[i] = s->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    s->heap[i] = *run;
    return 0;
}

/* Hands out the top run's head (its seq is next) and moves the run on. */
static int reorder_emit(struct trace_reorder *ro, struct reorder_stream *s, struct trace_event *ev)
{
    struct reorder_run *h = &s->heap[0];
    const struct mt_rec_hdr *rec = (const void *)h->cur;
    *ev = (struct trace_event){.pid = s->pid, .gen = s->gen, .ring = h->ring, .rec = rec};
    s->next_seq++;
    const uint8_t *p = h->cur + rec->len;
    while (p < h->end && ((const struct mt_rec_hdr *)(const void *)p)->kind == MT_REC_PAD)
        p += ((const struct mt_rec_hdr *)(const void *)p)->len;
    if (p < h->end) {
        h->cur = p;
        h->head = reorder_seq(p);
        /* dense: still the top (note 1); a duplicate below is found at the stall */
        if (h->head != s->next_seq) reorder_sift_down(s, 0);
        return 1;
    }
    ro->retired = h->chunk; /* put back at the next pop (note 2) */
    if (--s->n_runs > 0) {
        s->heap[0] = s->heap[s->n_runs];
        reorder_sift_down(s, 0);
    }
    return 1;
}

/* The top run of the active stream is not next (the heap is in order).
 * 1 when the stream skipped forward and releases on, 0 when it waits,
 * MT_ECORRUPT (notes 3-5). */
static int reorder_stall(struct trace_reorder *ro, struct reorder_stream *s, struct mt_errbuf *eb)
{
    uint64_t head = s->heap[0].head;
    if (head < s->next_seq) {
        mt_errbuf_set(eb, "pid %u gen %u: seq %llu appears twice", s->pid, s->gen,
                      (unsigned long long)head);
        return MT_ECORRUPT;
    }
    if (s->check) {
        s->check = false;
        uint64_t gap = s->check_last - s->next_seq;
        if (s->check_last > s->next_seq && gap >= REORDER_MAX_GAP) {
            mt_errbuf_set(eb, "pid %u gen %u: seq %llu is %llu ahead of the stream", s->pid, s->gen,
                          (unsigned long long)s->check_last, (unsigned long long)gap);
            return MT_ECORRUPT;
        }
    }
    if (!ro->ending && ro->chunk_bytes <= ro->max_pending) return 0;
    ro->holes += head - s->next_seq;
    s->next_seq = head;
    return 1;
}

/* ------------------------------------------------------------ exported */

struct trace_reorder *trace_reorder_create(void)
{
    struct trace_reorder *ro = calloc(1, sizeof *ro);
    if (!ro) return NULL;
    ro->n_buckets = REORDER_BUCKETS;
    ro->max_pending = REORDER_MAX_PENDING;
    ro->buckets = calloc(ro->n_buckets, sizeof *ro->buckets);
    if (!ro->buckets) {
        free(ro);
        return NULL;
    }
    return ro;
}

void trace_reorder_destroy(struct trace_reorder *ro)
{
    if (!ro) return;
    while (ro->first) reorder_stream_drop(ro, ro->first);
    trace_reorder_chunk_put(ro, ro->retired);
    while (ro->pool) {
        struct trace_chunk *c = ro->pool;
        ro->pool = c->next;
        free(c->data);
        free(c);
    }
    free(ro->buckets);
    free(ro);
}

int trace_reorder_push_run(struct trace_reorder *ro, uint32_t pid, uint32_t gen, uint32_t ring,
                           struct trace_chunk *c, const void *recs, size_t len, uint64_t last,
                           struct mt_errbuf *eb)
{
    struct reorder_stream *s = reorder_stream_get(ro, pid, gen);
    if (!s) return -ENOMEM;
    struct reorder_run run = {.cur = recs,
                              .end = (const uint8_t *)recs + len,
                              .head = reorder_seq(recs),
                              .chunk = c,
                              .ring = ring};
    if (run.head < s->next_seq) {
        mt_errbuf_set(eb, "pid %u gen %u: seq %llu appears twice", pid, gen,
                      (unsigned long long)run.head);
        return MT_ECORRUPT;
    }
    int rc = reorder_heap_add(s, &run);
    if (rc) return rc;
    c->refs++;
    reorder_chunk_count(ro, c);
    if (!s->check || last > s->check_last) s->check_last = last;
    s->check = true;
    ro->active = s;
    ro->ending = false;
    return 0;
}

void trace_reorder_push_collector(struct trace_reorder *ro, uint32_t pid, uint32_t gen,
                                  const struct mt_rec_hdr *rec)
{
    ro->coll = rec;
    ro->coll_pid = pid;
    ro->coll_gen = gen;
    if (rec->kind != MT_REC_PROC_END) return;
    const struct mt_rec_proc_end *pe = (const void *)rec;
    ro->active = reorder_stream_find(ro, pe->pid, pe->gen);
    ro->ending = ro->active != NULL;
}

void trace_reorder_finish(struct trace_reorder *ro)
{
    ro->finishing = true;
}

int trace_reorder_pop(struct trace_reorder *ro, struct trace_event *ev, struct mt_errbuf *eb)
{
    if (ro->retired) {
        trace_reorder_chunk_put(ro, ro->retired);
        ro->retired = NULL;
    }
    for (;;) {
        struct reorder_stream *s = ro->active;
        if (s && s->n_runs > 0) {
            if (s->heap[0].head == s->next_seq) return reorder_emit(ro, s, ev);
            int rc = reorder_stall(ro, s, eb);
            if (rc < 0) return rc;
            if (rc > 0) continue;
        }
        if (s) { /* waits, or holds nothing more */
            s->check = false;
            if (ro->ending) reorder_stream_drop(ro, s);
            ro->active = NULL;
            ro->ending = false;
        }
        if (ro->coll) {
            *ev = (struct trace_event){.pid = ro->coll_pid,
                                       .gen = ro->coll_gen,
                                       .ring = MT_RING_COLLECTOR,
                                       .rec = ro->coll};
            ro->coll = NULL;
            return 1;
        }
        if (!ro->finishing || !ro->first) return 0;
        ro->active = ro->first; /* note 5 */
        ro->ending = true;
    }
}

uint64_t trace_reorder_holes(const struct trace_reorder *ro)
{
    return ro->holes;
}

uint64_t trace_reorder_pending_bytes(const struct trace_reorder *ro)
{
    return ro->chunk_bytes;
}

size_t trace_reorder_chunks_alive(const struct trace_reorder *ro)
{
    return ro->n_chunks;
}

void trace_reorder_set_max_pending(struct trace_reorder *ro, uint64_t bytes)
{
    ro->max_pending = bytes;
}
