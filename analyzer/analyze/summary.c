/*
 * summary.c — the short terminal summary `memtrace run` prints at the end
 *
 * Reads only the database (so `memtrace analyze --summary` and `run` print
 * the same thing): peak heap with its time, peak RSS, allocations, leaks
 * per class with the top sites, memory errors with where they happened,
 * fragmentation at the peak. Figures: docs/metrics.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include "analyze/analyze.h"

#include <stdio.h>
#include <string.h>

#include "memtrace/error.h"

#define SUMMARY_TOP_SITES 5 /* leak sites and errors listed */

static const char *summary_bytes(double v, char *buf, size_t len)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    if (u == 0) snprintf(buf, len, "%.0f B", v);
    else snprintf(buf, len, "%.1f %s", v, unit[u]);
    return buf;
}

/* Runs sql and calls row() per result row. 0 or MT_ESQLITE. */
static int summary_query(sqlite3 *db, const char *sql, FILE *out,
                         void (*row)(sqlite3_stmt *q, FILE *out))
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) return MT_ESQLITE;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) row(q, out);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? 0 : MT_ESQLITE;
}

static void summary_head(sqlite3_stmt *q, FILE *out)
{
    char a[32], b[32], c[32];
    const unsigned char *cmd = sqlite3_column_text(q, 0);
    fprintf(out, "memtrace summary: %s (%d process%s, %.3f s)\n", cmd ? (const char *)cmd : "?",
            sqlite3_column_int(q, 1), sqlite3_column_int(q, 1) == 1 ? "" : "es",
            sqlite3_column_double(q, 2) / 1e9);
    fprintf(out, "  peak heap      %s at %.3f s\n",
            summary_bytes(sqlite3_column_double(q, 3), a, sizeof a),
            sqlite3_column_double(q, 4) / 1e9);
    if (sqlite3_column_type(q, 5) != SQLITE_NULL)
        fprintf(out, "  peak RSS       %s at %.3f s\n",
                summary_bytes(sqlite3_column_double(q, 5), b, sizeof b),
                sqlite3_column_double(q, 6) / 1e9);
    fprintf(out, "  allocations    %lld (%s), %lld temporary\n",
            (long long)sqlite3_column_int64(q, 7),
            summary_bytes(sqlite3_column_double(q, 8), c, sizeof c),
            (long long)sqlite3_column_int64(q, 9));
    if (sqlite3_column_int(q, 10))
        fprintf(out, "  WARNING        the trace was truncated; figures cover what it holds\n");
}

static void summary_leak_class(sqlite3_stmt *q, FILE *out)
{
    char a[32];
    fprintf(out, "    %-13s %lld block%s, %s\n", (const char *)sqlite3_column_text(q, 0),
            (long long)sqlite3_column_int64(q, 1), sqlite3_column_int64(q, 1) == 1 ? "" : "s",
            summary_bytes(sqlite3_column_double(q, 2), a, sizeof a));
}

static void summary_leak_site(sqlite3_stmt *q, FILE *out)
{
    char a[32];
    const unsigned char *loc = sqlite3_column_text(q, 4);
    fprintf(out, "      %s in %lld block%s (%s, pid %lld) at %s\n",
            summary_bytes(sqlite3_column_double(q, 2), a, sizeof a),
            (long long)sqlite3_column_int64(q, 1), sqlite3_column_int64(q, 1) == 1 ? "" : "s",
            (const char *)sqlite3_column_text(q, 0), (long long)sqlite3_column_int64(q, 3),
            loc ? (const char *)loc : "?");
}

static void summary_error(sqlite3_stmt *q, FILE *out)
{
    const unsigned char *sub = sqlite3_column_text(q, 1), *at = sqlite3_column_text(q, 3);
    const unsigned char *al = sqlite3_column_text(q, 4), *ff = sqlite3_column_text(q, 5);
    fprintf(out, "    %s%s%s at %s (addr 0x%llx, pid %lld)\n", sqlite3_column_text(q, 0),
            sub ? "/" : "", sub ? (const char *)sub : "", at ? (const char *)at : "?",
            (unsigned long long)sqlite3_column_int64(q, 2), (long long)sqlite3_column_int64(q, 6));
    if (al) fprintf(out, "        allocated at %s\n", al);
    if (ff) fprintf(out, "        first freed at %s\n", ff);
}

static void summary_errors_head(sqlite3_stmt *q, FILE *out)
{
    fprintf(out, "  memory errors  %lld\n", (long long)sqlite3_column_int64(q, 0));
}

static void summary_frag(sqlite3_stmt *q, FILE *out)
{
    fprintf(out, "  fragmentation  at peak (pid %lld): external %.1f%%, internal %.1f%%",
            (long long)sqlite3_column_int64(q, 0), 100 * sqlite3_column_double(q, 1),
            100 * sqlite3_column_double(q, 2));
    if (sqlite3_column_type(q, 3) != SQLITE_NULL)
        fprintf(out, ", retention %.1f%%", 100 * sqlite3_column_double(q, 3));
    fputc('\n', out);
}

/* One line per client pool (memtrace.h): its peak against what it held. */
static void summary_pool(sqlite3_stmt *q, FILE *out)
{
    char a[32], b[32], c[32];
    double held = sqlite3_column_double(q, 2), waste = sqlite3_column_double(q, 3);
    fprintf(out, "  pool %-9s %s live of %s held at its peak (waste %s, %.1f%%), %lld chunk%s leaked,"
                 " %lld error%s (pid %lld)\n",
            (const char *)sqlite3_column_text(q, 0),
            summary_bytes(sqlite3_column_double(q, 1), a, sizeof a),
            summary_bytes(held, b, sizeof b), summary_bytes(waste, c, sizeof c),
            held > 0 ? 100 * waste / held : 0.0, (long long)sqlite3_column_int64(q, 4),
            sqlite3_column_int64(q, 4) == 1 ? "" : "s", (long long)sqlite3_column_int64(q, 5),
            sqlite3_column_int64(q, 5) == 1 ? "" : "s", (long long)sqlite3_column_int64(q, 6));
}

static void summary_client(sqlite3_stmt *q, FILE *out)
{
    if (sqlite3_column_int64(q, 0) || sqlite3_column_int64(q, 1))
        fprintf(out, "  client API     %lld marker%s, %lld leak check%s\n",
                (long long)sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 0) == 1 ? "" : "s",
                (long long)sqlite3_column_int64(q, 1), sqlite3_column_int64(q, 1) == 1 ? "" : "s");
}

static void summary_no_leaks(sqlite3_stmt *q, FILE *out)
{
    if (sqlite3_column_int64(q, 0) == 0) fprintf(out, "    none\n");
}

int summary_print(sqlite3 *db, FILE *out)
{
    int rc = summary_query(db,
        "SELECT command, n_processes, duration_ns, peak_heap_bytes, peak_heap_ns,"
        " peak_rss_bytes, peak_rss_ns, n_allocs, alloc_bytes, n_temporary, truncated"
        " FROM session", out, summary_head);
    if (rc) return rc;
    fprintf(out, "  leaks\n");
    rc = summary_query(db,
        "SELECT class, sum(blocks), sum(bytes) FROM leak_totals GROUP BY class ORDER BY"
        " CASE class WHEN 'definite' THEN 1 WHEN 'indirect' THEN 2 WHEN 'possible' THEN 3"
        " WHEN 'unclassified' THEN 4 ELSE 5 END", out, summary_leak_class);
    if (!rc) rc = summary_query(db, "SELECT count(*) FROM leak_totals", out, summary_no_leaks);
    if (!rc) rc = summary_query(db,
        "SELECT class, blocks, bytes, pid, location FROM leaks_by_site"
        " WHERE class <> 'reachable' ORDER BY bytes DESC LIMIT 5", out, summary_leak_site);
    if (!rc) rc = summary_query(db, "SELECT count(*) FROM errors", out, summary_errors_head);
    if (!rc) rc = summary_query(db,
        "SELECT kind, subkind, addr, at, allocated_at, first_freed_at, pid FROM errors_readable"
        " ORDER BY error_id LIMIT 5", out, summary_error);
    if (!rc) rc = summary_query(db,
        "SELECT p.pid, f.external, f.internal, f.retention FROM fragmentation f"
        " JOIN processes p USING (proc_id) WHERE f.at = 'peak'"
        " ORDER BY p.peak_heap_bytes DESC LIMIT 1", out, summary_frag);
    if (!rc) rc = summary_query(db,
        "SELECT o.name, o.peak_live_bytes, o.peak_held_bytes, o.peak_waste_bytes, o.leaked_chunks,"
        " o.n_errors,"
        " p.pid FROM pools o JOIN processes p USING (proc_id)"
        " ORDER BY o.peak_held_bytes DESC LIMIT 5", out, summary_pool);
    if (!rc) rc = summary_query(db,
        "SELECT (SELECT count(*) FROM markers WHERE kind = 'mark'),"
        " (SELECT count(*) FROM leak_checks)", out, summary_client);
    return rc;
}
