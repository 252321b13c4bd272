/*
 * tui_db.c — the post-mortem source: a database seen at a time cursor
 *
 * `memtrace tui DB` shows a finished run as the live view would have shown
 * it at any moment: what was live at the cursor comes from the allocations
 * table (alloc_ns <= t < free_ns), the chart from the timeline, errors up
 * to the cursor from the errors table. Without allocations (analyzed with
 * --no-allocations) the table shows the sites' end-of-run figures. Sites
 * of a client pool's chunks are labelled "[pool:<name>]"; the markers and
 * the pools at the cursor come from tui_pools.c. Schema:
 * docs/schema.md; view: docs/tui.md ("Post-mortem").
 *
 * SPDX-License-Identifier: MIT
 */
#include "tui.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "cli/cli.h"
#include "db/db.h"
#include "memtrace/error.h"
#include "report/report.h"
#include "tui_int.h"

#define TUI_DB_PERIOD_NS 10000000ull /* the timeline interval when the session has none */

struct tui_db_stack {
    char *label;  /* owned: leaf, "function file:line" */
    char *search; /* owned: every frame's function, file, module */
};

struct tui_db_proc {
    int64_t proc_id;
    uint32_t pid, gen;
    int errors_checked; /* processes.errors_checked: 0, 1, -1 (NULL) */
};

struct tui_db {
    sqlite3 *db;                 /* owned */
    char command[256];
    uint64_t duration_ns, peak_ns, peak_bytes;
    uint64_t period_ns;          /* the timeline's interval (session.sample_period_us) */
    int have_allocs;             /* session.allocations_stored */
    struct tui_db_stack *stacks; /* owned, by stack_id */
    size_t n_stacks;
    struct tui_db_proc *procs;   /* owned */
    size_t n_procs;
    struct live_marker *markers; /* owned, in time order */
    size_t n_markers;
};

/* ------------------------------------------------------------ helpers */

static const char *tui_db_text(sqlite3_stmt *s, int col)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    return t ? (const char *)t : NULL;
}

static char *tui_db_dup(sqlite3_stmt *s, int col)
{
    const char *t = tui_db_text(s, col);
    return strdup(t ? t : "");
}

static uint64_t tui_db_u64(sqlite3_stmt *s, int col)
{
    sqlite3_int64 v = sqlite3_column_int64(s, col);
    return v > 0 ? (uint64_t)v : 0;
}

static int tui_db_prepare(struct tui_db *d, const char *sql, sqlite3_stmt **s)
{
    return sqlite3_prepare_v2(d->db, sql, -1, s, NULL) == SQLITE_OK ? 0 : MT_ESQLITE;
}

/* Finalizes s. A step that failed (a corrupt page, an I/O error) makes
 * the result MT_ESQLITE: a damaged database is an error, never a silently
 * shorter list. Returns rc otherwise. */
static int tui_db_finish(sqlite3_stmt *s, int rc)
{
    return sqlite3_finalize(s) != SQLITE_OK && rc == 0 ? MT_ESQLITE : rc;
}

static int64_t tui_db_proc_id(const struct tui_db *d, uint32_t pid, uint32_t gen)
{
    for (size_t i = 0; i < d->n_procs; i++)
        if (d->procs[i].pid == pid && d->procs[i].gen == gen) return d->procs[i].proc_id;
    return -1;
}

static const struct tui_db_proc *tui_db_proc(const struct tui_db *d, int64_t proc_id)
{
    for (size_t i = 0; i < d->n_procs; i++)
        if (d->procs[i].proc_id == proc_id) return &d->procs[i];
    return NULL;
}

/* ------------------------------------------------------------ load once */

static int tui_db_load_session(struct tui_db *d)
{
    sqlite3_stmt *s;
    int rc = tui_db_prepare(d,
                            "SELECT argv, duration_ns, peak_heap_ns, peak_heap_bytes, "
                            "allocations_stored, sample_period_us FROM session WHERE id = 1",
                            &s);
    if (rc) return rc;
    if (sqlite3_step(s) == SQLITE_ROW) {
        snprintf(d->command, sizeof d->command, "%s", tui_db_text(s, 0) ? tui_db_text(s, 0) : "");
        d->duration_ns = tui_db_u64(s, 1);
        d->peak_ns = tui_db_u64(s, 2);
        d->peak_bytes = tui_db_u64(s, 3);
        d->have_allocs = sqlite3_column_int(s, 4) != 0;
        d->period_ns = tui_db_u64(s, 5) * 1000;
        if (!d->period_ns) d->period_ns = TUI_DB_PERIOD_NS;
    } else {
        rc = MT_ECORRUPT;
    }
    sqlite3_finalize(s);
    if (rc) return rc;
    if ((rc = tui_db_prepare(d,
                             "SELECT proc_id, pid, gen, errors_checked FROM processes"
                             " ORDER BY proc_id",
                             &s)))
        return rc;
    while (sqlite3_step(s) == SQLITE_ROW) {
        struct tui_db_proc *n = realloc(d->procs, (d->n_procs + 1) * sizeof *n);
        if (!n) break;
        d->procs = n;
        n[d->n_procs++] = (struct tui_db_proc){
            sqlite3_column_int64(s, 0), (uint32_t)sqlite3_column_int(s, 1),
            (uint32_t)sqlite3_column_int(s, 2),
            sqlite3_column_type(s, 3) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 3) != 0};
    }
    return tui_db_finish(s, 0);
}

/* "function file:line", after "[pool:<name>] " for a pool's chunks (the
 * filter then finds them by "pool:"). */
static void tui_db_label(sqlite3_stmt *s, char *buf, size_t len, const char *family)
{
    const char *fn = tui_db_text(s, 1), *file = tui_db_text(s, 2), *mod = tui_db_text(s, 4);
    const char *base = file ? strrchr(file, '/') : NULL, *mbase = mod ? strrchr(mod, '/') : NULL;
    int n = family ? snprintf(buf, len, "[%s] ", family) : 0;
    if (n < 0 || (size_t)n >= len) n = 0;
    if (file)
        snprintf(buf + n, len - (size_t)n, "%s %s:%d", fn ? fn : "??", base ? base + 1 : file,
                 sqlite3_column_int(s, 3));
    else
        snprintf(buf + n, len - (size_t)n, "%s (%s+0x%llx)", fn ? fn : "??",
                 mbase ? mbase + 1 : mod ? mod : "?", (unsigned long long)sqlite3_column_int64(s, 5));
}

/* Leaf label and search text of every stack. */
static int tui_db_load_stacks(struct tui_db *d)
{
    sqlite3_stmt *s;
    int rc = tui_db_prepare(
        d,
        "SELECT l.stack_id, l.function, l.file, l.line, l.module, l.module_offset,"
        " (SELECT group_concat(coalesce(t.function, '') || ' ' || coalesce(t.file, '') || ' ' ||"
        "  coalesce(t.module, ''), ' ') FROM stack_trace t WHERE t.stack_id = l.stack_id),"
        " (SELECT min(f.family) FROM temp.mt_pool_sites f WHERE f.stack_id = l.stack_id)"
        " FROM stack_leaf l ORDER BY l.stack_id",
        &s);
    if (rc) return rc;
    char label[512];
    while (!rc && sqlite3_step(s) == SQLITE_ROW) {
        sqlite3_int64 id = sqlite3_column_int64(s, 0);
        if (id < 0 || id > (1 << 30)) continue;
        if ((size_t)id >= d->n_stacks) {
            size_t n = (size_t)id + 1;
            struct tui_db_stack *g = realloc(d->stacks, n * sizeof *g);
            if (!g) {
                rc = -ENOMEM;
                break;
            }
            memset(g + d->n_stacks, 0, (n - d->n_stacks) * sizeof *g);
            d->stacks = g;
            d->n_stacks = n;
        }
        tui_db_label(s, label, sizeof label, tui_db_text(s, 7));
        free(d->stacks[id].label); /* an id twice: only in a damaged database */
        free(d->stacks[id].search);
        d->stacks[id].label = strdup(id ? label : "(no stack)");
        d->stacks[id].search = tui_db_dup(s, 6);
        if (!d->stacks[id].label || !d->stacks[id].search) rc = -ENOMEM;
    }
    return tui_db_finish(s, rc);
}

/* ------------------------------------------------------------ snapshot */

/* Sites as of the cursor (or the sites table without allocations). */
static int tui_db_sites(struct tui_db *d, const struct live_req *q, int64_t proc_id,
                        struct live_snap *out)
{
    static const char *const by_alloc =
        "SELECT proc_id, stack_id,"
        " sum(CASE WHEN free_ns IS NULL OR free_ns > ?1 THEN size ELSE 0 END),"
        " sum(CASE WHEN free_ns IS NULL OR free_ns > ?1 THEN 1 ELSE 0 END),"
        " sum(size), count(*), sum(CASE WHEN free_ns <= ?1 THEN 1 ELSE 0 END),"
        " sum(CASE WHEN leak_class IN ('definite', 'indirect') THEN size ELSE 0 END),"
        " sum(CASE WHEN leak_class IN ('definite', 'indirect') THEN 1 ELSE 0 END)"
        " FROM allocations WHERE alloc_ns <= ?1 AND (?2 < 0 OR proc_id = ?2)"
        " AND (?3 = 0 OR tid = ?3) GROUP BY proc_id, stack_id";
    static const char *const by_site =
        "SELECT proc_id, stack_id, end_live_bytes, end_live_blocks, alloc_bytes, n_allocs,"
        " n_frees, leak_definite_bytes + leak_indirect_bytes,"
        " leak_definite_blocks + leak_indirect_blocks FROM sites WHERE ?1 >= 0"
        " AND (?2 < 0 OR proc_id = ?2) AND ?3 >= 0";
    sqlite3_stmt *s;
    int rc = tui_db_prepare(d, d->have_allocs ? by_alloc : by_site, &s);
    if (rc) return rc;
    sqlite3_bind_int64(s, 1, (sqlite3_int64)out->cursor_ns);
    sqlite3_bind_int64(s, 2, proc_id);
    sqlite3_bind_int64(s, 3, q->tid);
    size_t cap = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        struct live_site_row *n;
        if (out->n_sites == cap) {
            cap = cap ? cap * 2 : 64;
            if (!(n = realloc(out->sites, cap * sizeof *n))) {
                rc = -ENOMEM;
                break;
            }
            out->sites = n;
        }
        const struct tui_db_proc *p = tui_db_proc(d, sqlite3_column_int64(s, 0));
        uint64_t id = tui_db_u64(s, 1);
        struct live_site_row *r = &out->sites[out->n_sites++];
        *r = (struct live_site_row){
            .pid = p ? p->pid : 0, .gen = p ? p->gen : 0, .stack_id = (uint32_t)id,
            .live_bytes = tui_db_u64(s, 2), .live_blocks = tui_db_u64(s, 3),
            .alloc_bytes = tui_db_u64(s, 4), .n_allocs = tui_db_u64(s, 5),
            .n_frees = tui_db_u64(s, 6), .leak_bytes = tui_db_u64(s, 7),
            .leak_blocks = tui_db_u64(s, 8),
        };
        const struct tui_db_stack *g = id < d->n_stacks ? &d->stacks[id] : NULL;
        r->label = strdup(g && g->label ? g->label : "?");
        r->search = strdup(g && g->search ? g->search : "");
        out->live_bytes += r->live_bytes, out->live_blocks += r->live_blocks;
        out->n_allocs += r->n_allocs, out->n_frees += r->n_frees;
        out->alloc_bytes += r->alloc_bytes;
    }
    return tui_db_finish(s, rc);
}

static int tui_db_errors(struct tui_db *d, const struct live_req *q, int64_t proc_id,
                         struct live_snap *out)
{
    sqlite3_stmt *s;
    int rc = tui_db_prepare(d,
                            "SELECT t_ns, proc_id, tid, addr, size, kind, api, stack_id FROM errors"
                            " WHERE t_ns <= ?1 AND (?2 < 0 OR proc_id = ?2) AND (?3 = 0 OR tid = ?3)"
                            " ORDER BY seq",
                            &s);
    if (rc) return rc;
    sqlite3_bind_int64(s, 1, (sqlite3_int64)out->cursor_ns);
    sqlite3_bind_int64(s, 2, proc_id);
    sqlite3_bind_int64(s, 3, q->tid);
    out->errors = calloc(LIVE_SNAP_MAX_ERRORS, sizeof *out->errors);
    if (!out->errors) rc = -ENOMEM;
    while (!rc && sqlite3_step(s) == SQLITE_ROW) {
        out->n_errors++;
        if (out->n_errors_shown == LIVE_SNAP_MAX_ERRORS) { /* keep the newest */
            free(out->errors[0].at);
            memmove(out->errors, out->errors + 1, (LIVE_SNAP_MAX_ERRORS - 1) * sizeof *out->errors);
            out->n_errors_shown--;
        }
        const struct tui_db_proc *p = tui_db_proc(d, sqlite3_column_int64(s, 1));
        uint64_t id = tui_db_u64(s, 7);
        struct live_error_row *e = &out->errors[out->n_errors_shown++];
        *e = (struct live_error_row){.t_ns = tui_db_u64(s, 0), .pid = p ? p->pid : 0,
                                     .gen = p ? p->gen : 0, .tid = (uint32_t)tui_db_u64(s, 2),
                                     .stack_id = (uint32_t)id, .addr = tui_db_u64(s, 3),
                                     .size = tui_db_u64(s, 4)};
        snprintf(e->kind, sizeof e->kind, "%s", tui_db_text(s, 5) ? tui_db_text(s, 5) : "?");
        snprintf(e->api, sizeof e->api, "%s", tui_db_text(s, 6) ? tui_db_text(s, 6) : "?");
        e->at = strdup(id < d->n_stacks && d->stacks[id].label ? d->stacks[id].label : "?");
    }
    return tui_db_finish(s, rc);
}

/* Chart: the timeline of the scope, and the RSS at the cursor. */
static int tui_db_hist(struct tui_db *d, int64_t proc_id, struct live_snap *out)
{
    sqlite3_stmt *s;
    int rc = tui_db_prepare(d,
                            proc_id >= 0 ? "SELECT t_ns, heap_max_bytes, rss_bytes FROM timeline"
                                           " WHERE proc_id = ?1 ORDER BY t_ns"
                                         : "SELECT t_ns, heap_bytes, rss_bytes FROM timeline_total"
                                           " WHERE ?1 < 0 ORDER BY t_ns",
                            &s);
    if (rc) return rc;
    sqlite3_bind_int64(s, 1, proc_id);
    size_t cap = 0;
    uint64_t rss = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (out->n_hist == cap) {
            cap = cap ? cap * 2 : 256;
            struct live_hist_point *n = realloc(out->hist, cap * sizeof *n);
            if (!n) {
                rc = -ENOMEM;
                break;
            }
            out->hist = n;
        }
        if (sqlite3_column_type(s, 2) != SQLITE_NULL) rss = tui_db_u64(s, 2);
        out->hist[out->n_hist++] = (struct live_hist_point){tui_db_u64(s, 0), tui_db_u64(s, 1), rss};
        if (tui_db_u64(s, 0) <= out->cursor_ns) out->rss_bytes = rss;
    }
    return tui_db_finish(s, rc);
}

static int tui_db_procs(struct tui_db *d, struct live_snap *out)
{
    sqlite3_stmt *s;
    int rc = tui_db_prepare(d,
                            "SELECT pid, gen, ppid, peak_heap_bytes, peak_rss_bytes, n_allocs,"
                            " n_frees, n_errors, exe, end_live_bytes, errors_checked FROM processes"
                            " ORDER BY proc_id",
                            &s);
    if (rc) return rc;
    out->procs = calloc(d->n_procs + 1, sizeof *out->procs);
    if (!out->procs) rc = -ENOMEM;
    while (!rc && sqlite3_step(s) == SQLITE_ROW && out->n_procs < d->n_procs) {
        out->procs[out->n_procs++] = (struct live_proc_row){
            .pid = (uint32_t)tui_db_u64(s, 0),
            .gen = (uint32_t)tui_db_u64(s, 1),
            .ppid = (uint32_t)tui_db_u64(s, 2),
            .ended = 1,
            .peak_bytes = tui_db_u64(s, 3),
            .rss = tui_db_u64(s, 4),
            .n_allocs = tui_db_u64(s, 5),
            .n_frees = tui_db_u64(s, 6),
            .n_errors = tui_db_u64(s, 7),
            .exe = tui_db_dup(s, 8),
            .live_bytes = tui_db_u64(s, 9),
            .errors_checked =
                sqlite3_column_type(s, 10) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 10) != 0,
        };
    }
    return tui_db_finish(s, rc);
}

static int tui_db_threads(struct tui_db *d, int64_t proc_id, struct live_snap *out)
{
    sqlite3_stmt *s;
    int rc = tui_db_prepare(d, "SELECT proc_id, tid, name, n_allocs, alloc_bytes, n_frees"
                               " FROM threads WHERE ?1 < 0 OR proc_id = ?1 ORDER BY proc_id, tid",
                            &s);
    if (rc) return rc;
    sqlite3_bind_int64(s, 1, proc_id);
    size_t cap = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (out->n_threads == cap) {
            cap = cap ? cap * 2 : 16;
            struct live_thread_row *n = realloc(out->threads, cap * sizeof *n);
            if (!n) {
                rc = -ENOMEM;
                break;
            }
            out->threads = n;
        }
        const struct tui_db_proc *p = tui_db_proc(d, sqlite3_column_int64(s, 0));
        struct live_thread_row *t = &out->threads[out->n_threads++];
        *t = (struct live_thread_row){.pid = p ? p->pid : 0, .gen = p ? p->gen : 0,
                                      .tid = (uint32_t)tui_db_u64(s, 1),
                                      .n_allocs = tui_db_u64(s, 3),
                                      .alloc_bytes = tui_db_u64(s, 4), .n_frees = tui_db_u64(s, 5)};
        snprintf(t->name, sizeof t->name, "%s", tui_db_text(s, 2) ? tui_db_text(s, 2) : "");
    }
    return tui_db_finish(s, rc);
}

/* The scope's markers (all of them: the chart spans the run) and how many
 * of its images were recorded with --no-errors. */
static int tui_db_scope(struct tui_db *d, const struct live_req *q, struct live_snap *out)
{
    for (size_t i = 0; i < d->n_procs; i++) {
        const struct tui_db_proc *p = &d->procs[i];
        if (q->pid && (p->pid != q->pid || p->gen != q->gen)) continue;
        out->n_scope_procs++;
        out->n_unchecked += p->errors_checked == 0;
    }
    out->markers = calloc(d->n_markers + 1, sizeof *out->markers);
    if (!out->markers) return -ENOMEM;
    for (size_t i = 0; i < d->n_markers; i++) {
        const struct live_marker *m = &d->markers[i];
        if (!q->pid || (m->pid == q->pid && m->gen == q->gen)) out->markers[out->n_markers++] = *m;
    }
    return 0;
}

/* Live bytes first, as the aggregator's snapshots (and --json) are. */
static int tui_db_site_cmp(const void *x, const void *y)
{
    const struct live_site_row *a = x, *b = y;
    if (a->live_bytes != b->live_bytes) return a->live_bytes < b->live_bytes ? 1 : -1;
    if (a->alloc_bytes != b->alloc_bytes) return a->alloc_bytes < b->alloc_bytes ? 1 : -1;
    return a->stack_id < b->stack_id ? -1 : a->stack_id > b->stack_id;
}

static int tui_db_snapshot(void *ctx, const struct live_req *q, struct live_snap *out)
{
    struct tui_db *d = ctx;
    memset(out, 0, sizeof *out);
    snprintf(out->command, sizeof out->command, "%s", d->command);
    out->finished = 1;
    out->duration_ns = out->elapsed_ns = d->duration_ns;
    out->cursor_ns = q->flags & LIVE_REQ_F_CURSOR ? q->cursor_ns : d->duration_ns;
    if (out->cursor_ns > d->duration_ns) out->cursor_ns = d->duration_ns;
    out->peak_ns = d->peak_ns;
    out->peak_bytes = d->peak_bytes;
    int64_t proc_id = q->pid ? tui_db_proc_id(d, q->pid, q->gen) : -1;
    if (q->pid && proc_id < 0) proc_id = 0; /* unknown process: nothing matches */
    int rc = tui_db_sites(d, q, proc_id, out);
    if (!rc && out->n_sites) /* sites is NULL when there are none */
        qsort(out->sites, out->n_sites, sizeof *out->sites, tui_db_site_cmp);
    if (!rc) rc = tui_db_errors(d, q, proc_id, out);
    /* one process: its own timeline has the per-interval maximum */
    if (!rc) rc = tui_db_hist(d, proc_id < 0 && d->n_procs == 1 ? d->procs[0].proc_id : proc_id, out);
    if (!rc) rc = tui_db_procs(d, out);
    if (!rc) rc = tui_db_threads(d, proc_id, out);
    if (!rc) rc = tui_pools_rows(d->db, proc_id, out->cursor_ns, d->period_ns, d->have_allocs, out);
    if (!rc) rc = tui_db_scope(d, q, out);
    if (rc) live_snap_free(out);
    return rc;
}

static int tui_db_stack(void *ctx, uint32_t pid, uint32_t gen, uint32_t stack_id,
                        struct live_lines *out)
{
    struct tui_db *d = ctx;
    (void)pid, (void)gen; /* database stacks are global */
    sqlite3_stmt *s;
    int rc = tui_db_prepare(d, "SELECT depth, function, file, line, module, module_offset,"
                               " inlined FROM stack_trace WHERE stack_id = ?1 ORDER BY depth", &s);
    if (rc) return rc;
    sqlite3_bind_int64(s, 1, stack_id);
    char label[600], line[700];
    while (!rc && sqlite3_step(s) == SQLITE_ROW) {
        const char *fn = tui_db_text(s, 1), *file = tui_db_text(s, 2), *mod = tui_db_text(s, 4);
        if (file)
            snprintf(label, sizeof label, "%s %s:%d%s", fn ? fn : "??", file,
                     sqlite3_column_int(s, 3), sqlite3_column_int(s, 6) ? " [inlined]" : "");
        else
            snprintf(label, sizeof label, "%s (+0x%llx)", fn ? fn : "??",
                     (unsigned long long)sqlite3_column_int64(s, 5));
        const char *mb = mod ? strrchr(mod, '/') : NULL;
        snprintf(line, sizeof line, "#%-2d %s  (%s)", sqlite3_column_int(s, 0), label,
                 mb ? mb + 1 : mod ? mod : "?");
        rc = live_lines_add(out, line);
    }
    rc = tui_db_finish(s, rc);
    if (!rc && !out->n) rc = live_lines_add(out, "(no frames)");
    return rc;
}

/* ------------------------------------------------------------ open/close */

int tui_db_open(const char *path, struct tui_source *src, struct mt_errbuf *eb)
{
    struct tui_db *d = calloc(1, sizeof *d);
    if (!d) return -ENOMEM;
    int rc = 0;
    rc = db_open_read(path, &d->db, eb); /* checks the schema version, as report does */
    if (!rc && (rc = tui_db_load_session(d)))
        mt_errbuf_set(eb, "not a memtrace database (%s)", sqlite3_errmsg(d->db));
    if (!rc && (rc = report_pool_sites(d->db, eb))) /* before the stacks: their labels */
        mt_errbuf_set(eb, "cannot read pools: %s", sqlite3_errmsg(d->db));
    if (!rc && (rc = tui_db_load_stacks(d)))
        mt_errbuf_set(eb, "cannot read stacks: %s", sqlite3_errmsg(d->db));
    if (!rc && (rc = tui_markers_load(d->db, &d->markers, &d->n_markers)))
        mt_errbuf_set(eb, "cannot read markers: %s", sqlite3_errmsg(d->db));
    *src = (struct tui_source){
        .ctx = d, .snapshot = tui_db_snapshot, .stack = tui_db_stack, .post_mortem = 1};
    if (rc) tui_db_close(src);
    return rc;
}

void tui_db_close(struct tui_source *src)
{
    struct tui_db *d = src->ctx;
    if (!d) return;
    for (size_t i = 0; i < d->n_stacks; i++) {
        free(d->stacks[i].label);
        free(d->stacks[i].search);
    }
    free(d->stacks);
    free(d->procs);
    free(d->markers);
    sqlite3_close(d->db);
    free(d);
    src->ctx = NULL;
}
