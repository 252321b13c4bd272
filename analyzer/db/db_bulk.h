/*
 * db_bulk.h — loading one big rowid table without SQLite's insert path
 *
 * SQLite has no bulk-load API, and its insert path costs ~600 ns per
 * allocations row however it is fed (docs/performance.md, "Analysis"). So
 * the analysis writes that table's B-tree pages itself, following SQLite's
 * documented file format (https://www.sqlite.org/fileformat2.html), and
 * splices them into the database once SQLite has written everything else.
 * Three parts, one file each:
 *   db_record.c  the record format: encode values, decode, bind to a statement
 *   db_bulk.c    leaves from rows in rising rowid order, then the splice
 *   db_spill.c   rows that came out of order, sorted on disk, for SQL inserts
 * Caller: analyze/an_writer.c and an_rows.c. SQLite reopens and checks the
 * result; tests/unit/test_db_bulk.c runs PRAGMA integrity_check on it.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMTRACE_DB_BULK_H
#define MEMTRACE_DB_BULK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <sqlite3.h>

#include "cli/cli.h"
#include "memtrace/error.h"

/* ------------------------------------------------------------ records */

enum db_val_type { DB_VAL_NULL, DB_VAL_INT, DB_VAL_TEXT };

/* One column value. z is borrowed (not NUL-terminated in decoded values). */
struct db_val {
    enum db_val_type type;
    int64_t i;     /* DB_VAL_INT */
    const char *z; /* DB_VAL_TEXT: n bytes of UTF-8 */
    uint32_t n;
};

/* Largest record the callers build: bounded so a stack buffer holds it. */
#define DB_RECORD_MAX (1u << 17)

/* Bytes of the record of v[0..n_cols). */
size_t db_record_size(const struct db_val *v, int n_cols);
/* Writes the record of v[0..n_cols), n_cols <= 64, to out (db_record_size bytes). Returns
 * its length. Integers take the smallest serial type, 0 and 1 the
 * constant types 8 and 9 (schema format 4). */
size_t db_record_put(const struct db_val *v, int n_cols, uint8_t *out);
/* Decodes rec into v[0..max_cols); texts point into rec. OUT: *n_cols.
 * 0, or MT_ECORRUPT for a malformed record or one with a real or a blob. */
int db_record_get(const uint8_t *rec, size_t len, struct db_val *v, int max_cols, int *n_cols);
/* Binds column k of rec to parameter k + 1 of s; rec must stay valid until
 * s is stepped. 0, MT_ECORRUPT or MT_ESQLITE. */
int db_record_bind(sqlite3_stmt *s, const uint8_t *rec, size_t len);

/* SQLite's varint: 1..9 bytes, big-endian, 7 bits a byte with the high bit
 * saying "more"; a 9th byte carries 8 bits. Inline: two per row written. */
static inline unsigned db_varint_len(uint64_t v)
{
    unsigned n = 1;
    if (v >> 56) return 9;
    while (v >>= 7) n++;
    return n;
}

static inline unsigned db_varint_put(uint8_t *p, uint64_t v)
{
    if (v <= 0x7f) {
        p[0] = (uint8_t)v;
        return 1;
    }
    if (v >> 56) {
        p[8] = (uint8_t)v;
        v >>= 8;
        for (int i = 7; i >= 0; i--, v >>= 7) p[i] = (uint8_t)((v & 0x7f) | 0x80);
        return 9;
    }
    unsigned n = db_varint_len(v);
    for (int i = (int)n - 1; i >= 0; i--, v >>= 7)
        p[i] = (uint8_t)((v & 0x7f) | (i == (int)n - 1 ? 0 : 0x80));
    return n;
}

/* Bytes read (0 if the varint runs past end). OUT: *v. */
unsigned db_varint_get(const uint8_t *p, const uint8_t *end, uint64_t *v);

/* ------------------------------------------------------------ the B-tree */

struct db_bulk;

/* db_bulk_append: the rowid is not above the last one; the row was not taken. */
#define DB_BULK_ORDER 1
/* db_bulk_append: the record does not fit in a leaf (it needs overflow pages). */
#define DB_BULK_BIG 2
/* db_bulk_finish: the database is not one we can splice into (eb says why);
 * nothing was changed, the rows are still readable with db_bulk_each(). */
#define DB_BULK_REFUSED 3

/* Starts a table of pages of page_size bytes, the last reserved of them
 * unused (offset 20 of the header), written to the new file path (which
 * later becomes the database). reserve_pages: an estimate of the pages
 * SQLite will have when db_bulk_finish() runs; a good one saves copying,
 * any value is correct. OUT: *b, owned, end with db_bulk_close(). 0 or
 * -errno. */
int db_bulk_open(struct db_bulk **b, const char *path, uint32_t page_size, uint32_t reserved,
                 uint32_t reserve_pages);
/* Appends a row; rowids must rise. 0, DB_BULK_ORDER, DB_BULK_BIG or -errno. */
int db_bulk_append(struct db_bulk *b, int64_t rowid, const uint8_t *rec, size_t len);
/* Rows appended, and the largest rowid (meaningless while n is 0). */
uint64_t db_bulk_rows(const struct db_bulk *b, int64_t *last);

/* Makes the pages the table of root page root in the closed database
 * db_path: checks its header (page size, reserved bytes, UTF-8, schema
 * format 4, no auto-vacuum, an empty leaf at root), places the leaves after
 * SQLite's pages, builds the interior pages, writes the top one into root
 * and renames the result onto db_path. 0; DB_BULK_REFUSED with eb set and
 * db_path untouched; -errno or MT_ECORRUPT with eb set (db_path may then be
 * replaced or not, but is never half-written: the work happens in path). */
int db_bulk_finish(struct db_bulk *b, const char *db_path, uint32_t root, struct mt_errbuf *eb);

typedef int (*db_row_fn)(void *ctx, int64_t rowid, const uint8_t *rec, size_t len);
/* Calls fn for every appended row in rowid order until it returns non-zero
 * (then returns that). For the fallback after DB_BULK_REFUSED. 0, fn's
 * value, -errno or MT_ECORRUPT. */
int db_bulk_each(struct db_bulk *b, db_row_fn fn, void *ctx);

/* Removes path unless db_bulk_finish() renamed it, and frees b. NULL is
 * fine. Cannot fail. */
void db_bulk_close(struct db_bulk *b);

/* Tests only: the page SQLite never uses, normally the one holding file
 * offset 0x40000000; set it to match sqlite3_test_control(
 * SQLITE_TESTCTRL_PENDING_BYTE) before db_bulk_open. 0 restores it. */
void db_bulk_test_pending_byte(uint32_t offset);

/* ------------------------------------------------------------ the spill */

struct db_spill;

/* Rows kept in memory up to mem_bytes, then written to path as sorted runs
 * (the file is created on the first run and removed at once: nothing is
 * left behind). OUT: *s, end with db_spill_close(). 0 or -ENOMEM. */
int db_spill_open(struct db_spill **s, const char *path, size_t mem_bytes);
/* Keeps one row. 0 or -errno. */
int db_spill_add(struct db_spill *s, int64_t rowid, const uint8_t *rec, size_t len);
uint64_t db_spill_rows(const struct db_spill *s);
/* Calls fn for every row in rowid order (a merge of the runs), until it
 * returns non-zero. Once only. 0, fn's value, -errno or MT_ECORRUPT. */
int db_spill_each(struct db_spill *s, db_row_fn fn, void *ctx);
/* Frees s (NULL is fine). Cannot fail. */
void db_spill_close(struct db_spill *s);

/* ------------------------------------------------------------ shared by db/ */

/* pwrite() of all len bytes at off: 0 or -errno (-ENOSPC if none went). */
int db_file_write(int fd, const void *buf, size_t len, off_t off);

#endif /* MEMTRACE_DB_BULK_H */
