/*
 * tui_pools.c — the view's client-API data: markers, pools at the cursor, the pools popup
 *
 * The post-mortem source (tui_db.c) loads a database's markers once and
 * asks here, for every snapshot, for the pools of the scope at the cursor
 * (struct live_pool_row): live chunk bytes and chunks at that moment (from
 * allocations, exact), held bytes from pool_timeline (the end of the
 * sample interval holding the cursor), and the pool's own figures (peak
 * of live chunk bytes, held at that peak, most held, chunks leaked,
 * errors). Live sources fill the same rows from the aggregator
 * (analyzer/live/live_pool.c). The pools popup (`o`) is drawn from them
 * whatever the source. Tables: docs/schema.md; view: docs/tui.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include "tui_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "memtrace/error.h"

/* ------------------------------------------------------------ database */

int tui_markers_load(sqlite3 *db, struct live_marker **out, size_t *n_out)
{
    sqlite3_stmt *s;
    size_t n = 0, cap = 0;
    struct live_marker *m = NULL;
    int rc = 0;
    *out = NULL;
    *n_out = 0;
    if (sqlite3_prepare_v2(db, "SELECT m.t_ns, p.pid, p.gen, m.kind, m.name FROM markers m"
                               " JOIN processes p USING (proc_id) ORDER BY m.t_ns, m.seq",
                           -1, &s, NULL) != SQLITE_OK)
        return MT_ESQLITE;
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            struct live_marker *g = realloc(m, cap * sizeof *g);
            if (!g) {
                rc = -ENOMEM;
                break;
            }
            m = g;
        }
        const unsigned char *kind = sqlite3_column_text(s, 3), *name = sqlite3_column_text(s, 4);
        sqlite3_int64 t = sqlite3_column_int64(s, 0);
        m[n] = (struct live_marker){.t_ns = t > 0 ? (uint64_t)t : 0,
                                    .pid = (uint32_t)sqlite3_column_int(s, 1),
                                    .gen = (uint32_t)sqlite3_column_int(s, 2)};
        snprintf(m[n].kind, sizeof m[n].kind, "%s", kind ? (const char *)kind : "mark");
        snprintf(m[n].name, sizeof m[n].name, "%s", name ? (const char *)name : "?");
        n++;
    }
    if (sqlite3_finalize(s) != SQLITE_OK && !rc) rc = MT_ESQLITE; /* a failed step */
    if (rc) {
        free(m);
        return rc;
    }
    *out = m;
    *n_out = n;
    return 0;
}

/* One row of tui_pools_rows' statement. */
static void tui_pools_row(sqlite3_stmt *s, uint64_t cursor_ns, int have_allocs,
                          struct live_pool_row *r)
{
    uint64_t v[19];
    for (int i = 0; i < 19; i++) {
        sqlite3_int64 x = sqlite3_column_int64(s, i);
        v[i] = x > 0 ? (uint64_t)x : 0;
    }
    const unsigned char *name = sqlite3_column_text(s, 3);
    *r = (struct live_pool_row){
        .pid = (uint32_t)v[0],
        .gen = (uint32_t)v[1],
        .pool_id = (uint32_t)v[2],
        .destroyed = sqlite3_column_type(s, 4) != SQLITE_NULL && v[4] <= cursor_ns,
        .live_bytes = have_allocs ? v[15] : v[5],
        .live_chunks = have_allocs ? v[16] : v[6],
        .held_bytes = v[7],
        .peak_live_bytes = v[8],
        .peak_held_bytes = v[9],
        .max_held_bytes = v[10],
        .n_allocs = v[11],
        .n_frees = v[12],
        .n_resets = v[13],
        .n_errors = v[14],
        .leak_bytes = v[17],
        .leak_chunks = v[18],
    };
    snprintf(r->name, sizeof r->name, "%s", name ? (const char *)name : "?");
}

int tui_pools_rows(sqlite3 *db, int64_t proc_id, uint64_t cursor_ns, uint64_t period_ns,
                   int have_allocs, struct live_snap *out)
{
    sqlite3_stmt *s;
    int rc = 0;
    size_t cap = 0;
    if (sqlite3_prepare_v2(
            db,
            "SELECT p.pid, p.gen, o.pool_id, o.name, o.destroy_ns, t.live_bytes, t.live_chunks,"
            " t.held_bytes, o.peak_live_bytes, o.peak_held_bytes, o.max_held_bytes, o.n_allocs,"
            " o.n_frees, o.n_resets, o.n_errors,"
            " (SELECT sum(a.size) FROM allocations a WHERE a.proc_id = o.proc_id"
            "  AND a.family = o.family AND a.alloc_ns <= ?1"
            "  AND (a.free_ns IS NULL OR a.free_ns > ?1)),"
            " (SELECT count(*) FROM allocations a WHERE a.proc_id = o.proc_id"
            "  AND a.family = o.family AND a.alloc_ns <= ?1"
            "  AND (a.free_ns IS NULL OR a.free_ns > ?1)),"
            " o.leaked_bytes, o.leaked_chunks FROM pools o JOIN processes p USING (proc_id)"
            " LEFT JOIN pool_timeline t ON t.proc_id = o.proc_id AND t.pool_id = o.pool_id"
            "  AND t.t_ns = (SELECT max(u.t_ns) FROM pool_timeline u WHERE u.proc_id = o.proc_id"
            "   AND u.pool_id = o.pool_id AND u.t_ns <= ?3)"
            " WHERE ?2 < 0 OR o.proc_id = ?2 ORDER BY o.proc_id, o.pool_id",
            -1, &s, NULL) != SQLITE_OK)
        return MT_ESQLITE;
    sqlite3_bind_int64(s, 1, (sqlite3_int64)cursor_ns);
    sqlite3_bind_int64(s, 2, proc_id);
    /* pool_timeline holds the state at the end of each interval: the one
     * holding the cursor, or the last change before it */
    sqlite3_bind_int64(s, 3, (sqlite3_int64)((cursor_ns / period_ns + 1) * period_ns));
    while (!rc && sqlite3_step(s) == SQLITE_ROW) {
        if (out->n_pools == cap) {
            cap = cap ? cap * 2 : 8;
            struct live_pool_row *g = realloc(out->pools, cap * sizeof *g);
            if (!g) {
                rc = -ENOMEM;
                break;
            }
            out->pools = g;
        }
        tui_pools_row(s, cursor_ns, have_allocs, &out->pools[out->n_pools++]);
    }
    if (sqlite3_finalize(s) != SQLITE_OK && !rc) rc = MT_ESQLITE; /* a failed step */
    return rc;
}

/* ------------------------------------------------------------ popup */

/* Four popup lines per pool. */
static int tui_pools_popup_row(const struct live_pool_row *p, int post_mortem, int exact,
                               struct live_lines *out)
{
    char line[4][300], b[7][24];
    uint64_t waste = p->held_bytes > p->live_bytes ? p->held_bytes - p->live_bytes : 0;
    uint64_t pwaste =
        p->peak_held_bytes > p->peak_live_bytes ? p->peak_held_bytes - p->peak_live_bytes : 0;
    const uint64_t v[7] = {p->live_bytes,      p->held_bytes,      waste,
                           p->peak_live_bytes, p->peak_held_bytes, pwaste,
                           p->max_held_bytes};
    for (int i = 0; i < 7; i++) tui_fmt_bytes(b[i], sizeof b[i], v[i], exact);
    char leak[24];
    tui_fmt_bytes(leak, sizeof leak, p->leak_bytes, exact);
    snprintf(line[0], sizeof line[0], "pool %s (pid %u)%s", p->name, p->pid,
             p->destroyed ? ", destroyed" : "");
    snprintf(line[1], sizeof line[1], "  %s: %s live in %llu chunk%s, %s held, waste %s",
             post_mortem ? "at the cursor" : "now", b[0], (unsigned long long)p->live_chunks,
             p->live_chunks == 1 ? "" : "s", b[1], b[2]);
    snprintf(line[2], sizeof line[2], "  at its peak: %s live, %s held, waste %s (%.1f%%)", b[3],
             b[4], b[5],
             p->peak_held_bytes ? 100.0 * (double)pwaste / (double)p->peak_held_bytes : 0.0);
    snprintf(line[3], sizeof line[3], "  most held %s; leaked %llu chunk%s (%s); errors %llu", b[6],
             (unsigned long long)p->leak_chunks, p->leak_chunks == 1 ? "" : "s", leak,
             (unsigned long long)p->n_errors);
    int rc = live_lines_add(out, "");
    for (int i = 0; i < 4 && !rc; i++) rc = live_lines_add(out, line[i]);
    return rc;
}

int tui_pools_lines(const struct live_snap *s, int post_mortem, int exact, struct live_lines *out)
{
    char t[32], head[160];
    tui_fmt_time(t, sizeof t, post_mortem ? s->cursor_ns : s->elapsed_ns);
    snprintf(head, sizeof head, "%s %s; held = superblocks from the system, waste = held - live",
             post_mortem ? "cursor" : "elapsed", t);
    int rc = live_lines_add(out, head);
    for (size_t i = 0; i < s->n_pools && !rc; i++)
        rc = tui_pools_popup_row(&s->pools[i], post_mortem, exact, out);
    if (!rc && !s->n_pools)
        rc = live_lines_add(out, "(no pool: the program did not use memtrace.h pools)");
    return rc;
}
