/*
 * db.h — the memtrace database: creating it from the embedded schema
 *
 * analyze/ creates a database with db_create(), fills it with prepared
 * statements inside big transactions and seals it with db_finish(), which
 * renames the temporary file into place. Readers (report/, gate/, export/,
 * tui/) open it with db_open_read(). Schema: analyzer/db/schema.sql,
 * docs/schema.md.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMTRACE_DB_H
#define MEMTRACE_DB_H

#include <sqlite3.h>

#include "cli/cli.h"

/* The text of schema.sql, NUL-terminated (db_schema.c). */
extern const char db_schema_sql[];

/* Schema version this binary writes (meta.schema_version). */
#define DB_SCHEMA_VERSION 2 /* 2: errors_checked (session, processes) */

struct db_writer;

/* Creates a new database for path: written to "<path>.tmp-<pid>", schema
 * loaded, fast-build pragmas set (no journal, no fsync: a crash leaves only
 * the temp file) and one transaction open. OUT: *w (owned, ended by
 * db_finish or db_discard) and *db (borrowed from *w). 0 or MT_ESQLITE. */
int db_create(const char *path, struct db_writer **w, sqlite3 **db, struct mt_errbuf *eb);

/* Runs in db_finish between closing and renaming: path is the closed
 * database, which the function may rewrite or replace (analyze/an_rows.c
 * splices the allocations table in). 0, or negative with eb set. */
typedef int (*db_seal_fn)(const char *path, void *ctx, struct mt_errbuf *eb);

/* Commits, closes, runs seal(path, ctx) if not NULL, and renames the temp
 * file onto path (replacing it). Every statement on the db must be
 * finalized. Frees w. 0, MT_ESQLITE, -errno or seal's error. */
int db_finish(struct db_writer *w, db_seal_fn seal, void *ctx, struct mt_errbuf *eb);

/* Closes and removes the temp file; frees w. Cannot fail. */
void db_discard(struct db_writer *w);

/* Opens an existing memtrace database read-only and checks
 * meta.schema_version. OUT: *db, close with sqlite3_close. 0, MT_ESQLITE
 * or MT_ESCHEMA. */
int db_open_read(const char *path, sqlite3 **db, struct mt_errbuf *eb);

#endif /* MEMTRACE_DB_H */
