/*
 * trace_reorder.h — restores each process image's seq order (private to analyzer/trace)
 *
 * trace_read.c feeds every validated record in file order; the reorder
 * stage hands them back with each (pid, gen) stream in dense seq order and
 * collector records where they were in the file. See trace_reorder.c for
 * the window and its bounds; docs/trace-format.md "Ordering" for the rules.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMTRACE_TRACE_REORDER_H
#define MEMTRACE_TRACE_REORDER_H

#include <stdint.h>

#include "trace/trace.h"

struct trace_reorder;

/* Returns a new, empty reorder stage owned by the caller (free with
 * trace_reorder_destroy), or NULL when out of memory. */
struct trace_reorder *trace_reorder_create(void);
void trace_reorder_destroy(struct trace_reorder *ro);

/* Feeds one validated record (not MT_REC_PAD) of a block. rec is borrowed:
 * it must stay valid until trace_reorder_pop() has returned every event
 * that is ready after this call; records held back are copied. A
 * collector MT_REC_PROC_END ends its stream: what the stream still holds is
 * released first, in seq order, holes counted. 0, -ENOMEM, or MT_ECORRUPT
 * (duplicate seq, absurd seq jump; detail in eb). */
int trace_reorder_push(struct trace_reorder *ro, uint32_t pid, uint32_t gen, uint32_t ring,
                       const struct mt_rec_hdr *rec, struct mt_errbuf *eb);

/* Releases what every stream still holds (end of file), in stream
 * creation order, each in seq order. 0 or -ENOMEM. */
int trace_reorder_finish(struct trace_reorder *ro);

/* Next ready event: 1 and *ev filled, 0 if none is ready. ev->rec stays
 * valid until the next call. */
int trace_reorder_pop(struct trace_reorder *ro, struct trace_event *ev);

/* Seq numbers never seen in released streams, summed. */
uint64_t trace_reorder_holes(const struct trace_reorder *ro);

/* Bytes of records currently held back (for tests of the memory bound). */
uint64_t trace_reorder_pending_bytes(const struct trace_reorder *ro);

#endif /* MEMTRACE_TRACE_REORDER_H */
