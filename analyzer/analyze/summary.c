/*
 * summary.c — the short terminal summary `memtrace run` prints at the end
 *
 * Reads only the database (so `memtrace analyze --summary` and `run` print
 * the same thing): peak heap with its time, peak RSS, allocations, leaks
 * per class with the top sites, memory errors with where they happened,
 * fragmentation at the peak. Figures: docs/metrics.md. An image recorded
 * with --no-errors (processes.errors_checked = 0, docs/schema.md) had its
 * frees judged by nobody and no leak scan: its errors read "not checked",
 * never 0, and its blocks left at the end "not classified".
 *
 * SPDX-License-Identifier: MIT
 */
#include "analyze/analyze.h"

#include <stdio.h>
#include <string.h>

#include "memtrace/error.h"

#define SUMMARY_TOP_SITES_SQL "5" /* rows per list (sites, errors, pools): a glance */

static const char *summary_bytes(double v, char *buf, size_t len)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%.0f B", v);
    else
        snprintf(buf, len, "%.1f %s", v, unit[u]);
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
    else /* RSS is sampled once per collector period (10 ms by default) */
        fputs("  peak RSS       not sampled (the program ended before the first sample)\n", out);
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

/* " (recorded with --no-errors)", or " in K of N processes (...)" when
 * only some images were recorded so. */
static void summary_unchecked_where(FILE *out, int64_t n_unchecked, int64_t n_procs)
{
    if (n_unchecked < n_procs)
        fprintf(out, " in %lld of %lld processes", (long long)n_unchecked, (long long)n_procs);
    fputs(" (recorded with --no-errors)", out);
}

/* Columns: images not checked, images, leak rows of images not checked. */
static void summary_leaks_head(sqlite3_stmt *q, FILE *out)
{
    fputs("  leaks", out);
    if (sqlite3_column_int64(q, 0) && sqlite3_column_int64(q, 2)) {
        fputs("          not classified, no leak scan", out);
        summary_unchecked_where(out, sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1));
    }
    fputc('\n', out);
}

/* Columns: errors, images not checked, images. Only client pools, which
 * keep their own table, can have errors in an image not checked. */
static void summary_errors_head(sqlite3_stmt *q, FILE *out)
{
    int64_t n = sqlite3_column_int64(q, 0), n_unchecked = sqlite3_column_int64(q, 1);
    int64_t n_procs = sqlite3_column_int64(q, 2);
    if (!n_unchecked) {
        fprintf(out, "  memory errors  %lld\n", (long long)n);
        return;
    }
    if (n_unchecked < n_procs)
        fprintf(out, "  memory errors  %lld; not checked", (long long)n);
    else
        fprintf(out, "  memory errors  not checked%s", n ? " for malloc/new blocks" : "");
    summary_unchecked_where(out, n_unchecked, n_procs);
    if (n && n_unchecked == n_procs) fprintf(out, "; %lld in client pools", (long long)n);
    fputc('\n', out);
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
    fprintf(out,
            "  pool %-9s %s live of %s held at its peak (waste %s, %.1f%%), %lld chunk%s leaked,"
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

/* The summary, top to bottom: one query per part, each row printed by its
 * function (SUMMARY_TOP_SITES_SQL bounds the lists). */
static const struct summary_step {
    const char *sql;
    void (*row)(sqlite3_stmt *q, FILE *out);
} summary_steps[] = {
    {"SELECT command, n_processes, duration_ns, peak_heap_bytes, peak_heap_ns,"
     " peak_rss_bytes, peak_rss_ns, n_allocs, alloc_bytes, n_temporary, truncated"
     " FROM session",
     summary_head},
    {"SELECT (SELECT count(*) FROM processes WHERE errors_checked = 0),"
     " (SELECT count(*) FROM processes),"
     " (SELECT count(*) FROM leak_totals k JOIN processes p USING (proc_id)"
     "  WHERE p.errors_checked = 0)",
     summary_leaks_head},
    {"SELECT class, sum(blocks), sum(bytes) FROM leak_totals GROUP BY class ORDER BY"
     " CASE class WHEN 'definite' THEN 1 WHEN 'indirect' THEN 2 WHEN 'possible' THEN 3"
     " WHEN 'unclassified' THEN 4 ELSE 5 END",
     summary_leak_class},
    {"SELECT count(*) FROM leak_totals", summary_no_leaks},
    {"SELECT class, blocks, bytes, pid, location FROM leaks_by_site"
     " WHERE class <> 'reachable' ORDER BY bytes DESC LIMIT " SUMMARY_TOP_SITES_SQL,
     summary_leak_site},
    {"SELECT (SELECT count(*) FROM errors),"
     " (SELECT count(*) FROM processes WHERE errors_checked = 0),"
     " (SELECT count(*) FROM processes)",
     summary_errors_head},
    {"SELECT kind, subkind, addr, at, allocated_at, first_freed_at, pid FROM errors_readable"
     " ORDER BY error_id LIMIT " SUMMARY_TOP_SITES_SQL,
     summary_error},
    {"SELECT p.pid, f.external, f.internal, f.retention FROM fragmentation f"
     " JOIN processes p USING (proc_id) WHERE f.at = 'peak'"
     " ORDER BY p.peak_heap_bytes DESC LIMIT 1",
     summary_frag},
    {"SELECT o.name, o.peak_live_bytes, o.peak_held_bytes, o.peak_waste_bytes,"
     " o.leaked_chunks, o.n_errors, p.pid FROM pools o JOIN processes p USING (proc_id)"
     " ORDER BY o.peak_held_bytes DESC LIMIT " SUMMARY_TOP_SITES_SQL,
     summary_pool},
    {"SELECT (SELECT count(*) FROM markers WHERE kind = 'mark'),"
     " (SELECT count(*) FROM leak_checks)",
     summary_client},
};

int summary_print(sqlite3 *db, FILE *out)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < sizeof summary_steps / sizeof summary_steps[0]; i++)
        rc = summary_query(db, summary_steps[i].sql, out, summary_steps[i].row);
    return rc;
}
