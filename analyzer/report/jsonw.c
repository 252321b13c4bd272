/*
 * jsonw.c — streaming JSON writer (see jsonw.h)
 *
 * No tree is built: a document as large as every site of a long run is
 * written in one pass with constant memory. Misuse (closing more than was
 * opened, nesting deeper than JSONW_MAX_DEPTH) is a programming error and
 * asserted.
 *
 * SPDX-License-Identifier: MIT
 */
#include "report/jsonw.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>

#include "memtrace/error.h"

/* ------------------------------------------------------------ helpers */

static void jsonw_indent(struct jsonw *w)
{
    if (!w->pretty || w->flat_depth) return;
    fputc('\n', w->out);
    for (int i = 0; i < w->depth; i++) fputs("  ", w->out);
}

static void jsonw_string_body(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        case '/':
            /* "</script>" inside an html page would end the data block */
            if (p > (const unsigned char *)s && p[-1] == '<') fputs("\\/", out);
            else fputc('/', out);
            break;
        default:
            if (*p < 0x20) fprintf(out, "\\u%04x", *p);
            else fputc(*p, out);
        }
    }
    fputc('"', out);
}

/* Writes the separator, indentation and "key": of the next member. */
static void jsonw_member(struct jsonw *w, const char *key)
{
    if (w->depth > 0) {
        if (!w->first[w->depth - 1]) fputc(',', w->out);
        w->first[w->depth - 1] = 0;
        jsonw_indent(w);
    }
    if (key) {
        jsonw_string_body(w->out, key);
        fputs(w->pretty ? ": " : ":", w->out);
    }
}

static void jsonw_open(struct jsonw *w, const char *key, char c, int flat)
{
    assert(w->depth < JSONW_MAX_DEPTH);
    jsonw_member(w, key);
    fputc(c, w->out);
    w->first[w->depth++] = 1;
    if (flat || w->flat_depth) w->flat_depth++;
}

static void jsonw_close(struct jsonw *w, char c)
{
    assert(w->depth > 0);
    int empty = w->first[w->depth - 1];
    w->depth--;
    if (!empty) jsonw_indent(w);
    if (w->flat_depth) w->flat_depth--;
    fputc(c, w->out);
}

/* ------------------------------------------------------------ exported */

void jsonw_init(struct jsonw *w, FILE *out, int pretty)
{
    w->out = out;
    w->depth = 0;
    w->flat_depth = 0;
    w->pretty = pretty;
}

void jsonw_continue(struct jsonw *w, FILE *out, int pretty)
{
    jsonw_init(w, out, pretty);
    w->depth = 1;
    w->first[0] = 0;
}

void jsonw_finish(struct jsonw *w)
{
    assert(w->depth == 0);
    fputc('\n', w->out);
}

void jsonw_obj_begin(struct jsonw *w, const char *key) { jsonw_open(w, key, '{', 0); }
void jsonw_obj_end(struct jsonw *w) { jsonw_close(w, '}'); }
void jsonw_arr_begin(struct jsonw *w, const char *key) { jsonw_open(w, key, '[', 0); }
void jsonw_arr_begin_flat(struct jsonw *w, const char *key) { jsonw_open(w, key, '[', 1); }
void jsonw_arr_end(struct jsonw *w) { jsonw_close(w, ']'); }

void jsonw_int(struct jsonw *w, const char *key, int64_t v)
{
    jsonw_member(w, key);
    fprintf(w->out, "%" PRId64, v);
}

void jsonw_real(struct jsonw *w, const char *key, double v)
{
    jsonw_member(w, key);
    if (isfinite(v)) fprintf(w->out, "%.10g", v);
    else fputs("null", w->out);
}

void jsonw_str(struct jsonw *w, const char *key, const char *s)
{
    jsonw_member(w, key);
    if (s) jsonw_string_body(w->out, s);
    else fputs("null", w->out);
}

void jsonw_null(struct jsonw *w, const char *key)
{
    jsonw_member(w, key);
    fputs("null", w->out);
}

void jsonw_bool(struct jsonw *w, const char *key, int v)
{
    jsonw_member(w, key);
    fputs(v ? "true" : "false", w->out);
}

void jsonw_column(struct jsonw *w, const char *key, sqlite3_stmt *q, int col)
{
    switch (sqlite3_column_type(q, col)) {
    case SQLITE_INTEGER: jsonw_int(w, key, sqlite3_column_int64(q, col)); break;
    case SQLITE_FLOAT: jsonw_real(w, key, sqlite3_column_double(q, col)); break;
    case SQLITE_NULL: jsonw_null(w, key); break;
    default: jsonw_str(w, key, (const char *)sqlite3_column_text(q, col)); break;
    }
}

void jsonw_row(struct jsonw *w, sqlite3_stmt *q)
{
    int n = sqlite3_column_count(q);
    for (int i = 0; i < n; i++) jsonw_column(w, sqlite3_column_name(q, i), q, i);
}

int jsonw_query(struct jsonw *w, const char *key, sqlite3 *db, const char *sql, int has_param,
                int64_t param)
{
    sqlite3_stmt *q;
    int rc;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) return MT_ESQLITE;
    if (has_param) sqlite3_bind_int64(q, 1, param);
    jsonw_arr_begin(w, key);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        jsonw_obj_begin(w, NULL);
        jsonw_row(w, q);
        jsonw_obj_end(w);
    }
    jsonw_arr_end(w);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? 0 : MT_ESQLITE;
}
