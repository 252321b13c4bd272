/*
 * trace_reorder.c — per-(pid, gen) reorder window that releases records in seq order
 *
 * Each thread of a target writes its own ring, and the collector drains the
 * rings one after the other, so a stream's records reach the file in runs
 * that interleave out of seq order. Seq numbers are dense from 0 per process
 * image (trace_format.h), so the exact order is restored with a window keyed
 * by seq: a record whose seq is the stream's next is released at once (no
 * copy), a later one is copied into the window slot seq % cap, and every
 * release also releases the run of held records that follows it.
 *
 * Design notes
 *   1. Memory is bounded by how far out of order the file is (at most the
 *      target's total ring capacity), never by its length: a stream ends at
 *      its MT_REC_PROC_END and is freed then.
 *   2. A seq below the stream's next, or a seq seen twice, is corruption.
 *      A jump of REORDER_MAX_GAP or more is corruption too (no real window
 *      is that wide), which keeps a forged seq from sizing the window.
 *   3. If held bytes pass REORDER_MAX_PENDING anyway, the stream being fed
 *      skips to its lowest held seq and counts the gap as holes: the trace
 *      stays readable in bounded memory, and the holes say what was lost.
 *   4. At a stream's end (PROC_END or end of file) held records are released
 *      in seq order; the seqs missing between them are counted as holes.
 *   5. Held copies come from a size-class slab, not malloc: with N threads
 *      writing one process, about (N-1)/N of its records arrive ahead of
 *      their seq and are held, and malloc + free of each was a third of the
 *      reader's time. Records up to REORDER_SLAB_MAX bytes take a chunk of
 *      their 16-byte class from a free list; slabs are kept until destroy,
 *      so memory stays at the largest window ever held (note 1).
 *
 * SPDX-License-Identifier: MIT
 */
#include "trace/trace_reorder.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "memtrace/error.h"

/* 2^24 seqs: 16x the records that 64 rings of 1 MiB can hold at once
 * (~2.8M of 24 bytes), so only a forged or corrupt seq is that far ahead. */
#define REORDER_MAX_GAP (1ull << 24)
/* 512 MiB held back in total before forcing streams forward (note 3). */
#define REORDER_MAX_PENDING (512ull << 20)
/* Initial hash buckets; a power of two so that & works. Doubles at load 1. */
#define REORDER_BUCKETS 64u
/* Held-record slab (design note 5): classes of 16 bytes up to 512 bytes,
 * carved from 64 KiB slabs. Larger records (modules, sessions) use malloc. */
#define REORDER_SLAB_CLASS 16u
#define REORDER_SLAB_MAX 512u
#define REORDER_SLAB_BYTES (64u << 10)
#define REORDER_N_CLASSES (REORDER_SLAB_MAX / REORDER_SLAB_CLASS)

struct reorder_slot {
    struct mt_rec_hdr *rec; /* owned copy, NULL when the slot is empty */
    uint32_t ring;          /* ring of the block it came from */
};

struct reorder_stream {
    uint32_t pid, gen;
    uint64_t next_seq;          /* seq to release next */
    struct reorder_slot *win;   /* owned, cap slots, indexed seq & (cap-1) */
    uint64_t cap;               /* 0 or a power of two */
    uint64_t n_held;            /* occupied slots */
    struct reorder_stream *hnext; /* hash chain */
    struct reorder_stream *prev, *next; /* creation order, for finish */
};

struct reorder_item {
    uint32_t pid, gen, ring;
    const struct mt_rec_hdr *rec; /* borrowed from the frame, or owned */
    bool owned;
};

/* A free chunk of a slab class links to the next free one. */
struct reorder_chunk {
    struct reorder_chunk *next;
};

/* A slab: this header, then chunks of one class. Slabs chain for destroy. */
struct reorder_slab {
    struct reorder_slab *next;
    _Alignas(16) char mem[];
};

struct trace_reorder {
    struct reorder_stream **buckets; /* owned, n_buckets chains */
    size_t n_buckets;                /* power of two */
    size_t n_streams;
    struct reorder_stream *first, *last; /* creation order */
    struct reorder_stream *recent;   /* last stream found: blocks come in runs */
    struct reorder_item *q;          /* owned ring buffer of ready events */
    size_t q_cap, q_head, q_len;
    struct mt_rec_hdr *last_owned;   /* record handed out last, freed next pop */
    uint64_t holes;
    uint64_t held_bytes;
    struct reorder_chunk *free_chunks[REORDER_N_CLASSES]; /* by class */
    struct reorder_slab *slabs;      /* owned, every slab ever carved */
};

/* ------------------------------------------------------------ held copies */

static size_t reorder_class(uint32_t len)
{
    return (len + REORDER_SLAB_CLASS - 1) / REORDER_SLAB_CLASS - 1;
}

/* Carves a new slab into chunks of class c. 0 or -ENOMEM. */
static int reorder_slab_add(struct trace_reorder *ro, size_t c)
{
    size_t size = (c + 1) * REORDER_SLAB_CLASS;
    struct reorder_slab *sl = malloc(sizeof *sl + REORDER_SLAB_BYTES);
    if (!sl) return -ENOMEM;
    sl->next = ro->slabs;
    ro->slabs = sl;
    for (size_t off = 0; off + size <= REORDER_SLAB_BYTES; off += size) {
        struct reorder_chunk *ch = (struct reorder_chunk *)(sl->mem + off);
        ch->next = ro->free_chunks[c];
        ro->free_chunks[c] = ch;
    }
    return 0;
}

/* A copy of rec that outlives the frame it came from. NULL if out of memory. */
static struct mt_rec_hdr *reorder_copy(struct trace_reorder *ro, const struct mt_rec_hdr *rec)
{
    void *p;
    if (rec->len > REORDER_SLAB_MAX || rec->len == 0) {
        p = malloc(rec->len ? rec->len : 1);
    } else {
        size_t c = reorder_class(rec->len);
        if (!ro->free_chunks[c] && reorder_slab_add(ro, c)) return NULL;
        p = ro->free_chunks[c];
        ro->free_chunks[c] = ro->free_chunks[c]->next;
    }
    if (p) memcpy(p, rec, rec->len);
    return p;
}

/* Returns a copy made by reorder_copy (NULL is ignored). */
static void reorder_copy_free(struct trace_reorder *ro, struct mt_rec_hdr *rec)
{
    if (!rec) return;
    if (rec->len > REORDER_SLAB_MAX || rec->len == 0) {
        free(rec);
        return;
    }
    struct reorder_chunk *ch = (struct reorder_chunk *)rec;
    size_t c = reorder_class(rec->len);
    ch->next = ro->free_chunks[c];
    ro->free_chunks[c] = ch;
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

/* Finds or creates the stream of (pid, gen). NULL when out of memory. */
static struct reorder_stream *reorder_stream_get(struct trace_reorder *ro, uint32_t pid,
                                                 uint32_t gen)
{
    if (ro->recent && ro->recent->pid == pid && ro->recent->gen == gen) return ro->recent;
    size_t h = reorder_hash(pid, gen, ro->n_buckets);
    for (struct reorder_stream *s = ro->buckets[h]; s; s = s->hnext)
        if (s->pid == pid && s->gen == gen) return ro->recent = s;
    if (ro->n_streams >= ro->n_buckets && reorder_rehash(ro) == 0)
        h = reorder_hash(pid, gen, ro->n_buckets);
    struct reorder_stream *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->pid = pid;
    s->gen = gen;
    s->hnext = ro->buckets[h];
    ro->buckets[h] = s;
    s->prev = ro->last;
    if (ro->last) ro->last->next = s;
    else ro->first = s;
    ro->last = s;
    ro->n_streams++;
    return ro->recent = s;
}

/* Unlinks and frees a stream whose window is empty. */
static void reorder_stream_drop(struct trace_reorder *ro, struct reorder_stream *s)
{
    if (ro->recent == s) ro->recent = NULL;
    struct reorder_stream **pp = &ro->buckets[reorder_hash(s->pid, s->gen, ro->n_buckets)];
    while (*pp != s) pp = &(*pp)->hnext;
    *pp = s->hnext;
    if (s->prev) s->prev->next = s->next;
    else ro->first = s->next;
    if (s->next) s->next->prev = s->prev;
    else ro->last = s->prev;
    ro->n_streams--;
    free(s->win);
    free(s);
}

/* ------------------------------------------------------------ ready queue */

static int reorder_enqueue(struct trace_reorder *ro, uint32_t pid, uint32_t gen, uint32_t ring,
                           const struct mt_rec_hdr *rec, bool owned)
{
    if (ro->q_len == ro->q_cap) {
        size_t n = ro->q_cap ? ro->q_cap * 2 : 256;
        struct reorder_item *q = malloc(n * sizeof *q);
        if (!q) return -ENOMEM;
        for (size_t i = 0; i < ro->q_len; i++) q[i] = ro->q[(ro->q_head + i) % ro->q_cap];
        free(ro->q);
        ro->q = q;
        ro->q_cap = n;
        ro->q_head = 0;
    }
    ro->q[(ro->q_head + ro->q_len) % ro->q_cap] =
        (struct reorder_item){.pid = pid, .gen = gen, .ring = ring, .rec = rec, .owned = owned};
    ro->q_len++;
    return 0;
}

/* Moves the held run starting at s->next_seq to the ready queue. */
static int reorder_release_run(struct trace_reorder *ro, struct reorder_stream *s)
{
    while (s->n_held > 0) {
        struct reorder_slot *slot = &s->win[s->next_seq & (s->cap - 1)];
        if (!slot->rec) return 0;
        int rc = reorder_enqueue(ro, s->pid, s->gen, slot->ring, slot->rec, true);
        if (rc) return rc;
        ro->held_bytes -= slot->rec->len;
        slot->rec = NULL;
        s->n_held--;
        s->next_seq++;
    }
    return 0;
}

/* Skips s->next_seq forward to its lowest held seq, counting holes. */
static void reorder_skip_gap(struct trace_reorder *ro, struct reorder_stream *s)
{
    while (s->n_held > 0 && !s->win[s->next_seq & (s->cap - 1)].rec) {
        s->next_seq++;
        ro->holes++;
    }
}

/* Releases everything s holds, in seq order, then frees s. */
static int reorder_stream_end(struct trace_reorder *ro, struct reorder_stream *s)
{
    while (s->n_held > 0) {
        reorder_skip_gap(ro, s);
        int rc = reorder_release_run(ro, s);
        if (rc) return rc;
    }
    reorder_stream_drop(ro, s);
    return 0;
}

/* ------------------------------------------------------------ window */

/* Grows s's window so that seq fits: cap > seq - next_seq. */
static int reorder_window_grow(struct reorder_stream *s, uint64_t gap)
{
    uint64_t n = s->cap ? s->cap : 64;
    while (n <= gap) n *= 2;
    struct reorder_slot *w = calloc(n, sizeof *w);
    if (!w) return -ENOMEM;
    for (uint64_t i = 0; i < s->cap; i++) {
        if (!s->win[i].rec) continue;
        uint64_t seq = ((const struct mt_rec_common *)s->win[i].rec)->seq;
        w[seq & (n - 1)] = s->win[i];
    }
    free(s->win);
    s->win = w;
    s->cap = n;
    return 0;
}

/* Copies rec into the window of s (its seq is ahead of next_seq). */
static int reorder_hold(struct trace_reorder *ro, struct reorder_stream *s, uint32_t ring,
                        const struct mt_rec_hdr *rec, uint64_t seq, struct mt_errbuf *eb)
{
    uint64_t gap = seq - s->next_seq;
    if (gap >= REORDER_MAX_GAP) {
        mt_errbuf_set(eb, "pid %u gen %u: seq %llu is %llu ahead of the stream", s->pid, s->gen,
                      (unsigned long long)seq, (unsigned long long)gap);
        return MT_ECORRUPT;
    }
    if (gap >= s->cap) {
        int rc = reorder_window_grow(s, gap);
        if (rc) return rc;
    }
    struct reorder_slot *slot = &s->win[seq & (s->cap - 1)];
    if (slot->rec) {
        mt_errbuf_set(eb, "pid %u gen %u: seq %llu appears twice", s->pid, s->gen,
                      (unsigned long long)seq);
        return MT_ECORRUPT;
    }
    slot->rec = reorder_copy(ro, rec);
    if (!slot->rec) return -ENOMEM;
    slot->ring = ring;
    s->n_held++;
    ro->held_bytes += rec->len;
    if (ro->held_bytes > REORDER_MAX_PENDING) { /* design note 3 */
        reorder_skip_gap(ro, s);
        return reorder_release_run(ro, s);
    }
    return 0;
}

/* A record of a preload ring. */
static int reorder_push_seq(struct trace_reorder *ro, uint32_t pid, uint32_t gen, uint32_t ring,
                            const struct mt_rec_hdr *rec, struct mt_errbuf *eb)
{
    struct reorder_stream *s = reorder_stream_get(ro, pid, gen);
    if (!s) return -ENOMEM;
    uint64_t seq = ((const struct mt_rec_common *)rec)->seq;
    if (seq < s->next_seq) {
        mt_errbuf_set(eb, "pid %u gen %u: seq %llu appears twice", pid, gen,
                      (unsigned long long)seq);
        return MT_ECORRUPT;
    }
    if (seq > s->next_seq) return reorder_hold(ro, s, ring, rec, seq, eb);
    int rc = reorder_enqueue(ro, pid, gen, ring, rec, false);
    if (rc) return rc;
    s->next_seq++;
    return reorder_release_run(ro, s);
}

/* ------------------------------------------------------------ exported */

struct trace_reorder *trace_reorder_create(void)
{
    struct trace_reorder *ro = calloc(1, sizeof *ro);
    if (!ro) return NULL;
    ro->n_buckets = REORDER_BUCKETS;
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
    while (ro->first) {
        struct reorder_stream *s = ro->first;
        for (uint64_t i = 0; i < s->cap; i++) reorder_copy_free(ro, s->win[i].rec);
        s->n_held = 0;
        reorder_stream_drop(ro, s);
    }
    for (size_t i = 0; i < ro->q_len; i++) {
        struct reorder_item *it = &ro->q[(ro->q_head + i) % ro->q_cap];
        if (it->owned) reorder_copy_free(ro, (struct mt_rec_hdr *)it->rec);
    }
    free(ro->q);
    reorder_copy_free(ro, ro->last_owned);
    while (ro->slabs) {
        struct reorder_slab *sl = ro->slabs;
        ro->slabs = sl->next;
        free(sl);
    }
    free(ro->buckets);
    free(ro);
}

int trace_reorder_push(struct trace_reorder *ro, uint32_t pid, uint32_t gen, uint32_t ring,
                       const struct mt_rec_hdr *rec, struct mt_errbuf *eb)
{
    if (ring != MT_RING_COLLECTOR) return reorder_push_seq(ro, pid, gen, ring, rec, eb);
    if (rec->kind == MT_REC_PROC_END) {
        const struct mt_rec_proc_end *pe = (const void *)rec;
        struct reorder_stream *s = reorder_stream_get(ro, pe->pid, pe->gen);
        if (!s) return -ENOMEM;
        int rc = reorder_stream_end(ro, s);
        if (rc) return rc;
    }
    return reorder_enqueue(ro, pid, gen, ring, rec, false);
}

int trace_reorder_finish(struct trace_reorder *ro)
{
    while (ro->first) {
        int rc = reorder_stream_end(ro, ro->first);
        if (rc) return rc;
    }
    return 0;
}

int trace_reorder_pop(struct trace_reorder *ro, struct trace_event *ev)
{
    reorder_copy_free(ro, ro->last_owned);
    ro->last_owned = NULL;
    if (ro->q_len == 0) return 0;
    struct reorder_item *it = &ro->q[ro->q_head];
    ro->q_head = (ro->q_head + 1) % ro->q_cap;
    ro->q_len--;
    *ev = (struct trace_event){.pid = it->pid, .gen = it->gen, .ring = it->ring, .rec = it->rec};
    if (it->owned) ro->last_owned = (void *)it->rec;
    return 1;
}

uint64_t trace_reorder_holes(const struct trace_reorder *ro)
{
    return ro->holes;
}

uint64_t trace_reorder_pending_bytes(const struct trace_reorder *ro)
{
    return ro->held_bytes;
}
