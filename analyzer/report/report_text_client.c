/*
 * report_text_client.c — text and markdown sections of the client API: pools, markers, checks
 *
 * Per process image, after its memory errors: every pool (chunks
 * allocated, freed and live; its peak of live chunk bytes against the
 * bytes it held from the system and the waste between them; the chunks it
 * leaked with their stacks), the timeline markers in sequence order, and
 * every on-demand leak check (time, label, blocks and bytes per class, top
 * sites). A section is printed only when the image has such rows, so a
 * program that does not use memtrace.h gets the report it always had.
 * Tables: docs/schema.md (pools, markers, leak_checks, leak_check_sites);
 * figures: docs/client-api.md; layout: docs/reports.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include "report/report_text.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "memtrace/error.h"

/* ------------------------------------------------------------ pools */

/* Columns of a pools row, in the order the queries below select them. */
enum rtc_pool_col {
    RTC_P_NAME,
    RTC_P_FAMILY,
    RTC_P_ALLOCS,
    RTC_P_ALLOC_BYTES,
    RTC_P_FREES,
    RTC_P_RESETS,
    RTC_P_ERRORS,
    RTC_P_SBS,
    RTC_P_PEAK_LIVE,
    RTC_P_PEAK_CHUNKS,
    RTC_P_PEAK_NS,
    RTC_P_PEAK_HELD,
    RTC_P_PEAK_WASTE,
    RTC_P_MAX_HELD,
    RTC_P_END_LIVE,
    RTC_P_END_CHUNKS,
    RTC_P_END_HELD,
    RTC_P_LEAKED,
    RTC_P_LEAKED_BYTES,
    RTC_P_DESTROY_NS,
    RTC_P_PROC,
    RTC_P_POOL
};

static int64_t rtc_i(sqlite3_stmt *q, int col)
{
    return sqlite3_column_int64(q, col);
}

/* Leaked chunks of one pool, per (site, class), with stacks. */
static int rtc_pool_leak_row(struct report_text_out *rt, sqlite3_stmt *q)
{
    char a[64];
    int64_t n = rtc_i(q, 2);
    report_text_sub(rt, "%s: %s in %lld chunk%s at %s", report_text_col_text(q, 1),
                    report_text_bytes(rtc_i(q, 3), a, sizeof a), (long long)n, report_plural(n),
                    report_text_col_text(q, 4));
    return report_text_stack(rt, rtc_i(q, 0), NULL);
}

static int rtc_pool_leaks(struct report_text_out *rt, sqlite3_stmt *p)
{
    sqlite3_stmt *q;
    int rc = report_prepare(rt->db,
                            "SELECT a.stack_id, a.leak_class, count(*), sum(a.size), l.location"
                            " FROM allocations a LEFT JOIN stack_leaf l USING (stack_id)"
                            " WHERE a.proc_id = ?1 AND a.family = ?2 AND a.leak_class IS NOT NULL"
                            " GROUP BY a.stack_id, a.leak_class"
                            " ORDER BY CASE a.leak_class WHEN 'definite' THEN 0 WHEN 'indirect'"
                            " THEN 1 WHEN 'possible' THEN 2 WHEN 'unclassified' THEN 3 ELSE 4 END,"
                            " sum(a.size) DESC, a.stack_id",
                            &q, rt->eb);
    int n = 0, step = SQLITE_DONE;
    if (rc) return rc;
    sqlite3_bind_int64(q, 1, rtc_i(p, RTC_P_PROC));
    sqlite3_bind_text(q, 2, report_text_col_text(p, RTC_P_FAMILY), -1, SQLITE_TRANSIENT);
    while (!rc && (rt->o->top <= 0 || n < rt->o->top) && (step = sqlite3_step(q)) == SQLITE_ROW) {
        rc = rtc_pool_leak_row(rt, q);
        n++;
    }
    if (!rc && step != SQLITE_ROW && step != SQLITE_DONE) rc = report_sql_error(rt->db, rt->eb);
    if (!rc && step == SQLITE_ROW && sqlite3_step(q) == SQLITE_ROW)
        report_text_sub(rt, "... more sites: raise --top, or use --format json");
    if (!rc && n == 0 && rtc_i(p, RTC_P_LEAKED) > 0)
        report_text_sub(rt, "(sites need the allocations table: analyzed with --no-allocations)");
    sqlite3_finalize(q);
    return rc;
}

static int rtc_pool_row(struct report_text_out *rt, sqlite3_stmt *p)
{
    char a[64], b[64], c[64];
    int64_t allocs = rtc_i(p, RTC_P_ALLOCS), live = rtc_i(p, RTC_P_END_CHUNKS);
    int64_t held = rtc_i(p, RTC_P_PEAK_HELD), waste = rtc_i(p, RTC_P_PEAK_WASTE);
    int64_t leaked = rtc_i(p, RTC_P_LEAKED), resets = rtc_i(p, RTC_P_RESETS);
    int64_t sbs = rtc_i(p, RTC_P_SBS), errs = rtc_i(p, RTC_P_ERRORS);
    int destroyed = sqlite3_column_type(p, RTC_P_DESTROY_NS) != SQLITE_NULL;
    char when[64] = "at the end";
    if (destroyed)
        snprintf(when, sizeof when, "when destroyed at %.3f s", rtc_i(p, RTC_P_DESTROY_NS) / 1e9);
    report_text_item(rt,
                     "%s (%s): %lld chunk%s allocated, %s; %lld freed (%lld one by one, "
                     "%lld reset%s), %lld live %s",
                     report_text_col_text(p, RTC_P_NAME), report_text_col_text(p, RTC_P_FAMILY),
                     (long long)allocs, report_plural(allocs),
                     report_text_bytes(rtc_i(p, RTC_P_ALLOC_BYTES), a, sizeof a),
                     (long long)(allocs - live), (long long)rtc_i(p, RTC_P_FREES),
                     (long long)resets, report_plural(resets), (long long)live, when);
    report_text_sub(rt,
                    "peak: %s live in %lld chunk%s at %.3f s, %s held from the system: "
                    "waste %s, %.1f%% of held",
                    report_text_bytes(rtc_i(p, RTC_P_PEAK_LIVE), a, sizeof a),
                    (long long)rtc_i(p, RTC_P_PEAK_CHUNKS),
                    report_plural(rtc_i(p, RTC_P_PEAK_CHUNKS)), rtc_i(p, RTC_P_PEAK_NS) / 1e9,
                    report_text_bytes(held, b, sizeof b), report_text_bytes(waste, c, sizeof c),
                    held ? 100.0 * (double)waste / (double)held : 0.0);
    report_text_sub(rt, "held at most %s in %lld superblock%s; %s: %s live, %s held",
                    report_text_bytes(rtc_i(p, RTC_P_MAX_HELD), a, sizeof a), (long long)sbs,
                    report_plural(sbs), when,
                    report_text_bytes(rtc_i(p, RTC_P_END_LIVE), b, sizeof b),
                    report_text_bytes(rtc_i(p, RTC_P_END_HELD), c, sizeof c));
    if (errs) report_text_sub(rt, "memory errors: %lld (listed above)", (long long)errs);
    report_text_sub(rt, "leaked: %lld chunk%s, %s", (long long)leaked, report_plural(leaked),
                    report_text_bytes(rtc_i(p, RTC_P_LEAKED_BYTES), a, sizeof a));
    return leaked ? rtc_pool_leaks(rt, p) : 0;
}

/* ------------------------------------------------------------ markers */

static int rtc_marker_row(struct report_text_out *rt, sqlite3_stmt *q)
{
    const char *kind = report_text_col_text(q, 2);
    int mark = !strcmp(kind, "mark");
    report_text_item(rt, "%.6f s  %s%s  (seq %lld, thread %lld) at %s", rtc_i(q, 0) / 1e9,
                     report_text_col_text(q, 1),
                     mark                     ? ""
                     : !strcmp(kind, "pause") ? " [recording paused]"
                                              : " [recording resumed]",
                     (long long)rtc_i(q, 3), (long long)rtc_i(q, 4), report_text_col_text(q, 5));
    return 0;
}

/* ------------------------------------------------------------ checks */

static int rtc_check_site_row(struct report_text_out *rt, sqlite3_stmt *q)
{
    char a[64], u[96];
    int64_t n = rtc_i(q, 2);
    const char *family = (const char *)sqlite3_column_text(q, 5);
    report_text_sub(rt, "%s: %s in %lld %s at %s", report_text_col_text(q, 1),
                    report_text_bytes(rtc_i(q, 3), a, sizeof a), (long long)n,
                    report_text_unit(n, family, u, sizeof u), report_text_col_text(q, 4));
    return report_text_stack(rt, rtc_i(q, 0), NULL);
}

static int rtc_check_row(struct report_text_out *rt, sqlite3_stmt *q)
{
    static const char *const cls[4] = {"definite", "indirect", "possible", "reachable"};
    char a[64], line[512];
    size_t len = 0;
    int n = 0;
    report_text_item(rt, "check %lld \"%s\" at %.6f s: %lld block%s scanned (%s) in %.3f ms%s",
                     (long long)rtc_i(q, 1), report_text_col_text(q, 2), rtc_i(q, 3) / 1e9,
                     (long long)rtc_i(q, 5), report_plural(rtc_i(q, 5)),
                     report_text_bytes(rtc_i(q, 6), a, sizeof a), rtc_i(q, 7) / 1e6,
                     rtc_i(q, 4) ? "" : " - did not complete");
    for (int i = 0; i < 4 && len < sizeof line; i++) {
        int64_t blocks = rtc_i(q, 8 + 2 * i);
        len += (size_t)snprintf(line + len, sizeof line - len, "%s%s %lld block%s, %s",
                                i ? "; " : "", cls[i], (long long)blocks, report_plural(blocks),
                                report_text_bytes(rtc_i(q, 9 + 2 * i), a, sizeof a));
    }
    report_text_sub(rt, "%s", line);
    int rc = report_text_rows(rt,
                              "SELECT s.stack_id, s.class, s.blocks, s.bytes, l.location, f.family"
                              " FROM leak_check_sites s JOIN leak_checks c USING (check_id)"
                              " LEFT JOIN stack_leaf l ON l.stack_id = s.stack_id"
                              " LEFT JOIN temp.mt_pool_sites f"
                              " ON f.proc_id = c.proc_id AND f.stack_id = s.stack_id"
                              " WHERE s.check_id = ?1 AND s.class <> 'reachable'"
                              " ORDER BY CASE s.class WHEN 'definite' THEN 0 WHEN 'indirect' THEN 1"
                              " ELSE 2 END, s.bytes DESC, s.stack_id",
                              rtc_i(q, 0), rtc_check_site_row, &n);
    if (!rc && !n && rtc_i(q, 4)) report_text_sub(rt, "(nothing lost)");
    return rc;
}

/* ------------------------------------------------------------ exported */

int report_text_client(struct report_text_out *rt, int64_t proc_id)
{
    int n = 0, rc;
    struct report_opts all = *rt->o;
    const struct report_opts *saved = rt->o;
    if (report_text_count(rt, "SELECT count(*) FROM pools WHERE proc_id = ?1", proc_id) > 0) {
        report_text_heading(rt, 3, "Pools");
        rc = report_text_rows(
            rt,
            "SELECT name, family, n_allocs, alloc_bytes, n_frees, n_resets, n_errors,"
            " n_superblocks, peak_live_bytes, peak_live_chunks, peak_live_ns, peak_held_bytes,"
            " peak_waste_bytes, max_held_bytes, end_live_bytes, end_live_chunks, end_held_bytes,"
            " leaked_chunks, leaked_bytes, destroy_ns, proc_id, pool_id FROM pools"
            " WHERE proc_id = ?1 ORDER BY peak_held_bytes DESC, pool_id",
            proc_id, rtc_pool_row, &n);
        if (rc) return rc;
    }
    if (report_text_count(rt, "SELECT count(*) FROM markers WHERE proc_id = ?1", proc_id) > 0) {
        report_text_heading(rt, 3, "Markers");
        all.top = 0; /* a timeline is never cut */
        rt->o = &all;
        rc = report_text_rows(
            rt,
            "SELECT m.t_ns, m.name, m.kind, m.seq, m.tid, l.location FROM markers m"
            " LEFT JOIN stack_leaf l USING (stack_id) WHERE m.proc_id = ?1"
            " ORDER BY m.seq, m.marker_id",
            proc_id, rtc_marker_row, &n);
        rt->o = saved;
        if (rc) return rc;
    }
    if (report_text_count(rt, "SELECT count(*) FROM leak_checks WHERE proc_id = ?1", proc_id) > 0) {
        report_text_heading(rt, 3, "On-demand leak checks");
        rc = report_text_rows(rt,
                              "SELECT c.check_id, c.check_no, " REPORT_CHECK_LABEL_SQL ", c.t_ns,"
                              " c.completed, c.scanned_blocks, c.scanned_bytes, c.duration_ns,"
                              " c.definite_blocks, c.definite_bytes, c.indirect_blocks,"
                              " c.indirect_bytes, c.possible_blocks, c.possible_bytes,"
                              " c.reachable_blocks, c.reachable_bytes FROM leak_checks c"
                              " WHERE c.proc_id = ?1 ORDER BY c.seq, c.check_id",
                              proc_id, rtc_check_row, &n);
        if (rc) return rc;
    }
    return 0;
}
