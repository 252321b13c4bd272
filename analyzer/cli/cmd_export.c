/*
 * cmd_export.c — `memtrace export DB --format pprof|folded|massif [-o FILE]`
 *
 * Loads the sites once (export/export.h) and writes one format. pprof is
 * binary (gzip), so it is refused on a terminal without -o. Options and
 * exit codes: docs/cli.md, section "export"; formats: docs/reports.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"
#include "export/export.h"
#include "memtrace/error.h"
#include "report/report.h"

enum cmd_export_format { CMD_EXPORT_NONE, CMD_EXPORT_PPROF, CMD_EXPORT_FOLDED, CMD_EXPORT_MASSIF };

struct cmd_export_args {
    const char *db;
    const char *out;
    enum cmd_export_format format;
    enum export_value value;
    int inuse_at_end;
    int64_t pid;
};

static const char cmd_export_usage[] =
    "usage: memtrace export DB --format pprof|folded|massif [-o FILE] [options]\n"
    "  -f, --format FMT    pprof (gzipped protobuf, Go heap profile), folded\n"
    "                      (flamegraph.pl, speedscope) or massif (ms_print)\n"
    "  -o, --output FILE   write to FILE instead of stdout\n"
    "  --pid PID           only this process (massif: default the first one)\n"
    "  --value V           folded: bytes (allocated, default), allocs, leaked, peak\n"
    "  --inuse peak|end    pprof: inuse_* is live at the peak (default) or at the end\n";

/* Parses the value of one option. 0 or an exit code after the message. */
static int cmd_export_option(struct cmd_export_args *a, const char *o, const char *val)
{
    char *end;
    if (!strcmp(o, "-o") || !strcmp(o, "--output")) {
        a->out = val;
    } else if (!strcmp(o, "-f") || !strcmp(o, "--format")) {
        if (!strcmp(val, "pprof")) a->format = CMD_EXPORT_PPROF;
        else if (!strcmp(val, "folded")) a->format = CMD_EXPORT_FOLDED;
        else if (!strcmp(val, "massif")) a->format = CMD_EXPORT_MASSIF;
        else return cli_error(CLI_EXIT_USAGE, "export", "unknown format '%s' (pprof, folded, massif)", val);
    } else if (!strcmp(o, "--value")) {
        if (!strcmp(val, "bytes")) a->value = EXPORT_BYTES;
        else if (!strcmp(val, "allocs")) a->value = EXPORT_ALLOCS;
        else if (!strcmp(val, "leaked")) a->value = EXPORT_LEAKED;
        else if (!strcmp(val, "peak")) a->value = EXPORT_PEAK;
        else return cli_error(CLI_EXIT_USAGE, "export", "unknown value '%s' (bytes, allocs, leaked, peak)", val);
    } else if (!strcmp(o, "--inuse")) {
        if (strcmp(val, "peak") && strcmp(val, "end"))
            return cli_error(CLI_EXIT_USAGE, "export", "--inuse is peak or end, not '%s'", val);
        a->inuse_at_end = !strcmp(val, "end");
    } else {
        a->pid = strtoll(val, &end, 10);
        if (!*val || *end || a->pid <= 0)
            return cli_error(CLI_EXIT_USAGE, "export", "--pid: '%s' is not a pid", val);
    }
    return 0;
}

/* 0, -1 after printing help, or an exit code after printing the error. */
static int cmd_export_parse(int argc, char **argv, struct cmd_export_args *a)
{
    static const char *const with_value[] = {"-o", "--output", "-f", "--format", "--value", "--inuse", "--pid"};
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        int takes = 0, rc;
        for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++)
            if (!strcmp(o, with_value[k])) takes = 1;
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            fputs(cmd_export_usage, stdout);
            return -1;
        }
        if (takes) {
            if (i + 1 >= argc) return cli_error(CLI_EXIT_USAGE, "export", "%s needs a value", o);
            if ((rc = cmd_export_option(a, o, argv[++i]))) return rc;
        } else if (o[0] == '-' && o[1]) {
            return cli_error(CLI_EXIT_USAGE, "export", "unknown option '%s'", o);
        } else if (!a->db) {
            a->db = o;
        } else {
            return cli_error(CLI_EXIT_USAGE, "export", "unexpected argument '%s'", o);
        }
    }
    if (!a->db) return cli_error(CLI_EXIT_USAGE, "export", "no database given (try --help)");
    if (a->format == CMD_EXPORT_NONE)
        return cli_error(CLI_EXIT_USAGE, "export", "--format is required (pprof, folded, massif)");
    if (a->format == CMD_EXPORT_PPROF && (!a->out || !strcmp(a->out, "-")) && isatty(STDOUT_FILENO))
        return cli_error(CLI_EXIT_USAGE, "export", "pprof is binary: give -o FILE or redirect stdout");
    return 0;
}

/* 0 when the session has a process image of pid; MT_ENOTFOUND (a usage
 * error, docs/cli.md) or MT_ESQLITE otherwise, with eb filled. Without it
 * folded and pprof would write an empty profile and succeed. */
static int cmd_export_pid_known(sqlite3 *db, int64_t pid, struct mt_errbuf *eb)
{
    sqlite3_stmt *q;
    int step = SQLITE_ERROR;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM processes WHERE pid = ?1 LIMIT 1", -1, &q, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_int64(q, 1, pid);
        step = sqlite3_step(q);
    }
    if (step == SQLITE_DONE) mt_errbuf_set(eb, "no process with pid %lld", (long long)pid);
    else if (step != SQLITE_ROW) mt_errbuf_set(eb, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(q);
    return step == SQLITE_ROW ? 0 : step == SQLITE_DONE ? MT_ENOTFOUND : MT_ESQLITE;
}

static int cmd_export_write(sqlite3 *db, const struct cmd_export_args *a, FILE *out,
                            struct mt_errbuf *eb)
{
    struct export_data d;
    int rc = a->pid ? cmd_export_pid_known(db, a->pid, eb) : 0;
    if (rc) return rc;
    rc = export_data_load(db, a->pid, &d, eb);
    if (rc) return rc;
    switch (a->format) {
    case CMD_EXPORT_PPROF: rc = export_pprof(&d, out, a->inuse_at_end, eb); break;
    case CMD_EXPORT_FOLDED: rc = export_folded(&d, out, a->value, eb); break;
    default: rc = export_massif(db, &d, out, a->pid, eb); break;
    }
    export_data_free(&d);
    return rc;
}

int cli_cmd_export(int argc, char **argv)
{
    struct cmd_export_args a = {0};
    struct mt_errbuf eb = {{0}};
    struct report_out out;
    sqlite3 *db = NULL;
    int rc = cmd_export_parse(argc, argv, &a), rc_close;
    if (rc) return rc < 0 ? CLI_EXIT_OK : rc;
    if (db_open_read(a.db, &db, &eb)) {
        sqlite3_close(db);
        return cli_error(CLI_EXIT_ERROR, "export", "%s: %s", a.db, eb.msg[0] ? eb.msg : "cannot open");
    }
    if ((rc = report_out_open(&out, a.out))) {
        sqlite3_close(db);
        return cli_error(CLI_EXIT_ERROR, "export", "%s: %s", a.out, mt_strerror(rc));
    }
    rc = cmd_export_write(db, &a, out.f, &eb);
    rc_close = report_out_close(&out, rc == 0);
    sqlite3_close(db);
    if (rc == MT_ENOTFOUND) return cli_error(CLI_EXIT_USAGE, "export", "%s", eb.msg);
    if (rc) return cli_error(CLI_EXIT_ERROR, "export", "%s: %s", a.db, eb.msg[0] ? eb.msg : mt_strerror(rc));
    if (rc_close) return cli_error(CLI_EXIT_ERROR, "export", "%s: %s",
                                   a.out ? a.out : "stdout", mt_strerror(rc_close));
    return CLI_EXIT_OK;
}
