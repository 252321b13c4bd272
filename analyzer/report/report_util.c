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

const char *report_plural(int64_t n)
{
    return n == 1 ? "" : "s";
}

int report_pool_sites(sqlite3 *db, struct mt_errbuf *eb)
{
    /* One scan of allocations, and only when a pool exists: most runs have
     * none, and allocations is the largest table. A stack that made both
     * malloc blocks and chunks (unusual: the pool call is a frame of its
     * own) is shown as the pool's. */
    static const char sql[] =
        "CREATE TEMP TABLE IF NOT EXISTS mt_pool_sites (proc_id INTEGER, stack_id INTEGER,"
        " family TEXT, PRIMARY KEY (proc_id, stack_id)) WITHOUT ROWID;"
        "INSERT OR IGNORE INTO mt_pool_sites SELECT proc_id, stack_id, min(family)"
        " FROM main.allocations WHERE family LIKE 'pool:%' AND EXISTS (SELECT 1 FROM main.pools)"
        " AND NOT EXISTS (SELECT 1 FROM temp.mt_pool_sites) GROUP BY proc_id, stack_id;";
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK) return 0;
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
