/*
 * db.c — creating, sealing and opening memtrace databases
 *
 * The analysis writes through one db_writer: a temp file next to the
 * target, the embedded schema (db_schema.c), pragmas that trade crash
 * safety for speed while building (journal off, no fsync, big page cache),
 * and one transaction committed at the end; then the caller's seal step
 * may rewrite the closed file (the allocations table's pages are spliced
 * in, analyze/an_rows.c). Only a complete database is renamed into place,
 * so readers never see a half-written one. Schema and
 * its documentation: analyzer/db/schema.sql, docs/schema.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include "db/db.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memtrace/error.h"
#include "memtrace/trace_format.h"

/* schema.sql's statements after this line run once the tables are full. */
#define DB_POST_LOAD_MARK "-- ---- post-load"

struct db_writer {
    sqlite3 *db; /* owned */
    char *path;  /* owned: final name */
    char *tmp;   /* owned: name while building */
};

/* page_size first: it only takes effect before the first table exists.
 * 64 KiB pages hold ~700 allocations rows each, so the B-tree's interior
 * is tiny and an append rarely splits a page (docs/performance.md,
 * "Analysis"). */
static const char db_build_pragmas[] =
    "PRAGMA page_size = 65536;"
    "PRAGMA journal_mode = OFF;"
    "PRAGMA synchronous = OFF;"
    "PRAGMA locking_mode = EXCLUSIVE;"
    "PRAGMA cache_size = -4096;"; /* 4 MiB: appends only need the right edge of each tree */

static int db_exec(sqlite3 *db, const char *sql, const char *what, struct mt_errbuf *eb)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK) return 0;
    mt_errbuf_set(eb, "%s: %s", what, err ? err : sqlite3_errmsg(db));
    sqlite3_free(err);
    return MT_ESQLITE;
}

static void db_writer_free(struct db_writer *w)
{
    free(w->path);
    free(w->tmp);
    free(w);
}

/* The name the finished database takes, in *out (owned by the caller):
 * path, or the file a symlink points to (renaming onto the link would
 * replace the link). A path that exists but is not a regular file is
 * refused: renaming onto /dev/null would replace the device node itself.
 * 0, -ENOMEM, or MT_EUSAGE with eb filled. */
static int db_target(const char *path, char **out, struct mt_errbuf *eb)
{
    struct stat st;
    *out = NULL;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        mt_errbuf_set(eb, "%s: %s", path,
                      S_ISDIR(st.st_mode) ? strerror(EISDIR) : "not a regular file");
        return MT_EUSAGE;
    }
    if (stat(path, &st) == 0) *out = realpath(path, NULL);
    if (!*out) *out = strdup(path); /* a new file, or a dangling link */
    return *out ? 0 : -ENOMEM;
}

int db_create(const char *path, struct db_writer **out, sqlite3 **db, struct mt_errbuf *eb)
{
    struct db_writer *w = calloc(1, sizeof *w);
    int rc = w ? db_target(path, &w->path, eb) : -ENOMEM;
    if (rc == MT_EUSAGE) {
        free(w);
        return rc;
    }
    size_t len = w && w->path ? strlen(w->path) + 32 : 0;
    if (!w || !w->path || !(w->tmp = malloc(len))) {
        if (w) db_writer_free(w);
        mt_errbuf_set(eb, "out of memory");
        return -ENOMEM;
    }
    snprintf(w->tmp, len, "%s.tmp-%d", w->path, (int)getpid());
    unlink(w->tmp);
    /* No mutex: one thread uses the connection (the allocations writer
     * thread writes its own pages, analyze/an_writer.c), and SQLite's
     * serialized mode costs a lock per call. */
    /* Create the file ourselves first: SQLite's open retries read-only and
     * its last errno then says "No such file" for a read-only or
     * unwritable directory; open(2) tells the user what is wrong. */
    int fd = open(w->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        mt_errbuf_set(eb, "cannot create %s: %s", w->path, strerror(errno));
        db_writer_free(w);
        return MT_ESQLITE;
    }
    close(fd);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(w->tmp, &w->db, flags, NULL) != SQLITE_OK) {
        int err = sqlite3_system_errno(w->db); /* "No such file..." beats "unable to open" */
        mt_errbuf_set(eb, "cannot create %s: %s", w->path,
                      err ? strerror(err) : sqlite3_errmsg(w->db));
        db_discard(w);
        return MT_ESQLITE;
    }
    rc = db_exec(w->db, db_build_pragmas, "setting up the database", eb);
    char *schema = strdup(db_schema_sql);
    char *post = schema ? strstr(schema, DB_POST_LOAD_MARK) : NULL;
    if (post) *post = 0;
    if (!rc) rc = db_exec(w->db, schema ? schema : db_schema_sql, "creating the schema", eb);
    free(schema);
    if (!rc) rc = db_exec(w->db, "BEGIN", "starting the transaction", eb);
    if (rc) {
        db_discard(w);
        return rc;
    }
    *out = w;
    *db = w->db;
    return 0;
}

int db_finish(struct db_writer *w, db_seal_fn seal, void *ctx, struct mt_errbuf *eb)
{
    const char *post = strstr(db_schema_sql, DB_POST_LOAD_MARK);
    int rc = post ? db_exec(w->db, post, "creating the indexes", eb) : 0;
    if (!rc) rc = db_exec(w->db, "COMMIT", "committing the database", eb);
    if (!rc && sqlite3_close(w->db) != SQLITE_OK) {
        mt_errbuf_set(eb, "closing the database: %s", sqlite3_errmsg(w->db));
        rc = MT_ESQLITE;
    }
    if (rc) {
        db_discard(w);
        return rc;
    }
    w->db = NULL;
    if (seal && (rc = seal(w->tmp, ctx, eb))) {
        db_discard(w);
        return rc;
    }
    if (rename(w->tmp, w->path)) {
        rc = -errno;
        mt_errbuf_set(eb, "cannot rename %s to %s: %s", w->tmp, w->path, strerror(errno));
        unlink(w->tmp);
    }
    db_writer_free(w);
    return rc;
}

void db_discard(struct db_writer *w)
{
    if (!w) return;
    sqlite3_close_v2(w->db);
    unlink(w->tmp);
    db_writer_free(w);
}

/* Why path cannot be a database, before SQLite gets to say something
 * vaguer ("disk I/O error" for a directory, "file is not a database" for
 * a trace). 0 when it may be one, else MT_ESQLITE with the reason in eb. */
static int db_open_precheck(const char *path, struct mt_errbuf *eb)
{
    struct stat st;
    char magic[sizeof MT_FILE_MAGIC - 1];
    if (stat(path, &st) != 0) {
        mt_errbuf_set(eb, "%s", strerror(errno));
        return MT_ESQLITE;
    }
    if (S_ISDIR(st.st_mode)) {
        mt_errbuf_set(eb, "%s", strerror(EISDIR));
        return MT_ESQLITE;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        mt_errbuf_set(eb, "%s", strerror(errno));
        return MT_ESQLITE;
    }
    size_t n = fread(magic, 1, sizeof magic, f);
    fclose(f);
    if (n == sizeof magic && !memcmp(magic, MT_FILE_MAGIC, sizeof magic)) {
        mt_errbuf_set(eb, "a memtrace trace, not a database (memtrace analyze makes one)");
        return MT_ESCHEMA;
    }
    return 0;
}

int db_open_read(const char *path, sqlite3 **db, struct mt_errbuf *eb)
{
    *db = NULL;
    int rc = db_open_precheck(path, eb);
    if (rc) return rc;
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        mt_errbuf_set(eb, "cannot open: %s", sqlite3_errmsg(*db));
        sqlite3_close(*db);
        *db = NULL;
        return MT_ESQLITE;
    }
    sqlite3_stmt *q = NULL;
    int version = -1, step = SQLITE_ERROR;
    if (sqlite3_prepare_v2(*db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &q,
                           NULL) == SQLITE_OK &&
        (step = sqlite3_step(q)) == SQLITE_ROW)
        version = sqlite3_column_int(q, 0);
    if (version < 0) /* SQLite's reason: not a database, malformed, no meta table */
        mt_errbuf_set(eb, "not a memtrace database (%s)",
                      step == SQLITE_DONE ? "no schema_version" : sqlite3_errmsg(*db));
    else if (version != DB_SCHEMA_VERSION)
        mt_errbuf_set(eb, "memtrace database of schema version %d; this memtrace reads %d", version,
                      DB_SCHEMA_VERSION);
    sqlite3_finalize(q);
    if (version != DB_SCHEMA_VERSION) {
        sqlite3_close(*db);
        *db = NULL;
        return MT_ESCHEMA;
    }
    return 0;
}
