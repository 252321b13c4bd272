/*
 * live_order.c — the aggregator's per-process-image reorder window, without a malloc per record
 *
 * The collector drains each thread's ring in turn, so records of one
 * process image reach live_agg_feed() in runs that interleave out of seq
 * order. Seq numbers are dense from 0 per image (trace_format.h), so the
 * exact order is restored as the trace reader does (trace/trace_reorder.c),
 * tuned for the collector thread's budget: a record whose seq is next is
 * applied at once, straight from the block (no copy, no queue); a later
 * one is copied into the window slot seq % cap — inline, since ALLOC,
 * FREE and ERROR records fit a slot, so the common case never calls
 * malloc — and is applied when the run before it is complete.
 * Docs: docs/tui.md ("Live aggregation").
 *
 * Design notes
 *   1. A seq below next_seq or a seq already held is corruption (counted,
 *      record skipped); so is a seq LIVE_ORDER_MAX_GAP or more ahead.
 *   2. At the image's end (PROC_END) or the session's (finish) what is held
 *      is applied in seq order; missing seqs are skipped and counted as
 *      holes (a process killed between taking a seq and writing it).
 *   3. A lazy catch-up (live_lazy.c) feeds the trace's blocks through
 *      here in file order, so the window ends as it would have live: the
 *      records still in the rings are gaps it keeps waiting for.
 *
 * SPDX-License-Identifier: MIT
 */
#include "live/live_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memtrace/error.h"

/* 2^22 seqs: more records than 64 rings of 1 MiB hold at once (~2.8 M of
 * 24 bytes), so only a corrupt seq is that far ahead; bounds the window
 * at 4 M slots. */
#define LIVE_ORDER_MAX_GAP (1ull << 22)
/* First window: a power of two so that & works; one ring's worth of a
 * busy thread's records fits without growing twice. */
#define LIVE_ORDER_MIN_CAP 1024u

/* Applies one held slot and empties it. */
static int live_order_apply_slot(struct live_agg *a, struct live_proc *p, struct live_slot *s)
{
    int rc = live_apply_rec(a, p, s->ring, s->rec);
    if (s->rec != (struct mt_rec_hdr *)s->inl) free(s->rec);
    s->rec = NULL;
    p->ord.n_held--;
    return rc;
}

/* Applies the held run that starts at next_seq. */
static int live_order_run(struct live_agg *a, struct live_proc *p)
{
    struct live_order *o = &p->ord;
    int rc = 0;
    while (o->n_held && !rc) {
        struct live_slot *s = &o->win[o->next_seq & (o->cap - 1)];
        if (!s->rec) break;
        o->next_seq++;
        rc = live_order_apply_slot(a, p, s);
    }
    return rc;
}

/* Grows the window so that a seq gap ahead of next_seq fits. */
static int live_order_grow(struct live_order *o, uint64_t gap)
{
    uint64_t cap = o->cap ? o->cap * 2 : LIVE_ORDER_MIN_CAP;
    while (cap <= gap) cap *= 2;
    struct live_slot *w = malloc(cap * sizeof *w);
    if (!w) return -ENOMEM;
    for (uint64_t i = 0; i < cap; i++) w[i].rec = NULL;
    for (uint64_t i = 0; i < o->cap; i++) {
        struct live_slot *s = &o->win[i];
        if (!s->rec) continue;
        uint64_t seq = ((const struct mt_rec_common *)s->rec)->seq;
        struct live_slot *d = &w[seq & (cap - 1)];
        *d = *s;
        if (s->rec == (struct mt_rec_hdr *)s->inl) d->rec = (struct mt_rec_hdr *)d->inl;
    }
    free(o->win);
    o->win = w;
    o->cap = cap;
    return 0;
}

/* Copies h into the window (its seq is ahead of next_seq). */
static int live_order_hold(struct live_order *o, uint32_t ring, const struct mt_rec_hdr *h,
                           uint64_t seq)
{
    uint64_t gap = seq - o->next_seq;
    if (gap >= LIVE_ORDER_MAX_GAP) return MT_ECORRUPT; /* note 1 */
    if (gap >= o->cap && live_order_grow(o, gap)) return -ENOMEM;
    struct live_slot *s = &o->win[seq & (o->cap - 1)];
    if (s->rec) return MT_ECORRUPT; /* note 1: seen twice */
    struct mt_rec_hdr *copy = h->len <= sizeof s->inl ? (struct mt_rec_hdr *)s->inl
                                                      : malloc(h->len);
    if (!copy) return -ENOMEM;
    memcpy(copy, h, h->len);
    s->rec = copy;
    s->ring = ring;
    o->n_held++;
    return 0;
}

/* ------------------------------------------------------------ exported */

int live_order_push(struct live_agg *a, struct live_proc *p, uint32_t ring,
                    const struct mt_rec_hdr *h)
{
    struct live_order *o = &p->ord;
    uint64_t seq = ((const struct mt_rec_common *)h)->seq;
    if (seq != o->next_seq)
        return seq < o->next_seq ? MT_ECORRUPT : live_order_hold(o, ring, h, seq);
    o->next_seq++;
    int rc = live_apply_rec(a, p, ring, h);
    return rc ? rc : live_order_run(a, p);
}

int live_order_flush(struct live_agg *a, struct live_proc *p)
{
    struct live_order *o = &p->ord;
    int rc = 0;
    while (o->n_held && !rc) {
        while (!o->win[o->next_seq & (o->cap - 1)].rec) { /* note 2 */
            o->next_seq++;
            a->n_holes++;
        }
        rc = live_order_run(a, p);
    }
    return rc;
}

void live_order_fini(struct live_order *o)
{
    for (uint64_t i = 0; o->n_held && i < o->cap; i++) {
        struct live_slot *s = &o->win[i];
        if (!s->rec) continue;
        if (s->rec != (struct mt_rec_hdr *)s->inl) free(s->rec);
        o->n_held--;
    }
    free(o->win);
    memset(o, 0, sizeof *o);
}
