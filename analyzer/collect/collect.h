/*
 * collect.h — the collector: drains the targets' rings into the trace file
 *
 * `memtrace run` (analyzer/cli/cmd_run.c) creates a collector on a session
 * directory, starts its thread, feeds it the wait statuses it reaps, and
 * finishes it once every process is gone. The collector maps each
 * "<pid>.<gen>.ring" file (include/memtrace/ring.h), copies ring bytes into
 * trace blocks without parsing them, samples RSS and mallinfo, and writes
 * MT_REC_PROC_END when a process image ends. Contract: docs/trace-format.md
 * (sections "Rings" and "Crash safety").
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMTRACE_COLLECT_H
#define MEMTRACE_COLLECT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "trace/trace.h"

/* Copies every committed byte of ring ring_idx of the mapped ring file at
 * file_base to sink, in one call, or two when the bytes wrap around the end
 * of the ring (each call holds whole records), then stores tail (release)
 * so the producer may reuse the space. The file's geometry must have been
 * checked (collect_ring_check). Returns the bytes drained (0 if the ring was
 * empty), MT_ECORRUPT if head and tail make no sense (tail not stored), or
 * the sink's negative return (tail not stored: the bytes stay in the ring). */
int64_t collect_ring_drain(void *file_base, uint32_t ring_idx,
                           int (*sink)(void *ctx, const void *bytes, size_t len), void *ctx);

/* Checks the header of a ring file of file_size bytes mapped at base:
 * 0 if usable, 1 if not initialised yet (magic still 0: the target is
 * creating it), MT_EBADMAGIC / MT_EVERSION / MT_ECORRUPT otherwise. */
int collect_ring_check(const void *base, uint64_t file_size);

struct collect_opts {
    const char *session_dir;   /* borrowed, valid until collect_destroy */
    struct trace_writer *w;    /* borrowed; the collector thread is its only
                                  user between collect_start and collect_finish */
    uint32_t sample_period_us; /* RSS / mallinfo period, > 0 */
    void (*warn)(void *ctx, const char *msg); /* one line per problem (bad
                                  ring file...); may be NULL */
    void *warn_ctx;
    /* Optional: sees every block as the collector writes it to the trace
     * (ring bytes and its own records), on the collector thread, e.g.
     * live_agg_on_block for `memtrace run`. records is borrowed for
     * the call. May be NULL. Contract kept for live_lazy.c: every block
     * written to w passes here exactly once, right before or right after
     * its trace_writer_block(), and the hook may flush w itself. */
    void (*on_block)(void *ctx, uint32_t pid, uint32_t gen, uint32_t ring, const void *records,
                     size_t len);
    void *block_ctx;
};

struct collector;

/* Returns a new collector owned by the caller in *out (free with
 * collect_destroy). 0 or -errno. */
int collect_create(const struct collect_opts *opts, struct collector **out);

/* Starts the collector thread. 0 or -errno. */
int collect_start(struct collector *c);

/* Tells the collector how a reaped process ended (status as from
 * waitpid). Any thread. Cannot fail (a full table drops the oldest). */
void collect_note_exit(struct collector *c, pid_t pid, int status);

/* Every process of the session is gone: does a last scan and drain, ends
 * every remaining process image, stops and joins the thread. Returns the
 * first trace write error the thread saw, or 0. */
int collect_finish(struct collector *c);

/* Totals for MT_REC_STATS (valid after collect_finish). */
uint64_t collect_bytes_drained(const struct collector *c);
uint64_t collect_n_processes(const struct collector *c);

/* Frees c (after collect_finish, or if never started). Cannot fail. */
void collect_destroy(struct collector *c);

#endif /* MEMTRACE_COLLECT_H */
