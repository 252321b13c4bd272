/*
 * report_util.c — small helpers shared by the report writers and exports
 *
 * Size formatting, frame labels (the same text as the stack_leaf view of
 * analyzer/db/schema.sql, so a location reads the same in every output) and
 * SQLite error plumbing. Also report_write(), the format dispatch.
 *
 * SPDX-License-Identifier: MIT
 */
#include "report/report.h"

#include <inttypes.h>
#include <stdio.h>

#include "memtrace/error.h"

const char *report_human_bytes(double v, char *buf, size_t len)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    if (u == 0) snprintf(buf, len, "%.0f B", v);
    else snprintf(buf, len, "%.1f %s", v, unit[u]);
    return buf;
}

const char *report_frame_label(const char *function, const char *file, int64_t line,
                               const char *module, int64_t offset, char *buf, size_t len)
{
    if (file)
        snprintf(buf, len, "%s %s:%" PRId64, function ? function : "??", file, line);
    else
        snprintf(buf, len, "%s (%s+0x%" PRIx64 ")", function ? function : "??",
                 module ? module : "?", (uint64_t)offset);
    return buf;
}

int report_sql_error(sqlite3 *db, struct mt_errbuf *eb)
{
    mt_errbuf_set(eb, "reading the database: %s", sqlite3_errmsg(db));
    return MT_ESQLITE;
}

int report_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **q, struct mt_errbuf *eb)
{
    if (sqlite3_prepare_v2(db, sql, -1, q, NULL) == SQLITE_OK) return 0;
    *q = NULL;
    return report_sql_error(db, eb);
}

int report_write(sqlite3 *db, FILE *out, const struct report_opts *o, struct mt_errbuf *eb)
{
    switch (o->format) {
    case REPORT_JSON: return report_json(db, out, 1, eb);
    case REPORT_HTML: return report_html(db, out, eb);
    default: return report_text(db, out, o, eb);
    }
}
