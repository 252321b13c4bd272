/*
 * error.c — the single place the CLI turns a failure into one line on stderr
 *
 * Every verb reports through cli_error() (docs/cli.md lists the codes), so
 * users always see "memtrace <verb>: <what failed>: <why>" exactly once.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli/cli.h"

#include <stdio.h>

void mt_errbuf_set(struct mt_errbuf *eb, const char *fmt, ...)
{
    if (!eb) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(eb->msg, sizeof eb->msg, fmt, ap);
    va_end(ap);
}

int cli_error(int code, const char *verb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "memtrace %s: ", verb);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}
