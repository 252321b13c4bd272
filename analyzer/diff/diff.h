/*
 * diff.h — `memtrace diff A.db B.db`: per-site changes between two runs
 *
 * Sites are matched by their symbolized frames (function and source file
 * base name of every frame, innermost first), never by address, so two
 * builds of the same program line up. Per matched key: peak share, live at
 * peak, leaked blocks and bytes, allocation count and bytes, temporaries.
 * cli/cmd_diff.c is the verb; docs/reports.md, "diff", the output.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMTRACE_DIFF_H
#define MEMTRACE_DIFF_H

#include <stdio.h>

#include <sqlite3.h>

#include "cli/cli.h"

#define DIFF_JSON_VERSION 1 /* "version" of the json document */

struct diff_opts {
    int json;    /* 1: json, 0: text */
    int all;     /* also list unchanged sites */
    int top;     /* text: rows listed; <= 0: all */
    const char *name_a, *name_b; /* labels (the paths given) */
};

/* db has A open as main and B attached as "b" (both checked memtrace
 * databases). Writes the comparison to out. 0, MT_ESQLITE or -EIO, detail
 * in eb. */
int diff_write(sqlite3 *db, FILE *out, const struct diff_opts *o, struct mt_errbuf *eb);

#endif /* MEMTRACE_DIFF_H */
