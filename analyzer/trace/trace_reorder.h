/*
 * trace_reorder.h — restores each process image's seq order (private to analyzer/trace)
 *
 * trace_read.c unpacks each block into a refcounted chunk taken from the
 * stage's pool, validates it, splits it into runs of increasing seq and
 * pushes them; the stage merges each (pid, gen) stream's open runs by seq,
 * straight out of the chunks (no copy), and hands collector records out
 * where they were in the file. See trace_reorder.c for the merge and its
 * bounds; docs/trace-format.md "Ordering" for the rules.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMTRACE_TRACE_REORDER_H
#define MEMTRACE_TRACE_REORDER_H

#include <stddef.h>
#include <stdint.h>

#include "trace/trace.h"

struct trace_reorder;

/* Plain records the reader unpacked or decompressed, in data[0, len).
 * refs counts the reader's hold on it plus one per unconsumed run pushed
 * from it; at 0 it goes back to the pool. Only while the reader holds the
 * sole reference may it realloc data (cap is its size). */
struct trace_chunk {
    uint8_t *data; /* owned by the chunk */
    size_t len, cap;
    uint32_t refs;
    size_t counted;           /* cap as counted in the stage's chunk bytes */
    struct trace_chunk *next; /* pool free list */
};

/* Returns a new, empty reorder stage owned by the caller (free with
 * trace_reorder_destroy), or NULL when out of memory. */
struct trace_reorder *trace_reorder_create(void);
/* Frees the stage, its streams and every chunk, held or pooled. */
void trace_reorder_destroy(struct trace_reorder *ro);

/* A chunk from the pool with at least min_cap bytes (len 0, refs 1: the
 * caller's), or NULL when out of memory. The caller drops its reference
 * with trace_reorder_chunk_put (NULL is ignored). */
struct trace_chunk *trace_reorder_chunk_get(struct trace_reorder *ro, size_t min_cap);
void trace_reorder_chunk_put(struct trace_reorder *ro, struct trace_chunk *c);

/* Pushes a run of preload records of (pid, gen) from block `ring` of chunk
 * c: [recs, recs + len) holds whole, validated records whose seqs strictly
 * increase, the first not MT_REC_PAD (later ones may be); last is the seq
 * of its last record. Takes a reference on c until the run is consumed,
 * and makes the stream the one trace_reorder_pop() releases from next.
 * Call only when pop has returned 0 (several runs of one stream may be
 * pushed in a row). 0, -ENOMEM, or MT_ECORRUPT (first seq below the
 * stream's next: a duplicate; detail in eb). */
int trace_reorder_push_run(struct trace_reorder *ro, uint32_t pid, uint32_t gen, uint32_t ring,
                           struct trace_chunk *c, const void *recs, size_t len, uint64_t last,
                           struct mt_errbuf *eb);

/* A collector record (not MT_REC_PAD), handed out by the next pop; rec must
 * stay valid until then. MT_REC_PROC_END first releases what its stream
 * still holds, in seq order, holes counted, and frees the stream. Call
 * only when pop has returned 0. */
void trace_reorder_push_collector(struct trace_reorder *ro, uint32_t pid, uint32_t gen,
                                  const struct mt_rec_hdr *rec);

/* End of file: pop releases what every stream still holds, in stream
 * creation order, each in seq order, holes counted. */
void trace_reorder_finish(struct trace_reorder *ro);

/* Next ready event: 1 and *ev filled, 0 if none is ready, MT_ECORRUPT
 * when a duplicate seq or an absurd seq jump shows up (detail in eb; the
 * stage may then only be destroyed). ev->rec stays valid until the next
 * call. */
int trace_reorder_pop(struct trace_reorder *ro, struct trace_event *ev, struct mt_errbuf *eb);

/* Seq numbers never seen in released streams, summed. */
uint64_t trace_reorder_holes(const struct trace_reorder *ro);

/* Bytes of chunks alive (held by the reader or by unconsumed runs), and
 * how many: what the merge costs in memory, for the bound and its tests. */
uint64_t trace_reorder_pending_bytes(const struct trace_reorder *ro);
size_t trace_reorder_chunks_alive(const struct trace_reorder *ro);

/* Test hook: the chunk bytes past which streams are forced forward
 * (default REORDER_MAX_PENDING, trace_reorder.c note 4). */
void trace_reorder_set_max_pending(struct trace_reorder *ro, uint64_t bytes);

#endif /* MEMTRACE_TRACE_REORDER_H */
