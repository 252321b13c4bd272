/*
 * tui_pools.c — the post-mortem view's client-API data: markers and the pools popup
 *
 * tui_db.c hands the view the markers of a database once (the chart draws
 * them, `m`/`M` jump the cursor to them) and, on `o`, the pools of the
 * scope at the cursor: live chunk bytes and chunks at that moment (from
 * allocations, exact), then each pool's own figures (peak of live chunk
 * bytes, bytes held from the system at that peak, waste, the most held,
 * chunks leaked). Tables: docs/schema.md; view: docs/tui.md.
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

int tui_markers_load(sqlite3 *db, struct tui_marker **out, size_t *n_out)
{
    sqlite3_stmt *s;
    size_t n = 0, cap = 0;
    struct tui_marker *m = NULL;
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
            struct tui_marker *g = realloc(m, cap * sizeof *g);
            if (!g) {
                rc = -ENOMEM;
                break;
            }
            m = g;
        }
        const unsigned char *kind = sqlite3_column_text(s, 3), *name = sqlite3_column_text(s, 4);
        sqlite3_int64 t = sqlite3_column_int64(s, 0);
        m[n] = (struct tui_marker){.t_ns = t > 0 ? (uint64_t)t : 0,
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

/* Four popup lines per pool of the scope. */
static int tui_pools_row(sqlite3_stmt *s, int exact, int have_allocs, struct live_lines *out)
{
    char line[4][300], b[6][24];
    const unsigned char *name = sqlite3_column_text(s, 0);
    uint64_t v[9];
    int rc = 0;
    for (int i = 0; i < 9; i++) {
        sqlite3_int64 x = sqlite3_column_int64(s, 1 + i);
        v[i] = x > 0 ? (uint64_t)x : 0;
    }
    static const int col[6] = {0, 2, 3, 4, 5, 7}; /* the byte figures of v */
    for (int i = 0; i < 6; i++) tui_fmt_bytes(b[i], sizeof b[i], v[col[i]], exact);
    snprintf(line[0], sizeof line[0], "pool %s (pid %d)", name ? (const char *)name : "?",
             sqlite3_column_int(s, 10));
    if (have_allocs)
        snprintf(line[1], sizeof line[1], "  at the cursor: %s live in %llu chunk%s", b[0],
                 (unsigned long long)v[1], v[1] == 1 ? "" : "s");
    else
        snprintf(line[1], sizeof line[1], "  at the cursor: unknown (analyzed --no-allocations)");
    snprintf(line[2], sizeof line[2], "  at its peak: %s live, %s held, waste %s (%.1f%%)", b[1],
             b[2], b[3], v[3] ? 100.0 * (double)v[4] / (double)v[3] : 0.0);
    snprintf(line[3], sizeof line[3], "  most held %s; leaked %llu chunk%s (%s); errors %llu",
             b[4], (unsigned long long)v[6], v[6] == 1 ? "" : "s", b[5], (unsigned long long)v[8]);
    rc = live_lines_add(out, "");
    for (int i = 0; i < 4 && !rc; i++) rc = live_lines_add(out, line[i]);
    return rc;
}

int tui_pools_lines(sqlite3 *db, int64_t proc_id, uint64_t cursor_ns, int have_allocs, int exact,
                    struct live_lines *out)
{
    sqlite3_stmt *s;
    char t[32], head[160];
    int rc = 0, n = 0;
    if (sqlite3_prepare_v2(
            db,
            "SELECT o.name, (SELECT sum(a.size) FROM allocations a WHERE a.proc_id = o.proc_id"
            "  AND a.family = o.family AND a.alloc_ns <= ?1 AND (a.free_ns IS NULL OR a.free_ns > ?1)),"
            " (SELECT count(*) FROM allocations a WHERE a.proc_id = o.proc_id"
            "  AND a.family = o.family AND a.alloc_ns <= ?1 AND (a.free_ns IS NULL OR a.free_ns > ?1)),"
            " o.peak_live_bytes, o.peak_held_bytes, o.peak_waste_bytes, o.max_held_bytes,"
            " o.leaked_chunks, o.leaked_bytes, o.n_errors, p.pid FROM pools o"
            " JOIN processes p USING (proc_id) WHERE ?2 < 0 OR o.proc_id = ?2"
            " ORDER BY o.proc_id, o.pool_id",
            -1, &s, NULL) != SQLITE_OK)
        return MT_ESQLITE;
    sqlite3_bind_int64(s, 1, (sqlite3_int64)cursor_ns);
    sqlite3_bind_int64(s, 2, proc_id);
    tui_fmt_time(t, sizeof t, cursor_ns);
    snprintf(head, sizeof head, "cursor %s; held = superblocks from the system, waste = held - live",
             t);
    rc = live_lines_add(out, head);
    while (!rc && sqlite3_step(s) == SQLITE_ROW) {
        rc = tui_pools_row(s, exact, have_allocs, out);
        n++;
    }
    if (sqlite3_finalize(s) != SQLITE_OK && !rc) rc = MT_ESQLITE; /* a failed step */
    if (!rc && !n) rc = live_lines_add(out, "(no pool: the program did not use memtrace.h pools)");
    return rc;
}
