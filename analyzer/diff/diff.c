/*
 * diff.c — compare two memtrace databases site by site (see diff.h)
 *
 * All in SQL on one connection: A is `main`, B is attached as `b`. Each
 * side's sites are grouped by a key made of every frame's function and
 * source file base name (innermost first; module base name when there is
 * no file), into temp tables diff_a and diff_b; a full outer join pairs
 * them. A key present only in B is "new", only in A "gone"; otherwise
 * "changed" or "same". Leaked = definite + indirect + possible +
 * unclassified (as export's --value leaked). Peak share = the key's live
 * bytes at the peaks / the sum of the process images' peaks. A side with
 * images recorded with --no-errors shows its memory errors as "not
 * checked" (processes.errors_checked, docs/schema.md), never as 0.
 *
 * SPDX-License-Identifier: MIT
 */
#include "diff/diff.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "memtrace/error.h"
#include "report/jsonw.h"

/* Base name of a path column, in SQL. */
#define DIFF_BASE(x) "replace(" x ", rtrim(" x ", replace(" x ", '/', '')), '')"

/* Fields compared, in diff_rows as a_<f> and b_<f>. */
static const char *const diff_fields[] = {"n_allocs",      "alloc_bytes",  "n_temporary",
                                          "peak_bytes",    "leaked_blocks", "leaked_bytes",
                                          "end_live_bytes"};
#define DIFF_N_FIELDS 7

struct diff_totals {
    int64_t peak, n_allocs, alloc_bytes, leaked_blocks, leaked_bytes, n_errors, n_processes;
    int64_t n_unchecked; /* images recorded with --no-errors */
};

/* One row of diff_rows. */
struct diff_row {
    const char *key, *location, *status;
    int64_t a[DIFF_N_FIELDS], b[DIFF_N_FIELDS];
};

/* ------------------------------------------------------------ tables */

static int diff_exec(sqlite3 *db, const char *sql, struct mt_errbuf *eb)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK) return 0;
    mt_errbuf_set(eb, "comparing: %s", err ? err : sqlite3_errmsg(db));
    sqlite3_free(err);
    return MT_ESQLITE;
}

/* temp.diff_<side>: the sites of schema grouped by their symbolic key. */
static int diff_side_table(sqlite3 *db, const char *side, const char *schema, struct mt_errbuf *eb)
{
    char *sql = sqlite3_mprintf(
        "DROP TABLE IF EXISTS temp.diff_%s;"
        "CREATE TEMP TABLE diff_%s AS SELECT key, min(location) AS location, "
        "sum(n_allocs) AS n_allocs, sum(alloc_bytes) AS alloc_bytes, "
        "sum(n_temporary) AS n_temporary, sum(peak_bytes) AS peak_bytes, "
        "sum(leaked_blocks) AS leaked_blocks, sum(leaked_bytes) AS leaked_bytes, "
        "sum(end_live_bytes) AS end_live_bytes FROM ("
        " SELECT coalesce((SELECT group_concat(k, ';') FROM ("
        "   SELECT coalesce(f.function, '?" "?') || '@' || coalesce(" DIFF_BASE("f.file") ", "
        DIFF_BASE("m.path") ", '?') AS k FROM %s.stack_frames sf "
        "   JOIN %s.frames f ON f.frame_id = sf.frame_id "
        "   LEFT JOIN %s.modules m ON m.module_id = f.module_id "
        "   WHERE sf.stack_id = s.stack_id ORDER BY sf.depth)), '[no stack]') AS key, "
        "  (SELECT l.location FROM %s.stack_leaf l WHERE l.stack_id = s.stack_id) AS location, "
        "  coalesce(s.n_allocs, 0) AS n_allocs, coalesce(s.alloc_bytes, 0) AS alloc_bytes, "
        "  coalesce(s.n_temporary, 0) AS n_temporary, coalesce(s.peak_bytes, 0) AS peak_bytes, "
        "  coalesce(s.leak_definite_blocks, 0) + coalesce(s.leak_indirect_blocks, 0) + "
        "  coalesce(s.leak_possible_blocks, 0) + coalesce(s.leak_unclassified_blocks, 0) AS leaked_blocks, "
        "  coalesce(s.leak_definite_bytes, 0) + coalesce(s.leak_indirect_bytes, 0) + "
        "  coalesce(s.leak_possible_bytes, 0) + coalesce(s.leak_unclassified_bytes, 0) AS leaked_bytes, "
        "  coalesce(s.end_live_bytes, 0) AS end_live_bytes FROM %s.sites s) GROUP BY key;",
        side, side, schema, schema, schema, schema, schema);
    int rc;
    if (!sql) return -ENOMEM;
    rc = diff_exec(db, sql, eb);
    sqlite3_free(sql);
    return rc;
}

static int diff_join_table(sqlite3 *db, struct mt_errbuf *eb)
{
    char sql[4096];
    size_t len = 0;
    len += (size_t)snprintf(sql + len, sizeof sql - len,
                            "DROP TABLE IF EXISTS temp.diff_rows;"
                            "CREATE TEMP TABLE diff_rows AS SELECT key, "
                            "coalesce(b.location, a.location) AS location, "
                            "CASE WHEN a.key IS NULL THEN 'new' WHEN b.key IS NULL THEN 'gone' "
                            "WHEN 1");
    for (int i = 0; i < DIFF_N_FIELDS; i++)
        len += (size_t)snprintf(sql + len, sizeof sql - len, " AND a.%s = b.%s", diff_fields[i],
                                diff_fields[i]);
    len += (size_t)snprintf(sql + len, sizeof sql - len, " THEN 'same' ELSE 'changed' END AS status");
    for (int i = 0; i < DIFF_N_FIELDS; i++)
        len += (size_t)snprintf(sql + len, sizeof sql - len,
                                ", coalesce(a.%s, 0) AS a_%s, coalesce(b.%s, 0) AS b_%s",
                                diff_fields[i], diff_fields[i], diff_fields[i], diff_fields[i]);
    snprintf(sql + len, sizeof sql - len, " FROM diff_a a FULL JOIN diff_b b USING (key);");
    return diff_exec(db, sql, eb);
}

static int diff_totals(sqlite3 *db, const char *schema, struct diff_totals *t, struct mt_errbuf *eb)
{
    sqlite3_stmt *q;
    char *sql = sqlite3_mprintf(
        "SELECT (SELECT coalesce(sum(peak_heap_bytes), 0) FROM %s.processes), "
        "(SELECT count(*) FROM %s.processes), (SELECT coalesce(sum(n_errors), 0) FROM %s.processes), "
        "coalesce(sum(n_allocs), 0), coalesce(sum(alloc_bytes), 0), coalesce(sum(leaked_blocks), 0), "
        "coalesce(sum(leaked_bytes), 0), "
        "(SELECT count(*) FROM %s.processes WHERE errors_checked = 0) FROM diff_%s",
        schema, schema, schema, schema, !strcmp(schema, "main") ? "a" : "b");
    int rc = sql && sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK ? 0 : MT_ESQLITE;
    int prepared = rc == 0;
    sqlite3_free(sql);
    if (rc == 0 && sqlite3_step(q) == SQLITE_ROW) {
        t->peak = sqlite3_column_int64(q, 0);
        t->n_processes = sqlite3_column_int64(q, 1);
        t->n_errors = sqlite3_column_int64(q, 2);
        t->n_allocs = sqlite3_column_int64(q, 3);
        t->alloc_bytes = sqlite3_column_int64(q, 4);
        t->leaked_blocks = sqlite3_column_int64(q, 5);
        t->leaked_bytes = sqlite3_column_int64(q, 6);
        t->n_unchecked = sqlite3_column_int64(q, 7);
    } else if (rc == 0) {
        rc = MT_ESQLITE;
    }
    if (rc) mt_errbuf_set(eb, "comparing: %s", sqlite3_errmsg(db));
    if (prepared) sqlite3_finalize(q);
    return rc;
}

/* ------------------------------------------------------------ output */

/* Field indexes in struct diff_row's arrays. */
enum { DIFF_ALLOCS, DIFF_ABYTES, DIFF_TEMP, DIFF_PEAK, DIFF_LBLOCKS, DIFF_LBYTES, DIFF_END };

static double diff_share(int64_t v, int64_t total) { return total > 0 ? (double)v / (double)total : 0; }

/* A side's memory errors: the count, or "not checked" (--no-errors). */
static const char *diff_errors_str(const struct diff_totals *t, char *buf, size_t len)
{
    if (!t->n_unchecked)
        snprintf(buf, len, "%" PRId64, t->n_errors);
    else if (t->n_unchecked < t->n_processes)
        snprintf(buf, len, "%" PRId64 " (not checked in %" PRId64 " of %" PRId64 ")", t->n_errors,
                 t->n_unchecked, t->n_processes);
    else
        snprintf(buf, len, "not checked");
    return buf;
}

static void diff_text_head(FILE *out, const struct diff_opts *o, const struct diff_totals *a,
                           const struct diff_totals *b)
{
    char ea[64], eb[64];
    fprintf(out, "memtrace diff: %s -> %s\n", o->name_a, o->name_b);
    fprintf(out, "  %-16s %" PRId64 " -> %" PRId64 " (%+" PRId64 ")\n", "processes", a->n_processes,
            b->n_processes, b->n_processes - a->n_processes);
    fprintf(out, "  %-16s %" PRId64 " B -> %" PRId64 " B (%+" PRId64 " B)\n", "peak heap", a->peak,
            b->peak, b->peak - a->peak);
    fprintf(out, "  %-16s %" PRId64 " -> %" PRId64 " (%+" PRId64 ")\n", "allocations", a->n_allocs,
            b->n_allocs, b->n_allocs - a->n_allocs);
    fprintf(out, "  %-16s %" PRId64 " B -> %" PRId64 " B (%+" PRId64 " B)\n", "allocated",
            a->alloc_bytes, b->alloc_bytes, b->alloc_bytes - a->alloc_bytes);
    fprintf(out, "  %-16s %" PRId64 " B in %" PRId64 " blocks -> %" PRId64 " B in %" PRId64
                 " blocks (%+" PRId64 " B)\n", "leaked", a->leaked_bytes, a->leaked_blocks,
            b->leaked_bytes, b->leaked_blocks, b->leaked_bytes - a->leaked_bytes);
    fprintf(out, "  %-16s %s -> %s", "memory errors", diff_errors_str(a, ea, sizeof ea),
            diff_errors_str(b, eb, sizeof eb));
    if (!a->n_unchecked && !b->n_unchecked) /* a change means something only when both checked */
        fprintf(out, " (%+" PRId64 ")", b->n_errors - a->n_errors);
    fputc('\n', out);
    fprintf(out, "\n%-8s %-22s %-26s %-22s %s\n", "status", "peak share", "leaked bytes",
            "allocations", "site");
}

static void diff_text_row(FILE *out, const struct diff_row *r, const struct diff_totals *ta,
                          const struct diff_totals *tb)
{
    char share[48], leak[64], allocs[48];
    snprintf(share, sizeof share, "%.1f%% -> %.1f%%", 100 * diff_share(r->a[DIFF_PEAK], ta->peak),
             100 * diff_share(r->b[DIFF_PEAK], tb->peak));
    snprintf(leak, sizeof leak, "%" PRId64 " -> %" PRId64 " (%+" PRId64 ")", r->a[DIFF_LBYTES],
             r->b[DIFF_LBYTES], r->b[DIFF_LBYTES] - r->a[DIFF_LBYTES]);
    snprintf(allocs, sizeof allocs, "%" PRId64 " -> %" PRId64 " (%+" PRId64 ")", r->a[DIFF_ALLOCS],
             r->b[DIFF_ALLOCS], r->b[DIFF_ALLOCS] - r->a[DIFF_ALLOCS]);
    fprintf(out, "%-8s %-22s %-26s %-22s %s\n", r->status, share, leak, allocs,
            r->location ? r->location : r->key);
}

static void diff_json_side(struct jsonw *w, const char *key, const char *name,
                           const struct diff_totals *t)
{
    jsonw_obj_begin(w, key);
    jsonw_str(w, "database", name);
    jsonw_int(w, "processes", t->n_processes);
    jsonw_int(w, "peak_heap_bytes", t->peak);
    jsonw_int(w, "n_allocs", t->n_allocs);
    jsonw_int(w, "alloc_bytes", t->alloc_bytes);
    jsonw_int(w, "leaked_blocks", t->leaked_blocks);
    jsonw_int(w, "leaked_bytes", t->leaked_bytes);
    jsonw_int(w, "n_errors", t->n_errors);
    jsonw_int(w, "processes_not_checked", t->n_unchecked); /* --no-errors: n_errors means little */
    jsonw_obj_end(w);
}

static void diff_json_row(struct jsonw *w, const struct diff_row *r, const struct diff_totals *ta,
                          const struct diff_totals *tb)
{
    const int64_t *side[2] = {r->a, r->b};
    const struct diff_totals *tot[2] = {ta, tb};
    jsonw_obj_begin(w, NULL);
    jsonw_str(w, "status", r->status);
    jsonw_str(w, "key", r->key);
    jsonw_str(w, "location", r->location);
    for (int s = 0; s < 3; s++) {
        jsonw_obj_begin(w, s == 0 ? "a" : s == 1 ? "b" : "delta");
        w->flat_depth++; /* one line per side */
        for (int i = 0; i < DIFF_N_FIELDS; i++)
            jsonw_int(w, diff_fields[i], s < 2 ? side[s][i] : r->b[i] - r->a[i]);
        if (s < 2) jsonw_real(w, "peak_share", diff_share(side[s][DIFF_PEAK], tot[s]->peak));
        else
            jsonw_real(w, "peak_share", diff_share(r->b[DIFF_PEAK], tb->peak) -
                                            diff_share(r->a[DIFF_PEAK], ta->peak));
        jsonw_obj_end(w);
    }
    jsonw_obj_end(w);
}

/* Walks diff_rows in order of importance, writing text or json rows. */
static int diff_rows(sqlite3 *db, FILE *out, struct jsonw *w, const struct diff_opts *o,
                     const struct diff_totals *ta, const struct diff_totals *tb)
{
    sqlite3_stmt *q;
    int step, n = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT * FROM diff_rows WHERE ?1 OR status <> 'same' "
                           "ORDER BY status = 'same', abs(b_leaked_bytes - a_leaked_bytes) DESC, "
                           "abs(b_peak_bytes - a_peak_bytes) DESC, abs(b_n_allocs - a_n_allocs) DESC, "
                           "abs(b_alloc_bytes - a_alloc_bytes) DESC, key",
                           -1, &q, NULL) != SQLITE_OK)
        return MT_ESQLITE;
    sqlite3_bind_int(q, 1, o->all);
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        struct diff_row r;
        r.key = (const char *)sqlite3_column_text(q, 0);
        r.location = (const char *)sqlite3_column_text(q, 1);
        r.status = (const char *)sqlite3_column_text(q, 2);
        for (int i = 0; i < DIFF_N_FIELDS; i++) {
            r.a[i] = sqlite3_column_int64(q, 3 + 2 * i);
            r.b[i] = sqlite3_column_int64(q, 4 + 2 * i);
        }
        if (w) diff_json_row(w, &r, ta, tb);
        else if (o->top <= 0 || n < o->top) diff_text_row(out, &r, ta, tb);
        n++;
    }
    if (!w && o->top > 0 && n > o->top) fprintf(out, "... %d more (--top 0 lists all)\n", n - o->top);
    if (!w && n == 0) fprintf(out, "(no site changed)\n");
    sqlite3_finalize(q);
    return step == SQLITE_DONE ? 0 : MT_ESQLITE;
}

/* ------------------------------------------------------------ exported */

int diff_write(sqlite3 *db, FILE *out, const struct diff_opts *o, struct mt_errbuf *eb)
{
    struct diff_totals ta = {0}, tb = {0};
    struct jsonw w;
    int rc = diff_side_table(db, "a", "main", eb);
    if (!rc) rc = diff_side_table(db, "b", "b", eb);
    if (!rc) rc = diff_join_table(db, eb);
    if (!rc) rc = diff_totals(db, "main", &ta, eb);
    if (!rc) rc = diff_totals(db, "b", &tb, eb);
    if (rc) return rc;
    if (o->json) {
        jsonw_init(&w, out, 1);
        jsonw_obj_begin(&w, NULL);
        jsonw_str(&w, "format", "memtrace-diff");
        jsonw_int(&w, "version", DIFF_JSON_VERSION);
        diff_json_side(&w, "a", o->name_a, &ta);
        diff_json_side(&w, "b", o->name_b, &tb);
        jsonw_arr_begin(&w, "sites");
    } else {
        diff_text_head(out, o, &ta, &tb);
    }
    rc = diff_rows(db, out, o->json ? &w : NULL, o, &ta, &tb);
    if (rc) {
        mt_errbuf_set(eb, "comparing: %s", sqlite3_errmsg(db));
        return rc;
    }
    if (o->json) {
        jsonw_arr_end(&w);
        jsonw_obj_end(&w);
        jsonw_finish(&w);
    }
    if (ferror(out)) {
        mt_errbuf_set(eb, "writing the diff failed");
        return -EIO;
    }
    return 0;
}
