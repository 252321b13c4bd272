/*
 * an_events.c — the per-event work of the analysis: alloc, free, error, leak
 *
 * analyze.c dispatches each record of a process image here, in that image's
 * seq order. Invariants kept for every process: live_bytes/live_blocks equal
 * the sums over the live map; each site's peak_* hold its live figures at
 * the process's latest maximum (lazy snapshot: a site copies live into
 * peak_* before its first change after a new maximum, see docs/metrics.md,
 * "Peak heap"); a freed block stays in p->blocks, marked freed, until its
 * address is allocated again, which is what tells a double free from an
 * invalid one. Live and freed blocks share the map so that an allocation
 * or a free costs one probe.
 *
 * SPDX-License-Identifier: MIT
 */
#include "analyze/analyze_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trace/trace.h"

#define AN_FREED_MAX (4u << 20) /* remembered freed addresses before forgetting them all */

/* ------------------------------------------------------------ lookups */

uint32_t an_stack_global(struct an_state *st, const struct an_proc *p, uint32_t local)
{
    while (p && local) {
        if (local < p->n_stk && p->stk[local]) return p->stk[local] - 1;
        /* A forked child's ids below its watermark are its parent's. */
        if (!(p->flags & MT_PROC_F_FORKED) || local >= p->stack_watermark) break;
        p = p->parent;
    }
    return 0;
}

struct an_thread *an_thread_get(struct an_state *st, struct an_proc *p, uint32_t tid)
{
    uint64_t idx;
    /* Runs of events come from one thread: remember the last one. */
    if (p->thr_last_tid == (uint64_t)tid + 1) return &p->threads[p->thr_last_idx];
    if (an_map_get(&p->thr, (uint64_t)tid + 1, &idx)) {
        p->thr_last_tid = (uint64_t)tid + 1;
        p->thr_last_idx = (uint32_t)idx;
        return &p->threads[idx];
    }
    if (p->n_threads == p->cap_threads) {
        size_t cap = p->cap_threads ? p->cap_threads * 2 : 8;
        struct an_thread *n = realloc(p->threads, cap * sizeof *n);
        if (!n) return NULL;
        p->threads = n;
        p->cap_threads = cap;
    }
    struct an_thread *t = &p->threads[p->n_threads];
    memset(t, 0, sizeof *t);
    t->tid = tid;
    t->last_alloc_id = -1;
    t->start_ns = p->last_ns;
    if (an_map_put(&p->thr, (uint64_t)tid + 1, p->n_threads)) return NULL;
    p->n_threads++;
    return t;
}

struct an_site *an_site_get(struct an_state *st, struct an_proc *p, uint32_t local,
                            uint32_t *site_idx)
{
    uint32_t g = an_stack_global(st, p, local);
    uint64_t idx;
    if (an_map_get(&p->site_of, (uint64_t)g + 1, &idx)) {
        *site_idx = (uint32_t)idx;
        return &p->sites[idx];
    }
    if (p->n_sites == p->cap_sites) {
        size_t cap = p->cap_sites ? p->cap_sites * 2 : 64;
        struct an_site *n = realloc(p->sites, cap * sizeof *n);
        if (!n) return NULL;
        p->sites = n;
        p->cap_sites = cap;
    }
    struct an_site *s = &p->sites[p->n_sites];
    memset(s, 0, sizeof *s);
    s->stack = g;
    s->snap_epoch = p->peak_epoch; /* it had nothing live at the current peak */
    if (an_map_put(&p->site_of, (uint64_t)g + 1, p->n_sites)) return NULL;
    *site_idx = (uint32_t)p->n_sites++;
    return s;
}


/* ------------------------------------------------------------ alloc/free */

/* Ends the life of live block idx, which is still in p->blocks: the caller
 * marks it freed there or drops it. */
static int an_release(struct an_state *st, struct an_proc *p, uint32_t idx,
                      const struct mt_rec_free *fr, uint64_t t_ns)
{
    struct an_block *b = &st->pool[idx];
    struct an_site *s = &p->sites[b->site];
    uint32_t tid = fr ? fr->tid : b->tid;
    int temporary = 0;
    if (fr && !(fr->c.hdr.flags & MT_FREE_F_REALLOC) && tid == b->tid) {
        struct an_thread *t = an_thread_get(st, p, tid);
        temporary = t && t->last_alloc_id == b->alloc_id;
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
    struct an_thread *t = an_thread_get(st, p, tid);
    if (t) t->n_frees++;
    b->free_stack = fr ? an_stack_global(st, p, fr->stack_id) : 0;
    return an_out_alloc(st, p, b, fr, b->free_stack, temporary);
}

/* Drops every freed block from p->blocks once there are AN_FREED_MAX of
 * them: double frees of long-forgotten addresses then read as invalid
 * frees, and memory stays bounded. 0 or -ENOMEM. */
static int an_forget_freed(struct an_state *st, struct an_proc *p)
{
    struct an_map keep;
    int rc = an_map_init(&keep, an_live_entries(p)); /* room enough: no growth below */
    for (size_t i = 0; i < p->blocks.cap && !rc; i++) {
        const struct an_map_ent *e = &p->blocks.e[i];
        if (!e->key) continue;
        if (e->val & AN_FREED_BIT) an_pool_put(st, (uint32_t)e->val);
        else rc = an_map_put(&keep, e->key, e->val);
    }
    if (rc) {
        an_map_fini(&keep);
        return rc;
    }
    an_map_fini(&p->blocks);
    p->blocks = keep;
    p->n_freed_at = 0;
    return 0;
}

struct an_block *an_live_at(struct an_state *st, struct an_proc *p, uint64_t addr)
{
    uint64_t idx;
    if (!an_map_get(&p->blocks, addr, &idx) || (idx & AN_FREED_BIT)) return NULL;
    return &st->pool[idx];
}

int an_ev_free(struct an_state *st, struct an_proc *p, const struct mt_rec_free *r)
{
    uint64_t *ref = an_map_ref(&p->blocks, r->addr);
    if (!ref || (*ref & AN_FREED_BIT)) {
        st->unmatched_frees++; /* inherited over fork, or allocated before a hole */
        return 0;
    }
    if (p->peak_frag_pending) {
        /* The state before this first decrease is the peak: measure it,
         * unless peaks come too often for a measure each (its cost is a
         * scan of p->blocks, freed entries included). */
        if (p->events_since_pfrag >= p->blocks.n / 4 || !p->have_pfrag) {
            int rc = an_frag_snapshot_peak(st, p);
            if (rc) return rc;
        }
        p->peak_frag_pending = 0;
    }
    /* Neither the measure nor the release changes p->blocks: ref holds. */
    int rc = an_release(st, p, (uint32_t)*ref, r, r->c.t_ns - st->start_mono_ns);
    if (rc) return rc;
    *ref |= AN_FREED_BIT; /* remembered at its address until it is reused */
    return ++p->n_freed_at >= AN_FREED_MAX ? an_forget_freed(st, p) : 0;
}

int an_ev_alloc(struct an_state *st, struct an_proc *p, const struct mt_rec_alloc *r)
{
    uint64_t t_ns = r->c.t_ns - st->start_mono_ns, old;
    uint32_t site_idx, idx;
    if (!r->addr) return 0; /* forged: malloc never returns 0, and 0 is the maps' empty key */
    struct an_site *s = an_site_get(st, p, r->stack_id, &site_idx);
    if (!s || an_pool_get(st, &idx)) return -ENOMEM;
    int had = an_map_swap(&p->blocks, r->addr, idx, &old);
    if (had < 0) {
        an_pool_put(st, idx);
        return had;
    }
    if (had && (old & AN_FREED_BIT)) { /* the address is reused: forget its free */
        p->n_freed_at--;
    } else if (had) {
        /* Address still live (a free lost to a hole or --lossy): the old
         * block ends here, released by this allocation. */
        struct mt_rec_free fr = {.c = r->c, .addr = r->addr, .tid = r->tid,
                                 .family = r->family, .api = r->api};
        fr.c.hdr.flags = MT_FREE_F_REALLOC;
        int rc = an_release(st, p, (uint32_t)old, &fr, t_ns);
        if (rc) return rc;
    }
    if (had) an_pool_put(st, (uint32_t)old); /* replaced in the map: nobody names it */
    struct an_block *b = &st->pool[idx];
    *b = (struct an_block){.addr = r->addr, .size = r->size, .usable = r->usable,
                           .seq = r->c.seq, .t_ns = t_ns, .alloc_id = st->next_alloc_id++,
                           .site = site_idx, .tid = r->tid, .family = r->family, .api = r->api,
                           .realloc = (r->c.hdr.flags & MT_ALLOC_F_REALLOC) ? 1 : 0};
    return an_block_count(st, p, s, b);
}

/* Counts a new live block b of site s in the site, process, timeline and
 * thread figures, then applies the peak rule. Shared by malloc blocks and
 * pool chunks so both follow one definition (docs/metrics.md). 0 or
 * -ENOMEM. */
int an_block_count(struct an_state *st, struct an_proc *p, struct an_site *s,
                   const struct an_block *b)
{
    an_site_touch(p, s);
    s->n_allocs++;
    s->alloc_bytes += b->size;
    s->usable_bytes += b->usable;
    s->live_bytes += b->size;
    s->live_blocks++;
    if (s->live_bytes > s->max_live_bytes) s->max_live_bytes = s->live_bytes;
    unsigned sb = an_bitlen(b->size);
    s->hist_size[sb < AN_HIST_BUCKETS ? sb : AN_HIST_BUCKETS - 1]++;
    p->hist_size[sb][0]++;
    p->hist_size[sb][1] += b->size;
    p->live_bytes += b->size;
    p->live_usable += b->usable;
    p->live_blocks++;
    p->n_allocs++;
    p->alloc_bytes += b->size;
    p->tl.n_allocs++;
    p->tl.alloc_bytes += b->size;
    if (p->live_bytes > p->tl.max_bytes) p->tl.max_bytes = p->live_bytes;
    an_peak_check(p, b->seq, b->t_ns);
    struct an_thread *t = an_thread_get(st, p, b->tid);
    if (!t) return -ENOMEM;
    t->last_alloc_id = b->alloc_id;
    t->n_allocs++;
    t->alloc_bytes += b->size;
    return 0;
}

/* ------------------------------------------------------------ leaks */

int an_ev_leak(struct an_state *st, struct an_proc *p, const struct mt_rec_leak *r)
{
    const struct mt_leak_entry *e = (const struct mt_leak_entry *)(r + 1);
    for (uint32_t i = 0; i < r->n; i++) {
        struct an_block *b;
        if (e[i].cls < MT_LEAK_DEFINITE || e[i].cls > MT_LEAK_REACHABLE) continue;
        if ((b = an_live_at(st, p, e[i].addr))) b->leak_class = e[i].cls;
    }
    return 0;
}
