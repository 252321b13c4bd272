/*
 * cmd_report.c — `memtrace report DB [--format text|markdown|json|html] [-o FILE]`
 *
 * Opens the database read-only and hands it to report/ (report.h). The
 * format defaults to the extension of -o (.md, .json, .html), else text.
 * Options and exit codes: docs/cli.md, section "report"; the formats:
 * docs/reports.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "memtrace/error.h"
#include "report/report.h"

#define CMD_REPORT_TOP 10        /* default rows per list in text/markdown */
#define CMD_REPORT_STACK_DEPTH 12 /* default frames per stack in text/markdown */

static const char cmd_report_usage[] =
    "usage: memtrace report DB [--format text|markdown|json|html] [-o FILE] [--top N]\n"
    "  -f, --format FMT    text (default), markdown, json or html; by default\n"
    "                      taken from the extension of -o (.md .json .html)\n"
    "  -o, --output FILE   write to FILE instead of stdout\n"
    "  --top N             rows per list in text and markdown (default 10, 0: all)\n"
    "  --stack-depth N     frames per stack in text and markdown (default 12, 0: all)\n";

struct cmd_report_args {
    const char *db;
    const char *out;
    const char *format;
    struct report_opts opts;
};

static int cmd_report_format(const char *name, enum report_format *f)
{
    static const struct { const char *name; enum report_format f; } names[] = {
        {"text", REPORT_TEXT}, {"txt", REPORT_TEXT}, {"markdown", REPORT_MARKDOWN},
        {"md", REPORT_MARKDOWN}, {"json", REPORT_JSON}, {"html", REPORT_HTML},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(name, names[i].name)) {
            *f = names[i].f;
            return 0;
        }
    return MT_EUSAGE;
}

/* Parses a non-negative count option. 0 or MT_EUSAGE. */
static int cmd_report_count(const char *s, int *v)
{
    char *end;
    long n = strtol(s, &end, 10);
    if (!*s || *end || n < 0 || n > 1000000) return MT_EUSAGE;
    *v = (int)n;
    return 0;
}

/* 0, -1 after printing help, or an exit code after printing the error. */
static int cmd_report_parse(int argc, char **argv, struct cmd_report_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            fputs(cmd_report_usage, stdout);
            return -1;
        }
        if (!strcmp(o, "-f") || !strcmp(o, "--format") || !strcmp(o, "-o") ||
            !strcmp(o, "--output") || !strcmp(o, "--top") || !strcmp(o, "--stack-depth")) {
            if (!val) return cli_error(CLI_EXIT_USAGE, "report", "%s needs a value", o);
            i++;
            if (o[1] == 'f' || !strcmp(o, "--format")) a->format = val;
            else if (o[1] == 'o' || !strcmp(o, "--output")) a->out = val;
            else if (cmd_report_count(val, !strcmp(o, "--top") ? &a->opts.top : &a->opts.stack_depth))
                return cli_error(CLI_EXIT_USAGE, "report", "%s: '%s' is not a count", o, val);
        } else if (o[0] == '-' && o[1]) {
            return cli_error(CLI_EXIT_USAGE, "report", "unknown option '%s'", o);
        } else if (!a->db) {
            a->db = o;
        } else {
            return cli_error(CLI_EXIT_USAGE, "report", "unexpected argument '%s'", o);
        }
    }
    if (!a->db) return cli_error(CLI_EXIT_USAGE, "report", "no database given (try --help)");
    return 0;
}

/* The format from --format, else from the -o extension, else text. */
static int cmd_report_choose_format(struct cmd_report_args *a)
{
    const char *ext = a->out ? strrchr(a->out, '.') : NULL;
    if (a->format) {
        if (cmd_report_format(a->format, &a->opts.format))
            return cli_error(CLI_EXIT_USAGE, "report",
                             "unknown format '%s' (text, markdown, json, html)", a->format);
        return 0;
    }
    a->opts.format = REPORT_TEXT;
    if (ext && cmd_report_format(ext + 1, &a->opts.format)) a->opts.format = REPORT_TEXT;
    return 0;
}

int cli_cmd_report(int argc, char **argv)
{
    struct cmd_report_args a = {.opts = {.top = CMD_REPORT_TOP, .stack_depth = CMD_REPORT_STACK_DEPTH}};
    struct mt_errbuf eb = {{0}};
    struct report_out out;
    sqlite3 *db = NULL;
    int rc = cmd_report_parse(argc, argv, &a);
    if (rc) return rc < 0 ? CLI_EXIT_OK : rc;
    if ((rc = cmd_report_choose_format(&a))) return rc;
    const char *out_name = a.out && strcmp(a.out, "-") ? a.out : "stdout";
    if (db_open_read(a.db, &db, &eb)) {
        sqlite3_close(db);
        return cli_error(CLI_EXIT_ERROR, "report", "%s: %s", a.db, eb.msg[0] ? eb.msg : "cannot open");
    }
    if ((rc = report_out_open(&out, a.out))) {
        sqlite3_close(db);
        return cli_error(CLI_EXIT_ERROR, "report", "%s: %s", a.out, mt_strerror(rc));
    }
    rc = report_write(db, out.f, &a.opts, &eb);
    const char *where = rc == -EIO && ferror(out.f) ? out_name : a.db; /* whose fault */
    int rc_close = report_out_close(&out, rc == 0);
    sqlite3_close(db);
    if (rc)
        return cli_error(CLI_EXIT_ERROR, "report", "%s: %s", where,
                         eb.msg[0] ? eb.msg : mt_strerror(rc));
    if (rc_close)
        return cli_error(CLI_EXIT_ERROR, "report", "%s: %s", out_name, mt_strerror(rc_close));
    return CLI_EXIT_OK;
}
