/*
 * analyze.h — turning a trace into a memtrace database (the `analyze` stage)
 *
 * cmd_analyze.c and the `run` verb call analyze_trace(); it makes one
 * streaming pass over the trace (trace_reader_next) and writes the database
 * described in docs/schema.md with the figures of docs/metrics.md. Memory
 * is bounded by the live blocks and the distinct stacks, never by the trace
 * length. summary_print() prints the short terminal summary from a finished
 * database.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMTRACE_ANALYZE_H
#define MEMTRACE_ANALYZE_H

#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

#include "cli/cli.h"

struct analyze_opts {
    const char *trace_path;         /* borrowed */
    const char *db_path;            /* borrowed; written to a temp name, renamed at the end */
    const char *const *debug_paths; /* NULL-terminated, may be NULL */
    int no_allocations;             /* 1: no allocations rows */
};

/* What the pass saw, for the caller's messages. */
struct analyze_result {
    uint64_t n_events;   /* records analyzed */
    int truncated;       /* 1 if the trace ended inside a frame */
    uint64_t trunc_off;  /* first unusable byte when truncated */
    uint64_t seq_holes;
    double seconds;      /* wall time of the analysis */
};

/* Analyzes opts->trace_path into opts->db_path (replacing it). 0 on
 * success (also for a truncated trace: res->truncated says so), else a
 * negative code with eb filled. */
int analyze_trace(const struct analyze_opts *opts, struct analyze_result *res,
                  struct mt_errbuf *eb);

/* Prints the short run summary of a finished database to out: peak heap
 * with its time, peak RSS, allocations, leaks per class with the top sites,
 * memory errors, fragmentation. 0 or MT_ESQLITE/MT_ESCHEMA. */
int summary_print(sqlite3 *db, FILE *out);

/* Called by `memtrace run` when the program ended: analyzes trace_path into
 * <trace_path>.db (or the -o/--db option in argv), prints the summary and
 * the database path to stdout. argc/argv: run's options (--no-allocations,
 * --debug-path DIR, --db PATH and --no-summary are honoured; others are
 * ignored). Returns 0 or a CLI exit code after printing one error line. */
int analyze_after_run(const char *trace_path, int argc, char **argv);

#endif /* MEMTRACE_ANALYZE_H */
