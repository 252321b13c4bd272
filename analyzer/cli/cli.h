/*
 * cli.h — the verbs of the `memtrace` command and the one way they report errors
 *
 * main.c dispatches argv[1] to a cli_cmd_<verb>() below; each verb lives in
 * its own file (cmd_<verb>.c) in the folder of its concern or here. A verb
 * returns the process exit code. Lower layers never print: they return codes
 * and fill a struct mt_errbuf; the verb calls cli_error() once.
 * Exit codes are documented in docs/cli.md.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMTRACE_CLI_H
#define MEMTRACE_CLI_H

#include <stdarg.h>
#include <stddef.h>

/* Exit codes of memtrace itself (docs/cli.md). `run` otherwise exits with
 * the program's own status, so memtrace's codes follow env(1)/timeout(1). */
#define CLI_EXIT_OK 0
#define CLI_EXIT_GATE_FAILED 1   /* check: the gate found what it fails on */
#define CLI_EXIT_USAGE 2         /* bad arguments or options */
#define CLI_EXIT_PROGRAM_FAILED 3 /* check: the program crashed or exited non-zero */
#define CLI_EXIT_ERROR 125       /* memtrace could not do its work */
#define CLI_EXIT_CANNOT_EXEC 126 /* the program exists but cannot be executed */
#define CLI_EXIT_NOT_FOUND 127   /* the program was not found */

/* Detail a lower layer hands up to the verb (file offsets, SQL text...). */
struct mt_errbuf {
    char msg[512];
};
/* Fills eb (if not NULL) with a formatted message. Cannot fail. */
void mt_errbuf_set(struct mt_errbuf *eb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints "memtrace <verb>: <message>" to stderr and returns code, so a verb
 * can `return cli_error(CLI_EXIT_ERROR, "run", "...")`. */
int cli_error(int code, const char *verb, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Verbs, one per file; main.c's table names each, so a missing verb is a
 * link error. Every verb here has a section in docs/cli.md. */
int cli_cmd_run(int argc, char **argv);
int cli_cmd_dump(int argc, char **argv);
int cli_cmd_analyze(int argc, char **argv);
int cli_cmd_check(int argc, char **argv);
int cli_cmd_report(int argc, char **argv);
int cli_cmd_diff(int argc, char **argv);
int cli_cmd_export(int argc, char **argv);
int cli_cmd_tui(int argc, char **argv);
int cli_cmd_top(int argc, char **argv);

#endif /* MEMTRACE_CLI_H */
