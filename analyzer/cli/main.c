/*
 * main.c — entry point of the `memtrace` command: dispatches to a verb
 *
 * The verbs are listed in docs/cli.md; each is cli_cmd_<verb>() in its own
 * file. This file only chooses one and prints the top-level usage.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

struct cli_verb {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct cli_verb cli_verbs[] = {
    {"run", cli_cmd_run, "record a program, analyze it and print a summary"},
    {"analyze", cli_cmd_analyze, "turn a trace into an SQLite database"},
    {"check", cli_cmd_check, "CI gate: fail on leaks and memory errors"},
    {"report", cli_cmd_report, "write a report (text, markdown, json, html)"},
    {"diff", cli_cmd_diff, "compare two databases per call site"},
    {"export", cli_cmd_export, "export to pprof, folded stacks or massif"},
    {"tui", cli_cmd_tui, "browse a database in the terminal"},
    {"top", cli_cmd_top, "attach the live view to a running session"},
    {"dump", cli_cmd_dump, "print a trace's records as text"},
};

static void cli_usage(FILE *out)
{
    fprintf(out, "usage: memtrace <verb> [options] ...\n\nverbs:\n");
    for (size_t i = 0; i < sizeof cli_verbs / sizeof cli_verbs[0]; i++)
        fprintf(out, "  %-8s %s\n", cli_verbs[i].name, cli_verbs[i].summary);
    fprintf(out, "\n'memtrace <verb> --help' describes a verb; docs/cli.md has them all.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        cli_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("memtrace 0.1.0\n");
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof cli_verbs / sizeof cli_verbs[0]; i++) {
        if (strcmp(argv[1], cli_verbs[i].name)) continue;
        return cli_verbs[i].fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "memtrace: unknown verb '%s' (try 'memtrace --help')\n", argv[1]);
    return CLI_EXIT_USAGE;
}
