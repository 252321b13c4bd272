/*
 * live_agg.c — live aggregation of the record stream (runs in the collector's process)
 *
 * The collector calls live_agg_feed() with every block it drains, before or
 * after writing it to the trace; `memtrace tui --replay` feeds a recorded
 * trace the same way. Nothing here touches the target. Figures follow
 * docs/metrics.md where the database has the same figure (live heap, peak
 * as the session total, allocations, frees, errors), so that the final
 * screen of a live session equals its database. Docs: docs/tui.md.
 *
 * Design notes
 *   1. Order: each thread writes its own ring and the collector drains the
 *      rings one after the other, so a free may reach us before the
 *      allocation it frees. Seq numbers are dense per process image, so
 *      a reorder window per image (live_order.c, the trace reader's rules
 *      without its per-record copies) restores the exact order; a record
 *      is applied only when every earlier one of its image has been.
 *   2. A block's figures belong to its allocating (site, thread) cell until
 *      it is freed, whoever frees it; a free of an address never seen
 *      allocated (inherited across fork) changes nothing, as in the
 *      database (session.unmatched_frees).
 *   3. Errors: NOT_LIVE is a double free when the address was freed before
 *      and is not live again (one map: a freed block keeps its entry,
 *      flagged, until the address is allocated again), else an invalid free (the analyzer refines
 *      further with the segment maps; the panel needs only the headline).
 *   4. History: one point per hist_step_ns, holding the largest heap seen
 *      in it and the last RSS total; when LIVE_HIST_POINTS are used, pairs
 *      merge and the step doubles, so any run length fits the chart.
 *   5. Locking: feed holds mu for one block; snapshots copy under mu and
 *      symbolize outside it (live_sym.c), so the collector never waits on
 *      DWARF.
 *   6. Client API records (pools, chunks, markers, leak checks) go to
 *      live_pool.c; a chunk counts like a malloc block, a malloc block
 *      declared a superblock leaves the heap figures (LIVE_BLOCK_SB).
 *      LEAK records of an on-demand leak check are not the exit scan's.
 *
 * SPDX-License-Identifier: MIT
 */
#include "live/live_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "memtrace/error.h"
#include "trace/trace.h"

#define LIVE_HIST_STEP0_NS 10000000ull /* note 4: 10 ms, the default sample period */
/* The per-record helpers that live_pool.c's wrappers share with the hot
 * paths: inlined into both, so ALLOC and FREE cost no extra call. */
#define LIVE_INLINE static inline __attribute__((always_inline))

/* ------------------------------------------------------------ processes */

struct live_proc *live_proc_find(struct live_agg *a, uint32_t pid, uint32_t gen)
{
    for (struct live_proc *p = a->procs; p; p = p->next)
        if (p->pid == pid && p->gen == gen) return p;
    return NULL;
}

static struct live_proc *live_proc_get(struct live_agg *a, uint32_t pid, uint32_t gen)
{
    struct live_proc *p = live_proc_find(a, pid, gen);
    if (p) return p;
    p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->pid = pid;
    p->gen = gen;
    p->errors_checked = -1;
    if (a->procs_last) a->procs_last->next = p;
    else a->procs = p;
    a->procs_last = p;
    a->n_procs++;
    return p;
}

static void live_proc_free(struct live_proc *p)
{
    live_order_fini(&p->ord);
    live_map_fini(&p->blocks);
    live_map_fini(&p->cell_of);
    live_map_fini(&p->thr_of);
    live_pool_free_all(p);
    for (size_t i = 0; i < p->n_stacks; i++) {
        free(p->stacks[i].label);
        free(p->stacks[i].search);
    }
    for (size_t i = 0; i < p->n_mods; i++) {
        free(p->mods[i].path);
        free(p->mods[i].segs);
    }
    free(p->stacks);
    free(p->mods);
    free(p->frames);
    free(p->cells);
    free(p->threads);
    free(p->exe);
    free(p);
}

struct live_stack *live_stack_find(struct live_proc *p, uint32_t id, struct live_proc **owner)
{
    while (p) {
        if (id < p->n_stacks && p->stacks[id].defined) {
            *owner = p;
            return &p->stacks[id];
        }
        /* ids below the watermark were interned by the fork parent */
        p = id < p->stack_watermark ? p->parent : NULL;
    }
    return NULL;
}

/* Thread entry of tid, created on first use. NULL when out of memory.
 * A block holds one thread's records, so the last tid usually hits. */
static struct live_thread *live_thread_get(struct live_proc *p, uint32_t tid)
{
    if (p->n_threads && p->last_tid == tid) return &p->threads[p->last_thread];
    uint64_t idx;
    if (!live_map_get(&p->thr_of, tid, &idx, NULL)) {
        if (live_reserve((void **)&p->threads, &p->cap_threads, p->n_threads + 1,
                         sizeof *p->threads))
            return NULL;
        if (live_map_put(&p->thr_of, tid, p->n_threads, 0)) return NULL;
        idx = p->n_threads++;
        memset(&p->threads[idx], 0, sizeof p->threads[idx]);
        p->threads[idx].tid = tid;
    }
    p->last_tid = tid;
    p->last_thread = (size_t)idx;
    return &p->threads[idx];
}

/* Cell of (stack, tid), created (with its thread) on first use. NULL when
 * out of memory. */
LIVE_INLINE struct live_cell *live_cell_get(struct live_proc *p, uint32_t stack_id, uint32_t tid)
{
    int created;
    uint64_t *v = live_map_upsert(&p->cell_of, (uint64_t)stack_id << 32 | tid, &created);
    if (!v) return NULL;
    if (!created) return &p->cells[v[0]];
    v[0] = p->n_cells;
    struct live_thread *t = live_thread_get(p, tid);
    if (!t || live_reserve((void **)&p->cells, &p->cap_cells, p->n_cells + 1, sizeof *p->cells)) {
        live_map_del(&p->cell_of, (uint64_t)stack_id << 32 | tid, NULL, NULL);
        return NULL;
    }
    struct live_cell *c = &p->cells[p->n_cells++];
    memset(c, 0, sizeof *c);
    c->stack_id = stack_id;
    c->tid = tid;
    c->thread_idx = (uint32_t)(t - p->threads);
    return c;
}

/* ------------------------------------------------------------ history */

static void live_hist_merge(struct live_agg *a)
{
    size_t n = a->n_hist / 2;
    for (size_t i = 0; i < n; i++) {
        struct live_hist_point *x = &a->hist[2 * i], *y = &a->hist[2 * i + 1];
        a->hist[i] = (struct live_hist_point){
            .t_ns = y->t_ns,
            .heap_bytes = x->heap_bytes > y->heap_bytes ? x->heap_bytes : y->heap_bytes,
            .rss_bytes = y->rss_bytes,
        };
        a->hist_n_allocs[i] = a->hist_n_allocs[2 * i + 1];
        a->hist_n_frees[i] = a->hist_n_frees[2 * i + 1];
    }
    if (a->n_hist % 2) {
        a->hist[n] = a->hist[a->n_hist - 1];
        a->hist_n_allocs[n] = a->hist_n_allocs[a->n_hist - 1];
        a->hist_n_frees[n] = a->hist_n_frees[a->n_hist - 1];
        n++;
    }
    a->n_hist = n;
    a->hist_step_ns *= 2;
}

uint64_t live_agg_rss_total(const struct live_agg *a)
{
    uint64_t rss = 0;
    for (const struct live_proc *p = a->procs; p; p = p->next)
        if (!p->ended) rss += p->rss;
    return rss;
}

/* Design note 4: the point of t_ns (session-relative) gets the figures of now. */
static void live_hist_note(struct live_agg *a, uint64_t t_ns)
{
    uint64_t slot_end = (t_ns / a->hist_step_ns + 1) * a->hist_step_ns;
    struct live_hist_point *last = a->n_hist ? &a->hist[a->n_hist - 1] : NULL;
    if (!last || last->t_ns < slot_end) {
        if (a->n_hist == LIVE_HIST_POINTS) {
            live_hist_merge(a);
            return live_hist_note(a, t_ns);
        }
        last = &a->hist[a->n_hist++];
        *last = (struct live_hist_point){.t_ns = slot_end};
    }
    if (a->live_bytes > last->heap_bytes) last->heap_bytes = a->live_bytes;
    last->rss_bytes = live_agg_rss_total(a);
    a->hist_n_allocs[a->n_hist - 1] = a->n_allocs;
    a->hist_n_frees[a->n_hist - 1] = a->n_frees;
}

uint64_t live_rel(struct live_agg *a, uint64_t t_ns)
{
    if (!a->have_start) {
        a->start_ns = t_ns;
        a->have_start = 1;
    }
    uint64_t rel = t_ns > a->start_ns ? t_ns - a->start_ns : 0;
    if (rel > a->last_ns) a->last_ns = rel;
    return rel;
}

/* ------------------------------------------------------------ records */

static int live_on_process(struct live_agg *a, struct live_proc *p,
                           const struct mt_rec_process *r)
{
    p->ppid = r->ppid;
    p->parent_gen = r->parent_gen;
    p->errors_checked = !(r->opt_flags & MT_OPT_NO_ERRORS);
    p->stack_watermark = r->stack_watermark;
    p->module_watermark = r->module_watermark;
    if (r->c.hdr.flags & MT_PROC_F_FORKED) p->parent = live_proc_find(a, r->ppid, r->parent_gen);
    free(p->exe);
    p->exe = strndup((const char *)(r + 1), r->exe_len);
    if (!p->exe) return -ENOMEM;
    if (!a->command[0] && r->argv_len) { /* replay of a trace without SESSION */
        const char *argv = (const char *)(r + 1) + r->exe_len;
        snprintf(a->command, sizeof a->command, "%.*s", (int)strnlen(argv, r->argv_len), argv);
    }
    return 0;
}

static int live_on_module(struct live_proc *p, const struct mt_rec_module *r)
{
    uint32_t id = r->module_id;
    if (id >= p->n_mods) {
        size_t cap = p->n_mods;
        if (live_reserve((void **)&p->mods, &cap, id + 1, sizeof *p->mods)) return -ENOMEM;
        memset(p->mods + p->n_mods, 0, (cap - p->n_mods) * sizeof *p->mods);
        p->n_mods = cap;
    }
    struct live_module *m = &p->mods[id];
    free(m->path);
    free(m->segs);
    memset(m, 0, sizeof *m);
    const struct mt_segment *segs = (const struct mt_segment *)(r + 1);
    m->path = strndup((const char *)(segs + r->n_segments), r->path_len);
    m->segs = malloc((r->n_segments + 1) * sizeof *segs);
    if (!m->path || !m->segs) return -ENOMEM;
    memcpy(m->segs, segs, r->n_segments * sizeof *segs);
    m->n_segs = r->n_segments;
    m->present = 1;
    m->handle = -2;
    m->bias = r->load_bias;
    m->build_id_len = r->build_id_len > 40 ? 40 : r->build_id_len;
    memcpy(m->build_id, r->build_id, m->build_id_len);
    const char *base = strrchr(m->path, '/');
    m->is_memtrace = !strncmp(base ? base + 1 : m->path, "libmemtrace", 11);
    m->lo = UINT64_MAX;
    for (uint32_t i = 0; i < m->n_segs; i++) {
        uint64_t lo = m->bias + segs[i].vaddr, hi = lo + segs[i].memsz;
        if (lo < m->lo) m->lo = lo;
        if (hi > m->hi) m->hi = hi;
    }
    return 0;
}

static int live_on_stack(struct live_proc *p, const struct mt_rec_stack *r)
{
    uint32_t id = r->stack_id;
    if (id >= p->n_stacks) {
        size_t cap = p->n_stacks;
        if (live_reserve((void **)&p->stacks, &cap, id + 1, sizeof *p->stacks)) return -ENOMEM;
        memset(p->stacks + p->n_stacks, 0, (cap - p->n_stacks) * sizeof *p->stacks);
        p->n_stacks = cap;
    }
    if (live_reserve((void **)&p->frames, &p->cap_frames, p->n_frames + r->n_frames,
                     sizeof *p->frames))
        return -ENOMEM;
    if (r->n_frames) /* an empty stack: p->frames may still be NULL */
        memcpy(p->frames + p->n_frames, r + 1, r->n_frames * sizeof *p->frames);
    struct live_stack *s = &p->stacks[id];
    s->off = (uint32_t)p->n_frames;
    s->n = r->n_frames;
    s->defined = 1;
    p->n_frames += r->n_frames;
    return 0;
}

/* Counts an allocation of size bytes in cell c (a malloc block at addr,
 * or a chunk: addr 0, never a superblock). live_pool.c goes through
 * live_count_chunk(). */
LIVE_INLINE void live_count_alloc(struct live_agg *a, struct live_proc *p, struct live_cell *c,
                                  uint64_t size, uint64_t t_ns, uint64_t addr)
{
    struct live_thread *t = &p->threads[c->thread_idx];
    uint64_t p_peak = p->peak_bytes, a_peak = a->peak_bytes, a_peak_ns = a->peak_ns;
    c->n_allocs++, c->alloc_bytes += size, c->live_bytes += size, c->live_blocks++;
    t->n_allocs++, t->alloc_bytes += size, t->live_bytes += size;
    p->n_allocs++, p->alloc_bytes += size, p->live_bytes += size, p->live_blocks++;
    a->n_allocs++, a->alloc_bytes += size, a->live_bytes += size, a->live_blocks++;
    if (p->live_bytes > p->peak_bytes) p->peak_bytes = p->live_bytes;
    if (a->live_bytes > a->peak_bytes) {
        a->peak_bytes = a->live_bytes;
        a->peak_ns = live_rel(a, t_ns);
    }
    if (__builtin_expect(p->n_pools != 0, 0)) /* note 6: it may be a superblock */
        p->pre_peak = (struct live_peak_save){.addr = addr,
                                              .p_peak = p_peak,
                                              .a_peak = a_peak,
                                              .a_peak_ns = a_peak_ns,
                                              .a_after = a->peak_bytes,
                                              .a_after_ns = a->peak_ns};
}

static int live_on_alloc(struct live_agg *a, struct live_proc *p, const struct mt_rec_alloc *r)
{
    int created;
    uint64_t *blk = live_map_upsert(&p->blocks, r->addr, &created);
    struct live_cell *c = blk ? live_cell_get(p, r->stack_id, r->tid) : NULL;
    if (!c) return -ENOMEM;
    blk[0] = r->size; /* a freed entry of the address is replaced (note 3) */
    blk[1] = (uint64_t)(c - p->cells);
    live_count_alloc(a, p, c, r->size, r->c.t_ns, r->addr);
    return 0;
}

/* Moves a block of size bytes of cell out of (sign < 0) or into the live
 * figures of its cell, thread, process and the session. */
LIVE_INLINE void live_block_move(struct live_agg *a, struct live_proc *p, uint64_t size,
                                 uint64_t cell, int sign)
{
    struct live_cell *c = &p->cells[cell];
    uint64_t d = sign > 0 ? size : (uint64_t)0 - size; /* modular: adds or subtracts */
    uint64_t n = sign > 0 ? 1 : (uint64_t)0 - 1;
    c->live_bytes += d, c->live_blocks += n;
    p->threads[c->thread_idx].live_bytes += d;
    p->live_bytes += d, p->live_blocks += n;
    a->live_bytes += d, a->live_blocks += n;
}

/* Counts the free of the live block or chunk whose values blk holds and
 * flags it freed. 0 or -ENOMEM. */
LIVE_INLINE int live_count_free(struct live_agg *a, struct live_proc *p, uint64_t *blk,
                                uint32_t tid)
{
    struct live_thread *t = live_thread_get(p, tid);
    if (!t) return -ENOMEM;
    t->n_frees++, p->n_frees++, a->n_frees++; /* as metrics.md: frees of known blocks */
    p->cells[blk[1]].n_frees++;
    live_block_move(a, p, blk[0], blk[1], -1);
    blk[1] |= LIVE_BLOCK_FREED; /* kept for the error kind of a later free */
    p->pre_peak.addr = 0;       /* a peak that a later free followed stays (note 6) */
    return 0;
}

static int live_on_free(struct live_agg *a, struct live_proc *p, const struct mt_rec_free *r)
{
    uint64_t *blk = live_map_ref(&p->blocks, r->addr);
    if (!blk || (blk[1] & LIVE_BLOCK_FREED)) return 0; /* note 2 */
    if (__builtin_expect((blk[1] & LIVE_BLOCK_SB) != 0, 0)) live_pool_sb_freed(a, p, r->addr, blk);
    return live_count_free(a, p, blk, r->tid);
}

/* ------------------------------------------------------------ for live_pool.c */

struct live_cell *live_count_chunk(struct live_agg *a, struct live_proc *p, uint32_t stack_id,
                                   uint32_t tid, uint64_t size, uint64_t t_ns)
{
    struct live_cell *c = live_cell_get(p, stack_id, tid);
    if (c) live_count_alloc(a, p, c, size, t_ns, 0);
    return c;
}

int live_count_release(struct live_agg *a, struct live_proc *p, uint64_t *v, uint32_t tid)
{
    return live_count_free(a, p, v, tid);
}

void live_count_move(struct live_agg *a, struct live_proc *p, uint64_t size, uint64_t cell,
                     int sign)
{
    live_block_move(a, p, size, cell, sign);
}

/* Size of a freed (not reallocated) block at addr, if any. */
static int live_freed_size(const struct live_proc *p, uint64_t addr, uint64_t *size)
{
    const uint64_t *blk = live_map_ref(&p->blocks, addr);
    if (!blk || !(blk[1] & LIVE_BLOCK_FREED)) return 0;
    if (size) *size = blk[0];
    return 1;
}

static const char *live_error_kind(const struct live_proc *p, const struct mt_rec_error *r)
{
    int freed = live_freed_size(p, r->addr, NULL);
    switch (r->kind) {
    case MT_ERR_NOT_LIVE: return freed ? "double_free" : "invalid_free";
    case MT_ERR_MISMATCH: return "mismatched_free";
    case MT_ERR_REALLOC_NOT_LIVE: return freed ? "realloc_of_freed" : "invalid_realloc";
    default: return "unknown";
    }
}

void live_err_add(struct live_agg *a, struct live_proc *p, uint64_t t_ns, struct live_err e)
{
    p->n_errors++, a->n_errors++;
    e.t_ns = live_rel(a, t_ns), e.pid = p->pid, e.gen = p->gen;
    size_t idx = (a->err_head + a->n_errs) % LIVE_SNAP_MAX_ERRORS;
    if (a->n_errs == LIVE_SNAP_MAX_ERRORS) {
        idx = a->err_head;
        a->err_head = (a->err_head + 1) % LIVE_SNAP_MAX_ERRORS;
        free(a->errs[idx].at);
    } else {
        a->n_errs++;
    }
    a->errs[idx] = e;
}

static void live_on_error(struct live_agg *a, struct live_proc *p, const struct mt_rec_error *r)
{
    uint64_t size = r->alloc_size;
    if (r->kind != MT_ERR_MISMATCH) live_freed_size(p, r->addr, &size);
    live_err_add(a, p, r->c.t_ns,
                 (struct live_err){.tid = r->tid,
                                   .stack_id = r->stack_id,
                                   .addr = r->addr,
                                   .size = size,
                                   .kind = live_error_kind(p, r),
                                   .api = trace_api_name(r->api)});
}

/* LEAK entries: classify live blocks; definite and indirect count as
 * leaked. The exit scan classifies pool chunks too (after the malloc
 * blocks); superblocks are never in it. */
static void live_on_leak(struct live_proc *p, const struct mt_rec_leak *r)
{
    const struct mt_leak_entry *e = (const struct mt_leak_entry *)(r + 1);
    if (p->in_check) return; /* memtrace_leak_check(): a moment, not the end (note 6) */
    for (uint32_t i = 0; i < r->n; i++) {
        if (e[i].cls != MT_LEAK_DEFINITE && e[i].cls != MT_LEAK_INDIRECT) continue;
        struct live_pool *pl = NULL;
        uint64_t *blk = live_map_ref(&p->blocks, e[i].addr);
        if (!blk || (blk[1] & (LIVE_BLOCK_FREED | LIVE_BLOCK_SB)))
            blk = live_pool_chunk_at(p, e[i].addr, &pl);
        if (!blk) continue;
        p->cells[blk[1]].leak_bytes += blk[0];
        p->cells[blk[1]].leak_blocks++;
        if (pl) pl->leak_bytes += blk[0], pl->leak_chunks++;
    }
}

static int live_on_thread(struct live_proc *p, const struct mt_rec_thread *r)
{
    struct live_thread *t = live_thread_get(p, r->tid);
    if (!t) return -ENOMEM;
    if (r->name[0]) memcpy(t->name, r->name, sizeof t->name - 1);
    return 0;
}

static void live_on_session(struct live_agg *a, const struct mt_rec_session *r)
{
    const char *argv = (const char *)(r + 1);
    size_t n = 0;
    for (uint32_t i = 0; i < r->argv_len && n + 1 < sizeof a->command; i++)
        a->command[n++] = argv[i] ? argv[i] : ' ';
    while (n && a->command[n - 1] == ' ') n--;
    a->command[n] = '\0';
}

/* Collector records: RSS samples drive the history (note 4). */
static int live_apply_collector(struct live_agg *a, const struct mt_rec_hdr *h)
{
    if (h->kind == MT_REC_SESSION) {
        live_on_session(a, (const struct mt_rec_session *)h);
        return 0;
    }
    if (h->kind == MT_REC_RSS) {
        const struct mt_rec_rss *r = (const void *)h;
        struct live_proc *p = live_proc_get(a, r->pid, r->gen);
        if (!p) return -ENOMEM;
        p->rss = r->rss;
        live_hist_note(a, live_rel(a, r->t_ns));
    } else if (h->kind == MT_REC_PROC_END) {
        const struct mt_rec_proc_end *r = (const void *)h;
        struct live_proc *p = live_proc_get(a, r->pid, r->gen);
        if (!p) return -ENOMEM;
        int rc = live_order_flush(a, p); /* what the image still held, in order */
        if (rc) return rc;
        p->ended = 1;
        live_hist_note(a, live_rel(a, r->t_ns));
    }
    return 0;
}

/* Applies one ring record in order (note 1). Design: a dispatch switch. */
int live_apply_rec(struct live_agg *a, struct live_proc *p, uint32_t ring,
                   const struct mt_rec_hdr *h)
{
    (void)ring;
    live_rel(a, ((const struct mt_rec_common *)h)->t_ns);
    switch (h->kind) {
    case MT_REC_PROCESS: return live_on_process(a, p, (const void *)h);
    case MT_REC_THREAD: return live_on_thread(p, (const void *)h);
    case MT_REC_MODULE: return live_on_module(p, (const void *)h);
    case MT_REC_MODULE_UNLOAD: {
        const struct mt_rec_module_unload *r = (const void *)h;
        if (r->module_id < p->n_mods) p->mods[r->module_id].present = 0;
        return 0;
    }
    case MT_REC_STACK: return live_on_stack(p, (const void *)h);
    case MT_REC_ALLOC: return live_on_alloc(a, p, (const void *)h);
    case MT_REC_FREE: return live_on_free(a, p, (const void *)h);
    case MT_REC_ERROR: live_on_error(a, p, (const void *)h); return 0;
    case MT_REC_LEAK: live_on_leak(p, (const void *)h); return 0;
    case MT_REC_POOL:
    case MT_REC_POOL_CHUNK:
    case MT_REC_CLIENT:
        return live_pool_rec(a, p, h);
    default: return 0; /* MALLINFO, EXIT, LEAK marks, SEQ_SKIP: nothing to show */
    }
}

/* ------------------------------------------------------------ exported */

struct live_agg *live_agg_create(uint64_t start_mono_ns)
{
    struct live_agg *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    pthread_mutex_init(&a->mu, NULL);
    pthread_mutex_init(&a->snap_mu, NULL);
    pthread_cond_init(&a->ready_cv, NULL);
    atomic_init(&a->state, LIVE_ST_ACTIVE);
    a->start_ns = start_mono_ns;
    a->have_start = start_mono_ns != 0;
    a->hist_step_ns = LIVE_HIST_STEP0_NS;
    return a;
}

void live_agg_destroy(struct live_agg *a)
{
    if (!a) return;
    live_sym_free(a);
    while (a->procs) {
        struct live_proc *p = a->procs;
        a->procs = p->next;
        live_proc_free(p);
    }
    for (size_t i = 0; i < LIVE_SNAP_MAX_ERRORS; i++) free(a->errs[i].at);
    pthread_mutex_destroy(&a->mu);
    pthread_mutex_destroy(&a->snap_mu);
    pthread_cond_destroy(&a->ready_cv);
    free(a->trace_path);
    free(a);
}

size_t live_agg_feed_locked(struct live_agg *a, uint32_t pid, uint32_t gen, uint32_t ring,
                            const void *records, size_t len)
{
    const char *b = records;
    size_t n = 0;
    struct live_proc *p = NULL; /* one image per ring block: looked up once */
    if (ring != MT_RING_COLLECTOR && !(p = live_proc_get(a, pid, gen))) {
        a->status = -ENOMEM;
        return 0;
    }
    for (size_t off = 0; off + sizeof(struct mt_rec_hdr) <= len && !a->status;) {
        const struct mt_rec_hdr *h = (const void *)(b + off);
        if (trace_rec_validate(h, len - off)) {
            a->n_bad_blocks++; /* the rest of the block cannot be framed */
            break;
        }
        off += h->len;
        if (h->kind == MT_REC_PAD) continue;
        n++;
        int rc = p ? live_order_push(a, p, ring, h) : live_apply_collector(a, h);
        if (rc == -ENOMEM) a->status = rc;
        else if (rc) a->n_bad_blocks++;
    }
    return n;
}

void live_agg_feed(struct live_agg *a, uint32_t pid, uint32_t gen, uint32_t ring,
                   const void *records, size_t len)
{
    pthread_mutex_lock(&a->mu);
    live_agg_feed_locked(a, pid, gen, ring, records, len);
    pthread_mutex_unlock(&a->mu);
}

/* The collector's hook: one relaxed load decides (lazy mode, live_lazy.c). */
void live_agg_on_block(void *agg, uint32_t pid, uint32_t gen, uint32_t ring, const void *records,
                       size_t len)
{
    struct live_agg *a = agg;
    int st = atomic_load_explicit(&a->state, memory_order_relaxed);
    if (__builtin_expect(st == LIVE_ST_IDLE, 1)) {
        a->n_idle_blocks += len > 0; /* the writer skips empty blocks */
        return;
    }
    if (st == LIVE_ST_WANTED && live_lazy_catch_up(a)) return; /* already in the trace */
    live_agg_feed(a, pid, gen, ring, records, len);
}

void live_agg_finish(struct live_agg *a)
{
    if (atomic_load_explicit(&a->state, memory_order_acquire) == LIVE_ST_WANTED)
        live_lazy_catch_up(a); /* the collector stopped before the next block */
    pthread_mutex_lock(&a->mu);
    a->finished = 1;
    if (atomic_load_explicit(&a->state, memory_order_relaxed) != LIVE_ST_ACTIVE) {
        a->w = NULL; /* idle to the end: nothing to show, nobody asked */
        pthread_cond_broadcast(&a->ready_cv);
        pthread_mutex_unlock(&a->mu);
        return;
    }
    a->w = NULL;
    for (struct live_proc *p = a->procs; p; p = p->next) {
        int rc = live_order_flush(a, p);
        if (rc && !a->status) a->status = rc;
        p->ended = 1;
    }
    live_hist_note(a, a->last_ns);
    pthread_cond_broadcast(&a->ready_cv);
    pthread_mutex_unlock(&a->mu);
}

int live_agg_status(const struct live_agg *a)
{
    return a->status;
}
