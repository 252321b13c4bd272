/*
 * cmd_diff.c — `memtrace diff A.db B.db [--format text|json] [-o FILE]`
 *
 * Opens A read-only, attaches B (after checking it is a memtrace database
 * of the same schema) and hands both to diff/ (sites), then to
 * report/report_pooldiff.c (client pools): text gets a section after the
 * sites, json a "pools" member in the same document. A diff reports, it does not
 * judge: it exits 0 whatever changed (`memtrace check --baseline` is the
 * gate). Options and exit codes: docs/cli.md, section "diff".
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "diff/diff.h"
#include "memtrace/error.h"
#include "report/jsonw.h"
#include "report/report.h"

static const char cmd_diff_usage[] =
    "usage: memtrace diff A.db B.db [--format text|json] [-o FILE] [--all] [--top N]\n"
    "  -f, --format FMT    text (default) or json\n"
    "  -o, --output FILE   write to FILE instead of stdout\n"
    "  --all               also list the sites that did not change\n"
    "  --top N             text: sites listed (default 20, 0: all)\n";

struct cmd_diff_args {
    const char *a, *b, *out;
    struct diff_opts opts;
};

static int cmd_diff_parse(int argc, char **argv, struct cmd_diff_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        char *end;
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            fputs(cmd_diff_usage, stdout);
            return -1;
        } else if (!strcmp(o, "--all")) {
            a->opts.all = 1;
        } else if (!strcmp(o, "-f") || !strcmp(o, "--format") || !strcmp(o, "-o") ||
                   !strcmp(o, "--output") || !strcmp(o, "--top")) {
            if (!val) return cli_error(CLI_EXIT_USAGE, "diff", "%s needs a value", o);
            i++;
            if (!strcmp(o, "--top")) {
                a->opts.top = (int)strtol(val, &end, 10);
                if (!*val || *end || a->opts.top < 0)
                    return cli_error(CLI_EXIT_USAGE, "diff", "--top: '%s' is not a count", val);
            } else if (o[1] == 'o' || !strcmp(o, "--output")) {
                a->out = val;
            } else if (!strcmp(val, "json") || !strcmp(val, "text")) {
                a->opts.json = !strcmp(val, "json");
            } else {
                return cli_error(CLI_EXIT_USAGE, "diff", "unknown format '%s' (text, json)", val);
            }
        } else if (o[0] == '-' && o[1]) {
            return cli_error(CLI_EXIT_USAGE, "diff", "unknown option '%s'", o);
        } else if (!a->a) {
            a->a = o;
        } else if (!a->b) {
            a->b = o;
        } else {
            return cli_error(CLI_EXIT_USAGE, "diff", "unexpected argument '%s'", o);
        }
    }
    if (!a->b) return cli_error(CLI_EXIT_USAGE, "diff", "two databases are needed (try --help)");
    return 0;
}

/* Checks B alone (schema version), then attaches it to db as "b". */
static int cmd_diff_attach(sqlite3 *db, const char *path, struct mt_errbuf *eb)
{
    sqlite3 *check = NULL;
    sqlite3_stmt *q;
    int rc = db_open_read(path, &check, eb);
    sqlite3_close(check);
    if (rc) return rc;
    if (sqlite3_prepare_v2(db, "ATTACH DATABASE ?1 AS b", -1, &q, NULL) != SQLITE_OK) {
        mt_errbuf_set(eb, "%s", sqlite3_errmsg(db));
        return MT_ESQLITE;
    }
    sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
    rc = sqlite3_step(q) == SQLITE_DONE ? 0 : MT_ESQLITE;
    if (rc) mt_errbuf_set(eb, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(q);
    return rc;
}

/* The json document: diff/'s, reopened before its closing brace to add
 * "pools". diff/ writes into memory first, so a failure leaves out
 * untouched. 0 or a negative code, detail in eb. */
static int cmd_diff_json(sqlite3 *db, FILE *out, const struct diff_opts *o, struct mt_errbuf *eb)
{
    char *buf = NULL;
    size_t len = 0;
    struct jsonw w;
    FILE *mem = open_memstream(&buf, &len);
    int rc = mem ? diff_write(db, mem, o, eb) : -ENOMEM;
    if (mem && fclose(mem) != 0 && !rc) rc = -ENOMEM;
    while (!rc && len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' ')) len--;
    if (!rc && (len == 0 || buf[len - 1] != '}')) {
        mt_errbuf_set(eb, "the sites diff is not a json object");
        rc = MT_ECORRUPT;
    }
    if (!rc) {
        len--; /* the closing brace, and the blanks before it */
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' ')) len--;
        fwrite(buf, 1, len, out);
        jsonw_continue(&w, out, 1);
        rc = report_pooldiff(db, out, &w, o->all, eb);
        jsonw_obj_end(&w);
        jsonw_finish(&w);
    }
    free(buf);
    return rc;
}

static int cmd_diff_write(sqlite3 *db, FILE *out, const struct diff_opts *o, struct mt_errbuf *eb)
{
    if (o->json) return cmd_diff_json(db, out, o, eb);
    int rc = diff_write(db, out, o, eb);
    return rc ? rc : report_pooldiff(db, out, NULL, o->all, eb);
}

int cli_cmd_diff(int argc, char **argv)
{
    struct cmd_diff_args a = {.opts = {.top = 20}};
    struct mt_errbuf eb = {{0}};
    struct report_out out;
    sqlite3 *db = NULL;
    int rc = cmd_diff_parse(argc, argv, &a), rc_close;
    if (rc) return rc < 0 ? CLI_EXIT_OK : rc;
    a.opts.name_a = a.a;
    a.opts.name_b = a.b;
    if (db_open_read(a.a, &db, &eb)) {
        sqlite3_close(db);
        return cli_error(CLI_EXIT_ERROR, "diff", "%s: %s", a.a, eb.msg[0] ? eb.msg : "cannot open");
    }
    if (cmd_diff_attach(db, a.b, &eb)) {
        sqlite3_close(db);
        return cli_error(CLI_EXIT_ERROR, "diff", "%s: %s", a.b, eb.msg[0] ? eb.msg : "cannot open");
    }
    if ((rc = report_out_open(&out, a.out))) {
        sqlite3_close(db);
        return cli_error(CLI_EXIT_ERROR, "diff", "%s: %s", a.out, mt_strerror(rc));
    }
    rc = cmd_diff_write(db, out.f, &a.opts, &eb);
    rc_close = report_out_close(&out, rc == 0);
    sqlite3_close(db);
    if (rc) return cli_error(CLI_EXIT_ERROR, "diff", "%s", eb.msg[0] ? eb.msg : mt_strerror(rc));
    if (rc_close) return cli_error(CLI_EXIT_ERROR, "diff", "%s: %s",
                                   a.out ? a.out : "stdout", mt_strerror(rc_close));
    return CLI_EXIT_OK;
}
