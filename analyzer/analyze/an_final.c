/*
 * an_final.c — closing the books: per-process rows and the session row
 *
 * Runs after the last record (analyze.c, design note 2). Live blocks left
 * in a process become leaks: the class the exit-time scan gave them, or
 * "unclassified" when the image had no completed scan or the block was
 * allocated after it (docs/metrics.md, "Leaks"). Then the rows that are
 * only final now: sites, histograms, threads, module mappings, the process
 * and the session.
 *
 * SPDX-License-Identifier: MIT
 */
#include "analyze/analyze_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyze/an_client.h"
#include "db/db.h"

#define AN_UNCLASSIFIED 5 /* index of "unclassified" in an_site.leak_* */

/* Remembers a leaked block for an_final_leak_rows(). 0 or -ENOMEM. */
static int an_final_leak_push(struct an_state *st, const struct an_proc *p, uint32_t block)
{
    if (st->opts->no_allocations) return 0;
    if (st->n_leak_rows == st->cap_leak_rows) {
        size_t cap = st->cap_leak_rows ? st->cap_leak_rows * 2 : 1024;
        struct an_leak_row *n = realloc(st->leak_rows, cap * sizeof *n);
        if (!n) return -ENOMEM;
        st->leak_rows = n;
        st->cap_leak_rows = cap;
    }
    st->leak_rows[st->n_leak_rows++] = (struct an_leak_row){
        .alloc_id = st->pool[block].alloc_id, .proc = (uint32_t)(p->proc_id - 1), .block = block};
    return 0;
}

static int an_final_leaks(struct an_state *st, struct an_proc *p)
{
    int rc = 0;
    for (size_t i = 0; i < p->blocks.cap && !rc; i++) {
        if (!an_live_entry(p, i)) continue;
        struct an_block *b = &st->pool[p->blocks.e[i].val];
        struct an_site *s = &p->sites[b->site];
        if (!p->scan_done) b->leak_class = 0;
        unsigned cls = b->leak_class ? b->leak_class : AN_UNCLASSIFIED;
        s->leak_blocks[cls]++;
        s->leak_bytes[cls] += b->size;
        rc = an_final_leak_push(st, p, (uint32_t)p->blocks.e[i].val);
    }
    return rc;
}

static int an_leak_row_cmp(const void *a, const void *b)
{
    int64_t x = ((const struct an_leak_row *)a)->alloc_id;
    int64_t y = ((const struct an_leak_row *)b)->alloc_id;
    return (x > y) - (x < y);
}

int an_final_leak_rows(struct an_state *st)
{
    int rc = 0;
    if (st->n_leak_rows)
        qsort(st->leak_rows, st->n_leak_rows, sizeof *st->leak_rows, an_leak_row_cmp);
    for (size_t i = 0; i < st->n_leak_rows && !rc; i++) {
        const struct an_leak_row *l = &st->leak_rows[i];
        rc = an_out_alloc(st, st->procs_v[l->proc], &st->pool[l->block], NULL, 0, 0);
    }
    free(st->leak_rows);
    st->leak_rows = NULL;
    st->n_leak_rows = st->cap_leak_rows = 0;
    return rc;
}

static int an_final_site(struct an_state *st, struct an_proc *p, struct an_site *s)
{
    if (s->snap_epoch != p->peak_epoch) { /* unchanged since the last peak */
        s->peak_bytes = s->live_bytes;
        s->peak_blocks = s->live_blocks;
    }
    sqlite3_stmt *q = st->st[AN_ST_SITE];
    int64_t v[] = {p->proc_id, s->stack, (int64_t)s->n_allocs, (int64_t)s->alloc_bytes,
                   (int64_t)s->usable_bytes, (int64_t)s->n_frees, (int64_t)s->n_temporary,
                   (int64_t)s->max_live_bytes, (int64_t)s->peak_bytes, (int64_t)s->peak_blocks,
                   (int64_t)s->live_bytes, (int64_t)s->live_blocks};
    int n = (int)(sizeof v / sizeof v[0]);
    for (int i = 0; i < n; i++) sqlite3_bind_int64(q, i + 1, v[i]);
    for (int c = 1; c <= AN_UNCLASSIFIED; c++) {
        sqlite3_bind_int64(q, n + 1 + 2 * (c - 1), (int64_t)s->leak_blocks[c]);
        sqlite3_bind_int64(q, n + 2 + 2 * (c - 1), (int64_t)s->leak_bytes[c]);
    }
    sqlite3_bind_int64(q, 23, (int64_t)s->lifetime_sum_ns);
    int rc = an_out_step(st, q);
    q = st->st[AN_ST_HIST];
    for (int k = 0; k < 2 && !rc; k++) {
        const uint32_t *h = k ? s->hist_life : s->hist_size;
        for (int b = 0; b < AN_HIST_BUCKETS && !rc; b++) {
            if (!h[b]) continue;
            sqlite3_bind_int64(q, 1, p->proc_id);
            sqlite3_bind_int64(q, 2, s->stack);
            sqlite3_bind_text(q, 3, k ? "lifetime" : "size", -1, SQLITE_STATIC);
            sqlite3_bind_int(q, 4, b);
            sqlite3_bind_int64(q, 5, b ? (int64_t)(1ull << (b - 1)) : 0);
            sqlite3_bind_int64(q, 6, b == AN_HIST_BUCKETS - 1 ? INT64_MAX
                                                             : (int64_t)((1ull << b) - 1));
            sqlite3_bind_int64(q, 7, h[b]);
            rc = an_out_step(st, q);
        }
    }
    return rc;
}

static int an_final_hist(struct an_state *st, struct an_proc *p)
{
    sqlite3_stmt *q = st->st[AN_ST_HIST];
    int rc = 0;
    for (int k = 0; k < 2 && !rc; k++) {
        for (int b = 0; b < AN_HIST_ALL && !rc; b++) {
            const uint64_t *h = k ? p->hist_life[b] : p->hist_size[b];
            if (!h[0]) continue;
            sqlite3_bind_int64(q, 1, p->proc_id);
            sqlite3_bind_text(q, 3, k ? "lifetime" : "size", -1, SQLITE_STATIC);
            sqlite3_bind_int(q, 4, b);
            sqlite3_bind_int64(q, 5, b ? (int64_t)(1ull << (b - 1)) : 0);
            sqlite3_bind_int64(q, 6, b >= 64 ? INT64_MAX : (int64_t)((1ull << b) - 1));
            sqlite3_bind_int64(q, 7, (int64_t)h[0]);
            sqlite3_bind_int64(q, 8, (int64_t)h[1]);
            rc = an_out_step(st, q);
        }
    }
    return rc;
}

static int an_final_threads_modules(struct an_state *st, struct an_proc *p)
{
    int rc = 0;
    sqlite3_stmt *q = st->st[AN_ST_THREAD];
    for (size_t i = 0; i < p->n_threads && !rc; i++) {
        const struct an_thread *t = &p->threads[i];
        sqlite3_bind_int64(q, 1, p->proc_id);
        sqlite3_bind_int64(q, 2, t->tid);
        if (t->name[0]) sqlite3_bind_text(q, 3, t->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 4, (int64_t)t->start_ns);
        if (t->ended) sqlite3_bind_int64(q, 5, (int64_t)t->end_ns);
        sqlite3_bind_int64(q, 6, (int64_t)t->n_allocs);
        sqlite3_bind_int64(q, 7, (int64_t)t->alloc_bytes);
        sqlite3_bind_int64(q, 8, (int64_t)t->n_frees);
        rc = an_out_step(st, q);
    }
    q = st->st[AN_ST_PMODULE];
    for (size_t i = 0; i < p->n_mods && !rc; i++) {
        const struct an_module *m = &p->mods[i];
        if (!m->module_id) continue;
        char segs[512] = "";
        size_t len = 0;
        for (uint32_t k = 0; k < m->n_segs && len < sizeof segs - 64; k++)
            len += (size_t)snprintf(segs + len, sizeof segs - len, "%s0x%llx:%llu:%u",
                                    k ? "," : "", (unsigned long long)m->segs[k].vaddr,
                                    (unsigned long long)m->segs[k].memsz, m->segs[k].flags);
        int64_t v[] = {p->proc_id, (int64_t)i, m->module_id, (int64_t)m->load_bias,
                       (int64_t)m->lo, (int64_t)m->hi, (int64_t)m->load_ns};
        for (int k = 0; k < 7; k++) sqlite3_bind_int64(q, k + 1, v[k]);
        if (m->unloaded) sqlite3_bind_int64(q, 8, (int64_t)m->unload_ns);
        sqlite3_bind_text(q, 9, segs, -1, SQLITE_TRANSIENT);
        rc = an_out_step(st, q);
    }
    return rc;
}

static const char *an_end_how(int how)
{
    switch (how) {
    case MT_END_EXITED: return "exited";
    case MT_END_SIGNALED: return "signaled";
    case MT_END_EXEC: return "exec";
    case MT_END_VANISHED: return "vanished";
    default: return NULL;
    }
}

static int an_final_row(struct an_state *st, struct an_proc *p)
{
    sqlite3_stmt *q = st->st[AN_ST_PROC];
    uint64_t end_ns = p->have_end && p->end_ns > p->last_ns ? p->end_ns : p->last_ns;
    sqlite3_bind_int64(q, 1, p->proc_id);
    sqlite3_bind_int64(q, 2, p->pid);
    sqlite3_bind_int64(q, 3, p->gen);
    if (p->have_process) sqlite3_bind_int64(q, 4, p->ppid);
    if (p->parent) sqlite3_bind_int64(q, 5, p->parent->proc_id);
    sqlite3_bind_int(q, 6, (p->flags & MT_PROC_F_FORKED) ? 1 : 0);
    if (p->exe) sqlite3_bind_text(q, 7, p->exe, -1, SQLITE_STATIC);
    if (p->argv) sqlite3_bind_text(q, 8, p->argv, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 9, (int64_t)p->start_ns);
    sqlite3_bind_int64(q, 10, (int64_t)p->start_real_ns);
    sqlite3_bind_int64(q, 11, (int64_t)end_ns);
    const char *how = an_end_how(p->end_how);
    if (how) sqlite3_bind_text(q, 12, how, -1, SQLITE_STATIC);
    if (p->end_how == MT_END_EXITED) sqlite3_bind_int64(q, 13, p->end_status);
    else if (p->normal_exit) sqlite3_bind_int64(q, 13, p->exit_status);
    if (p->end_how == MT_END_SIGNALED) sqlite3_bind_int64(q, 14, p->end_status);
    int64_t v[] = {p->normal_exit, p->scan_done, (int64_t)p->scan_ns, (int64_t)p->dropped,
                   p->degraded, p->max_depth, (int64_t)p->n_allocs, (int64_t)p->alloc_bytes,
                   (int64_t)p->n_frees, (int64_t)p->n_temporary, (int64_t)p->n_errors,
                   (int64_t)p->peak_bytes, (int64_t)p->peak_blocks, (int64_t)p->peak_ns,
                   (int64_t)p->peak_seq, (int64_t)p->peak_rss, (int64_t)p->peak_rss_ns,
                   (int64_t)p->live_bytes, (int64_t)p->live_blocks};
    for (int i = 0; i < (int)(sizeof v / sizeof v[0]); i++) sqlite3_bind_int64(q, 15 + i, v[i]);
    if (!p->peak_rss) {
        sqlite3_bind_null(q, 30);
        sqlite3_bind_null(q, 31);
    }
    if (p->have_process) /* an older trace lacks the bit: it was checked */
        sqlite3_bind_int(q, 34, !(p->opt_flags & MT_OPT_NO_ERRORS));
    return an_out_step(st, q);
}

int an_final_proc(struct an_state *st, struct an_proc *p)
{
    int rc = 0;
    if (p->tl.active) rc = an_out_timeline(st, p);
    /* Still pending: nothing was freed since the last maximum, so the
     * state now is the peak state. */
    if (!rc && p->peak_frag_pending) rc = an_frag_snapshot_peak(st, p);
    if (!rc) rc = an_out_pfrag(st, p);
    if (!rc) rc = an_out_frag(st, p, "end", p->last_seq, p->last_ns);
    if (!rc) rc = an_client_final(st, p); /* pools; superblocks are no leaks */
    if (!rc) rc = an_final_leaks(st, p);
    for (size_t i = 0; i < p->n_sites && !rc; i++) rc = an_final_site(st, p, &p->sites[i]);
    if (!rc) rc = an_final_hist(st, p);
    if (!rc) rc = an_final_threads_modules(st, p);
    if (!rc) rc = an_final_row(st, p);
    return rc;
}
