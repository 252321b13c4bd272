/*
 * trace_pack.h — the packed block encoding of trace version 2 (private to analyzer/trace)
 *
 * The writer (trace_write.c) packs every block's records before zstd sees
 * them; the reader (trace_read.c) unpacks each block of a decompressed
 * frame back into the plain records of version 1, so everything after the
 * reader is unchanged. Encoding and its rationale: docs/trace-format.md "Packed
 * blocks"; cost figures: docs/performance.md.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMTRACE_TRACE_PACK_H
#define MEMTRACE_TRACE_PACK_H

#include <stddef.h>
#include <stdint.h>

/* Bytes trace_pack_records() may write for len bytes of records, at most. */
static inline size_t trace_pack_bound(size_t len)
{
    return 2 * len + 32;
}

/* Packs len bytes of records (any bytes: what does not parse as records is
 * stored raw) into out, which holds trace_pack_bound(len) bytes. Returns
 * the bytes written. Cannot fail. */
size_t trace_pack_records(const void *records, size_t len, uint8_t *out);

/* Unpacks the records of one packed block (what follows its struct
 * mt_block_hdr): len plain bytes into out, reading from *p (< end) and
 * moving *p past them. 0 or MT_ECORRUPT. */
int trace_unpack_block(const uint8_t **p, const uint8_t *end, uint8_t *out, size_t len);

/* Unpacks a frame of packed blocks (in, in_len) into plain blocks at
 * *out (owned by the caller, realloc'ed as needed, *cap its size; at most
 * max_out bytes). Sets *out_len. 0, -ENOMEM, or MT_ECORRUPT. */
int trace_unpack_frame(const uint8_t *in, size_t in_len, uint8_t **out, size_t *cap,
                       size_t *out_len, size_t max_out);

#endif /* MEMTRACE_TRACE_PACK_H */
