/*
 * trace_pack.c — packed blocks: records as varint deltas before zstd (trace version 2)
 *
 * The collector's cost is dominated by zstd, and zstd's speed is a matter
 * of input bytes: ~500 MB/s on ring records at any level worth using. A
 * 64-byte ALLOC differs from the previous ALLOC of its ring in a few low
 * bytes (seq, time, address, size), so writing each 8-byte word as the
 * varint of its difference from the same word of the previous record of
 * the same kind and length shrinks a typical alloc + free pair from 112
 * to ~25 bytes before zstd, which then has a quarter of the work. The
 * encoding is generic (no per-kind schema), so new kinds need nothing.
 * Contract: docs/trace-format.md "Packed blocks".
 *
 * Design notes
 *   1. A block is its struct mt_block_hdr as is (len = the plain record
 *      bytes), then packed records until len plain bytes are produced.
 *   2. A packed record is varint(kind * 2 + same), then, unless same (flags
 *      and len equal those of the previous record of that kind in the
 *      block), varint(flags) and varint(len / 8); then each 8-byte word
 *      after the header: zigzag varint of (word - the same word of the
 *      previous record of that kind) when there is one of the same len in
 *      this block, else varint(word). MT_REC_PAD carries no words (its
 *      filler reads back as zeros) and is nobody's previous record.
 *   3. Bytes that do not parse as records (a length that is not a multiple
 *      of 8, below 8, or past the block) are stored raw after the escape
 *      varint(PACK_RAW), up to the end of the block: the reader then
 *      reports them as it would have in version 1.
 *   4. State never crosses a block, so frames stay independent.
 *
 * SPDX-License-Identifier: MIT
 */
#include "trace/trace_pack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memtrace/error.h"
#include "memtrace/trace_format.h"

#define PACK_KINDS 64u      /* kinds that get a previous record; all real ones */
#define PACK_RAW (1u << 17) /* escape: above any kind * 2 + 1 (kind is 16 bits) */
#define PACK_VARINT_MAX 10u /* bytes of a 64-bit LEB128 */
#define PACK_PREFETCH 512u  /* bytes ahead: ~8 records, a few misses' latency */

/* The previous record of one kind in this block. */
struct pack_prev {
    size_t off;   /* its offset in the plain records */
    uint32_t len; /* its len, 0 = none yet */
    uint16_t flags;
};

/* ------------------------------------------------------------ varints */

static inline uint8_t *pack_put(uint8_t *o, uint64_t v)
{
    while (v >= 0x80) {
        *o++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *o++ = (uint8_t)v;
    return o;
}

static inline uint64_t pack_zigzag(uint64_t d)
{
    return (d << 1) ^ (uint64_t)((int64_t)d >> 63);
}

static inline uint64_t pack_unzigzag(uint64_t z)
{
    return (z >> 1) ^ (0 - (z & 1));
}

/* Reads a varint at *p (< end). 0, or -1 when it runs past end or over
 * 64 bits. Most words are small deltas: one byte, tested first. */
static inline int pack_get(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    const uint8_t *q = *p;
    if (q < end && !(*q & 0x80)) {
        *v = *q;
        *p = q + 1;
        return 0;
    }
    uint64_t x = 0;
    for (unsigned shift = 0; shift < 7 * PACK_VARINT_MAX; shift += 7) {
        if (q == end) return -1;
        uint8_t b = *q++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            *p = q;
            return 0;
        }
    }
    return -1;
}

/* ------------------------------------------------------------ packing */

/* Packs the words of one record (design note 2). */
static uint8_t *pack_words(const uint8_t *rec, const uint8_t *prev, uint32_t len, uint8_t *o)
{
    for (uint32_t i = 8; i < len; i += 8) {
        uint64_t w;
        memcpy(&w, rec + i, 8);
        if (prev) {
            uint64_t pw;
            memcpy(&pw, prev + i, 8);
            o = pack_put(o, pack_zigzag(w - pw));
        } else {
            o = pack_put(o, w);
        }
    }
    return o;
}

size_t trace_pack_records(const void *records, size_t len, uint8_t *out)
{
    const uint8_t *in = records;
    struct pack_prev prev[PACK_KINDS] = {{0}};
    uint8_t *o = out;
    size_t pos = 0;
    while (pos < len) {
        struct mt_rec_hdr h;
        /* the ring lines are still in the producers' caches: ask early */
        __builtin_prefetch(in + pos + PACK_PREFETCH);
        if (len - pos < sizeof h) goto raw;
        memcpy(&h, in + pos, sizeof h);
        if (h.len < sizeof h || h.len % MT_REC_ALIGN || h.len > len - pos) goto raw;
        struct pack_prev *pv = h.kind < PACK_KINDS ? &prev[h.kind] : NULL;
        int same = pv && pv->len == h.len && pv->flags == h.flags;
        o = pack_put(o, (uint64_t)h.kind * 2 + (uint64_t)same);
        if (!same) {
            o = pack_put(o, h.flags);
            o = pack_put(o, h.len / 8);
        }
        if (h.kind != MT_REC_PAD) {
            const uint8_t *p = pv && pv->len == h.len ? in + pv->off : NULL;
            o = pack_words(in + pos, p, h.len, o);
            if (pv) *pv = (struct pack_prev){.off = pos, .len = h.len, .flags = h.flags};
        }
        pos += h.len;
    }
    return (size_t)(o - out);
raw: /* design note 3 */
    o = pack_put(o, PACK_RAW);
    memcpy(o, in + pos, len - pos);
    return (size_t)(o - out) + (len - pos);
}

/* ------------------------------------------------------------ unpacking */

/* Unpacks one record's words at out + pos. 0 or -1. */
static int unpack_words(const uint8_t **p, const uint8_t *end, uint8_t *out, size_t pos,
                        const struct pack_prev *pv, uint32_t len)
{
    const uint8_t *prev = pv && pv->len == len ? out + pv->off : NULL;
    for (uint32_t i = 8; i < len; i += 8) {
        uint64_t v;
        if (pack_get(p, end, &v)) return -1;
        if (prev) {
            uint64_t pw;
            memcpy(&pw, prev + i, 8);
            v = pw + pack_unzigzag(v);
        }
        memcpy(out + pos + i, &v, 8);
    }
    return 0;
}

/* Unpacks the records of one block: len plain bytes into out (room for
 * them guaranteed). 0 or -1. */
static int unpack_block(const uint8_t **p, const uint8_t *end, uint8_t *out, size_t len)
{
    struct pack_prev prev[PACK_KINDS] = {{0}};
    size_t pos = 0;
    while (pos < len) {
        uint64_t v, flags, len8;
        if (pack_get(p, end, &v)) return -1;
        if (v == PACK_RAW) {
            if ((size_t)(end - *p) < len - pos) return -1;
            memcpy(out + pos, *p, len - pos);
            *p += len - pos;
            return 0;
        }
        uint64_t kind = v >> 1;
        if (kind > UINT16_MAX) return -1;
        struct pack_prev *pv = kind < PACK_KINDS ? &prev[kind] : NULL;
        if (v & 1) {
            if (!pv || pv->len == 0) return -1;
            flags = pv->flags;
            len8 = pv->len / 8;
        } else if (pack_get(p, end, &flags) || pack_get(p, end, &len8) || flags > UINT16_MAX) {
            return -1;
        }
        if (len8 == 0 || len8 > (len - pos) / 8) return -1;
        struct mt_rec_hdr h = {
            .kind = (uint16_t)kind, .flags = (uint16_t)flags, .len = (uint32_t)(len8 * 8)};
        memcpy(out + pos, &h, sizeof h);
        if (kind == MT_REC_PAD) {
            memset(out + pos + sizeof h, 0, h.len - sizeof h);
        } else {
            if (unpack_words(p, end, out, pos, pv, h.len)) return -1;
            if (pv) *pv = (struct pack_prev){.off = pos, .len = h.len, .flags = h.flags};
        }
        pos += h.len;
    }
    return 0;
}

int trace_unpack_block(const uint8_t **p, const uint8_t *end, uint8_t *out, size_t len)
{
    return unpack_block(p, end, out, len) ? MT_ECORRUPT : 0;
}

/* Grows *out to at least need bytes (max_out at most). 0, -ENOMEM, -1. */
static int unpack_reserve(uint8_t **out, size_t *cap, size_t need, size_t max_out)
{
    if (need <= *cap) return 0;
    if (need > max_out) return -1;
    size_t n = *cap ? *cap : (1u << 20);
    while (n < need) n *= 2;
    if (n > max_out) n = max_out;
    uint8_t *nb = realloc(*out, n);
    if (!nb) return -ENOMEM;
    *out = nb;
    *cap = n;
    return 0;
}

int trace_unpack_frame(const uint8_t *in, size_t in_len, uint8_t **out, size_t *cap,
                       size_t *out_len, size_t max_out)
{
    const uint8_t *p = in, *end = in + in_len;
    size_t n = 0;
    while (p < end) {
        struct mt_block_hdr bh;
        if ((size_t)(end - p) < sizeof bh) return MT_ECORRUPT;
        memcpy(&bh, p, sizeof bh);
        p += sizeof bh;
        if (bh.magic != MT_BLOCK_MAGIC || bh.len % MT_REC_ALIGN || bh.len > max_out)
            return MT_ECORRUPT;
        int rc = unpack_reserve(out, cap, n + sizeof bh + bh.len, max_out);
        if (rc) return rc < -1 ? rc : MT_ECORRUPT;
        memcpy(*out + n, &bh, sizeof bh);
        n += sizeof bh;
        if (trace_unpack_block(&p, end, *out + n, bh.len)) return MT_ECORRUPT;
        n += bh.len;
    }
    *out_len = n;
    return 0;
}
