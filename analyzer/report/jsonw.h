/*
 * jsonw.h — a streaming JSON writer for reports, diffs and exports
 *
 * Used by report_json.c (the `report --format json` document, also embedded
 * in the html report) and diff/. Writes straight to a FILE, keeps only a
 * comma flag per nesting level, and can copy SQLite result rows as objects
 * (column name -> typed value) so the json stays complete as the schema
 * grows. Output rules (docs/reports.md): UTF-8 as stored, "</" written as
 * "<\/" so the text can sit inside an html <script> element.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMTRACE_JSONW_H
#define MEMTRACE_JSONW_H

#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

#define JSONW_MAX_DEPTH 32 /* deeper nesting than any memtrace document */

struct jsonw {
    FILE *out;                              /* borrowed from the caller */
    int depth;                              /* open objects and arrays */
    int flat_depth;                         /* > 0: inside a one-line array */
    unsigned char first[JSONW_MAX_DEPTH];   /* 1 until the level has a member */
    int pretty;                             /* newlines and indentation */
};

/* Starts a document on out. Cannot fail. */
void jsonw_init(struct jsonw *w, FILE *out, int pretty);
/* Goes on with an object another writer printed up to (not including) its
 * closing brace, after at least one member: the next member gets its
 * comma, jsonw_obj_end() closes it. Cannot fail. */
void jsonw_continue(struct jsonw *w, FILE *out, int pretty);
/* Ends the document with a newline. */
void jsonw_finish(struct jsonw *w);

/* key is the member name inside an object, NULL inside an array. */
void jsonw_obj_begin(struct jsonw *w, const char *key);
void jsonw_obj_end(struct jsonw *w);
void jsonw_arr_begin(struct jsonw *w, const char *key);
/* An array whose members all go on one line (numeric series). */
void jsonw_arr_begin_flat(struct jsonw *w, const char *key);
void jsonw_arr_end(struct jsonw *w);

void jsonw_int(struct jsonw *w, const char *key, int64_t v);
void jsonw_real(struct jsonw *w, const char *key, double v); /* NaN/inf -> null */
void jsonw_str(struct jsonw *w, const char *key, const char *s); /* NULL -> null */
void jsonw_null(struct jsonw *w, const char *key);
void jsonw_bool(struct jsonw *w, const char *key, int v);

/* Column col of the current row of q, typed as SQLite stored it. */
void jsonw_column(struct jsonw *w, const char *key, sqlite3_stmt *q, int col);
/* Every column of the current row of q as members of the open object. */
void jsonw_row(struct jsonw *w, sqlite3_stmt *q);

/* Runs sql (binding ?1 to param when has_param) and writes an array named
 * key with one object per row. 0 or MT_ESQLITE. */
int jsonw_query(struct jsonw *w, const char *key, sqlite3 *db, const char *sql, int has_param,
                int64_t param);

#endif /* MEMTRACE_JSONW_H */
