/*
 * an_pool.c — client pools in the analysis: chunks, superblocks, per-pool figures
 *
 * an_client.c hands MT_REC_POOL and MT_REC_POOL_CHUNK records here. A chunk
 * is analyzed like a malloc block — a site from its stack, the process's
 * live and peak figures, lifetimes, temporaries, an allocations row with
 * family "pool:<name>" — but lives in its pool's own maps, never in
 * p->blocks: a chunk may share its address with its malloc'd superblock.
 *
 * Design notes
 *   1. A superblock that is a live malloc block (MT_CHUNK_F_MALLOC_SB)
 *      leaves the heap figures when declared (AN_BLK_SUPERBLOCK) and comes
 *      back when released, when its pool is destroyed or before its FREE;
 *      its chunks count instead, so nothing is counted twice.
 *   2. Errors are the preload's judgement (MT_CHUNK_F_NOT_LIVE); this file
 *      refines them with the pool's history: freed before and not handed
 *      out since -> double_free, inside a live chunk -> invalid_free /
 *      interior, else invalid_free / unknown.
 *   3. Chunks still live when their pool is destroyed are leaks of the pool
 *      (class definite: no pointer can free them any more); chunks live at
 *      the end take the exit scan's class, as malloc blocks do.
 *   4. pool_timeline gets one row per timeline interval in which the pool
 *      changed, with the state at the interval's end.
 *
 * SPDX-License-Identifier: MIT
 */
#include "analyze/an_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AN_POOL_FREED_MAX (1u << 20) /* remembered freed chunks per pool before forgetting */
#define AN_UNCLASSIFIED 5            /* an_site.leak_*[5] */

static const char *const an_pool_leak_names[6] = {"unclassified", "definite", "indirect",
                                                  "possible", "reachable", "unclassified"};

/* ------------------------------------------------------------ helpers */

static uint64_t an_pool_rel(const struct an_state *st, uint64_t t_ns)
{
    return t_ns >= st->start_mono_ns ? t_ns - st->start_mono_ns : 0;
}


/* The pool of pool_id, created unnamed when its CREATE was not seen (a
 * forked child inherits its parent's pools). NULL on ENOMEM. */
static struct an_cpool *an_pool_of(struct an_proc *p, uint32_t pool_id, const char *name)
{
    struct an_client *c = p->client;
    if (pool_id == 0) return NULL;
    if (pool_id > c->n_pools) {
        size_t n = c->n_pools ? c->n_pools : 8;
        while (n < pool_id) n *= 2;
        struct an_cpool *a = realloc(c->pools, n * sizeof *a);
        if (!a) return NULL;
        memset(a + c->n_pools, 0, (n - c->n_pools) * sizeof *a);
        c->pools = a;
        c->n_pools = n;
    }
    struct an_cpool *pl = &c->pools[pool_id - 1];
    if (pl->pool_id) return pl;
    char unnamed[32];
    if (!name) snprintf(unnamed, sizeof unnamed, "pool%u", pool_id);
    pl->name = strdup(name ? name : unnamed);
    pl->family = malloc(strlen(pl->name) + 6);
    if (!pl->name || !pl->family) return NULL;
    sprintf(pl->family, "pool:%s", pl->name);
    pl->pool_id = pool_id;
    return pl;
}

/* ------------------------------------------------------------ timeline */

static int an_pool_tl_row(struct an_state *st, struct an_proc *p, struct an_cpool *pl)
{
    sqlite3_stmt *q = an_client_stmt(st, AN_CST_POOL_TL);
    if (!q) return MT_ESQLITE;
    int64_t v[] = {p->proc_id, pl->pool_id, (int64_t)((pl->tl_idx + 1) * st->period_ns),
                   (int64_t)pl->live_bytes, (int64_t)pl->live_chunks, (int64_t)pl->held_bytes,
                   (int64_t)pl->tl_max_live};
    for (int i = 0; i < 7; i++) sqlite3_bind_int64(q, i + 1, v[i]);
    pl->tl_dirty = 0;
    return an_out_step(st, q);
}

/* Before pl changes at t_ns: close the interval it was in (design note 4). */
static int an_pool_tl_step(struct an_state *st, struct an_proc *p, struct an_cpool *pl,
                           uint64_t t_ns)
{
    uint64_t idx = t_ns / st->period_ns;
    int rc = 0;
    if (pl->tl_active && idx <= pl->tl_idx) return 0;
    if (pl->tl_active && pl->tl_dirty) rc = an_pool_tl_row(st, p, pl);
    pl->tl_active = 1;
    pl->tl_idx = idx;
    pl->tl_max_live = pl->live_bytes;
    return rc;
}

/* After pl changed. */
static void an_pool_tl_note(struct an_cpool *pl, uint64_t seq, uint64_t t_ns)
{
    pl->tl_dirty = 1;
    if (pl->live_bytes > pl->tl_max_live) pl->tl_max_live = pl->live_bytes;
    if (pl->live_bytes > pl->peak_live) {
        pl->peak_live = pl->live_bytes;
        pl->peak_chunks = pl->live_chunks;
        pl->peak_ns = t_ns;
        pl->peak_seq = seq;
        pl->peak_held = pl->held_bytes;
    }
    if (pl->held_bytes > pl->max_held) {
        pl->max_held = pl->held_bytes;
        pl->max_held_ns = t_ns;
    }
}

/* ------------------------------------------------------------ superblocks */

/* Design note 1: block b leaves (sign < 0) or rejoins (sign > 0) the heap. */
static void an_pool_sb_move(struct an_proc *p, struct an_block *b, int sign)
{
    struct an_site *s = &p->sites[b->site];
    an_site_touch(p, s);
    if (sign < 0) {
        s->live_bytes -= b->size;
        s->live_blocks--;
        p->live_bytes -= b->size;
        p->live_usable -= b->usable;
        p->live_blocks--;
        b->client |= AN_BLK_SUPERBLOCK;
    } else {
        s->live_bytes += b->size;
        s->live_blocks++;
        p->live_bytes += b->size;
        p->live_usable += b->usable;
        p->live_blocks++;
        b->client &= (uint8_t)~AN_BLK_SUPERBLOCK;
    }
}

/* The superblock b was the last allocation and made the current peak, and
 * nothing was released since: that peak was only b counted before its
 * declaration. The peak before b's ALLOC comes back, with its epoch (the
 * only site touched since is b's, before the epoch moved). */
static void an_pool_peak_undo(struct an_state *st, struct an_proc *p, const struct an_block *b)
{
    const struct an_peak_save *s = &p->client->pre_peak;
    if (p->peak_seq != b->seq || s->for_seq != b->seq || !p->peak_frag_pending ||
        b->alloc_id != st->next_alloc_id - 1)
        return;
    p->peak_bytes = s->bytes;
    p->peak_blocks = s->blocks;
    p->peak_seq = s->seq;
    p->peak_ns = s->ns;
    p->peak_epoch = s->epoch;
    p->peak_frag_pending = s->frag_pending;
}

/* The superblock at addr rejoins the heap if it is a flagged malloc block. */
static void an_pool_sb_restore(struct an_state *st, struct an_proc *p, uint64_t addr)
{
    struct an_block *b = an_live_at(st, p, addr);
    if (b && (b->client & AN_BLK_SUPERBLOCK)) an_pool_sb_move(p, b, 1);
}

static int an_pool_sb_add(struct an_state *st, struct an_proc *p, struct an_cpool *pl,
                          const struct mt_rec_pool_chunk *r)
{
    uint64_t old;
    struct an_block *b;
    if (an_map_get(&pl->sbs, r->addr, &old)) pl->held_bytes -= old; /* declared again */
    if (an_map_put(&pl->sbs, r->addr, r->size)) return -ENOMEM;
    pl->held_bytes += r->size;
    pl->n_sbs++;
    if ((r->c.hdr.flags & MT_CHUNK_F_MALLOC_SB) && (b = an_live_at(st, p, r->addr)) &&
        !(b->client & AN_BLK_SUPERBLOCK)) {
        an_pool_peak_undo(st, p, b);
        an_pool_sb_move(p, b, -1);
    }
    return 0;
}

static void an_pool_sb_drop(struct an_state *st, struct an_proc *p, struct an_cpool *pl,
                            uint64_t addr)
{
    uint64_t size;
    if (!an_map_del(&pl->sbs, addr, &size)) return;
    pl->held_bytes -= size;
    an_pool_sb_restore(st, p, addr);
}

void an_pool_before_free(struct an_state *st, struct an_proc *p, uint64_t addr)
{
    uint64_t size;
    struct an_block *b = an_live_at(st, p, addr);
    if (!b || !(b->client & AN_BLK_SUPERBLOCK)) return;
    an_pool_sb_move(p, b, 1);
    for (size_t i = 0; i < p->client->n_pools; i++) {
        struct an_cpool *pl = &p->client->pools[i];
        if (pl->pool_id && an_map_del(&pl->sbs, addr, &size)) {
            an_pool_tl_step(st, p, pl, p->last_ns);
            pl->held_bytes -= size;
            an_pool_tl_note(pl, p->last_seq, p->last_ns);
        }
    }
}

/* ------------------------------------------------------------ chunks */

static int an_pool_alloc(struct an_state *st, struct an_proc *p, struct an_cpool *pl,
                         const struct mt_rec_pool_chunk *r, uint64_t t_ns);

/* Ends live chunk idx (already out of pl->chunks). leak: class text for a
 * chunk lost at destroy, else NULL. */
static int an_pool_release(struct an_state *st, struct an_proc *p, struct an_cpool *pl,
                           uint32_t idx, const struct mt_rec_common *c, uint32_t tid,
                           const char *free_api, uint32_t free_stack, int leak)
{
    struct an_block *b = &st->pool[idx];
    struct an_site *s = &p->sites[b->site];
    uint64_t t_ns = an_pool_rel(st, c->t_ns);
    struct an_thread *t = an_thread_get(st, p, tid);
    int temporary = !leak && !strcmp(free_api, "pool_free") && tid == b->tid && t &&
                    t->last_alloc_id == b->alloc_id;
    if (p->peak_frag_pending) { /* as an_ev_free: the state before the first decrease */
        if (p->events_since_pfrag >= p->blocks.n / 4 || !p->have_pfrag) {
            int rc = an_frag_snapshot_peak(st, p);
            if (rc) return rc;
        }
        p->peak_frag_pending = 0;
    }
    an_site_touch(p, s);
    s->live_bytes -= b->size;
    s->live_blocks--;
    s->n_frees++;
    s->n_temporary += (uint64_t)temporary;
    uint64_t life = t_ns > b->t_ns ? t_ns - b->t_ns : 0;
    unsigned lb = an_bitlen(life);
    s->lifetime_sum_ns += life;
    s->hist_life[lb < AN_HIST_BUCKETS ? lb : AN_HIST_BUCKETS - 1]++;
    p->hist_life[lb][0]++;
    p->hist_life[lb][1] += b->size;
    p->live_bytes -= b->size;
    p->live_usable -= b->usable;
    p->live_blocks--;
    p->n_frees++;
    p->n_temporary += (uint64_t)temporary;
    p->tl.n_frees++;
    if (t) t->n_frees++;
    pl->live_bytes -= b->size;
    pl->live_chunks--;
    if (leak) {
        s->leak_blocks[MT_LEAK_DEFINITE]++;
        s->leak_bytes[MT_LEAK_DEFINITE] += b->size;
        pl->leak_chunks++;
        pl->leak_bytes += b->size;
    }
    int rc = an_client_alloc_row(st, p, b, pl->family, "pool_alloc", c->seq, t_ns, tid, free_api,
                                 free_stack, temporary, leak ? "definite" : NULL);
    if (rc) return rc;
    b->free_stack = free_stack;
    if (pl->freed.n >= AN_POOL_FREED_MAX) {
        for (size_t i = 0; i < pl->freed.cap; i++)
            if (pl->freed.e[i].key) an_pool_put(st, (uint32_t)pl->freed.e[i].val);
        an_map_fini(&pl->freed);
    }
    uint64_t old;
    if (an_map_get(&pl->freed, b->addr, &old)) an_pool_put(st, (uint32_t)old);
    return an_map_put(&pl->freed, b->addr, idx);
}

static int an_pool_alloc(struct an_state *st, struct an_proc *p, struct an_cpool *pl,
                         const struct mt_rec_pool_chunk *r, uint64_t t_ns)
{
    uint64_t old;
    uint32_t site_idx, idx;
    int rc;
    if (an_map_del(&pl->chunks, r->addr, &old)) { /* handed out again while live */
        rc = an_pool_release(st, p, pl, (uint32_t)old, &r->c, r->tid, "pool_alloc", 0, 0);
        if (rc) return rc;
    }
    if (an_map_del(&pl->freed, r->addr, &old)) an_pool_put(st, (uint32_t)old);
    struct an_site *s = an_site_get(st, p, r->stack_id, &site_idx);
    if (!s || an_pool_get(st, &idx)) return -ENOMEM;
    struct an_block *b = &st->pool[idx];
    *b = (struct an_block){.addr = r->addr, .size = r->size, .usable = r->size, .seq = r->c.seq,
                           .t_ns = t_ns, .alloc_id = st->next_alloc_id++, .site = site_idx,
                           .tid = r->tid};
    if ((rc = an_map_put(&pl->chunks, r->addr, idx))) return rc;
    if ((rc = an_block_count(st, p, s, b))) return rc;
    pl->live_bytes += r->size;
    pl->live_chunks++;
    pl->n_allocs++;
    pl->alloc_bytes += r->size;
    return 0;
}

/* The live chunk of pl that addr points strictly inside, or NULL (errors only). */
static const struct an_block *an_pool_interior(struct an_state *st, struct an_cpool *pl,
                                               uint64_t addr)
{
    for (size_t i = 0; i < pl->chunks.cap; i++) {
        if (!pl->chunks.e[i].key) continue;
        const struct an_block *b = &st->pool[pl->chunks.e[i].val];
        if (addr > b->addr && addr < b->addr + b->size) return b;
    }
    return NULL;
}

/* Design note 2: a FREE or SB_RELEASE the preload found not live. */
static int an_pool_error(struct an_state *st, struct an_proc *p, struct an_cpool *pl,
                         const struct mt_rec_pool_chunk *r)
{
    uint64_t idx;
    const struct an_block *b = NULL;
    const char *kind = "invalid_free", *subkind = "unknown";
    if (r->op == MT_CHUNK_FREE && an_map_get(&pl->freed, r->addr, &idx)) {
        kind = "double_free";
        subkind = NULL;
        b = &st->pool[idx];
    } else if ((b = an_pool_interior(st, pl, r->addr)) != NULL) {
        subkind = "interior";
    }
    p->n_errors++;
    pl->n_errors++;
    sqlite3_stmt *q = an_client_stmt(st, AN_CST_ERROR);
    if (!q) return MT_ESQLITE;
    sqlite3_bind_int64(q, 1, p->proc_id);
    sqlite3_bind_int64(q, 2, r->tid);
    sqlite3_bind_int64(q, 3, (int64_t)r->c.seq);
    sqlite3_bind_int64(q, 4, (int64_t)an_pool_rel(st, r->c.t_ns));
    sqlite3_bind_text(q, 5, kind, -1, SQLITE_STATIC);
    if (subkind) sqlite3_bind_text(q, 6, subkind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 7, (int64_t)r->addr);
    if (b) sqlite3_bind_int64(q, 8, (int64_t)b->size);
    sqlite3_bind_text(q, 9, r->op == MT_CHUNK_FREE ? "pool_free" : "pool_superblock_release", -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(q, 10, pl->family, -1, SQLITE_STATIC);
    if (b) sqlite3_bind_text(q, 11, pl->family, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 12, an_stack_global(st, p, r->stack_id));
    if (b) sqlite3_bind_int64(q, 13, p->sites[b->site].stack);
    if (b && b->free_stack) sqlite3_bind_int64(q, 14, b->free_stack);
    if (b && !st->opts->no_allocations) sqlite3_bind_int64(q, 15, b->alloc_id);
    if (b && subkind) sqlite3_bind_int64(q, 16, (int64_t)b->addr);
    return an_out_step(st, q);
}

static int an_pool_free(struct an_state *st, struct an_proc *p, struct an_cpool *pl,
                        const struct mt_rec_pool_chunk *r)
{
    uint64_t idx;
    if (r->c.hdr.flags & MT_CHUNK_F_NOT_LIVE) return an_pool_error(st, p, pl, r);
    if (!an_map_del(&pl->chunks, r->addr, &idx)) {
        st->unmatched_frees++; /* inherited over fork, or allocated before a hole */
        return 0;
    }
    pl->n_frees++;
    return an_pool_release(st, p, pl, (uint32_t)idx, &r->c, r->tid, "pool_free",
                           an_stack_global(st, p, r->stack_id), 0);
}

/* Every live chunk of pl ends (reset, destroy). */
static int an_pool_drop_all(struct an_state *st, struct an_proc *p, struct an_cpool *pl,
                            const struct mt_rec_pool *r, const char *free_api, int leak)
{
    size_t n = 0;
    uint32_t *idx = malloc((pl->chunks.n + 1) * sizeof *idx);
    if (!idx) return -ENOMEM;
    for (size_t i = 0; i < pl->chunks.cap; i++)
        if (pl->chunks.e[i].key) idx[n++] = (uint32_t)pl->chunks.e[i].val;
    an_map_fini(&pl->chunks);
    int rc = 0;
    uint32_t stack = an_stack_global(st, p, r->stack_id);
    for (size_t i = 0; i < n && !rc; i++)
        rc = an_pool_release(st, p, pl, idx[i], &r->c, r->tid, free_api, stack, leak);
    free(idx);
    return rc;
}

/* ------------------------------------------------------------ records */

int an_pool_on_pool(struct an_state *st, struct an_proc *p, const struct mt_rec_pool *r)
{
    const char *name = r->event == MT_POOL_CREATE && r->name_len ? (const char *)(r + 1) : NULL;
    struct an_cpool *pl = an_pool_of(p, r->pool_id, name);
    uint64_t t_ns = an_pool_rel(st, r->c.t_ns);
    if (!pl) return r->pool_id ? -ENOMEM : 0;
    int rc = an_pool_tl_step(st, p, pl, t_ns);
    if (rc) return rc;
    switch (r->event) {
    case MT_POOL_CREATE:
        pl->create_stack = an_stack_global(st, p, r->stack_id);
        pl->create_seq = r->c.seq;
        pl->create_ns = t_ns;
        break;
    case MT_POOL_RESET:
        pl->n_resets++;
        rc = an_pool_drop_all(st, p, pl, r, "pool_reset", 0);
        break;
    case MT_POOL_DESTROY:
        pl->end_live = pl->live_bytes;
        pl->end_chunks = pl->live_chunks;
        pl->end_held = pl->held_bytes;
        rc = an_pool_drop_all(st, p, pl, r, "pool_destroy", 1);
        for (size_t i = 0; i < pl->sbs.cap && !rc; i++)
            if (pl->sbs.e[i].key) an_pool_sb_restore(st, p, pl->sbs.e[i].key);
        an_map_fini(&pl->sbs);
        pl->held_bytes = 0;
        pl->destroyed = 1;
        pl->destroy_seq = r->c.seq;
        pl->destroy_ns = t_ns;
        break;
    }
    an_pool_tl_note(pl, r->c.seq, t_ns);
    return rc;
}

int an_pool_on_chunk(struct an_state *st, struct an_proc *p, const struct mt_rec_pool_chunk *r)
{
    struct an_cpool *pl = an_pool_of(p, r->pool_id, NULL);
    uint64_t t_ns = an_pool_rel(st, r->c.t_ns);
    if (!pl) return r->pool_id ? -ENOMEM : 0;
    int rc = an_pool_tl_step(st, p, pl, t_ns);
    if (rc) return rc;
    switch (r->op) {
    case MT_CHUNK_ALLOC: rc = an_pool_alloc(st, p, pl, r, t_ns); break;
    case MT_CHUNK_FREE: rc = an_pool_free(st, p, pl, r); break;
    case MT_CHUNK_SB_ADD: rc = an_pool_sb_add(st, p, pl, r); break;
    case MT_CHUNK_SB_RELEASE:
        if (r->c.hdr.flags & MT_CHUNK_F_NOT_LIVE) rc = an_pool_error(st, p, pl, r);
        else an_pool_sb_drop(st, p, pl, r->addr);
        break;
    }
    an_pool_tl_note(pl, r->c.seq, t_ns);
    return rc;
}

struct an_block *an_pool_chunk_at(struct an_state *st, struct an_proc *p, uint64_t addr,
                                  uint32_t pool_id, struct an_cpool **pool)
{
    uint64_t idx;
    for (size_t i = 0; p->client && i < p->client->n_pools; i++) {
        struct an_cpool *pl = &p->client->pools[i];
        if (!pl->pool_id || (pool_id && pl->pool_id != pool_id)) continue;
        if (an_map_get(&pl->chunks, addr, &idx)) {
            if (pool) *pool = pl;
            return &st->pool[idx];
        }
    }
    return NULL;
}

/* ------------------------------------------------------------ the end */

static int an_pool_row(struct an_state *st, struct an_proc *p, const struct an_cpool *pl)
{
    sqlite3_stmt *q = an_client_stmt(st, AN_CST_POOL);
    if (!q) return MT_ESQLITE;
    sqlite3_bind_int64(q, 1, p->proc_id);
    sqlite3_bind_int64(q, 2, pl->pool_id);
    sqlite3_bind_text(q, 3, pl->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, pl->family, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 5, pl->create_stack);
    sqlite3_bind_int64(q, 6, (int64_t)pl->create_seq);
    sqlite3_bind_int64(q, 7, (int64_t)pl->create_ns);
    if (pl->destroyed) {
        sqlite3_bind_int64(q, 8, (int64_t)pl->destroy_seq);
        sqlite3_bind_int64(q, 9, (int64_t)pl->destroy_ns);
    }
    uint64_t v[] = {pl->n_allocs, pl->alloc_bytes, pl->n_frees, pl->n_resets, pl->n_errors,
                    pl->n_sbs, pl->peak_live, pl->peak_chunks, pl->peak_ns, pl->peak_seq,
                    pl->peak_held, pl->peak_held > pl->peak_live ? pl->peak_held - pl->peak_live : 0,
                    pl->max_held, pl->max_held_ns, pl->end_live, pl->end_chunks, pl->end_held,
                    pl->leak_chunks, pl->leak_bytes};
    for (int i = 0; i < (int)(sizeof v / sizeof v[0]); i++)
        sqlite3_bind_int64(q, 10 + i, (int64_t)v[i]);
    return an_out_step(st, q);
}

/* Chunks of a pool still live at the end: leaks with the exit scan's class. */
static int an_pool_final_chunks(struct an_state *st, struct an_proc *p, struct an_cpool *pl)
{
    int rc = 0;
    for (size_t i = 0; i < pl->chunks.cap && !rc; i++) {
        if (!pl->chunks.e[i].key) continue;
        struct an_block *b = &st->pool[pl->chunks.e[i].val];
        const char *leak = NULL;
        if (!(b->client & AN_BLK_IGNORED)) {
            unsigned cls = p->scan_done && b->leak_class ? b->leak_class : AN_UNCLASSIFIED;
            struct an_site *s = &p->sites[b->site];
            s->leak_blocks[cls]++;
            s->leak_bytes[cls] += b->size;
            pl->leak_chunks++;
            pl->leak_bytes += b->size;
            leak = an_pool_leak_names[cls];
        }
        rc = an_client_alloc_row(st, p, b, pl->family, "pool_alloc", 0, 0, 0, NULL, 0, 0, leak);
    }
    return rc;
}

int an_pool_final(struct an_state *st, struct an_proc *p)
{
    int rc = 0;
    for (size_t i = 0; i < p->client->n_pools && !rc; i++) {
        struct an_cpool *pl = &p->client->pools[i];
        if (!pl->pool_id) continue;
        if (!pl->destroyed) {
            pl->end_live = pl->live_bytes;
            pl->end_chunks = pl->live_chunks;
            pl->end_held = pl->held_bytes;
            rc = an_pool_final_chunks(st, p, pl);
        }
        if (!rc && pl->tl_active && pl->tl_dirty) rc = an_pool_tl_row(st, p, pl);
        if (!rc) rc = an_pool_row(st, p, pl);
    }
    return rc;
}

void an_pool_free_all(struct an_client *c)
{
    for (size_t i = 0; i < c->n_pools; i++) {
        struct an_cpool *pl = &c->pools[i];
        an_map_fini(&pl->chunks);
        an_map_fini(&pl->freed);
        an_map_fini(&pl->sbs);
        free(pl->name);
        free(pl->family);
    }
    free(c->pools);
}
