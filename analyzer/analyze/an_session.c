/*
 * an_session.c — the session row and the meta rows, written last
 *
 * Totals over processes come from the rows already written (one SQL
 * statement each), so they can never disagree with the tables. The session
 * peak is the larger of the largest process peak and the largest sum of
 * the processes' heaps at a timeline interval end (docs/metrics.md, "Peak
 * heap": exact for one process at a time, interval-resolution when images
 * overlap).
 *
 * SPDX-License-Identifier: MIT
 */
#include "analyze/analyze_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "db/db.h"

static const char an_session_totals_sql[] =
    "UPDATE session SET"
    " n_processes = (SELECT count(*) FROM processes),"
    " n_allocs = (SELECT coalesce(sum(n_allocs), 0) FROM processes),"
    " alloc_bytes = (SELECT coalesce(sum(alloc_bytes), 0) FROM processes),"
    " n_frees = (SELECT coalesce(sum(n_frees), 0) FROM processes),"
    " n_temporary = (SELECT coalesce(sum(n_temporary), 0) FROM processes),"
    " n_errors = (SELECT count(*) FROM errors),"
    " dropped = (SELECT coalesce(sum(dropped), 0) FROM processes),"
    " peak_rss_bytes = (SELECT max(peak_rss_bytes) FROM processes),"
    " peak_rss_ns = (SELECT peak_rss_ns FROM processes ORDER BY peak_rss_bytes DESC LIMIT 1),"
    " peak_heap_bytes = (SELECT coalesce(max(peak_heap_bytes), 0) FROM processes),"
    " peak_heap_ns = (SELECT peak_heap_ns FROM processes ORDER BY peak_heap_bytes DESC LIMIT 1),"
    " errors_checked = (SELECT min(errors_checked) FROM processes);"
    "UPDATE session SET (peak_heap_bytes, peak_heap_ns) ="
    " (SELECT heap_bytes, t_ns FROM timeline_total ORDER BY heap_bytes DESC, t_ns LIMIT 1)"
    " WHERE (SELECT count(*) FROM processes) > 1 AND peak_heap_bytes <"
    " (SELECT coalesce(max(heap_bytes), 0) FROM timeline_total);";

/* session.options: the names of the MT_OPT_* bits set, comma separated,
 * into buf (docs/schema.md). Returns buf. */
static const char *an_session_options(uint32_t flags, char *buf, size_t len)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {{MT_OPT_LOSSY, "lossy"},
                 {MT_OPT_FREE_STACKS, "free_stacks"},
                 {MT_OPT_NO_ERRORS, "no_errors"}};
    size_t n = 0;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if ((flags & names[i].bit) && n < len)
            n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "", names[i].name);
    return buf;
}

static int an_session_insert(struct an_state *st, const struct analyze_result *res)
{
    sqlite3_stmt *q;
    const char *sql =
        "INSERT INTO session (id, command, argv, start_real_ns, start_mono_ns, duration_ns,"
        " trace_path, root_pid, max_depth, options, sample_period_us, truncated,"
        " truncated_offset, seq_holes, n_events, allocations_stored, unmatched_frees,"
        " analysis_ns) VALUES (1,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK) {
        mt_errbuf_set(st->eb, "session row: %s", sqlite3_errmsg(st->db));
        return MT_ESQLITE;
    }
    const struct mt_file_hdr *h = st->trace_hdr;
    char cmd[256] = "", opts[64];
    if (st->argv) sscanf(st->argv, "%255s", cmd);
    if (cmd[0]) sqlite3_bind_text(q, 1, cmd, -1, SQLITE_STATIC);
    if (st->argv) sqlite3_bind_text(q, 2, st->argv, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, (int64_t)h->start_real_ns);
    sqlite3_bind_int64(q, 4, (int64_t)h->start_mono_ns);
    sqlite3_bind_int64(q, 5, (int64_t)st->max_t_ns);
    sqlite3_bind_text(q, 6, st->opts->trace_path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 7, h->root_pid);
    if (st->have_session) {
        sqlite3_bind_int64(q, 8, st->max_depth);
        sqlite3_bind_text(q, 9, an_session_options(st->opt_flags, opts, sizeof opts), -1,
                          SQLITE_STATIC);
        sqlite3_bind_int64(q, 10, st->period_us);
    }
    sqlite3_bind_int(q, 11, res->truncated);
    if (res->truncated) sqlite3_bind_int64(q, 12, (int64_t)res->trunc_off);
    sqlite3_bind_int64(q, 13, (int64_t)res->seq_holes);
    sqlite3_bind_int64(q, 14, (int64_t)res->n_events);
    sqlite3_bind_int(q, 15, !st->opts->no_allocations);
    sqlite3_bind_int64(q, 16, (int64_t)st->unmatched_frees);
    sqlite3_bind_int64(q, 17, (int64_t)(res->seconds * 1e9));
    int rc = an_out_step(st, q);
    sqlite3_finalize(q);
    return rc;
}

int an_final_session(struct an_state *st, const struct analyze_result *res)
{
    int rc = an_session_insert(st, res);
    if (rc) return rc;
    char *err = NULL;
    char meta[256];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    snprintf(meta, sizeof meta,
             "INSERT OR REPLACE INTO meta VALUES ('memtrace_version', '0.1.0'),"
             " ('analyzed_real_ns', '%lld');",
             (long long)now.tv_sec * 1000000000ll + now.tv_nsec);
    if (sqlite3_exec(st->db, an_session_totals_sql, NULL, NULL, &err) != SQLITE_OK ||
        sqlite3_exec(st->db, meta, NULL, NULL, &err) != SQLITE_OK) {
        mt_errbuf_set(st->eb, "session totals: %s", err ? err : "?");
        sqlite3_free(err);
        return MT_ESQLITE;
    }
    return 0;
}
