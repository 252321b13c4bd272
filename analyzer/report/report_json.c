/*
 * report_json.c — `memtrace report --format json`: the complete document
 *
 * One json object holding every figure of the database except the
 * per-allocation rows and per-site histograms: session, processes with
 * their peak sites, leaks, errors, temporaries, fragmentation, histograms
 * and timeline, then every site, stack, frame and module so a reader can
 * rebuild any view (the html report's flame graph does). Rows are copied
 * column by column, so members follow the schema's names (docs/schema.md)
 * and new columns appear without a change here. The layout is a stable
 * interface documented in docs/reports.md; REPORT_JSON_VERSION names it.
 *
 * SPDX-License-Identifier: MIT
 */
#include "report/report.h"

#include <errno.h>
#include <stdio.h>

#include "memtrace/error.h"
#include "report/jsonw.h"

/* A per-process array: member name and query (?1 = proc_id). */
struct report_json_section {
    const char *key;
    const char *sql;
};

static const struct report_json_section report_json_proc_sections[] = {
    {"threads", "SELECT tid, name, start_ns, end_ns, n_allocs, alloc_bytes, n_frees "
                "FROM threads WHERE proc_id = ?1 ORDER BY tid"},
    {"leak_totals", "SELECT class, blocks, bytes FROM leak_totals WHERE proc_id = ?1 "
                    "ORDER BY class"},
    {"peak_sites", "SELECT t.stack_id, t.peak_bytes, t.peak_blocks, t.share, t.location, "
                   "f.family FROM top_sites_at_peak t LEFT JOIN temp.mt_pool_sites f "
                   "USING (proc_id, stack_id) WHERE t.proc_id = ?1 "
                   "ORDER BY t.peak_bytes DESC, t.stack_id"},
    {"leaks", "SELECT k.stack_id, k.class, k.blocks, k.bytes, k.location, f.family "
              "FROM leaks_by_site k LEFT JOIN temp.mt_pool_sites f USING (proc_id, stack_id) "
              "WHERE k.proc_id = ?1 ORDER BY k.bytes DESC, k.stack_id, k.class"},
    {"errors", "SELECT e.*, r.at, r.allocated_at, r.first_freed_at FROM errors e "
               "JOIN errors_readable r ON r.error_id = e.error_id "
               "WHERE e.proc_id = ?1 ORDER BY e.seq, e.error_id"},
    {"temporary_sites", "SELECT stack_id, n_allocs, n_temporary, alloc_bytes, location "
                        "FROM top_sites_by_allocs WHERE proc_id = ?1 AND n_temporary > 0 "
                        "ORDER BY n_temporary DESC, stack_id"},
    {"fragmentation", "SELECT t_ns, seq, at, external, internal, retention, live_bytes, "
                      "usable_bytes, free_bytes, largest_gap, n_ranges, span_bytes "
                      "FROM fragmentation WHERE proc_id = ?1 ORDER BY t_ns, seq"},
    {"markers", "SELECT m.*, l.location FROM markers m LEFT JOIN stack_leaf l USING (stack_id) "
                "WHERE m.proc_id = ?1 ORDER BY m.seq, m.marker_id"},
    {"size_histogram", "SELECT bucket, lo, hi, count, bytes FROM histograms WHERE proc_id = ?1 "
                       "AND stack_id IS NULL AND kind = 'size' ORDER BY bucket"},
    {"lifetime_histogram", "SELECT bucket, lo, hi, count, bytes FROM histograms "
                           "WHERE proc_id = ?1 AND stack_id IS NULL AND kind = 'lifetime' "
                           "ORDER BY bucket"},
};

/* ------------------------------------------------------------ helpers */

/* Writes {"columns": [...], "rows": [[...], ...]} for a numeric series. */
static int report_json_table(struct jsonw *w, const char *key, sqlite3 *db, const char *sql,
                             int has_param, int64_t param)
{
    sqlite3_stmt *q;
    int rc;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) return MT_ESQLITE;
    if (has_param) sqlite3_bind_int64(q, 1, param);
    jsonw_obj_begin(w, key);
    jsonw_arr_begin_flat(w, "columns");
    for (int i = 0; i < sqlite3_column_count(q); i++) jsonw_str(w, NULL, sqlite3_column_name(q, i));
    jsonw_arr_end(w);
    jsonw_arr_begin(w, "rows");
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        jsonw_arr_begin_flat(w, NULL);
        for (int i = 0; i < sqlite3_column_count(q); i++) jsonw_column(w, NULL, q, i);
        jsonw_arr_end(w);
    }
    jsonw_arr_end(w);
    jsonw_obj_end(w);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? 0 : MT_ESQLITE;
}

/* Writes the first row of sql as an object named key (null if none). */
static int report_json_one(struct jsonw *w, const char *key, sqlite3 *db, const char *sql)
{
    sqlite3_stmt *q;
    int rc;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) return MT_ESQLITE;
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        jsonw_obj_begin(w, key);
        jsonw_row(w, q);
        jsonw_obj_end(w);
        rc = SQLITE_DONE;
    } else if (rc == SQLITE_DONE) {
        jsonw_null(w, key);
    }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? 0 : MT_ESQLITE;
}

/* Writes an object mapping the text of column 0 to column 1 (meta). */
static int report_json_map(struct jsonw *w, const char *key, sqlite3 *db, const char *sql)
{
    sqlite3_stmt *q;
    int rc;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) return MT_ESQLITE;
    jsonw_obj_begin(w, key);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        jsonw_column(w, (const char *)sqlite3_column_text(q, 0), q, 1);
    jsonw_obj_end(w);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? 0 : MT_ESQLITE;
}

/* "stacks": {"<stack_id>": [frame_id at depth 0, 1, ...], ...} */
static int report_json_stacks(struct jsonw *w, sqlite3 *db)
{
    sqlite3_stmt *q;
    int rc;
    int64_t cur = -1;
    char key[32];
    if (sqlite3_prepare_v2(db, "SELECT stack_id, frame_id FROM stack_frames ORDER BY stack_id, depth",
                           -1, &q, NULL) != SQLITE_OK)
        return MT_ESQLITE;
    jsonw_obj_begin(w, "stacks");
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        if (id != cur) {
            if (cur >= 0) jsonw_arr_end(w);
            snprintf(key, sizeof key, "%lld", (long long)id);
            jsonw_arr_begin_flat(w, key);
            cur = id;
        }
        jsonw_int(w, NULL, sqlite3_column_int64(q, 1));
    }
    if (cur >= 0) jsonw_arr_end(w);
    jsonw_obj_end(w);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? 0 : MT_ESQLITE;
}

/* "frames": {"<frame_id>": {function, file, line, ...}, ...} */
static int report_json_frames(struct jsonw *w, sqlite3 *db)
{
    sqlite3_stmt *q;
    int rc;
    char key[32];
    if (sqlite3_prepare_v2(db, "SELECT frame_id, function, file, line, col, module_id, "
                           "module_offset, inlined FROM frames ORDER BY frame_id",
                           -1, &q, NULL) != SQLITE_OK)
        return MT_ESQLITE;
    jsonw_obj_begin(w, "frames");
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        snprintf(key, sizeof key, "%lld", (long long)sqlite3_column_int64(q, 0));
        jsonw_obj_begin(w, key);
        w->flat_depth++; /* one frame per line */
        for (int i = 1; i < sqlite3_column_count(q); i++)
            jsonw_column(w, sqlite3_column_name(q, i), q, i);
        jsonw_obj_end(w);
    }
    jsonw_obj_end(w);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? 0 : MT_ESQLITE;
}

/* "pools": every pools row of the image, each with "leaks" (its leaked
 * chunks per site and class) and "timeline" (pool_timeline). */
static int report_json_pools(struct jsonw *w, sqlite3 *db, int64_t proc_id)
{
    sqlite3_stmt *q;
    int rc = 0, step = SQLITE_DONE;
    if (sqlite3_prepare_v2(db, "SELECT * FROM pools WHERE proc_id = ?1 ORDER BY pool_id", -1, &q,
                           NULL) != SQLITE_OK)
        return MT_ESQLITE;
    sqlite3_bind_int64(q, 1, proc_id);
    jsonw_arr_begin(w, "pools");
    while (rc == 0 && (step = sqlite3_step(q)) == SQLITE_ROW) {
        char sql[512];
        int64_t pool_id = sqlite3_column_int64(q, 1);
        jsonw_obj_begin(w, NULL);
        jsonw_row(w, q);
        snprintf(sql, sizeof sql,
                 "SELECT a.stack_id, a.leak_class AS class, count(*) AS chunks, "
                 "sum(a.size) AS bytes, l.location FROM allocations a "
                 "LEFT JOIN stack_leaf l USING (stack_id) WHERE a.proc_id = ?1 "
                 "AND a.family = (SELECT family FROM pools WHERE proc_id = ?1 "
                 "AND pool_id = %lld) AND a.leak_class IS NOT NULL "
                 "GROUP BY a.stack_id, a.leak_class ORDER BY bytes DESC, a.stack_id",
                 (long long)pool_id);
        rc = jsonw_query(w, "leaks", db, sql, 1, proc_id);
        snprintf(sql, sizeof sql,
                 "SELECT t_ns, live_bytes, live_chunks, held_bytes, max_live_bytes "
                 "FROM pool_timeline WHERE proc_id = ?1 AND pool_id = %lld ORDER BY t_ns",
                 (long long)pool_id);
        if (rc == 0) rc = report_json_table(w, "timeline", db, sql, 1, proc_id);
        jsonw_obj_end(w);
    }
    if (rc == 0 && step != SQLITE_DONE) rc = MT_ESQLITE;
    jsonw_arr_end(w);
    sqlite3_finalize(q);
    return rc;
}

/* "leak_checks": every on-demand check of the image with its "label" and
 * "sites" (leak_check_sites, every class, biggest first). */
static int report_json_checks(struct jsonw *w, sqlite3 *db, int64_t proc_id)
{
    sqlite3_stmt *q;
    int rc = 0, step = SQLITE_DONE;
    if (sqlite3_prepare_v2(db, "SELECT c.*, " REPORT_CHECK_LABEL_SQL " AS label "
                           "FROM leak_checks c WHERE c.proc_id = ?1 ORDER BY c.seq, c.check_id",
                           -1, &q, NULL) != SQLITE_OK)
        return MT_ESQLITE;
    sqlite3_bind_int64(q, 1, proc_id);
    jsonw_arr_begin(w, "leak_checks");
    while (rc == 0 && (step = sqlite3_step(q)) == SQLITE_ROW) {
        jsonw_obj_begin(w, NULL);
        jsonw_row(w, q);
        rc = jsonw_query(w, "sites", db,
                         "SELECT s.stack_id, s.class, s.blocks, s.bytes, l.location, f.family "
                         "FROM leak_check_sites s JOIN leak_checks c USING (check_id) "
                         "LEFT JOIN stack_leaf l ON l.stack_id = s.stack_id "
                         "LEFT JOIN temp.mt_pool_sites f "
                         "ON f.proc_id = c.proc_id AND f.stack_id = s.stack_id "
                         "WHERE s.check_id = ?1 ORDER BY s.bytes DESC, s.stack_id, s.class",
                         1, sqlite3_column_int64(q, 0));
        jsonw_obj_end(w);
    }
    if (rc == 0 && step != SQLITE_DONE) rc = MT_ESQLITE;
    jsonw_arr_end(w);
    sqlite3_finalize(q);
    return rc;
}

/* One process: its row, then every section of report_json_proc_sections. */
static int report_json_process(struct jsonw *w, sqlite3 *db, sqlite3_stmt *proc)
{
    int64_t proc_id = sqlite3_column_int64(proc, 0);
    int rc = 0;
    jsonw_obj_begin(w, NULL);
    jsonw_row(w, proc);
    for (size_t i = 0; rc == 0 && i < sizeof report_json_proc_sections /
                                         sizeof report_json_proc_sections[0]; i++)
        rc = jsonw_query(w, report_json_proc_sections[i].key, db,
                         report_json_proc_sections[i].sql, 1, proc_id);
    if (rc == 0)
        rc = report_json_table(w, "timeline", db,
                               "SELECT t_ns, heap_bytes, heap_blocks, heap_max_bytes, n_allocs, "
                               "n_frees, alloc_bytes, allocs_per_s, rss_bytes, arena, ordblks, "
                               "hblks, hblkhd, uordblks, fordblks, keepcost FROM timeline "
                               "WHERE proc_id = ?1 ORDER BY t_ns", 1, proc_id);
    if (rc == 0) rc = report_json_pools(w, db, proc_id);
    if (rc == 0) rc = report_json_checks(w, db, proc_id);
    jsonw_obj_end(w);
    return rc;
}

static int report_json_processes(struct jsonw *w, sqlite3 *db)
{
    sqlite3_stmt *q;
    int rc, step;
    if (sqlite3_prepare_v2(db, "SELECT * FROM processes ORDER BY proc_id", -1, &q, NULL) !=
        SQLITE_OK)
        return MT_ESQLITE;
    jsonw_arr_begin(w, "processes");
    rc = 0;
    while (rc == 0 && (step = sqlite3_step(q)) == SQLITE_ROW) rc = report_json_process(w, db, q);
    if (rc == 0 && step != SQLITE_DONE) rc = MT_ESQLITE;
    jsonw_arr_end(w);
    sqlite3_finalize(q);
    return rc;
}

/* Session-wide members, in document order. */
static int report_json_body(struct jsonw *w, sqlite3 *db)
{
    int rc = report_pool_sites(db, NULL);
    if (!rc) rc = report_json_map(w, "meta", db, "SELECT key, value FROM meta ORDER BY key");
    if (!rc) rc = report_json_one(w, "session", db, "SELECT * FROM session");
    if (!rc)
        rc = jsonw_query(w, "leak_totals", db,
                         "SELECT class, sum(blocks) AS blocks, sum(bytes) AS bytes "
                         "FROM leak_totals GROUP BY class ORDER BY class", 0, 0);
    if (!rc) rc = jsonw_query(w, "size_histogram", db, "SELECT * FROM size_histogram", 0, 0);
    if (!rc)
        rc = jsonw_query(w, "lifetime_histogram", db, "SELECT * FROM lifetime_histogram", 0, 0);
    if (!rc) rc = report_json_table(w, "timeline_total", db, "SELECT * FROM timeline_total", 0, 0);
    if (!rc) rc = report_json_processes(w, db);
    if (!rc)
        rc = jsonw_query(w, "sites", db,
                         "SELECT s.*, l.location, f.family FROM sites s "
                         "LEFT JOIN stack_leaf l ON l.stack_id = s.stack_id "
                         "LEFT JOIN temp.mt_pool_sites f "
                         "ON f.proc_id = s.proc_id AND f.stack_id = s.stack_id "
                         "ORDER BY s.proc_id, s.stack_id", 0, 0);
    if (!rc) rc = report_json_stacks(w, db);
    if (!rc) rc = report_json_frames(w, db);
    if (!rc)
        rc = jsonw_query(w, "modules", db,
                         "SELECT module_id, path, build_id, is_memtrace FROM modules "
                         "ORDER BY module_id", 0, 0);
    return rc;
}

/* ------------------------------------------------------------ exported */

int report_json(sqlite3 *db, FILE *out, int pretty, struct mt_errbuf *eb)
{
    struct jsonw w;
    int rc;
    jsonw_init(&w, out, pretty);
    jsonw_obj_begin(&w, NULL);
    jsonw_str(&w, "format", "memtrace-report");
    jsonw_int(&w, "version", REPORT_JSON_VERSION);
    rc = report_json_body(&w, db);
    if (rc) {
        /* the document is cut short: the caller discards the output */
        return report_sql_error(db, eb);
    }
    jsonw_obj_end(&w);
    jsonw_finish(&w);
    if (ferror(out)) {
        mt_errbuf_set(eb, "writing the report failed");
        return -EIO;
    }
    return 0;
}
