/*
 * cmd_top.c — `memtrace top [SESSION|PID]`: the live view of a running session
 *
 * Finds the session (its socket in the session directory `memtrace run`
 * made; by directory, socket path, or the pid of any traced process) and
 * runs the view on snapshots read from the socket (analyzer/live/
 * live_sock.c); --json prints one snapshot. Reference: docs/cli.md ("top").
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
#include "tui.h"

static void top_usage(FILE *f)
{
    fprintf(f, "usage: memtrace top [options] [SESSION_DIR|SOCKET|PID]\n"
               "  --json        print one snapshot as JSON and exit\n"
               "  --pid PID     show only this process of the session\n"
               "Without an argument, attaches to the only running session.\n");
}

static int top_json(struct tui_source *src, uint32_t pid)
{
    struct live_req q = {.pid = pid};
    struct live_snap s;
    int rc = src->snapshot(src->ctx, &q, &s);
    if (!rc) rc = live_snap_json(&s, stdout);
    if (!rc && fflush(stdout) != 0) rc = -errno; /* a full disk is not a success */
    live_snap_free(&s);
    return rc ? cli_error(CLI_EXIT_ERROR, "top", "%s", mt_strerror(rc)) : CLI_EXIT_OK;
}

int cli_cmd_top(int argc, char **argv)
{
    enum { OPT_JSON = 256, OPT_PID, OPT_HELP };
    static const struct option longs[] = {
        {"json", no_argument, 0, OPT_JSON}, {"pid", required_argument, 0, OPT_PID},
        {"help", no_argument, 0, OPT_HELP}, {0, 0, 0, 0},
    };
    int json = 0, ch;
    uint32_t pid = 0;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (ch) {
        case OPT_JSON: json = 1; break;
        case OPT_PID: {
            char *end;
            unsigned long v = strtoul(optarg, &end, 10);
            if (!*optarg || *end || v == 0 || v > UINT32_MAX || optarg[0] == '-')
                return cli_error(CLI_EXIT_USAGE, "top", "--pid: '%s' is not a pid", optarg);
            pid = (uint32_t)v;
            break;
        }
        case 'h': case OPT_HELP: top_usage(stdout); return CLI_EXIT_OK;
        default:
            return cli_error(CLI_EXIT_USAGE, "top", "unknown or incomplete option '%s'",
                             argv[optind - 1]);
        }
    }
    if (argc - optind > 1) return cli_error(CLI_EXIT_USAGE, "top", "expected at most one session");
    char sock[4200];
    struct mt_errbuf eb = {{0}};
    int rc = live_find_session(optind < argc ? argv[optind] : NULL, sock, sizeof sock, &eb);
    if (rc) return cli_error(CLI_EXIT_ERROR, "top", "%s", eb.msg);
    struct tui_source src;
    rc = tui_source_client(sock, &src);
    if (rc) return cli_error(CLI_EXIT_ERROR, "top", "%s: %s", sock, mt_strerror(rc));
    int code = CLI_EXIT_OK;
    if (json) {
        code = top_json(&src, pid);
    } else {
        rc = tui_run(&src);
        if (rc == -ENOTTY) code = cli_error(CLI_EXIT_USAGE, "top", "needs a terminal (or --json)");
        else if (rc) code = cli_error(CLI_EXIT_ERROR, "top", "%s", mt_strerror(rc));
    }
    tui_source_client_close(&src);
    return code;
}
