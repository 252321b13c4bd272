/*
 * live_pool.c — client-API records in the live aggregator: pools, chunks, markers, leak checks
 *
 * live_agg.c hands MT_REC_POOL, MT_REC_POOL_CHUNK and MT_REC_CLIENT
 * records here, in seq order, under agg->mu. The figures follow the
 * analysis (analyzer/analyze/an_pool.c, docs/client-api.md) so that the
 * final screen of a client-API program equals its database: a pool's live
 * and held bytes, waste = held - live, its peak of live bytes with what it
 * held then, the most it held. Snapshots copy them (live_snap.c).
 * Docs: docs/tui.md ("Live aggregation").
 *
 * Design notes
 *   1. A chunk counts like a malloc block — its (site, thread) cell, the
 *      thread, the process, the session — but lives in its pool's map,
 *      never in p->blocks: a chunk may share its address with its malloc'd
 *      superblock. A given-back chunk keeps its entry, flagged, until it is
 *      handed out again (as blocks do), for the error kind of a later free.
 *   2. A superblock that is a live malloc block (MT_CHUNK_F_MALLOC_SB)
 *      leaves the heap figures when declared (LIVE_BLOCK_SB) and comes back
 *      when released, when its pool is destroyed or before its FREE; its
 *      chunks count instead. Its ALLOC was counted one event before the
 *      declaration: if that made the peaks and nothing happened in the
 *      image since, the peaks before it come back (p->pre_peak).
 *   3. Errors are the preload's judgement (MT_CHUNK_F_NOT_LIVE): a chunk
 *      the pool gave back and did not hand out since is a double_free,
 *      anything else an invalid_free (the analysis refines: interior).
 *   4. A reset releases every live chunk; a destroy too, as leaks of the
 *      pool (class definite: nothing can free them any more), and releases
 *      its superblocks.
 *   5. Markers (mark, pause, resume) go to a ring of the newest
 *      LIVE_SNAP_MAX_MARKERS. The LEAK records between a LEAK_CHECK and its
 *      DONE are an on-demand check's (p->in_check): live_on_leak skips them.
 *
 * SPDX-License-Identifier: MIT
 */
#include "live/live_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIVE_POOL_MAX_ID (1u << 16) /* the preload stops at 16383; a larger id is corrupt */

/* ------------------------------------------------------------ pools */

/* The pool of pool_id, created (named pool<N> without a name: a forked
 * child inherits its parent's pools) on first use. NULL when the id is
 * out of range (*rc = 0, the record is skipped) or out of memory. */
static struct live_pool *live_pool_of(struct live_proc *p, uint32_t pool_id, const char *name,
                                      size_t name_len, int *rc)
{
    *rc = 0;
    if (pool_id == 0 || pool_id > LIVE_POOL_MAX_ID) return NULL;
    if (pool_id > p->n_pools) {
        size_t cap = p->n_pools;
        if (live_reserve((void **)&p->pools, &cap, pool_id, sizeof *p->pools)) {
            *rc = -ENOMEM;
            return NULL;
        }
        memset(p->pools + p->n_pools, 0, (cap - p->n_pools) * sizeof *p->pools);
        p->n_pools = cap; /* nonzero from now on: allocations save the peaks */
    }
    struct live_pool *pl = &p->pools[pool_id - 1];
    if (!pl->pool_id) {
        pl->pool_id = pool_id;
        if (name)
            snprintf(pl->name, sizeof pl->name, "%.*s", (int)strnlen(name, name_len), name);
        else
            snprintf(pl->name, sizeof pl->name, "pool%u", pool_id);
    }
    return pl;
}

/* After pl changed: its peak of live bytes (with held then), most held. */
static void live_pool_note(struct live_pool *pl)
{
    if (pl->live_bytes > pl->peak_live) {
        pl->peak_live = pl->live_bytes;
        pl->peak_held = pl->held_bytes;
    }
    if (pl->held_bytes > pl->max_held) pl->max_held = pl->held_bytes;
}

uint64_t *live_pool_chunk_at(struct live_proc *p, uint64_t addr, struct live_pool **pool)
{
    for (size_t i = 0; i < p->n_pools; i++) {
        uint64_t *v = p->pools[i].pool_id ? live_map_ref(&p->pools[i].chunks, addr) : NULL;
        if (v && !(v[1] & LIVE_BLOCK_FREED)) {
            if (pool) *pool = &p->pools[i];
            return v;
        }
    }
    return NULL;
}

void live_pool_free_all(struct live_proc *p)
{
    for (size_t i = 0; i < p->n_pools; i++) {
        live_map_fini(&p->pools[i].chunks);
        live_map_fini(&p->pools[i].sbs);
    }
    free(p->pools);
    p->pools = NULL;
    p->n_pools = 0;
}

/* ------------------------------------------------------------ superblocks */

/* Note 2: the superblock's own ALLOC made the peaks one event ago. */
static void live_peak_undo(struct live_agg *a, struct live_proc *p, uint64_t addr)
{
    const struct live_peak_save *s = &p->pre_peak;
    if (s->addr != addr || p->peak_bytes <= s->p_peak) return;
    p->peak_bytes = s->p_peak;
    if (s->a_after > s->a_peak && a->peak_bytes == s->a_after && a->peak_ns == s->a_after_ns) {
        a->peak_bytes = s->a_peak; /* another image did not raise it meanwhile */
        a->peak_ns = s->a_peak_ns;
    }
}

/* The malloc block at addr, if a declared superblock, rejoins the heap. */
static void live_sb_restore(struct live_agg *a, struct live_proc *p, uint64_t addr)
{
    uint64_t *b = live_map_ref(&p->blocks, addr);
    if (!b || (b[1] & (LIVE_BLOCK_FREED | LIVE_BLOCK_SB)) != LIVE_BLOCK_SB) return;
    b[1] &= ~LIVE_BLOCK_SB;
    live_count_move(a, p, b[0], b[1], 1);
}

static int live_sb_add(struct live_agg *a, struct live_proc *p, struct live_pool *pl,
                       const struct mt_rec_pool_chunk *r)
{
    uint64_t *old = live_map_ref(&pl->sbs, r->addr);
    if (old) pl->held_bytes -= old[0]; /* declared again */
    if (live_map_put(&pl->sbs, r->addr, r->size, 0)) return -ENOMEM;
    pl->held_bytes += r->size;
    uint64_t *b = r->c.hdr.flags & MT_CHUNK_F_MALLOC_SB ? live_map_ref(&p->blocks, r->addr) : NULL;
    if (b && !(b[1] & (LIVE_BLOCK_FREED | LIVE_BLOCK_SB))) {
        live_peak_undo(a, p, r->addr);
        live_count_move(a, p, b[0], b[1], -1);
        b[1] |= LIVE_BLOCK_SB;
    }
    return 0;
}

void live_pool_sb_freed(struct live_agg *a, struct live_proc *p, uint64_t addr, uint64_t *blk)
{
    uint64_t size;
    blk[1] &= ~LIVE_BLOCK_SB;
    live_count_move(a, p, blk[0], blk[1], 1);
    for (size_t i = 0; i < p->n_pools; i++) {
        struct live_pool *pl = &p->pools[i];
        if (pl->pool_id && live_map_del(&pl->sbs, addr, &size, NULL)) {
            pl->held_bytes -= size;
            live_pool_note(pl);
        }
    }
}

/* ------------------------------------------------------------ chunks */

struct live_chunk_end {
    struct live_agg *a;
    struct live_proc *p;
    struct live_pool *pl;
    uint32_t tid; /* the releasing thread */
    int leak;     /* lost at the pool's destroy (note 4) */
};

/* Ends one live chunk (v: its values): a free counted like malloc's. */
static int live_chunk_end(void *ctx, uint64_t addr, uint64_t *v)
{
    struct live_chunk_end *e = ctx;
    (void)addr;
    if (v[1] & LIVE_BLOCK_FREED) return 0;
    struct live_cell *c = &e->p->cells[v[1]];
    if (e->leak) {
        c->leak_bytes += v[0], c->leak_blocks++;
        e->pl->leak_bytes += v[0], e->pl->leak_chunks++;
    }
    e->pl->live_bytes -= v[0];
    e->pl->live_chunks--;
    return live_count_release(e->a, e->p, v, e->tid);
}

static int live_chunk_alloc(struct live_agg *a, struct live_proc *p, struct live_pool *pl,
                            const struct mt_rec_pool_chunk *r)
{
    struct live_chunk_end again = {a, p, pl, r->tid, 0};
    uint64_t *v = live_map_ref(&pl->chunks, r->addr);
    int created, rc = v ? live_chunk_end(&again, r->addr, v) : 0; /* handed out twice */
    if (rc) return rc;
    struct live_cell *c;
    if (!(v = live_map_upsert(&pl->chunks, r->addr, &created)) ||
        !(c = live_count_chunk(a, p, r->stack_id, r->tid, r->size, r->c.t_ns)))
        return -ENOMEM;
    if (c->n_allocs == 1) c->pool_id = pl->pool_id; /* a new cell: its site is the pool's */
    v[0] = r->size;
    v[1] = (uint64_t)(c - p->cells);
    pl->live_bytes += r->size;
    pl->live_chunks++;
    pl->n_allocs++;
    return 0;
}

/* Note 3: a FREE or SB_RELEASE the preload found not live. */
static void live_chunk_error(struct live_agg *a, struct live_proc *p, struct live_pool *pl,
                             const struct mt_rec_pool_chunk *r)
{
    const uint64_t *v = r->op == MT_CHUNK_FREE ? live_map_ref(&pl->chunks, r->addr) : NULL;
    int twice = v && (v[1] & LIVE_BLOCK_FREED);
    pl->n_errors++;
    live_err_add(
        a, p, r->c.t_ns,
        (struct live_err){.tid = r->tid,
                          .stack_id = r->stack_id,
                          .addr = r->addr,
                          .size = twice ? v[0] : 0,
                          .kind = twice ? "double_free" : "invalid_free",
                          .api = r->op == MT_CHUNK_FREE ? "pool_free" : "pool_superblock_release"});
}

static int live_on_chunk(struct live_agg *a, struct live_proc *p, const struct mt_rec_pool_chunk *r)
{
    int rc;
    struct live_pool *pl = live_pool_of(p, r->pool_id, NULL, 0, &rc);
    if (!pl) return rc;
    uint64_t size, *v;
    int not_live = (r->c.hdr.flags & MT_CHUNK_F_NOT_LIVE) != 0;
    struct live_chunk_end fr = {a, p, pl, r->tid, 0};
    switch (r->op) {
    case MT_CHUNK_ALLOC:
        rc = live_chunk_alloc(a, p, pl, r);
        break;
    case MT_CHUNK_FREE:
        if (not_live)
            live_chunk_error(a, p, pl, r);
        else if ((v = live_map_ref(&pl->chunks, r->addr)) && !(v[1] & LIVE_BLOCK_FREED))
            pl->n_frees++, rc = live_chunk_end(&fr, r->addr, v);
        break; /* else inherited over fork: nothing, as in the database */
    case MT_CHUNK_SB_ADD:
        rc = live_sb_add(a, p, pl, r);
        break;
    case MT_CHUNK_SB_RELEASE:
        if (not_live) {
            live_chunk_error(a, p, pl, r);
        } else if (live_map_del(&pl->sbs, r->addr, &size, NULL)) {
            pl->held_bytes -= size;
            live_sb_restore(a, p, r->addr);
        }
        break;
    default:
        break;
    }
    if (r->op != MT_CHUNK_SB_ADD) p->pre_peak.addr = 0; /* note 2: something happened */
    live_pool_note(pl);
    return rc;
}

static int live_sb_restore_one(void *ctx, uint64_t addr, uint64_t *v)
{
    struct live_chunk_end *e = ctx;
    (void)v;
    live_sb_restore(e->a, e->p, addr);
    return 0;
}

/* CREATE, RESET, DESTROY (note 4). */
static int live_on_pool(struct live_agg *a, struct live_proc *p, const struct mt_rec_pool *r)
{
    int rc, create = r->event == MT_POOL_CREATE && r->name_len;
    struct live_pool *pl =
        live_pool_of(p, r->pool_id, create ? (const char *)(r + 1) : NULL, r->name_len, &rc);
    if (!pl) return rc;
    struct live_chunk_end e = {a, p, pl, r->tid, r->event == MT_POOL_DESTROY};
    if (r->event == MT_POOL_RESET) pl->n_resets++;
    if (r->event == MT_POOL_RESET || r->event == MT_POOL_DESTROY)
        rc = live_map_each(&pl->chunks, live_chunk_end, &e);
    if (!rc && r->event == MT_POOL_DESTROY) {
        live_map_each(&pl->sbs, live_sb_restore_one, &e);
        live_map_fini(&pl->sbs);
        pl->held_bytes = 0;
        pl->destroyed = 1;
    }
    p->pre_peak.addr = 0;
    live_pool_note(pl);
    return rc;
}

/* ------------------------------------------------------------ client */

static void live_on_marker(struct live_agg *a, struct live_proc *p, const struct mt_rec_client *r)
{
    static const char *const kinds[] = {"?", "mark", "pause", "resume"};
    size_t idx = (a->mark_head + a->n_marks) % LIVE_SNAP_MAX_MARKERS;
    if (a->n_marks == LIVE_SNAP_MAX_MARKERS) /* note 5: the oldest goes */
        a->mark_head = (a->mark_head + 1) % LIVE_SNAP_MAX_MARKERS;
    else
        a->n_marks++;
    struct live_marker *m = &a->marks[idx];
    *m = (struct live_marker){.t_ns = live_rel(a, r->c.t_ns), .pid = p->pid, .gen = p->gen};
    snprintf(m->kind, sizeof m->kind, "%s", kinds[r->op]);
    if (r->op == MT_CLIENT_MARK)
        snprintf(m->name, sizeof m->name, "%.*s", (int)strnlen((const char *)(r + 1), r->label_len),
                 (const char *)(r + 1));
    else
        snprintf(m->name, sizeof m->name, "%s", kinds[r->op]);
}

int live_pool_rec(struct live_agg *a, struct live_proc *p, const struct mt_rec_hdr *h)
{
    if (h->kind == MT_REC_POOL) return live_on_pool(a, p, (const void *)h);
    if (h->kind == MT_REC_POOL_CHUNK) return live_on_chunk(a, p, (const void *)h);
    const struct mt_rec_client *r = (const void *)h;
    switch (r->op) {
    case MT_CLIENT_MARK:
    case MT_CLIENT_PAUSE:
    case MT_CLIENT_RESUME:
        live_on_marker(a, p, r);
        break;
    case MT_CLIENT_LEAK_CHECK:
        p->in_check = !(h->flags & MT_CLIENT_F_DONE);
        break;
    default:
        break; /* IGNORE: the exit scan leaves ignored objects out itself */
    }
    return 0;
}
