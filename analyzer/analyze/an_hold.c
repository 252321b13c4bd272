/*
 * an_hold.c — a forked child's records wait until its parent's records reached the fork
 *
 * A child inherits its parent's stack and module tables at fork (DESIGN.md,
 * "Processes"): its PROCESS record names the parent and the first stack and
 * module ids that are its own (the watermarks). The trace orders records
 * within one process image only, and the collector may well drain a short-
 * lived child's ring before the parent's, so the child's records can reach
 * the analysis before the parent's stacks and modules they refer to. Those
 * records are copied here and replayed (analyze.c) as soon as the parent
 * has defined its last inherited stack and module.
 *
 * Design notes
 *   1. Holding starts at a FORKED PROCESS record whose parent is not ready
 *      and lasts until it is; every record of that image meanwhile is held,
 *      including its RSS samples (so its timeline stays in order).
 *   2. Memory: the held records, bounded by how far the collector's drain
 *      order runs ahead of the parent (ring sizes), not by the trace.
 *   3. A parent that never gets ready (its records lost) releases its
 *      children at the end of the pass: they get what it had by then.
 *
 * SPDX-License-Identifier: MIT
 */
#include "analyze/analyze_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct an_hold {
    char *buf;               /* owned: entries, each an an_hold_ent then the record */
    size_t len, cap;
    uint32_t ppid, parent_gen;
    uint32_t stack_wm, module_wm;
};

struct an_hold_ent {
    uint32_t ring;           /* MT_RING_COLLECTOR for collector records */
    uint32_t len;            /* record bytes that follow */
};

/* 1 when the parent (ppid, parent_gen) has defined every stack and module
 * id below the child's watermarks. */
static int an_hold_parent_ready(struct an_state *st, const struct an_hold *h)
{
    uint64_t idx;
    if (!an_map_get(&st->procs, ((uint64_t)h->ppid << 32 | h->parent_gen) + 1, &idx)) return 0;
    const struct an_proc *par = st->procs_v[idx];
    if (par->hold) return 0;
    if (h->stack_wm > 1 && (h->stack_wm - 1 >= par->n_stk || !par->stk[h->stack_wm - 1]))
        return 0;
    if (h->module_wm > 0 &&
        (h->module_wm - 1 >= par->n_mods || !par->mods[h->module_wm - 1].module_id))
        return 0;
    return 1;
}

int an_hold_check(struct an_state *st, struct an_proc *p, const struct mt_rec_hdr *rec)
{
    if (p->hold) return 1;
    if (rec->kind != MT_REC_PROCESS || !(rec->flags & MT_PROC_F_FORKED)) return 0;
    const struct mt_rec_process *r = (const void *)rec;
    struct an_hold h = {.ppid = r->ppid, .parent_gen = r->parent_gen,
                        .stack_wm = r->stack_watermark, .module_wm = r->module_watermark};
    if (an_hold_parent_ready(st, &h)) return 0;
    if (!(p->hold = malloc(sizeof *p->hold))) return -ENOMEM;
    *p->hold = h;
    st->n_holding++;
    return 1;
}

int an_hold_push(struct an_state *st, struct an_proc *p, uint32_t ring,
                 const struct mt_rec_hdr *rec)
{
    struct an_hold *h = p->hold;
    size_t need = sizeof(struct an_hold_ent) + ((rec->len + 7u) & ~(size_t)7u); /* keep 8-aligned */
    if (h->len + need > h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 4096;
        while (cap < h->len + need) cap *= 2;
        char *n = realloc(h->buf, cap);
        if (!n) return -ENOMEM;
        h->buf = n;
        h->cap = cap;
    }
    struct an_hold_ent e = {.ring = ring, .len = rec->len};
    memcpy(h->buf + h->len, &e, sizeof e);
    memcpy(h->buf + h->len + sizeof e, rec, rec->len);
    h->len += need;
    (void)st;
    return 0;
}

struct an_proc *an_hold_next(struct an_state *st, int force)
{
    for (size_t i = 0; i < st->n_procs; i++) {
        struct an_proc *p = st->procs_v[i];
        if (p->hold && (force || an_hold_parent_ready(st, p->hold))) return p;
    }
    return NULL;
}

struct an_hold *an_hold_detach(struct an_state *st, struct an_proc *p)
{
    struct an_hold *h = p->hold;
    p->hold = NULL;
    st->n_holding--;
    return h;
}

const struct mt_rec_hdr *an_hold_each(const struct an_hold *h, size_t *pos, uint32_t *ring)
{
    if (*pos >= h->len) return NULL;
    struct an_hold_ent e;
    memcpy(&e, h->buf + *pos, sizeof e);
    const struct mt_rec_hdr *rec = (const void *)(h->buf + *pos + sizeof e);
    *ring = e.ring;
    *pos += sizeof e + ((e.len + 7u) & ~(size_t)7u);
    return rec;
}

void an_hold_free(struct an_hold *h)
{
    if (!h) return;
    free(h->buf);
    free(h);
}
