/*
 * trace.h — reading and writing trace files (analyzer side)
 *
 * The collector writes with trace_writer_*; dump, analyze and every later
 * stage read with trace_reader_*. The reader restores each process image's
 * exact event order (records sorted by their dense seq per (pid, gen)) by
 * merging the rings' runs in place, so its memory is bounded by how far out
 * of order the file is and does not grow with the trace length.
 * File layout: docs/trace-format.md and include/memtrace/trace_format.h.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMTRACE_TRACE_H
#define MEMTRACE_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "cli/cli.h"
#include "memtrace/trace_format.h"

/* ---------------------------------------------------------------- writer */

struct trace_writer;

/* Creates path (truncating), writes hdr, returns a new writer owned by the
 * caller in *out. 0 or -errno. */
int trace_writer_open(const char *path, const struct mt_file_hdr *hdr,
                      struct trace_writer **out);

/* Appends one block (records of one ring of one process image, whole
 * records only). Buffers; compresses a frame when enough is buffered.
 * 0, -errno or MT_EZSTD. */
int trace_writer_block(struct trace_writer *w, uint32_t pid, uint32_t gen, uint32_t ring,
                       const void *records, size_t len);

/* Ends the current frame so that everything so far survives a crash of
 * the writer. 0, -errno or MT_EZSTD. */
int trace_writer_flush(struct trace_writer *w);

/* Flushes, closes the file and frees w. Returns the first error seen. */
int trace_writer_close(struct trace_writer *w);

/* ---------------------------------------------------------------- reader */

struct trace_reader;

/* One record as the reader hands it out. rec points into the reader's
 * memory and stays valid until the next trace_reader_next(). */
struct trace_event {
    uint32_t pid;
    uint32_t gen;
    uint32_t ring;                 /* MT_RING_COLLECTOR for collector records */
    const struct mt_rec_hdr *rec;  /* borrowed, see above */
};

/* Opens path and checks its header. On failure returns MT_EBADMAGIC,
 * MT_EVERSION, MT_ETRUNC or -errno and describes it in eb. */
int trace_reader_open(const char *path, struct trace_reader **out, struct mt_errbuf *eb);

/* Next record: 1 and *ev filled, 0 at the end, negative on a corrupt file
 * (eb says where). Order: within one (pid, gen) by seq; collector records
 * and different processes in file order. MT_REC_PAD is never returned. A
 * file cut short ends at its last complete frame: 0, and
 * trace_reader_truncated() says so. */
int trace_reader_next(struct trace_reader *r, struct trace_event *ev, struct mt_errbuf *eb);

const struct mt_file_hdr *trace_reader_header(const struct trace_reader *r);

/* Alternative to trace_reader_next() (never mix the two on one reader):
 * the next block as it is in the file, unordered and unvalidated, for a
 * consumer that restores order itself (analyzer/live replays a trace
 * being written into its live reorder window). 1 and the block's
 * (pid, gen, ring) and records filled (*records borrowed until the next
 * call), 0 at the end (a frame cut short ends the file, as for
 * trace_reader_next), negative on a corrupt frame or block header. */
int trace_reader_next_block(struct trace_reader *r, uint32_t *pid, uint32_t *gen,
                            uint32_t *ring, const void **records, size_t *len,
                            struct mt_errbuf *eb);

/* After the end: 1 if the file ended inside a frame, with the offset of
 * the first byte that could not be used in *off. */
int trace_reader_truncated(const struct trace_reader *r, uint64_t *off);

/* After the end: seq numbers missing at the end of streams (process killed
 * mid-record), summed over all streams. */
uint64_t trace_reader_seq_holes(const struct trace_reader *r);

/* Closes and frees r. Cannot fail. */
void trace_reader_close(struct trace_reader *r);

/* Name of a record kind / family / api for text output ("alloc", "new[]",
 * "posix_memalign"); "?" for unknown values. */
const char *trace_kind_name(unsigned kind);
const char *trace_family_name(unsigned family);
const char *trace_api_name(unsigned api);

/* Checks that a record's length fits its kind and its trailing arrays.
 * 0 or MT_ECORRUPT. Readers call it before trusting any field. */
int trace_rec_validate(const struct mt_rec_hdr *rec, size_t avail);

#endif /* MEMTRACE_TRACE_H */
