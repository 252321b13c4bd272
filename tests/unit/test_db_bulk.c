/*
 * test_db_bulk.c — unit tests of the bulk-built table B-tree, its record codec and spill
 *
 * Each case builds the same rows twice in one database: through SQLite's
 * INSERTs into table a, and through db_bulk into table b, spliced after
 * SQLite closed the file. Then SQLite must find the file sound (PRAGMA
 * integrity_check is "ok"), a and b must hold the same rows (EXCEPT both
 * ways, a rowid seek into b for every row of a, range seeks) and rows
 * inserted through SQL afterwards (the analysis's stragglers) must keep it
 * sound. Row counts: none, one, exactly one full leaf, one more, and
 * enough for three interior levels with 512-byte pages. The lock-byte page
 * is moved down to file offset 64 KiB for the whole binary (SQLite's
 * SQLITE_TESTCTRL_PENDING_BYTE and db_bulk_test_pending_byte()): the big
 * cases cross it, and it must stay unused. Headers db_bulk refuses leave
 * the file untouched, and the rows can then be inserted through SQL.
 * Module under test: analyzer/db/db_bulk.c, db_record.c, db_spill.c.
 *
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "db/db_bulk.h"

#define TB_COLS 7              /* columns of tables a and b */
#define TB_PENDING (64u << 10) /* the lock-byte page's offset in this binary */
#define TB_TEXT 256            /* room for one row's texts */

/* ------------------------------------------------------------ helpers */

static char tb_dir[64];

struct tb_case {
    uint32_t page_size;
    uint32_t reserved; /* bytes at the end of each page */
    uint64_t n_rows;
    int fixed;       /* 1: every row the same size */
    int64_t reserve; /* pages db_bulk leaves for SQLite; -1: SQLite's count at the start */
    int filler;      /* rows of a third table, so SQLite's part grows during the load */
    int stragglers;  /* rows inserted through SQL after the splice */
};

static void tb_path(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", tb_dir, name);
}

static const int64_t tb_edges[] = {0,
                                   1,
                                   -1,
                                   127,
                                   -128,
                                   128,
                                   32767,
                                   -32769,
                                   8388607,
                                   -8388609,
                                   INT32_MAX,
                                   (int64_t)INT32_MIN - 1,
                                   (1ll << 47) - 1,
                                   -(1ll << 47),
                                   INT64_MAX,
                                   INT64_MIN,
                                   2,
                                   255};
#define TB_N_EDGES (sizeof tb_edges / sizeof tb_edges[0])

/* Row i: its rowid and values; texts written to txt. */
static int64_t tb_row(const struct tb_case *c, uint64_t i, struct db_val *v, char *txt)
{
    memset(v, 0, TB_COLS * sizeof *v); /* v[0], the INTEGER PRIMARY KEY, is NULL in a record */
    if (c->fixed) {                    /* ~4 rows per 512-byte leaf: few rows make many leaves */
        memset(txt, 'f', 100);
        v[1] = (struct db_val){.type = DB_VAL_INT, .i = 5};
        v[2] = (struct db_val){.type = DB_VAL_TEXT, .z = txt, .n = 100};
        v[3] = (struct db_val){.type = DB_VAL_INT, .i = 1000};
        return (int64_t)i + 1; /* one-byte varints while i < 127 */
    }
    size_t tl = i % 61, k = 0;
    for (size_t j = 0; j < tl; j++) { /* ASCII and two-byte UTF-8 */
        if (j % 5 == 4 && j + 1 < tl) {
            txt[k++] = (char)0xc3;
            txt[k++] = (char)0xa9;
            j++;
        } else {
            txt[k++] = (char)('a' + (i + j) % 26);
        }
    }
    int n2 = snprintf(txt + k, TB_TEXT - k, "name-%llu", (unsigned long long)i);
    v[1] = (struct db_val){.type = DB_VAL_INT, .i = tb_edges[i % TB_N_EDGES]};
    if (i % 5) v[2] = (struct db_val){.type = DB_VAL_INT, .i = (int64_t)(i * i * 2654435761ull)};
    v[3] = (struct db_val){.type = DB_VAL_TEXT, .z = txt, .n = (uint32_t)k};
    v[4] = (struct db_val){.type = DB_VAL_INT, .i = (int64_t)(i & 1)};
    if (i % 7) v[5] = (struct db_val){.type = DB_VAL_TEXT, .z = txt + k, .n = (uint32_t)n2};
    v[6] = (struct db_val){.type = DB_VAL_INT, .i = -(int64_t)i * 1000003};
    if (i + 3 >= c->n_rows) return INT64_MAX - (int64_t)(c->n_rows - 1 - i); /* 9-byte keys */
    return -1000 + 3 * (int64_t)i; /* negative first, with gaps */
}

static void tb_exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) fail_msg("%s: %s", sql, err);
}

static int64_t tb_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* Inserts row (rowid, v) into table through SQL. */
static void tb_insert(sqlite3 *db, const char *table, int64_t rowid, const struct db_val *v)
{
    char sql[128];
    sqlite3_stmt *s;
    snprintf(sql, sizeof sql, "INSERT INTO %s VALUES (?,?,?,?,?,?,?)", table);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    sqlite3_bind_int64(s, 1, rowid);
    for (int k = 1; k < TB_COLS; k++) {
        if (v[k].type == DB_VAL_INT)
            sqlite3_bind_int64(s, k + 1, v[k].i);
        else if (v[k].type == DB_VAL_TEXT)
            sqlite3_bind_text(s, k + 1, v[k].z, (int)v[k].n, SQLITE_STATIC);
    }
    assert_int_equal(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
}

/* Attaches the reference database holding table a (apart, so that it
 * does not grow the database under test), new if fresh. */
static void tb_attach(sqlite3 *db, int fresh)
{
    char ref[128], sql[320];
    tb_path(ref, sizeof ref, "ref.db");
    if (fresh) unlink(ref);
    snprintf(sql, sizeof sql,
             "ATTACH '%s' AS r; PRAGMA r.journal_mode = OFF; PRAGMA synchronous = OFF;"
             "PRAGMA r.synchronous = OFF",
             ref);
    tb_exec(db, sql);
}

/* A new database: table b and filler, and table a in the attached
 * reference database. OUT: b's root page and SQLite's page count. */
static sqlite3 *tb_create(const struct tb_case *c, const char *path, uint32_t *root,
                          uint32_t *n_pages)
{
    sqlite3 *db;
    char sql[160];
    unlink(path);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (c->reserved) {
        int n = (int)c->reserved;
        assert_int_equal(sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &n),
                         SQLITE_OK);
    }
    snprintf(sql, sizeof sql,
             "PRAGMA page_size = %u; PRAGMA journal_mode = OFF;"
             "PRAGMA synchronous = OFF",
             c->page_size);
    tb_exec(db, sql);
    tb_attach(db, 1);
    tb_exec(db, "CREATE TABLE r.a (id INTEGER PRIMARY KEY, i1, i2, t1, i3, t2, i4);"
                "CREATE TABLE b (id INTEGER PRIMARY KEY, i1, i2, t1, i3, t2, i4);"
                "CREATE TABLE filler (x)");
    *root = (uint32_t)tb_int(db, "SELECT rootpage FROM sqlite_schema WHERE name = 'b'");
    *n_pages = (uint32_t)tb_int(db, "PRAGMA page_count");
    return db;
}

/* Puts c's rows into a (SQL) and into bulk (records). */
static void tb_load(const struct tb_case *c, sqlite3 *db, struct db_bulk *bulk)
{
    struct db_val v[TB_COLS];
    char txt[TB_TEXT];
    uint8_t rec[1024];
    tb_exec(db, "BEGIN");
    for (uint64_t i = 0; i < c->n_rows; i++) {
        int64_t rowid = tb_row(c, i, v, txt);
        tb_insert(db, "a", rowid, v);
        size_t len = db_record_put(v, TB_COLS, rec);
        assert_int_equal(len, db_record_size(v, TB_COLS));
        assert_int_equal(db_bulk_append(bulk, rowid, rec, len), 0);
        if (c->filler && i % 8 == 0) tb_exec(db, "INSERT INTO filler VALUES (randomblob(300))");
    }
    tb_exec(db, "COMMIT");
}

static void tb_integrity_ok(sqlite3 *db)
{
    sqlite3_stmt *s;
    char all[2048] = "";
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL), SQLITE_OK);
    while (sqlite3_step(s) == SQLITE_ROW) {
        size_t len = strlen(all);
        snprintf(all + len, sizeof all - len, "%s\n", (const char *)sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
    assert_string_equal(all, "ok\n");
}

/* a and b hold the same rows, found by scans and by rowid seeks. */
static void tb_same(sqlite3 *db, int64_t n)
{
    assert_int_equal(tb_int(db, "SELECT count(*) FROM a"), n);
    assert_int_equal(tb_int(db, "SELECT count(*) FROM b"), n);
    assert_int_equal(tb_int(db, "SELECT count(*) FROM (SELECT * FROM a EXCEPT SELECT * FROM b)"),
                     0);
    assert_int_equal(tb_int(db, "SELECT count(*) FROM (SELECT * FROM b EXCEPT SELECT * FROM a)"),
                     0);
    assert_int_equal(tb_int(db, "SELECT count(*) FROM a WHERE NOT EXISTS"
                                " (SELECT 1 FROM b WHERE b.id = a.id AND b.t2 IS a.t2)"),
                     0);
    assert_int_equal(tb_int(db, "SELECT count(*) FROM b WHERE id > 0"),
                     tb_int(db, "SELECT count(*) FROM a WHERE id > 0"));
    assert_int_equal(tb_int(db, "SELECT count(*) FROM b WHERE id BETWEEN -500 AND 20000"),
                     tb_int(db, "SELECT count(*) FROM a WHERE id BETWEEN -500 AND 20000"));
    assert_int_equal(tb_int(db, "SELECT count(*) FROM b WHERE id = -998"), 0); /* a gap */
}

/* Interior levels above the leaves, down the leftmost path from root. */
static int tb_depth(const char *path, uint32_t page_size, uint32_t root)
{
    uint8_t *p = malloc(page_size);
    FILE *f = fopen(path, "rb");
    int levels = 0;
    assert_non_null(f);
    for (uint32_t pg = root;; levels++) {
        assert_int_equal(fseek(f, (long)(pg - 1) * page_size, SEEK_SET), 0);
        assert_int_equal(fread(p, 1, page_size, f), page_size);
        if (p[0] == 0x0d) break;
        assert_int_equal(p[0], 0x05);
        uint32_t cell = (uint32_t)p[12] << 8 | p[13];
        pg = (uint32_t)p[cell] << 24 | (uint32_t)p[cell + 1] << 16 | (uint32_t)p[cell + 2] << 8 |
             p[cell + 3];
    }
    fclose(f);
    free(p);
    return levels;
}

/* The lock-byte page, if the file reaches it, holds only zeros. */
static void tb_lock_page_unused(const char *path, uint32_t page_size)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    if ((uint64_t)sb.st_size <= TB_PENDING) return;
    uint8_t *p = malloc(page_size);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, (long)(TB_PENDING / page_size) * page_size, SEEK_SET), 0);
    assert_int_equal(fread(p, 1, page_size, f), page_size);
    for (uint32_t i = 0; i < page_size; i++) assert_int_equal(p[i], 0);
    fclose(f);
    free(p);
}

struct tb_result {
    int64_t sqlite_pages; /* SQLite's, at the splice */
    int64_t added;        /* the splice's */
    int depth;            /* interior levels of b */
};

/* The header's page count is valid (change counter == version-valid-for)
 * and matches the file's size. */
static void tb_header_valid(const char *path, uint32_t page_size)
{
    uint8_t h[100];
    struct stat sb;
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(h, 1, sizeof h, f), sizeof h);
    fclose(f);
    assert_int_equal(stat(path, &sb), 0);
    assert_memory_equal(h + 24, h + 92, 4);
    uint32_t n = (uint32_t)h[28] << 24 | (uint32_t)h[29] << 16 | (uint32_t)h[30] << 8 | h[31];
    assert_int_equal((uint64_t)n * page_size, (uint64_t)sb.st_size);
}

/* The whole round: load, splice, check, stragglers, check. */
static struct tb_result tb_round(const struct tb_case *c)
{
    struct tb_result res;
    char path[128], rows[128];
    uint32_t root, n_pages;
    struct db_bulk *bulk;
    struct mt_errbuf eb = {{0}};
    tb_path(path, sizeof path, "t.db");
    tb_path(rows, sizeof rows, "t.db-rows");
    sqlite3 *db = tb_create(c, path, &root, &n_pages);
    uint32_t reserve = c->reserve < 0 ? n_pages : (uint32_t)c->reserve;
    assert_int_equal(db_bulk_open(&bulk, rows, c->page_size, c->reserved, reserve), 0);
    tb_load(c, db, bulk);
    res.sqlite_pages = tb_int(db, "PRAGMA page_count");
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    int rc = db_bulk_finish(bulk, path, root, &eb);
    if (rc) fail_msg("db_bulk_finish: %d %s", rc, eb.msg);
    db_bulk_close(bulk);
    assert_int_equal(access(rows, F_OK), -1); /* renamed or removed */
    tb_header_valid(path, c->page_size);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    tb_integrity_ok(db);
    tb_attach(db, 0);
    tb_same(db, (int64_t)c->n_rows);
    res.added = tb_int(db, "PRAGMA page_count") - res.sqlite_pages;
    tb_lock_page_unused(path, c->page_size);
    res.depth = tb_depth(path, c->page_size, root);
    struct db_val v[TB_COLS];
    char txt[TB_TEXT];
    tb_exec(db, "BEGIN");
    for (int i = 0; i < c->stragglers; i++) { /* between the bulk rows, out of order */
        uint64_t m = c->n_rows > (uint64_t)c->stragglers ? c->n_rows : (uint64_t)c->stragglers;
        int64_t id = -999 + 3 * (int64_t)((i * 7919ull) % m); /* distinct: 7919 is prime */
        struct tb_case wide = *c;
        wide.fixed = 0;
        tb_row(&wide, (uint64_t)i, v, txt);
        tb_insert(db, "a", id, v);
        tb_insert(db, "b", id, v);
    }
    tb_exec(db, "COMMIT");
    tb_integrity_ok(db);
    tb_same(db, (int64_t)c->n_rows + c->stragglers);
    sqlite3_close(db);
    return res;
}

/* ------------------------------------------------------------ tests */

static void test_db_bulk_no_rows(void **state)
{
    (void)state;
    struct tb_case c = {.page_size = 512, .n_rows = 0, .reserve = -1, .stragglers = 50};
    struct tb_result r = tb_round(&c);
    assert_int_equal(r.added, 0);
    assert_int_equal(r.depth, 0);
}

static void test_db_bulk_one_row(void **state)
{
    (void)state;
    struct tb_case c = {.page_size = 4096, .n_rows = 1, .reserve = 8, .stragglers = 1};
    struct tb_result r = tb_round(&c);
    assert_int_equal(r.added, 0);
    assert_int_equal(r.depth, 0);
}

/* Rows per leaf when every cell is cell bytes. */
static uint64_t tb_per_leaf(const struct tb_case *c)
{
    struct db_val v[TB_COLS];
    char txt[TB_TEXT];
    tb_row(c, 0, v, txt);
    size_t cell = 1 + 1 + db_record_size(v, TB_COLS); /* varints of length and rowid */
    return (c->page_size - c->reserved - 8) / (cell + 2);
}

static void test_db_bulk_one_full_leaf_and_one_more(void **state)
{
    (void)state;
    struct tb_case c = {.page_size = 512, .fixed = 1, .reserve = -1};
    c.n_rows = tb_per_leaf(&c);
    assert_true(c.n_rows >= 2 && c.n_rows < 127);
    struct tb_result r = tb_round(&c); /* all in the root */
    assert_int_equal(r.added, 0);
    assert_int_equal(r.depth, 0);
    c.n_rows++;
    c.stragglers = 3;
    r = tb_round(&c); /* two leaves, the root above them */
    assert_int_equal(r.added, 2);
    assert_int_equal(r.depth, 1);
}

/* Every leaf count from 2 to 160 with 512-byte pages: one interior level,
 * then two, whatever is left for the last interior page of a level. */
static void test_db_bulk_every_leaf_count_up_to_two_levels(void **state)
{
    (void)state;
    struct tb_case c = {.page_size = 512, .fixed = 1, .reserve = -1};
    uint64_t per = tb_per_leaf(&c);
    int max_depth = 0;
    for (uint64_t leaves = 2; leaves <= 160; leaves++) {
        c.n_rows = leaves * per;
        struct tb_result r = tb_round(&c);
        assert_true(r.added >= (int64_t)leaves);
        max_depth = r.depth > max_depth ? r.depth : max_depth;
    }
    assert_int_equal(max_depth, 2);
}

/* Also: the lock-byte page (129 with these pages) falls among the leaves. */
static void test_db_bulk_three_interior_levels(void **state)
{
    (void)state;
    struct tb_case c = {.page_size = 512, .n_rows = 40000, .reserve = -1, .stragglers = 500};
    struct tb_result r = tb_round(&c);
    assert_true(r.depth >= 3);
    assert_true(r.sqlite_pages < TB_PENDING / 512 + 1);
    assert_true(r.sqlite_pages + r.added > TB_PENDING / 512 + 1);
}

/* SQLite's part outgrows the reserve (0): the leaves it covers move up,
 * and the lock-byte page lies inside SQLite's part. */
static void test_db_bulk_sqlite_outgrows_reserve(void **state)
{
    (void)state;
    struct tb_case c = {
        .page_size = 512, .n_rows = 6000, .reserve = 0, .filler = 1, .stragglers = 100};
    struct tb_result r = tb_round(&c);
    assert_true(r.sqlite_pages > TB_PENDING / 512 + 1);
    assert_true(r.depth >= 2);
}

/* A reserve far larger than SQLite needs: the tail leaves fill the gap,
 * and the file is no longer than its pages. */
static void test_db_bulk_reserve_gap_filled(void **state)
{
    (void)state;
    struct tb_case c = {.page_size = 1024, .n_rows = 3000, .reserve = 400, .stragglers = 10};
    struct tb_result r = tb_round(&c);
    assert_true(r.depth >= 1);
    assert_true(r.sqlite_pages < 400);
}

static void test_db_bulk_reserved_bytes(void **state)
{
    (void)state;
    struct tb_case c = {.page_size = 1024, .reserved = 32, .n_rows = 5000, .reserve = -1};
    struct tb_result r = tb_round(&c);
    assert_true(r.depth >= 1);
}

static void test_db_bulk_order_and_size_refused_per_row(void **state)
{
    (void)state;
    char rows[128];
    struct db_bulk *b;
    uint8_t rec[600] = {0};
    struct db_val v = {.type = DB_VAL_TEXT, .z = (const char *)rec, .n = 560};
    tb_path(rows, sizeof rows, "order.rows");
    assert_int_equal(db_bulk_open(&b, rows, 512, 0, 4), 0);
    uint8_t small[4];
    struct db_val one = {.type = DB_VAL_INT, .i = 7};
    size_t len = db_record_put(&one, 1, small);
    assert_int_equal(db_bulk_append(b, 10, small, len), 0);
    assert_int_equal(db_bulk_append(b, 10, small, len), DB_BULK_ORDER);
    assert_int_equal(db_bulk_append(b, -3, small, len), DB_BULK_ORDER);
    uint8_t big[700];
    assert_int_equal(db_record_size(&v, 1), 563);
    len = db_record_put(&v, 1, big);
    assert_int_equal(db_bulk_append(b, 11, big, len), DB_BULK_BIG); /* 512 - 35 at most */
    assert_int_equal(db_bulk_append(b, 11, small, len = db_record_put(&one, 1, small)), 0);
    int64_t last;
    assert_int_equal(db_bulk_rows(b, &last), 2);
    assert_int_equal(last, 11);
    db_bulk_close(b);
    assert_int_equal(access(rows, F_OK), -1);
}

/* Collects rows for the fallback test: inserts each into b through SQL. */
static int tb_insert_rec(void *ctx, int64_t rowid, const uint8_t *rec, size_t len)
{
    sqlite3_stmt *s = ctx;
    assert_int_equal(db_record_bind(s, rec, len), 0);
    sqlite3_bind_int64(s, 1, rowid); /* the record's NULL for the key, replaced */
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* A header db_bulk must refuse (auto-vacuum; then a non-empty root): the
 * file is untouched and the rows go in through SQL instead. */
static void test_db_bulk_refused_header_falls_back(void **state)
{
    (void)state;
    struct tb_case c = {.page_size = 1024, .n_rows = 2000};
    char path[128], rows[128];
    uint32_t root, n_pages;
    struct db_bulk *bulk;
    struct mt_errbuf eb = {{0}};
    tb_path(path, sizeof path, "av.db");
    tb_path(rows, sizeof rows, "av.db-rows");
    for (int variant = 0; variant < 2; variant++) {
        sqlite3 *db;
        unlink(path);
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        tb_exec(db, variant ? "PRAGMA page_size = 1024"
                            : "PRAGMA page_size = 1024;"
                              "PRAGMA auto_vacuum = FULL");
        tb_exec(db, "CREATE TABLE a (id INTEGER PRIMARY KEY, i1, i2, t1, i3, t2, i4);"
                    "CREATE TABLE b (id INTEGER PRIMARY KEY, i1, i2, t1, i3, t2, i4)");
        if (variant) tb_exec(db, "INSERT INTO b (id) VALUES (-5000)");
        root = (uint32_t)tb_int(db, "SELECT rootpage FROM sqlite_schema WHERE name = 'b'");
        n_pages = (uint32_t)tb_int(db, "PRAGMA page_count");
        assert_int_equal(db_bulk_open(&bulk, rows, 1024, 0, n_pages), 0);
        tb_load(&c, db, bulk);
        sqlite3_close(db);
        struct stat before, after;
        assert_int_equal(stat(path, &before), 0);
        assert_int_equal(db_bulk_finish(bulk, path, root, &eb), DB_BULK_REFUSED);
        assert_non_null(strstr(eb.msg, variant ? "root page" : "auto-vacuum"));
        assert_int_equal(stat(path, &after), 0);
        assert_int_equal(after.st_size, before.st_size);
        assert_true(after.st_ino == before.st_ino);
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        if (variant) tb_exec(db, "DELETE FROM b");
        sqlite3_stmt *s;
        assert_int_equal(
            sqlite3_prepare_v2(db, "INSERT INTO b VALUES (?,?,?,?,?,?,?)", -1, &s, NULL),
            SQLITE_OK);
        tb_exec(db, "BEGIN");
        assert_int_equal(db_bulk_each(bulk, tb_insert_rec, s), 0);
        tb_exec(db, "COMMIT");
        sqlite3_finalize(s);
        db_bulk_close(bulk);
        tb_integrity_ok(db);
        tb_same(db, (int64_t)c.n_rows);
        sqlite3_close(db);
    }
}

/* Serial types are the smallest the format has: 8 and 9 for 0 and 1. */
static void test_db_record_serial_types(void **state)
{
    (void)state;
    static const struct {
        int64_t v;
        unsigned type;
    } want[] = {{0, 8},         {1, 9},         {2, 1},         {-1, 1},        {127, 1},
                {-128, 1},      {128, 2},       {-129, 2},      {32767, 2},     {32768, 3},
                {-8388608, 3},  {8388608, 4},   {INT32_MIN, 4}, {1ll << 31, 5}, {-(1ll << 47), 5},
                {1ll << 47, 6}, {INT64_MIN, 6}, {INT64_MAX, 6}};
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        struct db_val in[2] = {{.type = DB_VAL_INT, .i = want[k].v}, {.type = DB_VAL_NULL}};
        struct db_val out[2];
        uint8_t rec[32];
        int n;
        size_t len = db_record_put(in, 2, rec);
        assert_int_equal(rec[0], 3); /* header: its size, two types */
        assert_int_equal(rec[1], want[k].type);
        assert_int_equal(rec[2], 0);
        assert_int_equal(db_record_get(rec, len, out, 2, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(out[0].type, DB_VAL_INT);
        assert_true(out[0].i == want[k].v);
        assert_int_equal(out[1].type, DB_VAL_NULL);
    }
    char text[300];
    memset(text, 'x', sizeof text);
    struct db_val t = {.type = DB_VAL_TEXT, .z = text, .n = 300}, back;
    uint8_t rec[400];
    int n;
    size_t len = db_record_put(&t, 1, rec);
    assert_int_equal(len, 3 + 300); /* 2*300+13 = 613 takes a two-byte varint */
    assert_int_equal(db_record_get(rec, len, &back, 1, &n), 0);
    assert_int_equal(back.n, 300);
    assert_int_equal(db_record_get(rec, len - 1, &back, 1, &n), MT_ECORRUPT);
}

static void test_db_varint_roundtrip(void **state)
{
    (void)state;
    static const uint64_t v[] = {
        0, 127, 128, 16383, 16384, (1ull << 56) - 1, 1ull << 56, UINT64_MAX, 0x8000000000000000ull};
    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
        uint8_t buf[9];
        uint64_t back;
        unsigned n = db_varint_put(buf, v[k]);
        assert_int_equal(n, db_varint_len(v[k]));
        assert_int_equal(db_varint_get(buf, buf + n, &back), n);
        assert_true(back == v[k]);
        assert_int_equal(db_varint_get(buf, buf + n - 1, &back), 0);
    }
    assert_int_equal(db_varint_len(UINT64_MAX), 9);
}

struct tb_seen {
    int64_t last;
    uint64_t n;
};

static int tb_spill_check(void *ctx, int64_t rowid, const uint8_t *rec, size_t len)
{
    struct tb_seen *s = ctx;
    struct db_val v;
    int n;
    assert_true(s->n == 0 || rowid > s->last);
    assert_int_equal(db_record_get(rec, len, &v, 1, &n), 0);
    if (rowid == 1000000)
        assert_int_equal(v.n, 19990); /* the huge one, last */
    else
        assert_true(v.i == rowid * 3);
    s->last = rowid;
    s->n++;
    return 0;
}

/* Random order in, sorted out, through several runs of a small buffer. */
static void test_db_spill_sorts_across_runs(void **state)
{
    (void)state;
    char path[128];
    struct db_spill *s;
    tb_path(path, sizeof path, "spill");
    assert_int_equal(db_spill_open(&s, path, 4096), 0);
    const uint64_t n = 20011; /* prime: i * 7919 % n visits every i once */
    for (uint64_t i = 0; i < n; i++) {
        int64_t rowid = (int64_t)((i * 7919) % n) - 5000;
        struct db_val v = {.type = DB_VAL_INT, .i = rowid * 3};
        uint8_t rec[16];
        assert_int_equal(db_spill_add(s, rowid, rec, db_record_put(&v, 1, rec)), 0);
    }
    uint8_t huge[20000] = {0}; /* a record larger than the buffer */
    struct db_val hv = {.type = DB_VAL_TEXT, .z = (const char *)huge, .n = 19990};
    uint8_t hrec[20010];
    assert_int_equal(db_spill_add(s, 1000000, hrec, db_record_put(&hv, 1, hrec)), 0);
    assert_int_equal(access(path, F_OK), -1); /* unlinked as soon as made */
    assert_int_equal(db_spill_rows(s), n + 1);
    struct tb_seen seen = {0};
    assert_int_equal(db_spill_each(s, tb_spill_check, &seen), 0);
    assert_int_equal(seen.n, n + 1);
    assert_int_equal(seen.last, 1000000);
    db_spill_close(s);
}

static int tb_setup(void **state)
{
    (void)state;
    snprintf(tb_dir, sizeof tb_dir, "%s/tdbbulk.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(tb_dir) ? 0 : -1;
}

static int tb_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tb_dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    /* Before any connection: SQLite and db_bulk agree on a low lock page. */
    sqlite3_test_control(SQLITE_TESTCTRL_PENDING_BYTE, TB_PENDING);
    db_bulk_test_pending_byte(TB_PENDING);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_db_varint_roundtrip),
        cmocka_unit_test(test_db_record_serial_types),
        cmocka_unit_test(test_db_bulk_order_and_size_refused_per_row),
        cmocka_unit_test(test_db_bulk_no_rows),
        cmocka_unit_test(test_db_bulk_one_row),
        cmocka_unit_test(test_db_bulk_one_full_leaf_and_one_more),
        cmocka_unit_test(test_db_bulk_every_leaf_count_up_to_two_levels),
        cmocka_unit_test(test_db_bulk_three_interior_levels),
        cmocka_unit_test(test_db_bulk_sqlite_outgrows_reserve),
        cmocka_unit_test(test_db_bulk_reserve_gap_filled),
        cmocka_unit_test(test_db_bulk_reserved_bytes),
        cmocka_unit_test(test_db_bulk_refused_header_falls_back),
        cmocka_unit_test(test_db_spill_sorts_across_runs),
    };
    return cmocka_run_group_tests(tests, tb_setup, tb_teardown);
}
