/*
 * cmd_analyze.c — `memtrace analyze TRACE [-o DB] [--debug-path DIR]... [--no-allocations]`
 *
 * Also analyze_after_run(), which `memtrace run` calls when the program
 * ended: same analysis into <trace>.db, then the short summary. Options and
 * exit codes: docs/cli.md, section "analyze".
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "db/db.h"
#include "memtrace/error.h"

#define CMD_ANALYZE_MAX_DEBUG 32 /* --debug-path options kept */

struct cmd_analyze_args {
    const char *trace;
    const char *db;
    const char *debug[CMD_ANALYZE_MAX_DEBUG + 1];
    int n_debug;
    int no_allocations;
    int no_summary;
    int quiet;
};

static const char cmd_analyze_usage[] =
    "usage: memtrace analyze TRACE [-o DB] [--debug-path DIR]... [--no-allocations] [--summary]\n"
    "  -o, --output DB     database to write (default: TRACE with .db)\n"
    "  --debug-path DIR    more directories with separate debug files (repeatable)\n"
    "  --no-allocations    do not store one row per allocation\n"
    "  --summary           print the run summary after analyzing\n";

/* Parses analyze's options. is_run: argv are `run`'s options, unknown ones
 * ignored. 0, -1 after printing the help, or CLI_EXIT_USAGE after printing
 * the error. */
static int cmd_analyze_parse(int argc, char **argv, int is_run, struct cmd_analyze_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (is_run && !strcmp(o, "--")) break;
        if (!strcmp(o, "--no-allocations")) a->no_allocations = 1;
        else if (!strcmp(o, "--summary")) a->no_summary = 0;
        else if (!strcmp(o, "--no-summary")) a->no_summary = 1;
        else if (!strcmp(o, "--debug-path") || !strcmp(o, "--db") ||
                 (!is_run && (!strcmp(o, "-o") || !strcmp(o, "--output")))) {
            if (!val) return cli_error(CLI_EXIT_USAGE, "analyze", "%s needs a value", o);
            i++;
            if (!strcmp(o, "--debug-path")) {
                if (a->n_debug < CMD_ANALYZE_MAX_DEBUG) a->debug[a->n_debug++] = val;
            } else {
                a->db = val;
            }
        } else if (is_run) {
            continue;
        } else if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            fputs(cmd_analyze_usage, stdout);
            return -1;
        } else if (o[0] == '-' && o[1]) {
            return cli_error(CLI_EXIT_USAGE, "analyze", "unknown option '%s'", o);
        } else if (!a->trace) {
            a->trace = o;
        } else {
            return cli_error(CLI_EXIT_USAGE, "analyze", "unexpected argument '%s'", o);
        }
    }
    return 0;
}

/* "<trace>.db", with a trailing .mtrace replaced. Owned by the caller. */
static char *cmd_analyze_db_name(const char *trace)
{
    size_t len = strlen(trace);
    if (len > 7 && !strcmp(trace + len - 7, ".mtrace")) len -= 7;
    char *s = malloc(len + 4);
    if (s) sprintf(s, "%.*s.db", (int)len, trace);
    return s;
}

static int cmd_analyze_do(struct cmd_analyze_args *a, const char *verb, int summary)
{
    char *dflt = NULL;
    if (!a->db && !(a->db = dflt = cmd_analyze_db_name(a->trace)))
        return cli_error(CLI_EXIT_ERROR, verb, "out of memory");
    struct analyze_opts opts = {.trace_path = a->trace, .db_path = a->db,
                                .debug_paths = a->debug, .no_allocations = a->no_allocations};
    struct analyze_result res;
    struct mt_errbuf eb = {""};
    int rc = analyze_trace(&opts, &res, &eb);
    if (rc) {
        rc = cli_error(CLI_EXIT_ERROR, verb, "%s: %s", a->trace,
                       eb.msg[0] ? eb.msg : mt_strerror(rc));
        free(dflt);
        return rc;
    }
    if (res.truncated)
        fprintf(stderr,
                "memtrace %s: %s is truncated at byte %llu; analyzed up to its last "
                "complete frame\n",
                verb, a->trace, (unsigned long long)res.trunc_off);
    if (summary) {
        sqlite3 *db;
        if (db_open_read(a->db, &db, &eb) == 0) {
            summary_print(db, stdout);
            sqlite3_close(db);
        }
    }
    if (!a->quiet)
        printf("%sdatabase: %s (%llu events in %.2f s)\n", summary ? "\n" : "", a->db,
               (unsigned long long)res.n_events, res.seconds);
    free(dflt);
    return CLI_EXIT_OK;
}

int cli_cmd_analyze(int argc, char **argv)
{
    struct cmd_analyze_args a = {.no_summary = 1};
    int rc = cmd_analyze_parse(argc, argv, 0, &a);
    if (rc) return rc < 0 ? CLI_EXIT_OK : rc;
    if (!a.trace) return cli_error(CLI_EXIT_USAGE, "analyze", "no trace given (try --help)");
    return cmd_analyze_do(&a, "analyze", !a.no_summary);
}

int analyze_after_run(const char *trace_path, int argc, char **argv)
{
    struct cmd_analyze_args a = {0};
    int rc = cmd_analyze_parse(argc, argv, 1, &a);
    if (rc) return rc < 0 ? CLI_EXIT_OK : rc;
    a.trace = trace_path;
    return cmd_analyze_do(&a, "run", !a.no_summary);
}
