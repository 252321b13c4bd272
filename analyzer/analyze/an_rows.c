/*
 * an_rows.c — the allocations table after SQLite closed the database: splice, then the late rows
 *
 * db_finish() (db/db.c) commits and closes the database with an empty
 * allocations table, then calls an_rows_finish() before renaming it into
 * place. The writer (an_writer.c) left the rows that came in alloc_id order
 * as B-tree pages (db/db_bulk.c) and the others in a spill (db/db_spill.c).
 * Here the pages become the table, SQLite opens the result, the late rows
 * go in through plain INSERTs in rowid order, and SQLite checks that the
 * table ends where the rows do.
 *
 * Design notes
 *   1. If db_bulk refuses the file (a header it does not expect, see
 *      db_bulk.c note 6), nothing was changed: every row is inserted
 *      through SQL instead, read back from the B-tree's own pages. Slower,
 *      never wrong.
 *   2. Any other failure (I/O, or SQLite disagreeing) is the analysis's
 *      error: one message, the temp file discarded, no database renamed.
 *   3. The late rows go in sorted: SQLite's B-tree then moves forward
 *      through its page cache; a bigger cache than the build's covers the
 *      pages an insert into full leaves splits.
 *
 * SPDX-License-Identifier: MIT
 */
#include "analyze/analyze_int.h"

#include <stdio.h>
#include <string.h>

#include "db/db_bulk.h"

/* The reopened connection: journal and fsync off as while building
 * (db.c); 64 MiB of cache for the inserts between full leaves (note 3). */
static const char an_rows_pragmas[] = "PRAGMA journal_mode = OFF;"
                                      "PRAGMA synchronous = OFF;"
                                      "PRAGMA locking_mode = EXCLUSIVE;"
                                      "PRAGMA cache_size = -65536;";

struct an_rows_ins {
    sqlite3 *db;
    sqlite3_stmt *ins; /* owned: INSERT INTO allocations */
    int64_t max;       /* largest rowid inserted */
    uint64_t n;        /* rows inserted */
};

/* db_row_fn: one row through SQL. The record's first column is the NULL
 * that stands for the rowid (an_writer.c, note 4). */
static int an_rows_insert(void *ctx, int64_t rowid, const uint8_t *rec, size_t len)
{
    struct an_rows_ins *x = ctx;
    int rc = db_record_bind(x->ins, rec, len);
    if (!rc) rc = sqlite3_bind_int64(x->ins, 1, rowid) == SQLITE_OK ? 0 : MT_ESQLITE;
    if (!rc) rc = sqlite3_step(x->ins) == SQLITE_DONE ? 0 : MT_ESQLITE;
    sqlite3_reset(x->ins);
    if (rowid > x->max || !x->n) x->max = rowid;
    x->n++;
    return rc;
}

static int an_rows_exec(sqlite3 *db, const char *sql, struct mt_errbuf *eb)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK) return 0;
    mt_errbuf_set(eb, "writing allocations: %s", sqlite3_errmsg(db));
    return MT_ESQLITE;
}

/* The table's largest rowid as SQLite finds it, against what was written. */
static int an_rows_check(struct an_rows_ins *x, int64_t want, struct mt_errbuf *eb)
{
    sqlite3_stmt *q = NULL;
    int64_t got = INT64_MIN;
    if (sqlite3_prepare_v2(x->db, "SELECT max(alloc_id) FROM allocations", -1, &q, NULL) ==
            SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
        got = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    if (got == want) return 0;
    mt_errbuf_set(eb, "writing allocations: the table ends at %lld, its rows at %lld (%s)",
                  (long long)got, (long long)want, sqlite3_errmsg(x->db));
    return MT_ECORRUPT;
}

/* The message for rc, an error of the inserts. */
static void an_rows_error(const struct an_rows_ins *x, int rc, struct mt_errbuf *eb)
{
    if (eb->msg[0]) return; /* said already */
    mt_errbuf_set(eb, "writing allocations: %s",
                  rc == MT_ESQLITE ? sqlite3_errmsg(x->db) : mt_strerror(rc));
}

/* SQLite's turn: the rows db_bulk could not place (all of them when it
 * refused the file), inserted in rowid order, then the check. */
static int an_rows_sql(const struct an_rows *rows, const char *db_path, int refused,
                       struct mt_errbuf *eb)
{
    static const char ins[] = "INSERT INTO allocations VALUES"
                              " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    struct an_rows_ins x = {0};
    int64_t last;
    uint64_t n_bulk = db_bulk_rows(rows->bulk, &last);
    int rc = sqlite3_open_v2(db_path, &x.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    rc = rc == SQLITE_OK ? 0 : MT_ESQLITE;
    if (!rc) rc = an_rows_exec(x.db, an_rows_pragmas, eb);
    if (!rc && sqlite3_prepare_v2(x.db, ins, -1, &x.ins, NULL) != SQLITE_OK) rc = MT_ESQLITE;
    if (!rc) rc = an_rows_exec(x.db, "BEGIN", eb);
    if (!rc && refused) rc = db_bulk_each(rows->bulk, an_rows_insert, &x);
    if (!rc) rc = db_spill_each(rows->spill, an_rows_insert, &x);
    if (!rc) rc = an_rows_exec(x.db, "COMMIT", eb);
    if (!rc && (n_bulk || x.n)) rc = an_rows_check(&x, n_bulk && last > x.max ? last : x.max, eb);
    if (rc) an_rows_error(&x, rc, eb);
    sqlite3_finalize(x.ins);
    if (sqlite3_close(x.db) != SQLITE_OK && !rc) {
        mt_errbuf_set(eb, "closing the database: %s", sqlite3_errmsg(x.db));
        rc = MT_ESQLITE;
    }
    return rc;
}

int an_rows_finish(const char *db_path, void *ctx, struct mt_errbuf *eb)
{
    const struct an_rows *rows = an_writer_rows(ctx);
    if (!rows) return 0;
    int rc = db_bulk_finish(rows->bulk, db_path, rows->root, eb);
    int refused = rc == DB_BULK_REFUSED; /* design note 1 */
    if (rc && !refused) return rc;
    eb->msg[0] = 0;
    return an_rows_sql(rows, db_path, refused, eb);
}
