/*
 * cmd_tui.c — `memtrace tui DB`: browse a finished run in the terminal
 *
 * Opens the database read-only (tui/tui_db.c) and runs the view with a
 * time cursor; --json prints the snapshot at the cursor instead. The
 * hidden --replay TRACE feeds a recorded trace through the live
 * aggregator (analyzer/live) and shows what `run --live` would have shown
 * at the end: a debugging aid for the aggregator. Reference: docs/cli.md
 * ("tui"), docs/tui.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live/live.h"
#include "memtrace/error.h"
#include "trace/trace.h"
#include "tui.h"

struct tui_opts {
    const char *path;
    const char *at;    /* --at: "peak", "end" or nanoseconds */
    int json, replay;
    uint32_t pid;
};

static void tui_usage(FILE *f)
{
    fprintf(f, "usage: memtrace tui [options] DATABASE\n"
               "  --at WHEN     start the time cursor at WHEN: peak, end, or ns since start\n"
               "  --pid PID     show only this process\n"
               "  --json        print what the screen would show at the cursor, as JSON\n"
               "Keys: press ? in the view (docs/tui.md).\n");
}

/* 0 to go on, -1 for --help, else an exit code. */
static int tui_parse(int argc, char **argv, struct tui_opts *o)
{
    enum { OPT_AT = 256, OPT_JSON, OPT_PID, OPT_REPLAY, OPT_HELP };
    static const struct option longs[] = {
        {"at", required_argument, 0, OPT_AT}, {"json", no_argument, 0, OPT_JSON},
        {"pid", required_argument, 0, OPT_PID}, {"replay", no_argument, 0, OPT_REPLAY},
        {"help", no_argument, 0, OPT_HELP}, {0, 0, 0, 0},
    };
    *o = (struct tui_opts){0};
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (ch) {
        case OPT_AT: o->at = optarg; break;
        case OPT_JSON: o->json = 1; break;
        case OPT_PID: {
            char *end;
            unsigned long v = strtoul(optarg, &end, 10);
            if (!*optarg || *end || v == 0 || v > UINT32_MAX || optarg[0] == '-')
                return cli_error(CLI_EXIT_USAGE, "tui", "--pid: '%s' is not a pid", optarg);
            o->pid = (uint32_t)v;
            break;
        }
        case OPT_REPLAY: o->replay = 1; break;
        case 'h': case OPT_HELP: tui_usage(stdout); return -1;
        default:
            return cli_error(CLI_EXIT_USAGE, "tui", "unknown or incomplete option '%s'",
                             argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return cli_error(CLI_EXIT_USAGE, "tui", "expected one database (memtrace tui DB)");
    o->path = argv[optind];
    return 0;
}

/* A --pid the session never had is a usage error, not an empty view. */
static int tui_check_pid(const struct tui_opts *o, const struct live_snap *s)
{
    if (!o->pid) return 0;
    for (size_t i = 0; i < s->n_procs; i++)
        if (s->procs[i].pid == o->pid) return 0;
    return cli_error(CLI_EXIT_USAGE, "tui", "%s: no process with pid %u", o->path, o->pid);
}

/* Sets the request's cursor from --at (needs the first snapshot's figures). */
static int tui_apply_at(const struct tui_opts *o, const struct live_snap *s, struct live_req *q)
{
    if (!o->at) return 0;
    q->flags |= LIVE_REQ_F_CURSOR;
    if (!strcmp(o->at, "peak")) q->cursor_ns = s->peak_ns;
    else if (!strcmp(o->at, "end")) q->cursor_ns = s->duration_ns;
    else {
        char *end;
        q->cursor_ns = strtoull(o->at, &end, 10);
        if (*end || end == o->at)
            return cli_error(CLI_EXIT_USAGE, "tui", "--at: expected peak, end or ns, got '%s'",
                             o->at);
    }
    return 0;
}

/* Runs the view (or prints JSON) on src. Returns the exit code. */
static int tui_show(const struct tui_opts *o, struct tui_source *src)
{
    struct live_req q = {.pid = o->pid};
    struct live_snap s;
    int rc = src->snapshot(src->ctx, &q, &s);
    if (rc) return cli_error(CLI_EXIT_ERROR, "tui", "%s: %s", o->path, mt_strerror(rc));
    int code = tui_check_pid(o, &s);
    if (!code) code = tui_apply_at(o, &s, &q);
    live_snap_free(&s);
    if (code) return code;
    if (o->json) {
        rc = src->snapshot(src->ctx, &q, &s);
        if (!rc) rc = live_snap_json(&s, stdout);
        if (!rc && fflush(stdout) != 0) rc = -errno; /* a full disk is not a success */
        live_snap_free(&s);
        return rc ? cli_error(CLI_EXIT_ERROR, "tui", "%s", mt_strerror(rc)) : CLI_EXIT_OK;
    }
    src->start = q;
    rc = tui_run(src);
    if (rc == -ENOTTY)
        return cli_error(CLI_EXIT_USAGE, "tui", "needs a terminal (or use --json)");
    return rc ? cli_error(CLI_EXIT_ERROR, "tui", "%s", mt_strerror(rc)) : CLI_EXIT_OK;
}

/* Hidden --replay: a trace through the live aggregator. */
static int tui_replay(const struct tui_opts *o)
{
    struct mt_errbuf eb = {{0}};
    struct trace_reader *r;
    int rc = trace_reader_open(o->path, &r, &eb);
    if (rc) return cli_error(CLI_EXIT_ERROR, "tui", "%s: %s", o->path, eb.msg);
    struct live_agg *a = live_agg_create(trace_reader_header(r)->start_mono_ns);
    struct trace_event ev;
    while (a && (rc = trace_reader_next(r, &ev, &eb)) == 1)
        live_agg_feed(a, ev.pid, ev.gen, ev.ring, ev.rec, ev.rec->len);
    trace_reader_close(r);
    if (!a) return cli_error(CLI_EXIT_ERROR, "tui", "%s", strerror(ENOMEM));
    if (rc < 0) cli_error(0, "tui", "%s: %s (showing what came before)", o->path, eb.msg);
    live_agg_finish(a);
    struct tui_source src;
    tui_source_agg(a, &src);
    int code = tui_show(o, &src);
    live_agg_destroy(a);
    return code;
}

int cli_cmd_tui(int argc, char **argv)
{
    struct tui_opts o;
    int rc = tui_parse(argc, argv, &o);
    if (rc) return rc < 0 ? CLI_EXIT_OK : rc;
    if (o.replay) return tui_replay(&o);
    struct tui_source src;
    struct mt_errbuf eb = {{0}};
    rc = tui_db_open(o.path, &src, &eb);
    if (rc) return cli_error(CLI_EXIT_ERROR, "tui", "%s: %s", o.path, eb.msg);
    int code = tui_show(&o, &src);
    tui_db_close(&src);
    return code;
}
