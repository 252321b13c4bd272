/*
 * export_data.c — load the sites and frames every export format needs
 *
 * One pass over `frames` (with each module's path, build id and a load
 * bias, for pprof's mappings) and one over `sites` joined to `processes`,
 * then each site's frames from `stack_frames`. Memory is O(frames + sites
 * x depth); the exports then run without SQL. Leaked = definite +
 * indirect + possible + unclassified: every block not freed and not shown
 * reachable (docs/reports.md).
 *
 * SPDX-License-Identifier: MIT
 */
#include "export/export.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memtrace/error.h"
#include "report/report.h"

static char *export_dup_col(sqlite3_stmt *q, int col, int *oom)
{
    const unsigned char *s = sqlite3_column_text(q, col);
    char *d;
    if (!s) return NULL;
    d = strdup((const char *)s);
    if (!d) *oom = 1;
    return d;
}

static int export_sql_fail(sqlite3 *db, struct mt_errbuf *eb)
{
    mt_errbuf_set(eb, "reading the database: %s", sqlite3_errmsg(db));
    return MT_ESQLITE;
}

/* Appends one element to a growing array. 0 or -ENOMEM. */
static int export_grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    void *p;
    if (n < *cap) return 0;
    *cap = *cap ? *cap * 2 : 256;
    p = realloc(*arr, *cap * elem);
    if (!p) return -ENOMEM;
    *arr = p;
    return 0;
}

static int export_load_frames(sqlite3 *db, struct export_data *d, struct mt_errbuf *eb)
{
    sqlite3_stmt *q;
    size_t cap = 0;
    int rc = 0, step, oom = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT f.frame_id, f.function, f.file, coalesce(f.line, 0), "
                           "coalesce(f.module_id, 0), m.path, m.build_id, "
                           "coalesce(f.module_offset, 0), coalesce((SELECT pm.load_bias "
                           "FROM process_modules pm WHERE pm.module_id = f.module_id "
                           "ORDER BY pm.proc_id LIMIT 1), 0), coalesce(f.inlined, 0) "
                           "FROM frames f LEFT JOIN modules m ON m.module_id = f.module_id "
                           "ORDER BY f.frame_id",
                           -1, &q, NULL) != SQLITE_OK)
        return export_sql_fail(db, eb);
    while (rc == 0 && (step = sqlite3_step(q)) == SQLITE_ROW) {
        struct export_frame *f;
        if ((rc = export_grow((void **)&d->frames, &cap, d->n_frames, sizeof *f))) break;
        f = &d->frames[d->n_frames++];
        f->id = sqlite3_column_int64(q, 0);
        f->function = export_dup_col(q, 1, &oom);
        f->file = export_dup_col(q, 2, &oom);
        f->line = sqlite3_column_int64(q, 3);
        f->module_id = sqlite3_column_int64(q, 4);
        f->module = export_dup_col(q, 5, &oom);
        f->build_id = export_dup_col(q, 6, &oom);
        f->offset = sqlite3_column_int64(q, 7);
        f->load_bias = sqlite3_column_int64(q, 8);
        f->inlined = sqlite3_column_int(q, 9);
    }
    if (rc == 0 && oom) rc = -ENOMEM;
    if (rc == 0 && step != SQLITE_DONE) rc = export_sql_fail(db, eb);
    sqlite3_finalize(q);
    if (rc == -ENOMEM) mt_errbuf_set(eb, "out of memory loading frames");
    return rc;
}

static const struct export_frame *export_frame_find(const struct export_data *d, int64_t id)
{
    size_t lo = 0, hi = d->n_frames;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->frames[mid].id == id) return &d->frames[mid];
        if (d->frames[mid].id < id) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

/* Fills s->frames from stack_frames (q prepared with ?1 = stack_id). */
static int export_load_stack(sqlite3 *db, sqlite3_stmt *q, struct export_data *d,
                             struct export_site *s, struct mt_errbuf *eb)
{
    size_t cap = 0, n = 0;
    int step;
    sqlite3_reset(q);
    sqlite3_bind_int64(q, 1, s->stack_id);
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        const struct export_frame *f = export_frame_find(d, sqlite3_column_int64(q, 0));
        if (!f) continue; /* a dangling frame id: skip rather than fail the export */
        if (export_grow((void **)&s->frames, &cap, n, sizeof *s->frames)) {
            mt_errbuf_set(eb, "out of memory loading stacks");
            return -ENOMEM;
        }
        s->frames[n++] = f;
    }
    s->n_frames = (int)n;
    return step == SQLITE_DONE ? 0 : export_sql_fail(db, eb);
}

static void export_site_fill(struct export_site *s, sqlite3_stmt *q)
{
    memset(s, 0, sizeof *s);
    s->proc_id = sqlite3_column_int64(q, 0);
    s->pid = sqlite3_column_int64(q, 1);
    s->stack_id = sqlite3_column_int64(q, 2);
    s->n_allocs = sqlite3_column_int64(q, 3);
    s->alloc_bytes = sqlite3_column_int64(q, 4);
    s->peak_blocks = sqlite3_column_int64(q, 5);
    s->peak_bytes = sqlite3_column_int64(q, 6);
    s->end_blocks = sqlite3_column_int64(q, 7);
    s->end_bytes = sqlite3_column_int64(q, 8);
    s->leaked_blocks = sqlite3_column_int64(q, 9);
    s->leaked_bytes = sqlite3_column_int64(q, 10);
}

/* The site's pool family (column 11), 0 or -ENOMEM. */
static int export_site_family(struct export_site *s, sqlite3_stmt *q)
{
    int oom = 0;
    if (sqlite3_column_type(q, 11) != SQLITE_NULL) s->family = export_dup_col(q, 11, &oom);
    return oom ? -ENOMEM : 0;
}

static int export_load_sites(sqlite3 *db, int64_t pid, struct export_data *d, struct mt_errbuf *eb)
{
    sqlite3_stmt *q, *qf;
    size_t cap = 0;
    int rc = 0, step = SQLITE_DONE;
    if (sqlite3_prepare_v2(db,
                           "SELECT s.proc_id, p.pid, s.stack_id, coalesce(s.n_allocs, 0), "
                           "coalesce(s.alloc_bytes, 0), coalesce(s.peak_blocks, 0), "
                           "coalesce(s.peak_bytes, 0), coalesce(s.end_live_blocks, 0), "
                           "coalesce(s.end_live_bytes, 0), coalesce(s.leak_definite_blocks, 0) + "
                           "coalesce(s.leak_indirect_blocks, 0) + coalesce(s.leak_possible_blocks, 0) + "
                           "coalesce(s.leak_unclassified_blocks, 0), coalesce(s.leak_definite_bytes, 0) + "
                           "coalesce(s.leak_indirect_bytes, 0) + coalesce(s.leak_possible_bytes, 0) + "
                           "coalesce(s.leak_unclassified_bytes, 0), f.family FROM sites s "
                           "JOIN processes p ON p.proc_id = s.proc_id "
                           "LEFT JOIN temp.mt_pool_sites f "
                           "ON f.proc_id = s.proc_id AND f.stack_id = s.stack_id "
                           "WHERE ?1 = 0 OR p.pid = ?1 "
                           "ORDER BY s.proc_id, s.stack_id",
                           -1, &q, NULL) != SQLITE_OK)
        return export_sql_fail(db, eb);
    if (sqlite3_prepare_v2(db, "SELECT frame_id FROM stack_frames WHERE stack_id = ?1 ORDER BY depth",
                           -1, &qf, NULL) != SQLITE_OK) {
        sqlite3_finalize(q);
        return export_sql_fail(db, eb);
    }
    sqlite3_bind_int64(q, 1, pid);
    while (rc == 0 && (step = sqlite3_step(q)) == SQLITE_ROW) {
        if (export_grow((void **)&d->sites, &cap, d->n_sites, sizeof *d->sites)) {
            mt_errbuf_set(eb, "out of memory loading sites");
            rc = -ENOMEM;
            break;
        }
        export_site_fill(&d->sites[d->n_sites], q);
        rc = export_site_family(&d->sites[d->n_sites], q);
        if (rc) mt_errbuf_set(eb, "out of memory loading sites");
        if (!rc) rc = export_load_stack(db, qf, d, &d->sites[d->n_sites], eb);
        d->n_sites++;
    }
    if (rc == 0 && step != SQLITE_DONE) rc = export_sql_fail(db, eb);
    sqlite3_finalize(qf);
    sqlite3_finalize(q);
    return rc;
}

static int export_load_session(sqlite3 *db, struct export_data *d, struct mt_errbuf *eb)
{
    sqlite3_stmt *q;
    int oom = 0, step;
    if (sqlite3_prepare_v2(db, "SELECT argv, start_real_ns, duration_ns FROM session", -1, &q,
                           NULL) != SQLITE_OK)
        return export_sql_fail(db, eb);
    step = sqlite3_step(q);
    if (step == SQLITE_ROW) {
        d->argv = export_dup_col(q, 0, &oom);
        d->start_real_ns = sqlite3_column_int64(q, 1);
        d->duration_ns = sqlite3_column_int64(q, 2);
    }
    sqlite3_finalize(q);
    if (step != SQLITE_ROW) {
        mt_errbuf_set(eb, "the database has no session row (analysis incomplete?)");
        return MT_ESCHEMA;
    }
    return oom ? -ENOMEM : 0;
}

/* ------------------------------------------------------------ exported */

int export_data_load(sqlite3 *db, int64_t pid, struct export_data *d, struct mt_errbuf *eb)
{
    int rc;
    memset(d, 0, sizeof *d);
    rc = export_load_session(db, d, eb);
    if (!rc) rc = export_load_frames(db, d, eb);
    if (!rc) rc = report_pool_sites(db, eb);
    if (!rc) rc = export_load_sites(db, pid, d, eb);
    if (rc) export_data_free(d);
    return rc;
}

void export_data_free(struct export_data *d)
{
    for (size_t i = 0; i < d->n_frames; i++) {
        free(d->frames[i].function);
        free(d->frames[i].file);
        free(d->frames[i].module);
        free(d->frames[i].build_id);
    }
    for (size_t i = 0; i < d->n_sites; i++) {
        free(d->sites[i].frames);
        free(d->sites[i].family);
    }
    free(d->frames);
    free(d->sites);
    free(d->argv);
    memset(d, 0, sizeof *d);
}

const char *export_frame_name(const struct export_frame *f, char *buf, size_t len)
{
    const char *base;
    if (f->function) {
        snprintf(buf, len, "%s", f->function);
        return buf;
    }
    base = f->module ? strrchr(f->module, '/') : NULL;
    base = base ? base + 1 : (f->module ? f->module : "?");
    snprintf(buf, len, "%s+0x%llx", base, (unsigned long long)f->offset);
    return buf;
}
