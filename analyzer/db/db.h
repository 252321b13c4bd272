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
#define DB_SCHEMA_VERSION 1

#endif /* MEMTRACE_DB_H */
