/*
 * trace_read.c — the streaming trace reader: frames, blocks, records, in order
 *
 * Reads the file header, then decompresses one zstd frame at a time into a
 * buffer (streaming, so a frame's compressed bytes need not all be in
 * memory), walks its blocks and records, validates each one with
 * trace_rec_validate(), and feeds them to the reorder stage, which hands
 * them out in each stream's seq order. Memory: one input buffer, one frame,
 * the reorder window; nothing grows with the file's length.
 *
 * Design notes
 *   1. A file that ends inside a frame (or inside the first bytes of one)
 *      is truncated, not corrupt: everything before that frame is returned,
 *      then end of file, and trace_reader_truncated() gives the offset of
 *      the first unusable byte (the start of that frame).
 *   2. Anything else that does not check out — zstd error or checksum
 *      mismatch, a frame that is not whole blocks, a bad block header, a
 *      record failing validation, a record kind in the wrong kind of block —
 *      is an error: trace_reader_next() returns it and keeps returning it.
 *
 * Contract: docs/trace-format.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include "trace/trace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "memtrace/error.h"
#include "trace/trace_pack.h"
#include "trace/trace_reorder.h"

/* Input read size: 1 MiB keeps read(2) calls rare and zstd busy. */
#define READ_IN_BYTES (1u << 20)
/* First frame buffer: the writer's frames hold ~2 MiB of blocks. */
#define READ_FRAME_INIT (4u << 20)
/* A frame may hold one block as large as a whole ring (MT_ENV_RING_BYTES can
 * raise it); beyond 1 GiB it is a forged size, not a ring. */
#define READ_FRAME_MAX (1ull << 30)

struct trace_reader {
    int fd;                  /* owned */
    struct mt_file_hdr hdr;  /* as read, checked */
    ZSTD_DCtx *dctx;         /* owned */
    char *in;                /* owned: compressed input window */
    size_t in_len, in_pos;   /* bytes in `in`, bytes consumed */
    uint64_t in_off;         /* file offset of in[0] */
    bool in_eof;             /* read(2) returned 0 */
    char *frame;             /* owned: decompressed blocks of the frame */
    size_t frame_len, frame_cap, frame_pos;
    uint8_t *plain;          /* owned: version 2, the frame unpacked; swapped with frame */
    size_t plain_cap;
    size_t blk_pos, blk_end; /* records of the current block: [blk_pos, blk_end) */
    uint32_t blk_pid, blk_gen, blk_ring;
    struct trace_reorder *ro; /* owned */
    bool done;               /* no more input to parse */
    int err;                 /* sticky error, 0 if none */
    bool truncated;
    uint64_t trunc_off;      /* first unusable byte when truncated */
};

/* ------------------------------------------------------------ input */

/* Reads up to n bytes at the current position. Bytes read or -errno. */
static ssize_t read_some(int fd, void *buf, size_t n)
{
    for (;;) {
        ssize_t got = read(fd, buf, n);
        if (got >= 0 || errno != EINTR) return got < 0 ? -errno : got;
    }
}

/* Refills the input window once it is used up. 0 or -errno. */
static int read_refill(struct trace_reader *r)
{
    r->in_off += r->in_len;
    r->in_pos = r->in_len = 0;
    ssize_t got = read_some(r->fd, r->in, READ_IN_BYTES);
    if (got < 0) return (int)got;
    if (got == 0) r->in_eof = true;
    r->in_len = (size_t)got;
    return 0;
}

/* Reads the file header and checks it (open's error contract). */
static int read_header(struct trace_reader *r, struct mt_errbuf *eb)
{
    size_t got = 0;
    while (got < sizeof r->hdr) {
        ssize_t n = read_some(r->fd, (char *)&r->hdr + got, sizeof r->hdr - got);
        if (n < 0) {
            mt_errbuf_set(eb, "%s", mt_strerror((int)n));
            return (int)n;
        }
        if (n == 0) break;
        got += (size_t)n;
    }
    size_t cmp = got < 8 ? got : 8;
    if (got == 0 || memcmp(r->hdr.magic, MT_FILE_MAGIC, cmp) != 0) {
        int rc = got == 0 ? MT_ETRUNC : MT_EBADMAGIC;
        mt_errbuf_set(eb, "%s", got == 0 ? "empty file" : mt_strerror(MT_EBADMAGIC));
        return rc;
    }
    if (got < sizeof r->hdr) {
        mt_errbuf_set(eb, "file is truncated inside its %zu-byte header", sizeof r->hdr);
        return MT_ETRUNC;
    }
    if (r->hdr.version != MT_TRACE_VERSION && r->hdr.version != MT_TRACE_VERSION_PLAIN) {
        mt_errbuf_set(eb, "%s %u (this memtrace reads version %u)", mt_strerror(MT_EVERSION),
                      r->hdr.version, MT_TRACE_VERSION);
        return MT_EVERSION;
    }
    if (r->hdr.hdr_size != sizeof r->hdr) {
        mt_errbuf_set(eb, "file header size %u, expected %zu", r->hdr.hdr_size, sizeof r->hdr);
        return MT_ECORRUPT;
    }
    r->in_off = sizeof r->hdr;
    return 0;
}

/* ------------------------------------------------------------ frames */

/* Makes room in the frame buffer while decoding. 0, -ENOMEM, MT_ECORRUPT. */
static int read_frame_grow(struct trace_reader *r, struct mt_errbuf *eb, uint64_t frame_off)
{
    size_t n = r->frame_cap ? r->frame_cap * 2 : READ_FRAME_INIT;
    if (n > READ_FRAME_MAX) {
        mt_errbuf_set(eb, "frame at byte %llu decompresses to more than %llu bytes",
                      (unsigned long long)frame_off, (unsigned long long)READ_FRAME_MAX);
        return MT_ECORRUPT;
    }
    char *nb = realloc(r->frame, n);
    if (!nb) return -ENOMEM;
    r->frame = nb;
    r->frame_cap = n;
    return 0;
}

/* Version 2: replaces the packed frame by its plain blocks (trace_pack.c),
 * swapping the two buffers. 1, or negative on error. */
static int read_unpack(struct trace_reader *r, struct mt_errbuf *eb, uint64_t frame_off)
{
    if (r->hdr.version == MT_TRACE_VERSION_PLAIN) return 1;
    size_t n = 0;
    int rc = trace_unpack_frame((const uint8_t *)r->frame, r->frame_len, &r->plain,
                                &r->plain_cap, &n, READ_FRAME_MAX);
    if (rc) {
        mt_errbuf_set(eb, "frame at byte %llu: %s", (unsigned long long)frame_off,
                      rc == MT_ECORRUPT ? "bad packed block" : mt_strerror(rc));
        return rc;
    }
    uint8_t *packed = (uint8_t *)r->frame;
    size_t packed_cap = r->frame_cap;
    r->frame = (char *)r->plain;
    r->frame_cap = r->plain_cap;
    r->frame_len = n;
    r->plain = packed;
    r->plain_cap = packed_cap;
    return 1;
}

/* Decodes the next frame into r->frame. 1 when a frame was read, 0 at the
 * end of the file (truncation noted, design note 1), negative on error. */
static int read_frame(struct trace_reader *r, struct mt_errbuf *eb)
{
    uint64_t frame_off = r->in_off + r->in_pos;
    ZSTD_DCtx_reset(r->dctx, ZSTD_reset_session_only);
    r->frame_len = r->frame_pos = 0;
    for (;;) {
        if (r->in_pos == r->in_len) {
            int rc = r->in_eof ? 0 : read_refill(r);
            if (rc) {
                mt_errbuf_set(eb, "read: %s", mt_strerror(rc));
                return rc;
            }
            if (r->in_len == 0) { /* end of file */
                if (r->in_off > frame_off) {
                    r->truncated = true;
                    r->trunc_off = frame_off;
                }
                return 0;
            }
        }
        if (r->frame_len == r->frame_cap) {
            int rc = read_frame_grow(r, eb, frame_off);
            if (rc) return rc;
        }
        ZSTD_inBuffer ib = {r->in, r->in_len, r->in_pos};
        ZSTD_outBuffer ob = {r->frame, r->frame_cap, r->frame_len};
        size_t ret = ZSTD_decompressStream(r->dctx, &ob, &ib);
        r->in_pos = ib.pos;
        r->frame_len = ob.pos;
        if (ZSTD_isError(ret)) {
            mt_errbuf_set(eb, "frame at byte %llu: zstd: %s", (unsigned long long)frame_off,
                          ZSTD_getErrorName(ret));
            return MT_EZSTD;
        }
        if (ret == 0) return read_unpack(r, eb, frame_off);
    }
}

/* ------------------------------------------------------------ blocks */

/* Starts the next block of the frame. 0 or MT_ECORRUPT. */
static int read_block(struct trace_reader *r, struct mt_errbuf *eb)
{
    size_t left = r->frame_len - r->frame_pos;
    struct mt_block_hdr bh;
    if (left < sizeof bh) {
        mt_errbuf_set(eb, "frame ends inside a block header");
        return MT_ECORRUPT;
    }
    memcpy(&bh, r->frame + r->frame_pos, sizeof bh);
    if (bh.magic != MT_BLOCK_MAGIC || bh.len % MT_REC_ALIGN || bh.len > left - sizeof bh) {
        mt_errbuf_set(eb, "bad block header (magic 0x%08x, length %llu, %zu bytes left)",
                      bh.magic, (unsigned long long)bh.len, left - sizeof bh);
        return MT_ECORRUPT;
    }
    r->blk_pos = r->frame_pos + sizeof bh;
    r->blk_end = r->blk_pos + bh.len;
    r->blk_pid = bh.pid;
    r->blk_gen = bh.gen;
    r->blk_ring = bh.ring;
    r->frame_pos = r->blk_end;
    return 0;
}

/* Validates the record at blk_pos and feeds it to the reorder stage. */
static int read_record(struct trace_reader *r, struct mt_errbuf *eb)
{
    const struct mt_rec_hdr *rec = (const void *)(r->frame + r->blk_pos);
    size_t avail = r->blk_end - r->blk_pos;
    if (trace_rec_validate(rec, avail) != 0) {
        mt_errbuf_set(eb, "invalid record (kind %u, length %u) in a block of pid %u",
                      avail >= sizeof *rec ? rec->kind : 0u, avail >= sizeof *rec ? rec->len : 0u,
                      r->blk_pid);
        return MT_ECORRUPT;
    }
    r->blk_pos += rec->len;
    if (rec->kind == MT_REC_PAD) return 0;
    bool collector_kind = rec->kind >= MT_REC_SESSION;
    if (collector_kind != (r->blk_ring == MT_RING_COLLECTOR)) {
        mt_errbuf_set(eb, "%s record in a %s block of pid %u", trace_kind_name(rec->kind),
                      collector_kind ? "ring" : "collector", r->blk_pid);
        return MT_ECORRUPT;
    }
    return trace_reorder_push(r->ro, r->blk_pid, r->blk_gen, r->blk_ring, rec, eb);
}

/* Parses one step of input: a record, a block header or a frame. */
static int read_step(struct trace_reader *r, struct mt_errbuf *eb)
{
    if (r->blk_pos < r->blk_end) return read_record(r, eb);
    if (r->frame_pos < r->frame_len) return read_block(r, eb);
    int rc = read_frame(r, eb);
    if (rc > 0) return 0;
    if (rc < 0) return rc;
    r->done = true;
    return trace_reorder_finish(r->ro);
}

/* ------------------------------------------------------------ exported */

int trace_reader_open(const char *path, struct trace_reader **out, struct mt_errbuf *eb)
{
    struct trace_reader *r = calloc(1, sizeof *r);
    if (!r) return -ENOMEM;
    int rc = -ENOMEM;
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
        rc = -errno;
        mt_errbuf_set(eb, "%s", mt_strerror(rc));
        goto fail_open;
    }
    rc = read_header(r, eb);
    if (rc) goto fail_header;
    rc = -ENOMEM;
    r->dctx = ZSTD_createDCtx();
    r->in = malloc(READ_IN_BYTES);
    r->ro = trace_reorder_create();
    if (!r->dctx || !r->in || !r->ro) {
        mt_errbuf_set(eb, "%s", mt_strerror(rc));
        goto fail_alloc;
    }
    *out = r;
    return 0;

fail_alloc:
    trace_reorder_destroy(r->ro);
    free(r->in);
    ZSTD_freeDCtx(r->dctx);
fail_header:
    close(r->fd);
fail_open:
    free(r);
    return rc;
}

int trace_reader_next(struct trace_reader *r, struct trace_event *ev, struct mt_errbuf *eb)
{
    for (;;) {
        if (r->err) return r->err;
        if (trace_reorder_pop(r->ro, ev)) return 1;
        if (r->done) return 0;
        int rc = read_step(r, eb);
        if (rc) r->err = rc;
    }
}

int trace_reader_next_block(struct trace_reader *r, uint32_t *pid, uint32_t *gen,
                            uint32_t *ring, const void **records, size_t *len,
                            struct mt_errbuf *eb)
{
    while (!r->err && !r->done) {
        if (r->frame_pos < r->frame_len) {
            r->err = read_block(r, eb);
            if (r->err) break;
            *pid = r->blk_pid, *gen = r->blk_gen, *ring = r->blk_ring;
            *records = r->frame + r->blk_pos;
            *len = r->blk_end - r->blk_pos;
            r->blk_pos = r->blk_end; /* the caller walks the records */
            return 1;
        }
        int rc = read_frame(r, eb);
        if (rc < 0) r->err = rc;
        else if (rc == 0) r->done = true;
    }
    return r->err;
}

const struct mt_file_hdr *trace_reader_header(const struct trace_reader *r)
{
    return &r->hdr;
}

int trace_reader_truncated(const struct trace_reader *r, uint64_t *off)
{
    if (r->truncated && off) *off = r->trunc_off;
    return r->truncated ? 1 : 0;
}

uint64_t trace_reader_seq_holes(const struct trace_reader *r)
{
    return trace_reorder_holes(r->ro);
}

void trace_reader_close(struct trace_reader *r)
{
    if (!r) return;
    trace_reorder_destroy(r->ro);
    free(r->in);
    free(r->frame);
    free(r->plain);
    ZSTD_freeDCtx(r->dctx);
    close(r->fd);
    free(r);
}
