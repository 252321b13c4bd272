/*
 * analyze_read.c — times the trace reader alone: read + decompress + reorder, no analysis
 *
 * scripts/bench builds it against <build>/lib/libmtcore.a and runs
 * `analyze_read TRACE`; it walks every record with trace_reader_next() and
 * prints "events=<n> seconds=<s> events_per_s=<r>", the floor under which
 * `memtrace analyze` cannot go (its own time minus this is the analysis and
 * the database). Not part of ctest: timing is never asserted. Contract page:
 * docs/performance.md, "Analysis".
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "memtrace/error.h"
#include "trace/trace.h"

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    struct mt_errbuf eb = {0};
    struct trace_reader *r;
    struct trace_event ev;
    uint64_t n = 0, kinds = 0;
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: analyze_read TRACE\n");
        return 2;
    }
    double t0 = bench_now();
    if ((rc = trace_reader_open(argv[1], &r, &eb))) {
        fprintf(stderr, "analyze_read: %s: %s\n", argv[1], eb.msg);
        return 1;
    }
    while ((rc = trace_reader_next(r, &ev, &eb)) > 0) {
        n++;
        kinds += ev.rec->kind; /* touch the record, as the analysis would */
    }
    trace_reader_close(r);
    double secs = bench_now() - t0;
    if (rc < 0) {
        fprintf(stderr, "analyze_read: %s: %s\n", argv[1], eb.msg);
        return 1;
    }
    printf("events=%llu seconds=%.3f events_per_s=%.0f kinds=%llu\n", (unsigned long long)n,
           secs, secs > 0 ? (double)n / secs : 0.0, (unsigned long long)kinds);
    return 0;
}
