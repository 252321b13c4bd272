/*
 * report_pooldiff.c — the pools part of `memtrace diff A.db B.db`
 *
 * Client pools (docs/client-api.md) are matched by name, summed over the
 * process images of each side, and compared on their peak of live chunk
 * bytes, the bytes held at that peak, the waste between them, the chunks
 * and bytes leaked and the memory errors. cli/cmd_diff.c calls it after
 * diff/ wrote the sites: text appends a section, json adds a "pools"
 * member to the same document. Layout: docs/reports.md, "diff".
 *
 * SPDX-License-Identifier: MIT
 */
#include "report/report.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "memtrace/error.h"
#include "report/jsonw.h"

/* Compared figures, in the order of the query's columns on each side. */
static const char *const pooldiff_fields[] = {
    "n_allocs", "peak_live_bytes", "peak_held_bytes", "peak_waste_bytes",
    "leaked_chunks", "leaked_bytes", "n_errors",
};
#define POOLDIFF_N (int)(sizeof pooldiff_fields / sizeof pooldiff_fields[0])

#define POOLDIFF_SIDE(db)                                                                       \
    "SELECT name, sum(n_allocs) AS n_allocs, sum(peak_live_bytes) AS live,"                      \
    " sum(peak_held_bytes) AS held, sum(peak_waste_bytes) AS waste,"                             \
    " sum(leaked_chunks) AS lc, sum(leaked_bytes) AS lb, sum(n_errors) AS errs"                  \
    " FROM " db ".pools GROUP BY name"

static const char pooldiff_sql[] =
    "WITH a AS (" POOLDIFF_SIDE("main") "), b AS (" POOLDIFF_SIDE("b") ")"
    " SELECT k.name, a.name IS NOT NULL, b.name IS NOT NULL,"
    " a.n_allocs, a.live, a.held, a.waste, a.lc, a.lb, a.errs,"
    " b.n_allocs, b.live, b.held, b.waste, b.lc, b.lb, b.errs"
    " FROM (SELECT name FROM a UNION SELECT name FROM b) k"
    " LEFT JOIN a ON a.name = k.name LEFT JOIN b ON b.name = k.name"
    " ORDER BY abs(coalesce(b.waste, 0) - coalesce(a.waste, 0)) DESC,"
    " abs(coalesce(b.lc, 0) - coalesce(a.lc, 0)) DESC, k.name";

struct pooldiff_row {
    const char *name;
    const char *status;         /* new, gone, changed, same */
    int64_t a[POOLDIFF_N], b[POOLDIFF_N];
};

static void pooldiff_read(sqlite3_stmt *q, struct pooldiff_row *r)
{
    int in_a = sqlite3_column_int(q, 1), in_b = sqlite3_column_int(q, 2), same = 1;
    r->name = (const char *)sqlite3_column_text(q, 0);
    for (int i = 0; i < POOLDIFF_N; i++) {
        r->a[i] = sqlite3_column_int64(q, 3 + i);
        r->b[i] = sqlite3_column_int64(q, 3 + POOLDIFF_N + i);
        if (r->a[i] != r->b[i]) same = 0;
    }
    r->status = !in_a ? "new" : !in_b ? "gone" : same ? "same" : "changed";
}

/* "1152 -> 2048 (+896)" */
static void pooldiff_text_pair(FILE *out, const char *what, int64_t a, int64_t b)
{
    fprintf(out, "  %s %" PRId64 " -> %" PRId64, what, a, b);
    if (b != a) fprintf(out, " (%+" PRId64 ")", b - a);
}

static void pooldiff_text_row(FILE *out, const struct pooldiff_row *r)
{
    fprintf(out, "%-8s pool %s\n        ", r->status, r->name ? r->name : "?");
    pooldiff_text_pair(out, "waste at peak", r->a[3], r->b[3]);
    pooldiff_text_pair(out, "leaked chunks", r->a[4], r->b[4]);
    pooldiff_text_pair(out, "leaked bytes", r->a[5], r->b[5]);
    fputs("\n        ", out);
    pooldiff_text_pair(out, "peak live", r->a[1], r->b[1]);
    pooldiff_text_pair(out, "held", r->a[2], r->b[2]);
    pooldiff_text_pair(out, "chunks", r->a[0], r->b[0]);
    pooldiff_text_pair(out, "errors", r->a[6], r->b[6]);
    fputc('\n', out);
}

static void pooldiff_json_row(struct jsonw *w, const struct pooldiff_row *r)
{
    jsonw_obj_begin(w, NULL);
    jsonw_str(w, "status", r->status);
    jsonw_str(w, "name", r->name);
    for (int s = 0; s < 3; s++) {
        const char *key = s == 0 ? "a" : s == 1 ? "b" : "delta";
        if ((s == 0 && !strcmp(r->status, "new")) || (s == 1 && !strcmp(r->status, "gone"))) {
            jsonw_null(w, key); /* the pool does not exist on that side */
            continue;
        }
        jsonw_obj_begin(w, key);
        w->flat_depth++; /* one line per side */
        for (int i = 0; i < POOLDIFF_N; i++)
            jsonw_int(w, pooldiff_fields[i], s == 0 ? r->a[i] : s == 1 ? r->b[i] : r->b[i] - r->a[i]);
        jsonw_obj_end(w);
    }
    jsonw_obj_end(w);
}

int report_pooldiff(sqlite3 *db, FILE *out, struct jsonw *w, int all, struct mt_errbuf *eb)
{
    sqlite3_stmt *q;
    int step, n = 0, shown = 0;
    if (report_prepare(db, pooldiff_sql, &q, eb)) return MT_ESQLITE;
    if (w) jsonw_arr_begin(w, "pools");
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        struct pooldiff_row r;
        pooldiff_read(q, &r);
        n++;
        if (!all && !strcmp(r.status, "same")) continue;
        if (!w && !shown) fputs("\nPools (by name; waste and held at each pool's peak):\n", out);
        if (w) pooldiff_json_row(w, &r);
        else pooldiff_text_row(out, &r);
        shown++;
    }
    if (w) jsonw_arr_end(w);
    else if (n && !shown) fputs("\nPools: no pool changed\n", out);
    sqlite3_finalize(q);
    if (step != SQLITE_DONE) return report_sql_error(db, eb);
    return ferror(out) ? -EIO : 0;
}
