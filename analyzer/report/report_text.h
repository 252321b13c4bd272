/*
 * report_text.h — the text and markdown writer's shared pieces (private to report/)
 *
 * report_text.c walks the session and every process image;
 * report_text_client.c adds the client-API sections of an image (pools,
 * markers, on-demand leak checks). Both print through the markup helpers
 * below so text and markdown stay one walk. Layout: docs/reports.md.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMTRACE_REPORT_TEXT_H
#define MEMTRACE_REPORT_TEXT_H

#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

#include "report/report.h"

struct report_text_out {
    FILE *out;                   /* borrowed */
    sqlite3 *db;                 /* borrowed */
    const struct report_opts *o; /* borrowed */
    int md;                      /* 1: markdown, 0: plain text */
    sqlite3_stmt *stack_q;       /* owned: frames of one stack */
    struct mt_errbuf *eb;        /* borrowed */
};

/* A heading (level 1..4), with a blank line before it. */
void report_text_heading(struct report_text_out *rt, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* One "name: value" line (a bullet in markdown). */
void report_text_kv(struct report_text_out *rt, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* An entry of a list: text indented, markdown bullet. */
void report_text_item(struct report_text_out *rt, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A line under the current item (indented further; markdown: nested). */
void report_text_sub(struct report_text_out *rt, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "68096 B (66.5 KiB)"; plain "24 B" below 1 KiB. Returns buf. */
const char *report_text_bytes(int64_t v, char *buf, size_t len);
/* Column col as text, "?" when NULL. */
const char *report_text_col_text(sqlite3_stmt *q, int col);

/* Prints the frames of stack_id under an item, with a caption line
 * ("allocated at:") when caption is not NULL. 0 or MT_ESQLITE. */
int report_text_stack(struct report_text_out *rt, int64_t stack_id, const char *caption);

/* Runs sql with ?1 = param, limited to --top rows, calling row() per row.
 * 0 or MT_ESQLITE (or row()'s error); *n_rows (may be NULL) gets the rows
 * shown. */
int report_text_rows(struct report_text_out *rt, const char *sql, int64_t param,
                     int (*row)(struct report_text_out *rt, sqlite3_stmt *q), int *n_rows);

/* The integer sql returns for ?1 = param, -1 when it fails. */
int64_t report_text_count(struct report_text_out *rt, const char *sql, int64_t param);

/* "blocks" or "chunks of pool:<name>" for a site list row, with the right
 * plural for n; family NULL means a malloc-family site. Returns buf. */
const char *report_text_unit(int64_t n, const char *family, char *buf, size_t len);

/* The client-API sections of process image proc_id (report_text_client.c):
 * pools, markers, on-demand leak checks; each is printed only when the
 * image has any. 0 or MT_ESQLITE. */
int report_text_client(struct report_text_out *rt, int64_t proc_id);

#endif /* MEMTRACE_REPORT_TEXT_H */
