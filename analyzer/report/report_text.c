/*
 * report_text.c — `memtrace report --format text|markdown`
 *
 * The report a person reads in a terminal or a pull request: the session,
 * then per process image its peak and the sites holding it, leaks per class
 * with symbolized stacks, memory errors with their three stacks, temporary
 * allocations, fragmentation and the size and lifetime histograms. Both
 * formats share one walk; struct report_text_out chooses the markup. Sizes
 * are printed exact ("68096 B") with a human figure beside, so the text
 * agrees with the database to the byte. An image recorded with --no-errors
 * (processes.errors_checked = 0) has its memory errors "not checked" and
 * its leaks "not classified", never a reassuring 0. Layout: docs/reports.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include "report/report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "memtrace/error.h"
#include "report/report_text.h"

#define REPORT_TEXT_BAR 40                       /* histogram bar width in characters */
#define RT_NO_ERRORS "recorded with --no-errors" /* why an image was not checked */

/* ------------------------------------------------------------ markup */

void report_text_heading(struct report_text_out *rt, int level, const char *fmt, ...)
{
    va_list ap;
    fputc('\n', rt->out);
    if (rt->md) fprintf(rt->out, "%.*s ", level, "####");
    va_start(ap, fmt);
    vfprintf(rt->out, fmt, ap);
    va_end(ap);
    fputc('\n', rt->out);
    if (!rt->md && level <= 2) fputs(level == 1 ? "====\n" : "----\n", rt->out);
}

/* One "name: value" line (a bullet in markdown). */
void report_text_kv(struct report_text_out *rt, const char *name, const char *fmt, ...)
{
    va_list ap;
    if (rt->md)
        fprintf(rt->out, "- **%s**: ", name);
    else
        fprintf(rt->out, "  %-18s ", name);
    va_start(ap, fmt);
    vfprintf(rt->out, fmt, ap);
    va_end(ap);
    fputc('\n', rt->out);
}

/* An entry of a list of sites or errors: text indented, markdown bullet. */
void report_text_item(struct report_text_out *rt, const char *fmt, ...)
{
    va_list ap;
    fputs(rt->md ? "- " : "  ", rt->out);
    va_start(ap, fmt);
    vfprintf(rt->out, fmt, ap);
    va_end(ap);
    fputc('\n', rt->out);
}

void report_text_sub(struct report_text_out *rt, const char *fmt, ...)
{
    va_list ap;
    fputs(rt->md ? "  - " : "    ", rt->out);
    va_start(ap, fmt);
    vfprintf(rt->out, fmt, ap);
    va_end(ap);
    fputc('\n', rt->out);
}

int64_t report_text_count(struct report_text_out *rt, const char *sql, int64_t param)
{
    sqlite3_stmt *q;
    int64_t n = -1;
    if (report_prepare(rt->db, sql, &q, rt->eb)) return -1;
    sqlite3_bind_int64(q, 1, param);
    if (sqlite3_step(q) == SQLITE_ROW) n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return n;
}

const char *report_text_unit(int64_t n, const char *family, char *buf, size_t len)
{
    if (family)
        snprintf(buf, len, "chunk%s of %s", report_plural(n), family);
    else
        snprintf(buf, len, "block%s", report_plural(n));
    return buf;
}

const char *report_text_bytes(int64_t v, char *buf, size_t len)
{
    char h[32];
    if (v < 1024)
        snprintf(buf, len, "%" PRId64 " B", v);
    else
        snprintf(buf, len, "%" PRId64 " B (%s)", v, report_human_bytes((double)v, h, sizeof h));
    return buf;
}

const char *report_text_col_text(sqlite3_stmt *q, int col)
{
    const unsigned char *s = sqlite3_column_text(q, col);
    return s ? (const char *)s : "?";
}

int report_text_stack(struct report_text_out *rt, int64_t stack_id, const char *caption)
{
    char label[1024];
    int depth = 0, rc;
    const char *pad = rt->md ? "  " : "      ";
    if (caption) fprintf(rt->out, "%s%s\n", rt->md ? "  " : "    ", caption);
    if (rt->md) fputs("  ```\n", rt->out);
    sqlite3_reset(rt->stack_q);
    sqlite3_bind_int64(rt->stack_q, 1, stack_id);
    while ((rc = sqlite3_step(rt->stack_q)) == SQLITE_ROW) {
        sqlite3_stmt *q = rt->stack_q;
        if (rt->o->stack_depth > 0 && depth >= rt->o->stack_depth) {
            fprintf(rt->out, "%s...\n", pad);
            break;
        }
        report_frame_label((const char *)sqlite3_column_text(q, 1),
                           (const char *)sqlite3_column_text(q, 2), sqlite3_column_int64(q, 3),
                           (const char *)sqlite3_column_text(q, 5), sqlite3_column_int64(q, 6),
                           label, sizeof label);
        fprintf(rt->out, "%s#%-2d %s%s\n", pad, depth++, label,
                sqlite3_column_int(q, 4) ? " (inlined)" : "");
    }
    if (depth == 0) fprintf(rt->out, "%s(no stack)\n", pad);
    if (rt->md) fputs("  ```\n", rt->out);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : report_sql_error(rt->db, rt->eb);
}

int report_text_rows(struct report_text_out *rt, const char *sql, int64_t param,
                     int (*row)(struct report_text_out *rt, sqlite3_stmt *q), int *n_rows)
{
    sqlite3_stmt *q;
    int rc = report_prepare(rt->db, sql, &q, rt->eb);
    int n = 0, step = SQLITE_DONE;
    if (rc) return rc;
    sqlite3_bind_int64(q, 1, param);
    while (rc == 0 && (rt->o->top <= 0 || n < rt->o->top) &&
           (step = sqlite3_step(q)) == SQLITE_ROW) {
        rc = row(rt, q);
        n++;
    }
    if (rc == 0 && step != SQLITE_ROW && step != SQLITE_DONE) rc = report_sql_error(rt->db, rt->eb);
    if (rc == 0 && step == SQLITE_ROW && sqlite3_step(q) == SQLITE_ROW)
        report_text_item(rt, "... more rows: raise --top, or use --format json");
    sqlite3_finalize(q);
    if (n_rows) *n_rows = n;
    return rc;
}

/* ------------------------------------------------------------ session */

/* The "memory errors" line of n_unchecked of n_procs images recorded with
 * --no-errors: the count only when every image was checked. Errors in an
 * image not checked can only be client pools' (they keep their own table). */
static void rt_errors_kv(struct report_text_out *rt, int64_t n, int64_t n_unchecked,
                         int64_t n_procs)
{
    const char *k = "memory errors";
    if (!n_unchecked)
        report_text_kv(rt, k, "%lld", (long long)n);
    else if (n_unchecked < n_procs)
        report_text_kv(rt, k, "%lld; not checked in %lld of %lld processes (" RT_NO_ERRORS ")",
                       (long long)n, (long long)n_unchecked, (long long)n_procs);
    else if (n)
        report_text_kv(rt, k,
                       "not checked for malloc/new blocks (" RT_NO_ERRORS "); %lld in "
                       "client pools",
                       (long long)n);
    else
        report_text_kv(rt, k, "not checked (" RT_NO_ERRORS ")");
}

static int rt_session(struct report_text_out *rt)
{
    sqlite3_stmt *q;
    char a[64], b[64];
    int rc =
        report_prepare(rt->db,
                       "SELECT argv, duration_ns, n_processes, n_events, n_allocs, alloc_bytes, "
                       "n_frees, n_temporary, n_errors, peak_heap_bytes, peak_heap_ns, "
                       "peak_rss_bytes, peak_rss_ns, truncated, dropped, seq_holes, "
                       "unmatched_frees, options, "
                       "(SELECT count(*) FROM processes WHERE errors_checked = 0), "
                       "(SELECT count(*) FROM processes) FROM session",
                       &q, rt->eb);
    if (rc) return rc;
    if (sqlite3_step(q) != SQLITE_ROW) {
        sqlite3_finalize(q);
        mt_errbuf_set(rt->eb, "the database has no session row (analysis incomplete?)");
        return MT_ESCHEMA;
    }
    report_text_heading(rt, 1, "memtrace report: %s", report_text_col_text(q, 0));
    report_text_kv(rt, "duration", "%.3f s", sqlite3_column_double(q, 1) / 1e9);
    report_text_kv(rt, "processes", "%d", sqlite3_column_int(q, 2));
    report_text_kv(rt, "events", "%lld", (long long)sqlite3_column_int64(q, 3));
    report_text_kv(rt, "allocations", "%lld, %s", (long long)sqlite3_column_int64(q, 4),
                   report_text_bytes(sqlite3_column_int64(q, 5), a, sizeof a));
    report_text_kv(rt, "frees", "%lld", (long long)sqlite3_column_int64(q, 6));
    report_text_kv(rt, "temporary", "%lld", (long long)sqlite3_column_int64(q, 7));
    rt_errors_kv(rt, sqlite3_column_int64(q, 8), sqlite3_column_int64(q, 18),
                 sqlite3_column_int64(q, 19));
    report_text_kv(rt, "peak heap", "%s at %.3f s",
                   report_text_bytes(sqlite3_column_int64(q, 9), a, sizeof a),
                   sqlite3_column_double(q, 10) / 1e9);
    if (sqlite3_column_type(q, 11) != SQLITE_NULL)
        report_text_kv(rt, "peak RSS", "%s at %.3f s",
                       report_text_bytes(sqlite3_column_int64(q, 11), b, sizeof b),
                       sqlite3_column_double(q, 12) / 1e9);
    if (sqlite3_column_int(q, 13)) report_text_kv(rt, "WARNING", "the trace was truncated");
    if (sqlite3_column_int64(q, 14))
        report_text_kv(rt, "WARNING", "%lld events dropped (--lossy)",
                       (long long)sqlite3_column_int64(q, 14));
    if (sqlite3_column_int64(q, 15))
        report_text_kv(rt, "WARNING", "%lld sequence holes",
                       (long long)sqlite3_column_int64(q, 15));
    if (sqlite3_column_int64(q, 16))
        report_text_kv(rt, "unmatched frees", "%lld", (long long)sqlite3_column_int64(q, 16));
    sqlite3_finalize(q);
    return 0;
}

/* Images recorded with --no-errors that left blocks (?1 unused). */
static const char rt_unclassified_sql[] =
    "SELECT count(DISTINCT k.proc_id) + 0 * ?1 FROM leak_totals k JOIN processes p "
    "USING (proc_id) WHERE p.errors_checked = 0";

/* Leak totals over all processes, one line per class. */
static int rt_leak_totals_row(struct report_text_out *rt, sqlite3_stmt *q)
{
    char a[64];
    int64_t n = sqlite3_column_int64(q, 1);
    report_text_kv(rt, report_text_col_text(q, 0), "%lld block%s, %s", (long long)n,
                   report_plural(n), report_text_bytes(sqlite3_column_int64(q, 2), a, sizeof a));
    return 0;
}

/* ------------------------------------------------------------ per process */

static int rt_peak_row(struct report_text_out *rt, sqlite3_stmt *q)
{
    char a[64], u[96];
    int64_t n = sqlite3_column_int64(q, 2);
    const char *family = (const char *)sqlite3_column_text(q, 5);
    report_text_item(rt, "%s in %lld %s (%.1f%%) at %s",
                     report_text_bytes(sqlite3_column_int64(q, 1), a, sizeof a), (long long)n,
                     report_text_unit(n, family, u, sizeof u), 100.0 * sqlite3_column_double(q, 3),
                     report_text_col_text(q, 4));
    return report_text_stack(rt, sqlite3_column_int64(q, 0), NULL);
}

static int rt_leak_row(struct report_text_out *rt, sqlite3_stmt *q)
{
    char a[64], u[96];
    int64_t n = sqlite3_column_int64(q, 2);
    const char *family = (const char *)sqlite3_column_text(q, 5);
    report_text_item(rt, "%s: %s in %lld %s at %s", report_text_col_text(q, 1),
                     report_text_bytes(sqlite3_column_int64(q, 3), a, sizeof a), (long long)n,
                     report_text_unit(n, family, u, sizeof u), report_text_col_text(q, 4));
    return report_text_stack(rt, sqlite3_column_int64(q, 0), NULL);
}

static int rt_error_row(struct report_text_out *rt, sqlite3_stmt *q)
{
    char sub[64] = "";
    int rc;
    if (sqlite3_column_type(q, 1) != SQLITE_NULL)
        snprintf(sub, sizeof sub, " (%s)", report_text_col_text(q, 1));
    report_text_item(rt, "%s%s: %s(0x%" PRIx64 ") by thread %lld at %.3f s",
                     report_text_col_text(q, 0), sub, report_text_col_text(q, 3),
                     (uint64_t)sqlite3_column_int64(q, 2), (long long)sqlite3_column_int64(q, 5),
                     sqlite3_column_double(q, 6) / 1e9);
    if (sqlite3_column_type(q, 4) != SQLITE_NULL) {
        const char *fam = report_text_col_text(q, 10);
        int64_t size = sqlite3_column_int64(q, 4);
        fprintf(rt->out, "%s%s of %lld byte%s, family %s\n", rt->md ? "  " : "    ",
                strncmp(fam, "pool:", 5) ? "block" : "chunk", (long long)size, report_plural(size),
                fam);
    }
    rc = report_text_stack(rt, sqlite3_column_int64(q, 7), "at:");
    if (!rc && sqlite3_column_type(q, 8) != SQLITE_NULL && sqlite3_column_int64(q, 8))
        rc = report_text_stack(rt, sqlite3_column_int64(q, 8), "allocated at:");
    if (!rc && sqlite3_column_type(q, 9) != SQLITE_NULL && sqlite3_column_int64(q, 9))
        rc = report_text_stack(rt, sqlite3_column_int64(q, 9), "first freed at:");
    return rc;
}

static int rt_temp_row(struct report_text_out *rt, sqlite3_stmt *q)
{
    int64_t n = sqlite3_column_int64(q, 0);
    report_text_item(rt, "%lld of %lld allocation%s temporary at %s",
                     (long long)sqlite3_column_int64(q, 1), (long long)n, report_plural(n),
                     report_text_col_text(q, 2));
    return 0;
}

static int rt_frag_row(struct report_text_out *rt, sqlite3_stmt *q)
{
    char a[64];
    char ret[32] = "n/a";
    if (sqlite3_column_type(q, 4) != SQLITE_NULL)
        snprintf(ret, sizeof ret, "%.1f%%", 100.0 * sqlite3_column_double(q, 4));
    report_text_item(rt,
                     "at %-6s (%.3f s): external %.1f%%, internal %.1f%%, retention %s, live %s",
                     report_text_col_text(q, 0), sqlite3_column_double(q, 1) / 1e9,
                     100.0 * sqlite3_column_double(q, 2), 100.0 * sqlite3_column_double(q, 3), ret,
                     report_text_bytes(sqlite3_column_int64(q, 5), a, sizeof a));
    return 0;
}

/* A histogram, bars scaled to the largest bucket (computed in SQL). */
static int rt_hist_row(struct report_text_out *rt, sqlite3_stmt *q)
{
    int64_t count = sqlite3_column_int64(q, 2), max = sqlite3_column_int64(q, 3);
    int bar = max > 0 ? (int)((count * REPORT_TEXT_BAR + max - 1) / max) : 0;
    char bars[REPORT_TEXT_BAR + 1];
    memset(bars, '#', (size_t)bar);
    bars[bar] = 0;
    fprintf(rt->out, "%s%12lld .. %-12lld %8lld %s\n", rt->md ? "    " : "  ",
            (long long)sqlite3_column_int64(q, 0), (long long)sqlite3_column_int64(q, 1),
            (long long)count, bars);
    return 0;
}

static int rt_histogram(struct report_text_out *rt, int64_t proc_id, const char *kind,
                        const char *title)
{
    char sql[512];
    int n = 0, rc;
    const struct report_opts *saved = rt->o;
    struct report_opts all = *rt->o;
    snprintf(sql, sizeof sql,
             "SELECT lo, hi, count, max(count) OVER () FROM histograms WHERE proc_id = ?1 "
             "AND stack_id IS NULL AND kind = '%s' ORDER BY bucket",
             kind);
    report_text_heading(rt, 3, "%s", title);
    if (rt->md) fputs("\n", rt->out);
    all.top = 0; /* a histogram is never cut */
    rt->o = &all;
    rc = report_text_rows(rt, sql, proc_id, rt_hist_row, &n);
    rt->o = saved;
    if (!rc && n == 0) report_text_item(rt, "(empty)");
    return rc;
}

/* The "Process" header and its own figures. */
static void rt_process_head(struct report_text_out *rt, sqlite3_stmt *p)
{
    char a[64], how[96] = "";
    const char *end = (const char *)sqlite3_column_text(p, 6);
    if (end && !strcmp(end, "exited"))
        snprintf(how, sizeof how, "exited with status %d", sqlite3_column_int(p, 7));
    else if (end && !strcmp(end, "signaled"))
        snprintf(how, sizeof how, "killed by signal %d", sqlite3_column_int(p, 8));
    else
        snprintf(how, sizeof how, "%s", end ? end : "end unknown");
    report_text_heading(rt, 2, "Process %lld%s: %s", (long long)sqlite3_column_int64(p, 1),
                        sqlite3_column_int(p, 2) ? " (after exec)" : "",
                        report_text_col_text(p, 3));
    report_text_kv(rt, "command", "%s", report_text_col_text(p, 4));
    int unchecked = sqlite3_column_int(p, 21) == 0 && sqlite3_column_type(p, 21) != SQLITE_NULL;
    report_text_kv(rt, "ended", "%s%s", how,
                   sqlite3_column_int(p, 9) ? ", leak scan done"
                   : unchecked              ? ", no leak scan (" RT_NO_ERRORS ")"
                                            : ", no leak scan");
    report_text_kv(rt, "allocations", "%lld, %s", (long long)sqlite3_column_int64(p, 10),
                   report_text_bytes(sqlite3_column_int64(p, 11), a, sizeof a));
    report_text_kv(rt, "frees", "%lld", (long long)sqlite3_column_int64(p, 12));
    report_text_kv(rt, "temporary", "%lld", (long long)sqlite3_column_int64(p, 13));
    rt_errors_kv(rt, sqlite3_column_int64(p, 14), unchecked, 1);
    report_text_kv(rt, "peak heap", "%s in %lld block%s at %.3f s",
                   report_text_bytes(sqlite3_column_int64(p, 15), a, sizeof a),
                   (long long)sqlite3_column_int64(p, 16),
                   report_plural(sqlite3_column_int64(p, 16)), sqlite3_column_double(p, 17) / 1e9);
    if (sqlite3_column_type(p, 18) != SQLITE_NULL)
        report_text_kv(rt, "peak RSS", "%s",
                       report_text_bytes(sqlite3_column_int64(p, 18), a, sizeof a));
    report_text_kv(rt, "live at end", "%s in %lld block%s",
                   report_text_bytes(sqlite3_column_int64(p, 19), a, sizeof a),
                   (long long)sqlite3_column_int64(p, 20),
                   report_plural(sqlite3_column_int64(p, 20)));
}

/* Every section of one process image. */
static int rt_process(struct report_text_out *rt, sqlite3_stmt *p)
{
    int64_t id = sqlite3_column_int64(p, 0);
    int n = 0, rc;
    int unchecked = sqlite3_column_int(p, 21) == 0 && sqlite3_column_type(p, 21) != SQLITE_NULL;
    rt_process_head(rt, p);
    report_text_heading(rt, 3, "Peak heap: sites holding it");
    rc = report_text_rows(
        rt,
        "SELECT t.stack_id, t.peak_bytes, t.peak_blocks, t.share, t.location, f.family "
        "FROM top_sites_at_peak t LEFT JOIN temp.mt_pool_sites f "
        "USING (proc_id, stack_id) WHERE t.proc_id = ?1 "
        "ORDER BY t.peak_bytes DESC, t.stack_id",
        id, rt_peak_row, &n);
    if (!rc && !n) report_text_item(rt, "(no live block at the peak)");
    if (!rc) {
        report_text_heading(rt, 3, "Leaks");
        rc = report_text_rows(rt,
                              "SELECT class, blocks, bytes FROM leak_totals WHERE proc_id = ?1 "
                              "ORDER BY class",
                              id, rt_leak_totals_row, &n);
    }
    if (!rc && !n) report_text_item(rt, "(no block live at exit)");
    if (!rc && n && unchecked)
        report_text_item(rt, "(not classified: no leak scan, " RT_NO_ERRORS ")");
    if (!rc)
        rc = report_text_rows(
            rt,
            "SELECT k.stack_id, class, blocks, bytes, location, f.family FROM leaks_by_site k "
            "LEFT JOIN temp.mt_pool_sites f USING (proc_id, stack_id) "
            "WHERE k.proc_id = ?1 ORDER BY CASE class WHEN 'definite' THEN 0 "
            "WHEN 'indirect' THEN 1 WHEN 'possible' THEN 2 WHEN 'unclassified' "
            "THEN 3 ELSE 4 END, bytes DESC, k.stack_id",
            id, rt_leak_row, NULL);
    if (!rc) {
        report_text_heading(rt, 3, "Memory errors");
        rc = report_text_rows(rt,
                              "SELECT kind, subkind, addr, api, size, tid, t_ns, stack_id, "
                              "alloc_stack_id, free_stack_id, alloc_family FROM errors "
                              "WHERE proc_id = ?1 ORDER BY seq, error_id",
                              id, rt_error_row, &n);
    }
    if (!rc && unchecked)
        report_text_item(rt, n ? "(frees of malloc/new blocks not checked: " RT_NO_ERRORS ")"
                               : "(not checked: " RT_NO_ERRORS ")");
    else if (!rc && !n)
        report_text_item(rt, "(none)");
    if (!rc) rc = report_text_client(rt, id);
    if (!rc) {
        report_text_heading(rt, 3, "Temporary allocations");
        rc = report_text_rows(rt,
                              "SELECT n_allocs, n_temporary, location FROM top_sites_by_allocs "
                              "WHERE proc_id = ?1 AND n_temporary > 0 ORDER BY n_temporary DESC, "
                              "stack_id",
                              id, rt_temp_row, &n);
    }
    if (!rc && !n) report_text_item(rt, "(none)");
    if (!rc) {
        report_text_heading(rt, 3, "Fragmentation");
        rc = report_text_rows(rt,
                              "SELECT at, t_ns, external, internal, retention, live_bytes "
                              "FROM fragmentation WHERE proc_id = ?1 AND at IN ('peak', 'end') "
                              "ORDER BY t_ns, seq",
                              id, rt_frag_row, &n);
    }
    if (!rc && !n) report_text_item(rt, "(not measured)");
    if (!rc) rc = rt_histogram(rt, id, "size", "Allocation sizes (bytes, log2 buckets)");
    if (!rc) rc = rt_histogram(rt, id, "lifetime", "Lifetimes of freed blocks (ns, log2 buckets)");
    return rc;
}

static int rt_processes(struct report_text_out *rt)
{
    sqlite3_stmt *p;
    int rc = report_prepare(rt->db,
                            "SELECT proc_id, pid, gen, exe, argv, start_ns, end_how, exit_status, "
                            "exit_signal, leak_scan, n_allocs, alloc_bytes, n_frees, n_temporary, "
                            "n_errors, peak_heap_bytes, peak_heap_blocks, peak_heap_ns, "
                            "peak_rss_bytes, end_live_bytes, end_live_blocks, errors_checked "
                            "FROM processes ORDER BY proc_id",
                            &p, rt->eb);
    int step = SQLITE_DONE;
    while (rc == 0 && (step = sqlite3_step(p)) == SQLITE_ROW) rc = rt_process(rt, p);
    if (rc == 0 && step != SQLITE_DONE) rc = report_sql_error(rt->db, rt->eb);
    sqlite3_finalize(p);
    return rc;
}

/* ------------------------------------------------------------ exported */

int report_text(sqlite3 *db, FILE *out, const struct report_opts *o, struct mt_errbuf *eb)
{
    struct report_text_out rt = {
        .out = out, .db = db, .o = o, .md = o->format == REPORT_MARKDOWN, .eb = eb};
    int rc = report_prepare(db,
                            "SELECT depth, function, file, line, inlined, module, module_offset "
                            "FROM stack_trace WHERE stack_id = ?1 ORDER BY depth",
                            &rt.stack_q, eb);
    if (!rc) rc = report_pool_sites(db, eb);
    if (!rc) rc = rt_session(&rt);
    if (!rc) {
        report_text_heading(&rt, 3, "Leaks, all processes");
        int n = 0;
        struct report_opts all = *o;
        all.top = 0;
        rt.o = &all;
        rc = report_text_rows(&rt,
                              "SELECT class, sum(blocks), sum(bytes) FROM leak_totals "
                              "WHERE ?1 GROUP BY class ORDER BY class",
                              1, rt_leak_totals_row, &n);
        rt.o = o;
        if (!rc && !n) report_text_item(&rt, "(no block live at exit)");
        int64_t k = rc ? 0 : report_text_count(&rt, rt_unclassified_sql, 0);
        if (k > 0)
            report_text_item(&rt,
                             "(not classified in %lld process%s: no leak scan, " RT_NO_ERRORS ")",
                             (long long)k, k == 1 ? "" : "es");
    }
    if (!rc) rc = rt_processes(&rt);
    sqlite3_finalize(rt.stack_q);
    if (!rc && ferror(out)) {
        mt_errbuf_set(eb, "writing the report failed");
        rc = -EIO;
    }
    return rc;
}
