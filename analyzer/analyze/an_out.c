/*
 * an_out.c — the rows the analysis writes (prepared statements, bound and stepped)
 *
 * analyze.c computes, this file stores: one prepared INSERT per table,
 * reused for every row inside the one big transaction db.c opened. Column
 * order follows analyzer/db/schema.sql; docs/schema.md says what each means.
 * Allocations rows are the exception: an_writer.c writes them (a second
 * thread, its own B-tree pages).
 *
 * SPDX-License-Identifier: MIT
 */
#include "analyze/analyze_int.h"

#include <string.h>

#include "trace/trace.h"

static const char *const an_out_sql[AN_ST_COUNT] = {
    [AN_ST_ERROR] = "INSERT INTO errors VALUES (NULL,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [AN_ST_TIMELINE] = "INSERT OR REPLACE INTO timeline VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [AN_ST_FRAG] = "INSERT INTO fragmentation VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [AN_ST_FRAME] = "INSERT INTO frames VALUES (?,?,?,?,?,?,?,?)",
    [AN_ST_STACK] = "INSERT INTO stacks VALUES (?,?,?)",
    [AN_ST_STACK_FRAME] = "INSERT INTO stack_frames VALUES (?,?,?)",
    [AN_ST_MODULE] = "INSERT INTO modules VALUES (?,?,?,?)",
    [AN_ST_PMODULE] = "INSERT OR REPLACE INTO process_modules VALUES (?,?,?,?,?,?,?,?,?)",
    [AN_ST_SITE] = "INSERT INTO sites VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [AN_ST_HIST] = "INSERT INTO histograms VALUES (?,?,?,?,?,?,?,?)",
    [AN_ST_THREAD] = "INSERT OR REPLACE INTO threads VALUES (?,?,?,?,?,?,?,?)",
    [AN_ST_PROC] =
        "INSERT INTO processes (proc_id, pid, gen, ppid, parent_proc_id, forked, exe, argv,"
        " start_ns, start_real_ns, end_ns, end_how, exit_status, exit_signal, normal_exit,"
        " leak_scan, leak_scan_ns, dropped, degraded, max_depth, n_allocs, alloc_bytes, n_frees,"
        " n_temporary, n_errors, peak_heap_bytes, peak_heap_blocks, peak_heap_ns, peak_heap_seq,"
        " peak_rss_bytes, peak_rss_ns, end_live_bytes, end_live_blocks, errors_checked)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
};

int an_out_prepare(struct an_state *st)
{
    for (int i = 0; i < AN_ST_COUNT; i++) {
        if (sqlite3_prepare_v3(st->db, an_out_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->st[i],
                               NULL) != SQLITE_OK) {
            mt_errbuf_set(st->eb, "preparing statement: %s", sqlite3_errmsg(st->db));
            return MT_ESQLITE;
        }
    }
    return 0;
}

void an_out_finalize(struct an_state *st)
{
    for (int i = 0; i < AN_ST_COUNT; i++) {
        sqlite3_finalize(st->st[i]);
        st->st[i] = NULL;
    }
}

int an_out_step(struct an_state *st, sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc == SQLITE_DONE) return 0;
    mt_errbuf_set(st->eb, "writing the database: %s", sqlite3_errmsg(st->db));
    return MT_ESQLITE;
}

static void an_bind_opt(sqlite3_stmt *s, int i, int have, int64_t v)
{
    if (have) sqlite3_bind_int64(s, i, v);
    else sqlite3_bind_null(s, i);
}

int an_out_alloc(struct an_state *st, struct an_proc *p, const struct an_block *b,
                 const struct mt_rec_free *fr, uint32_t free_stack, int temporary)
{
    if (st->opts->no_allocations) return 0;
    struct an_arow r = {.alloc_id = b->alloc_id, .proc_id = p->proc_id, .addr = b->addr,
                        .size = b->size, .usable = b->usable, .seq = b->seq, .t_ns = b->t_ns,
                        .stack = p->sites[b->site].stack, .tid = b->tid, .family = b->family,
                        .api = b->api, .realloc = b->realloc, .temporary = (uint8_t)temporary,
                        .leak_class = b->leak_class ? b->leak_class : 5}; /* 5: unclassified */
    if (fr) {
        r.leak_class = 0; /* NULL: freed */
        r.freed = 1;
        r.free_seq = fr->c.seq;
        r.free_ns = fr->c.t_ns - st->start_mono_ns;
        r.free_tid = fr->tid;
        r.free_api = fr->api;
        r.free_stack = free_stack;
    }
    return an_writer_row(st, &r);
}

int an_out_timeline(struct an_state *st, struct an_proc *p)
{
    struct an_tl *tl = &p->tl;
    sqlite3_stmt *s = st->st[AN_ST_TIMELINE];
    double secs = (double)st->period_ns / 1e9;
    sqlite3_bind_int64(s, 1, p->proc_id);
    sqlite3_bind_int64(s, 2, (int64_t)((tl->idx + 1) * st->period_ns));
    sqlite3_bind_int64(s, 3, (int64_t)p->live_bytes);
    sqlite3_bind_int64(s, 4, (int64_t)p->live_blocks);
    sqlite3_bind_int64(s, 5, (int64_t)tl->max_bytes);
    sqlite3_bind_int64(s, 6, (int64_t)tl->n_allocs);
    sqlite3_bind_int64(s, 7, (int64_t)tl->n_frees);
    sqlite3_bind_int64(s, 8, (int64_t)tl->alloc_bytes);
    sqlite3_bind_double(s, 9, (double)tl->n_allocs / secs);
    an_bind_opt(s, 10, tl->rss >= 0, tl->rss);
    const uint64_t *mi = &tl->mi.arena;
    for (int i = 0; i < 7; i++) an_bind_opt(s, 11 + i, tl->have_mi, (int64_t)mi[i]);
    return an_out_step(st, s);
}

static int an_out_frag_row(struct an_state *st, struct an_proc *p, const char *at,
                           uint64_t seq, uint64_t t_ns, const struct an_frag *f,
                           uint64_t live_bytes, uint64_t live_usable)
{
    sqlite3_stmt *s = st->st[AN_ST_FRAG];
    sqlite3_bind_int64(s, 1, p->proc_id);
    sqlite3_bind_int64(s, 2, (int64_t)t_ns);
    sqlite3_bind_int64(s, 3, (int64_t)seq);
    sqlite3_bind_text(s, 4, at, -1, SQLITE_STATIC);
    sqlite3_bind_double(s, 5, f->external);
    sqlite3_bind_double(s, 6, f->internal);
    uint64_t heap = p->mi.arena + p->mi.hblkhd;
    if (p->have_mi && heap) sqlite3_bind_double(s, 7, (double)p->mi.fordblks / (double)heap);
    sqlite3_bind_int64(s, 8, (int64_t)live_bytes);
    sqlite3_bind_int64(s, 9, (int64_t)live_usable);
    sqlite3_bind_int64(s, 10, (int64_t)f->free_bytes);
    sqlite3_bind_int64(s, 11, (int64_t)f->largest_gap);
    sqlite3_bind_int64(s, 12, (int64_t)f->n_ranges);
    sqlite3_bind_int64(s, 13, (int64_t)f->span_bytes);
    return an_out_step(st, s);
}

int an_out_frag(struct an_state *st, struct an_proc *p, const char *at, uint64_t seq,
                uint64_t t_ns)
{
    struct an_frag f;
    int rc = an_frag_measure(st, p, &f);
    if (rc) return rc;
    return an_out_frag_row(st, p, at, seq, t_ns, &f, p->live_bytes, p->live_usable);
}

int an_frag_snapshot_peak(struct an_state *st, struct an_proc *p)
{
    int rc = an_frag_measure(st, p, &p->pfrag);
    if (rc) return rc;
    p->have_pfrag = 1;
    p->pfrag_seq = p->peak_seq;
    p->pfrag_ns = p->peak_ns;
    p->pfrag_live = p->live_bytes;
    p->pfrag_usable = p->live_usable;
    p->peak_frag_pending = 0;
    p->events_since_pfrag = 0;
    return 0;
}

int an_out_pfrag(struct an_state *st, struct an_proc *p)
{
    if (!p->have_pfrag) return 0;
    return an_out_frag_row(st, p, "peak", p->pfrag_seq, p->pfrag_ns, &p->pfrag, p->pfrag_live,
                           p->pfrag_usable);
}
