/*
 * analyze.c — the single streaming pass from a trace to the database
 *
 * analyze_trace() opens the trace (trace_reader_*) and a fresh database
 * (db.c), then feeds every record to its process image in seq order. This
 * file owns the process table, the block pool, the timeline intervals and
 * the collector's records; an_events.c does allocations and frees,
 * an_errors.c errors, an_sym.c stacks, an_final.c the end of each process.
 *
 * Design notes:
 *   1. Memory is the live blocks + remembered freed addresses + distinct
 *      stacks and sites: nothing grows with the number of events. Rows go
 *      out as soon as they are final (an allocation when it is freed).
 *   2. Processes are finished only after the whole trace: the reader
 *      interleaves images in file order, so a late block of a process may
 *      follow the collector's PROC_END of it.
 *   3. The timeline interval of a process advances on its own events and
 *      samples; heap figures of an interval are those before the first
 *      event of the next one, i.e. exact at the interval's end.
 *   4. Three threads: the feed reads the trace (an_feed.c), this thread
 *      analyzes and writes every table but one, and the writer builds the
 *      allocations table's pages (an_writer.c), spliced in when the
 *      database is closed (an_rows.c). Costs per stage and why:
 *      docs/performance.md, "Analysis".
 *   5. A forked child's records can precede its parent's; they wait in
 *      an_hold.c until the parent defined the stacks the child inherits.
 *
 * SPDX-License-Identifier: MIT
 */
#include "analyze/analyze.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyze/an_client.h"
#include "analyze/analyze_int.h"
#include "db/db.h"
#include "memtrace/error.h"
#include "trace/trace.h"

#define AN_DEFAULT_PERIOD_NS 10000000ull /* 10 ms, the collector's default period */

/* ------------------------------------------------------------ pool */

int an_pool_get(struct an_state *st, uint32_t *idx)
{
    if (st->pool_free != UINT32_MAX) {
        *idx = st->pool_free;
        st->pool_free = st->pool[*idx].next_free;
        return 0;
    }
    if (st->n_pool == st->cap_pool) {
        size_t cap = st->cap_pool ? st->cap_pool * 2 : 4096;
        struct an_block *n = realloc(st->pool, cap * sizeof *n);
        if (!n || cap >= UINT32_MAX) return -ENOMEM;
        st->pool = n;
        st->cap_pool = cap;
    }
    *idx = (uint32_t)st->n_pool++;
    return 0;
}

void an_pool_put(struct an_state *st, uint32_t idx)
{
    st->pool[idx].next_free = st->pool_free;
    st->pool_free = idx;
}

/* ------------------------------------------------------------ processes */

static struct an_proc *an_proc_find(struct an_state *st, uint32_t pid, uint32_t gen)
{
    uint64_t idx;
    struct an_proc *p = st->recent;
    if (p && p->pid == pid && p->gen == gen) return p;
    if (!an_map_get(&st->procs, ((uint64_t)pid << 32 | gen) + 1, &idx)) return NULL;
    return st->recent = st->procs_v[idx];
}

static struct an_proc *an_proc_get(struct an_state *st, uint32_t pid, uint32_t gen)
{
    struct an_proc *p = an_proc_find(st, pid, gen);
    if (p) return p;
    if (st->n_procs == st->cap_procs) {
        size_t cap = st->cap_procs ? st->cap_procs * 2 : 8;
        struct an_proc **n = realloc(st->procs_v, cap * sizeof *n);
        if (!n) return NULL;
        st->procs_v = n;
        st->cap_procs = cap;
    }
    p = calloc(1, sizeof *p);
    if (!p || an_map_put(&st->procs, ((uint64_t)pid << 32 | gen) + 1, st->n_procs)) {
        free(p);
        return NULL;
    }
    st->procs_v[st->n_procs++] = p;
    p->proc_id = (int64_t)st->n_procs;
    p->pid = pid;
    p->gen = gen;
    p->tl.rss = -1;
    p->end_how = 0;
    return p;
}

static void an_proc_free(struct an_proc *p)
{
    an_hold_free(p->hold);
    an_client_free(p);
    an_map_fini(&p->blocks);
    an_map_fini(&p->thr);
    an_map_fini(&p->site_of);
    for (size_t i = 0; i < p->n_mods; i++) free(p->mods[i].segs);
    free(p->mods);
    free(p->stk);
    free(p->sites);
    free(p->threads);
    free(p->exe);
    free(p->argv);
    free(p);
}

/* NUL-separated args to one space-separated string (owned by the caller). */
static char *an_join_args(const char *a, size_t len)
{
    char *s = malloc(len + 1);
    if (!s) return NULL;
    memcpy(s, a, len);
    s[len] = 0;
    while (len && !s[len - 1]) len--;
    for (size_t i = 0; i < len; i++)
        if (!s[i]) s[i] = ' ';
    s[len] = 0;
    return s;
}

static int an_on_process(struct an_state *st, struct an_proc *p, const struct mt_rec_process *r)
{
    const char *exe = (const char *)(r + 1);
    p->have_process = 1;
    p->ppid = r->ppid;
    p->parent_gen = r->parent_gen;
    p->flags = r->c.hdr.flags;
    p->stack_watermark = r->stack_watermark;
    p->module_watermark = r->module_watermark;
    p->max_depth = r->max_depth;
    p->opt_flags = r->opt_flags;
    p->start_ns = r->c.t_ns - st->start_mono_ns;
    p->start_real_ns = r->start_real_ns;
    free(p->exe);
    free(p->argv);
    p->exe = an_join_args(exe, r->exe_len);
    p->argv = an_join_args(exe + r->exe_len, r->argv_len);
    if (r->c.hdr.flags & MT_PROC_F_FORKED) p->parent = an_proc_find(st, r->ppid, r->parent_gen);
    else if (p->gen > 0) p->parent = an_proc_find(st, p->pid, p->gen - 1);
    if (!p->exe || !p->argv) return -ENOMEM;
    if (!(r->c.hdr.flags & MT_PROC_F_FORKED) || !p->parent) return 0;
    /* Inherit the parent's modules below the watermark (same mappings). */
    struct an_proc *par = p->parent;
    size_t n = par->n_mods < p->module_watermark ? par->n_mods : p->module_watermark;
    p->mods = calloc(n + 1, sizeof *p->mods);
    if (!p->mods) return -ENOMEM;
    p->n_mods = n;
    for (size_t i = 0; i < n; i++) {
        p->mods[i] = par->mods[i];
        p->mods[i].segs = NULL;
        if (!par->mods[i].segs) continue;
        p->mods[i].segs = malloc((par->mods[i].n_segs + 1) * sizeof(struct mt_segment));
        if (!p->mods[i].segs) return -ENOMEM;
        memcpy(p->mods[i].segs, par->mods[i].segs, par->mods[i].n_segs * sizeof(struct mt_segment));
    }
    return 0;
}

static int an_on_stack(struct an_state *st, struct an_proc *p, const struct mt_rec_stack *r)
{
    uint32_t g;
    int rc = an_sym_stack(st, p, (const uint64_t *)(r + 1), r->n_frames, &g);
    if (rc) return rc;
    if (r->stack_id >= p->n_stk) {
        size_t cap = p->n_stk ? p->n_stk : 256;
        while (cap <= r->stack_id) cap *= 2;
        uint32_t *n = realloc(p->stk, cap * sizeof *n);
        if (!n) return -ENOMEM;
        memset(n + p->n_stk, 0, (cap - p->n_stk) * sizeof *n);
        p->stk = n;
        p->n_stk = cap;
    }
    p->stk[r->stack_id] = g + 1;
    return 0;
}

static void an_on_thread(struct an_state *st, struct an_proc *p, const struct mt_rec_thread *r)
{
    struct an_thread *t = an_thread_get(st, p, r->tid);
    if (!t) return;
    memcpy(t->name, r->name, sizeof t->name);
    t->name[sizeof t->name - 1] = 0;
    if (r->c.hdr.flags & MT_THREAD_F_START) t->start_ns = r->c.t_ns - st->start_mono_ns;
    if (r->c.hdr.flags & MT_THREAD_F_END) {
        t->ended = 1;
        t->end_ns = r->c.t_ns - st->start_mono_ns;
    }
}

/* ------------------------------------------------------------ timeline */

/* Moves p's timeline to the interval holding t_ns, writing the finished one. */
static int an_tl_advance(struct an_state *st, struct an_proc *p, uint64_t t_ns)
{
    uint64_t idx = t_ns / st->period_ns;
    struct an_tl *tl = &p->tl;
    if (tl->active && idx <= tl->idx) return 0;
    if (tl->active) {
        int rc = an_out_timeline(st, p);
        /* a measure scans p->blocks: amortized, a few entries per event */
        if (!rc && p->events_since_frag >= p->blocks.n * 4 + 4096) {
            p->events_since_frag = 0;
            rc = an_out_frag(st, p, "sample", p->last_seq, (tl->idx + 1) * st->period_ns);
        }
        if (rc) return rc;
    }
    *tl = (struct an_tl){.idx = idx, .active = 1, .max_bytes = p->live_bytes, .rss = -1};
    return 0;
}

/* ------------------------------------------------------------ dispatch */

static int an_proc_event(struct an_state *st, struct an_proc *p, const struct mt_rec_hdr *h)
{
    const struct mt_rec_common *c = (const struct mt_rec_common *)h;
    uint64_t t_ns = c->t_ns >= st->start_mono_ns ? c->t_ns - st->start_mono_ns : 0;
    int rc = an_tl_advance(st, p, t_ns);
    if (rc) return rc;
    p->last_seq = c->seq;
    p->last_ns = t_ns;
    if (t_ns > st->max_t_ns) st->max_t_ns = t_ns;
    p->events_since_frag++;
    p->events_since_pfrag++;
    if (h->kind >= MT_REC_POOL && h->kind <= MT_REC_CLIENT) return an_client_event(st, p, h);
    if (p->client && (rc = an_client_pre(st, p, h)) != AN_CLIENT_PASS) return rc;
    switch (h->kind) {
    case MT_REC_PROCESS: return an_on_process(st, p, (const void *)h);
    case MT_REC_EXIT:
        p->normal_exit = 1;
        p->exit_status = ((const struct mt_rec_exit *)h)->status;
        return 0;
    case MT_REC_THREAD: an_on_thread(st, p, (const void *)h); return 0;
    case MT_REC_MODULE: return an_sym_module(st, p, (const void *)h);
    case MT_REC_MODULE_UNLOAD: {
        uint32_t id = ((const struct mt_rec_module_unload *)h)->module_id;
        if (id < p->n_mods) {
            p->mods[id].unloaded = 1;
            p->mods[id].unload_ns = t_ns;
        }
        return 0;
    }
    case MT_REC_STACK: return an_on_stack(st, p, (const void *)h);
    case MT_REC_ALLOC: return an_ev_alloc(st, p, (const void *)h);
    case MT_REC_FREE: return an_ev_free(st, p, (const void *)h);
    case MT_REC_ERROR: return an_ev_error(st, p, (const void *)h);
    case MT_REC_MALLINFO:
        memcpy(&p->mi, h, sizeof p->mi);
        memcpy(&p->tl.mi, h, sizeof p->mi);
        p->have_mi = p->tl.have_mi = 1;
        return 0;
    case MT_REC_LEAK_BEGIN: p->in_scan = 1; return 0;
    case MT_REC_LEAK: return an_ev_leak(st, p, (const void *)h);
    case MT_REC_LEAK_END:
        p->in_scan = 0;
        p->scan_done = 1;
        p->scan_ns = ((const struct mt_rec_leak_mark *)h)->duration_ns;
        return 0;
    default: return 0; /* SEQ_SKIP and kinds from a newer writer */
    }
}

static int an_collector_event(struct an_state *st, const struct mt_rec_hdr *h)
{
    if (h->kind == MT_REC_SESSION) {
        const struct mt_rec_session *r = (const void *)h;
        free(st->argv);
        st->argv = an_join_args((const char *)(r + 1), r->argv_len);
        st->max_depth = r->max_depth;
        st->opt_flags = r->opt_flags;
        st->period_us = r->sample_period_us;
        st->have_session = 1;
        if (r->sample_period_us && !st->n_procs) st->period_ns = r->sample_period_us * 1000ull;
        return st->argv ? 0 : -ENOMEM;
    }
    if (h->kind == MT_REC_RSS) {
        const struct mt_rec_rss *r = (const void *)h;
        struct an_proc *p = an_proc_find(st, r->pid, r->gen);
        if (!p) return 0;
        uint64_t t_ns = r->t_ns >= st->start_mono_ns ? r->t_ns - st->start_mono_ns : 0;
        int rc = an_tl_advance(st, p, t_ns);
        p->tl.rss = (int64_t)r->rss;
        if (r->rss > p->peak_rss) {
            p->peak_rss = r->rss;
            p->peak_rss_ns = t_ns;
        }
        return rc;
    }
    if (h->kind == MT_REC_PROC_END) {
        const struct mt_rec_proc_end *r = (const void *)h;
        struct an_proc *p = an_proc_get(st, r->pid, r->gen);
        if (!p) return -ENOMEM;
        p->have_end = 1;
        p->end_how = (int)r->how;
        p->end_status = r->status;
        p->dropped = r->dropped;
        p->degraded = r->degraded;
        p->end_ns = r->t_ns >= st->start_mono_ns ? r->t_ns - st->start_mono_ns : 0;
        if (p->end_ns > st->max_t_ns) st->max_t_ns = p->end_ns;
    }
    return 0;
}

/* Replays the held records of every forked child whose parent is now
 * ready (all of them if force), children of replayed ones included. */
static int an_replay(struct an_state *st, int force)
{
    struct an_proc *c;
    int rc = 0;
    while (!rc && (c = an_hold_next(st, force))) {
        struct an_hold *h = an_hold_detach(st, c);
        const struct mt_rec_hdr *rec;
        size_t pos = 0;
        uint32_t ring;
        while (!rc && (rec = an_hold_each(h, &pos, &ring)))
            rc = ring == MT_RING_COLLECTOR ? an_collector_event(st, rec)
                                           : an_proc_event(st, c, rec);
        an_hold_free(h);
    }
    return rc;
}

/* 1 if ev was held (a forked child's record before its parent's, see
 * an_hold.c), 0 to analyze it now, or -ENOMEM. */
static int an_event_held(struct an_state *st, const struct trace_event *ev)
{
    struct an_proc *p;
    if (ev->ring == MT_RING_COLLECTOR || ev->rec->kind >= MT_REC_SESSION) {
        const struct mt_rec_rss *r = (const void *)ev->rec;
        if (ev->rec->kind != MT_REC_RSS || !(p = an_proc_find(st, r->pid, r->gen)) || !p->hold)
            return 0;
        return an_hold_push(st, p, MT_RING_COLLECTOR, ev->rec) ? -ENOMEM : 1;
    }
    if (!(p = an_proc_get(st, ev->pid, ev->gen))) return -ENOMEM;
    int rc = an_hold_check(st, p, ev->rec);
    if (rc == 1 && (rc = an_hold_push(st, p, ev->ring, ev->rec)) == 0) return 1;
    return rc;
}

static int an_event(struct an_state *st, const struct trace_event *ev)
{
    st->n_events++;
    if (st->n_holding || (ev->rec->kind == MT_REC_PROCESS && ev->ring != MT_RING_COLLECTOR)) {
        int held = an_event_held(st, ev);
        if (held) return held < 0 ? held : 0;
    }
    if (ev->ring == MT_RING_COLLECTOR || ev->rec->kind >= MT_REC_SESSION)
        return an_collector_event(st, ev->rec);
    struct an_proc *p = an_proc_get(st, ev->pid, ev->gen);
    if (!p) return -ENOMEM;
    int rc = an_proc_event(st, p, ev->rec);
    if (!rc && st->n_holding && (ev->rec->kind == MT_REC_STACK || ev->rec->kind == MT_REC_MODULE))
        rc = an_replay(st, 0);
    return rc;
}

/* ------------------------------------------------------------ driver */

/* Every record, in the reader's order, read on the feed thread (an_feed.c). */
static int an_records(struct an_state *st, struct trace_reader *r)
{
    struct an_feed *f;
    struct trace_event ev;
    int rc = an_feed_start(&f, r), more = 0;
    st->eb->msg[0] = 0;
    while (!rc && (more = an_feed_next(f, &ev, st->eb)) > 0) {
        /* keep a message the failing part wrote (SQLite's, the writer's
         * "writing allocations: ..."); else say what the code means */
        if ((rc = an_event(st, &ev)) && !st->eb->msg[0])
            mt_errbuf_set(st->eb, "analyzing: %s", mt_strerror(rc));
    }
    an_feed_stop(f); /* the reader is ours again */
    return rc ? rc : more;
}

static int an_pass(struct an_state *st, struct trace_reader *r, struct analyze_result *res)
{
    int rc = an_records(st, r);
    if (rc) return rc;
    if ((rc = an_replay(st, 1))) return rc; /* parents never ready (an_hold.c, note 3) */
    res->truncated = trace_reader_truncated(r, &res->trunc_off);
    res->seq_holes = trace_reader_seq_holes(r);
    res->n_events = st->n_events;
    for (size_t i = 0; i < st->n_procs && !rc; i++) rc = an_final_proc(st, st->procs_v[i]);
    if (!rc) rc = an_final_leak_rows(st);
    int wrc = an_writer_stop(st); /* every allocations row is written after this */
    return rc ? rc : wrc;
}

static void an_state_free(struct an_state *st)
{
    an_sym_destroy(st);
    an_out_finalize(st);
    an_client_session_free(st);
    for (size_t i = 0; i < st->n_procs; i++) an_proc_free(st->procs_v[i]);
    free(st->procs_v);
    an_map_fini(&st->procs);
    free(st->pool);
    free(st->argv);
    free(st->frag_buf);
    free(st->leak_rows);
}

int analyze_trace(const struct analyze_opts *opts, struct analyze_result *res,
                  struct mt_errbuf *eb)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(res, 0, sizeof *res);
    struct an_state st = {.opts = opts, .eb = eb, .pool_free = UINT32_MAX,
                          .period_ns = AN_DEFAULT_PERIOD_NS, .next_alloc_id = 1};
    struct trace_reader *r;
    int rc = trace_reader_open(opts->trace_path, &r, eb);
    if (rc) return rc;
    st.start_mono_ns = trace_reader_header(r)->start_mono_ns;
    struct db_writer *w;
    if ((rc = db_create(opts->db_path, &w, &st.db, eb))) goto fail_db;
    if (!(rc = an_out_prepare(&st)) && (opts->no_allocations || !(rc = an_writer_start(&st))) &&
        !(rc = an_sym_create(&st, opts->debug_paths)) && !(rc = an_pass(&st, r, res))) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        res->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        st.trace_hdr = trace_reader_header(r);
        rc = an_final_session(&st, res);
    }
    if (rc) an_writer_destroy(&st); /* first: its thread reads the processes' pool names */
    an_state_free(&st); /* the writer's rows wait in its files, for an_rows_finish */
    rc = rc ? (db_discard(w), rc) : db_finish(w, st.writer ? an_rows_finish : NULL, &st, eb);
    an_writer_destroy(&st);
    /* What the user waits for includes sealing the database (indexes). */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    res->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
fail_db:
    trace_reader_close(r);
    return rc;
}
