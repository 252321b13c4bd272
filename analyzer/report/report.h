/*
 * report.h — `memtrace report`: the whole story of a run from its database
 *
 * cli/cmd_report.c parses the options and calls report_write(), which
 * dispatches to one writer per format: report_text.c (text and markdown),
 * report_json.c (the complete, stable json document), report_html.c (one
 * self-contained page: the json plus the bundled front-end of html/).
 * Readers only: every figure comes from the database (docs/schema.md,
 * docs/metrics.md). The formats are documented in docs/reports.md.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMTRACE_REPORT_H
#define MEMTRACE_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

#include "cli/cli.h"

/* Version of the json document ("version" member); bumped on any change
 * that is not an added member. */
#define REPORT_JSON_VERSION 1

enum report_format { REPORT_TEXT, REPORT_MARKDOWN, REPORT_JSON, REPORT_HTML };

struct report_opts {
    enum report_format format;
    int top;         /* rows per table in text/markdown (sites, leaks); <= 0: all */
    int stack_depth; /* frames printed per stack in text/markdown; <= 0: all */
};

/* Writes the report of db to out. 0, MT_ESQLITE (detail in eb) or -errno
 * from writing. */
int report_write(sqlite3 *db, FILE *out, const struct report_opts *o, struct mt_errbuf *eb);

int report_text(sqlite3 *db, FILE *out, const struct report_opts *o, struct mt_errbuf *eb);
int report_json(sqlite3 *db, FILE *out, int pretty, struct mt_errbuf *eb);
int report_html(sqlite3 *db, FILE *out, struct mt_errbuf *eb);

/* ---- helpers shared by the writers (report_util.c) ---- */

/* "12.3 KiB" style size into buf. Returns buf. Cannot fail. */
const char *report_human_bytes(double v, char *buf, size_t len);

/* "function file:line" or "function (module+0xoff)", as stack_leaf's
 * location. Any argument may be NULL. Returns buf. Cannot fail. */
const char *report_frame_label(const char *function, const char *file, int64_t line,
                               const char *module, int64_t offset, char *buf, size_t len);

/* Prepares sql on db; on failure fills eb with the SQLite message. 0 or
 * MT_ESQLITE. */
int report_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **q, struct mt_errbuf *eb);

/* Sets eb from db's last error and returns MT_ESQLITE. */
int report_sql_error(sqlite3 *db, struct mt_errbuf *eb);

/* "s" unless n == 1, for "1 block" / "2 blocks". Cannot fail. */
const char *report_plural(int64_t n);

/* Makes the connection's temp table mt_pool_sites (proc_id, stack_id,
 * family): the sites whose blocks are chunks of a client pool, with the
 * pool's family "pool:<name>" (docs/client-api.md). Built once per
 * connection from allocations (empty when the run stored none, or had no
 * pool), so every report query can LEFT JOIN it. The main database may be
 * read-only: temp tables live apart. 0 or MT_ESQLITE (detail in eb). */
int report_pool_sites(sqlite3 *db, struct mt_errbuf *eb);

/* SQL expression naming on-demand leak check c (a leak_checks row
 * aliased c): "after <label>" of the last marker of its image before it,
 * which is how a program names its phases, else "check <N>". */
#define REPORT_CHECK_LABEL_SQL                                                                  \
    "coalesce((SELECT 'after ' || m.name FROM markers m WHERE m.proc_id = c.proc_id"           \
    " AND m.kind = 'mark' AND m.seq < c.seq ORDER BY m.seq DESC LIMIT 1),"                      \
    " 'check ' || c.check_no)"

/* ---- diff of client pools (report_pooldiff.c), for cli/cmd_diff.c ---- */

/* db has A as main and B attached as "b". Compares their pools by name:
 * with w, writes a "pools" array member into w's open object; without,
 * appends a text section to out. Unchanged pools only when all. 0,
 * MT_ESQLITE (detail in eb) or -EIO. */
struct jsonw;
int report_pooldiff(sqlite3 *db, FILE *out, struct jsonw *w, int all, struct mt_errbuf *eb);

/* ---- output files (report_out.c), shared with export/ and diff/ ---- */

/* An output written to "<path>.tmp-<pid>" and renamed onto path only when
 * complete, so a failed report never leaves a truncated file behind. */
struct report_out {
    FILE *f;   /* stdout (borrowed), the temp file or a device (owned) */
    char *path; /* owned: the final name; NULL for stdout */
    char *tmp;  /* owned; NULL for stdout and for a device written in place */
};

/* Opens path for writing; NULL or "-" means stdout. 0 or -errno. */
int report_out_open(struct report_out *o, const char *path);
/* Closes o: on ok, flushes and renames into place (0 or -errno); otherwise
 * removes the temp file and returns 0. Frees o's strings. */
int report_out_close(struct report_out *o, int ok);

#endif /* MEMTRACE_REPORT_H */
