/*
 * trace_read.c — the streaming trace reader: frames, blocks, records, in order
 *
 * Reads the file header, then decompresses one zstd frame at a time
 * (streaming, so a frame's compressed bytes need not all be in memory) and
 * walks its blocks. Version 2 blocks are unpacked one by one into a
 * refcounted chunk from the reorder stage's pool; version 1 frames are
 * decompressed straight into one. Each block is validated whole, record by
 * record with trace_rec_validate(), while it is still in cache, then handed
 * to the reorder stage: a ring block as runs of increasing seq that stay in
 * their chunk until merged out, a collector block one record at a time.
 * Memory: one input buffer, one packed frame, the chunks the reorder still
 * merges from; nothing grows with the file's length.
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
 *      A ring block is checked whole before any of its records comes out.
 *   3. The preload takes a seq only inside its ring's single writer, so a
 *      ring block's seqs increase; a block where they do not (a forged
 *      file) is cut into several runs there, which the merge handles as
 *      runs from different rings.
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
/* First frame buffer: the writer's frames hold ~1 MiB of packed blocks
 * (~4 MiB of records). */
#define READ_FRAME_INIT (4u << 20)
/* A frame may hold one block as large as a whole ring (MT_ENV_RING_BYTES can
 * raise it); beyond 1 GiB it is a forged size, not a ring. */
#define READ_FRAME_MAX (1ull << 30)
/* Chunks that version 2 blocks are unpacked into: a few blocks of a
 * default 1 MiB ring each, small enough that the merge frees them soon. */
#define READ_CHUNK (2u << 20)

struct trace_reader {
    int fd;                 /* owned */
    struct mt_file_hdr hdr; /* as read, checked */
    bool packed_blocks;     /* version 2 */
    ZSTD_DCtx *dctx;        /* owned */
    char *in;               /* owned: compressed input window */
    size_t in_len, in_pos;  /* bytes in `in`, bytes consumed */
    uint64_t in_off;        /* file offset of in[0] */
    bool in_eof;            /* read(2) returned 0 */
    uint8_t *packed;        /* owned: version 2, the frame as zstd gives it */
    size_t packed_cap;
    const uint8_t *frame;        /* blocks of the frame: packed, or cur's data */
    size_t frame_len, frame_pos; /* its bytes, next block header */
    uint64_t frame_off;          /* file offset of the frame, for messages */
    struct trace_chunk *cur;     /* the reader's reference: chunk being filled */
    size_t blk_pos, blk_end;     /* collector block being walked: [blk_pos, blk_end) of cur */
    uint32_t blk_pid, blk_gen;
    struct trace_reorder *ro; /* owned */
    bool done;                /* no more input to parse */
    int err;                  /* sticky error, 0 if none */
    bool truncated;
    uint64_t trunc_off; /* first unusable byte when truncated */
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

/* Makes room in a decode buffer. 0, -ENOMEM, MT_ECORRUPT. */
static int read_frame_grow(uint8_t **buf, size_t *cap, struct mt_errbuf *eb, uint64_t frame_off)
{
    size_t n = *cap ? *cap * 2 : READ_FRAME_INIT;
    if (n > READ_FRAME_MAX) {
        mt_errbuf_set(eb, "frame at byte %llu decompresses to more than %llu bytes",
                      (unsigned long long)frame_off, (unsigned long long)READ_FRAME_MAX);
        return MT_ECORRUPT;
    }
    uint8_t *nb = realloc(*buf, n);
    if (!nb) return -ENOMEM;
    *buf = nb;
    *cap = n;
    return 0;
}

/* Replaces cur by a fresh chunk of at least min_cap bytes. 0 or -ENOMEM. */
static int read_new_chunk(struct trace_reader *r, size_t min_cap, struct mt_errbuf *eb)
{
    trace_reorder_chunk_put(r->ro, r->cur);
    if ((r->cur = trace_reorder_chunk_get(r->ro, min_cap))) return 0;
    mt_errbuf_set(eb, "%s", mt_strerror(-ENOMEM));
    return -ENOMEM;
}

/* End of the file at frame_off: notes a truncation (design note 1). 0. */
static int read_eof(struct trace_reader *r)
{
    if (r->in_off > r->frame_off) {
        r->truncated = true;
        r->trunc_off = r->frame_off;
    }
    return 0;
}

/* Decodes the next frame: version 2 into r->packed, version 1 into a
 * chunk of its own. 1 when a frame was read, 0 at the end of the file,
 * negative on error. */
static int read_frame(struct trace_reader *r, struct mt_errbuf *eb)
{
    r->frame_off = r->in_off + r->in_pos;
    r->frame_len = r->frame_pos = 0;
    if (!r->packed_blocks && read_new_chunk(r, READ_FRAME_INIT, eb)) return -ENOMEM;
    uint8_t **buf = r->packed_blocks ? &r->packed : &r->cur->data;
    size_t *cap = r->packed_blocks ? &r->packed_cap : &r->cur->cap;
    size_t len = 0;
    ZSTD_DCtx_reset(r->dctx, ZSTD_reset_session_only);
    for (;;) {
        if (r->in_pos == r->in_len) {
            int rc = r->in_eof ? 0 : read_refill(r);
            if (rc) {
                mt_errbuf_set(eb, "read: %s", mt_strerror(rc));
                return rc;
            }
            if (r->in_len == 0) return read_eof(r);
        }
        if (len == *cap) {
            int rc = read_frame_grow(buf, cap, eb, r->frame_off);
            if (rc) return rc;
        }
        ZSTD_inBuffer ib = {r->in, r->in_len, r->in_pos};
        ZSTD_outBuffer ob = {*buf, *cap, len};
        size_t ret = ZSTD_decompressStream(r->dctx, &ob, &ib);
        r->in_pos = ib.pos;
        len = ob.pos;
        if (ZSTD_isError(ret)) {
            mt_errbuf_set(eb, "frame at byte %llu: zstd: %s", (unsigned long long)r->frame_off,
                          ZSTD_getErrorName(ret));
            return MT_EZSTD;
        }
        if (ret != 0) continue;
        r->frame = *buf;
        r->frame_len = len;
        if (!r->packed_blocks) r->cur->len = len;
        return 1;
    }
}

/* ------------------------------------------------------------ blocks */

/* Version 2: unpacks the block whose records start at frame_pos into cur
 * (a new chunk when they do not fit) and moves past it. 0 or negative. */
static int read_unpack(struct trace_reader *r, size_t len, const uint8_t **recs,
                       struct mt_errbuf *eb)
{
    struct trace_chunk *c = r->cur;
    if (!c || c->cap - c->len < len) {
        int rc = read_new_chunk(r, len > READ_CHUNK ? len : READ_CHUNK, eb);
        if (rc) return rc;
        c = r->cur;
    }
    const uint8_t *p = r->frame + r->frame_pos;
    uint8_t *out = c->data + c->len;
    if (trace_unpack_block(&p, r->frame + r->frame_len, out, len)) {
        mt_errbuf_set(eb, "frame at byte %llu: bad packed block", (unsigned long long)r->frame_off);
        return MT_ECORRUPT;
    }
    c->len += len;
    r->frame_pos = (size_t)(p - r->frame);
    *recs = out;
    return 0;
}

/* Parses the block header at frame_pos and moves past the block, which
 * it unpacks (version 2). Its records are *recs in cur, bh->len bytes.
 * 0 or negative. */
static int read_block_hdr(struct trace_reader *r, struct mt_block_hdr *bh, const uint8_t **recs,
                          struct mt_errbuf *eb)
{
    size_t left = r->frame_len - r->frame_pos;
    if (left < sizeof *bh) {
        mt_errbuf_set(eb, "frame ends inside a block header");
        return MT_ECORRUPT;
    }
    memcpy(bh, r->frame + r->frame_pos, sizeof *bh);
    left -= sizeof *bh;
    /* packed records take fewer bytes than they unpack to */
    size_t max = r->packed_blocks ? READ_FRAME_MAX : left;
    if (bh->magic != MT_BLOCK_MAGIC || bh->len % MT_REC_ALIGN || bh->len > max) {
        mt_errbuf_set(eb, "bad block header (magic 0x%08x, length %llu, %zu bytes left)", bh->magic,
                      (unsigned long long)bh->len, left);
        return MT_ECORRUPT;
    }
    r->frame_pos += sizeof *bh;
    if (r->packed_blocks) return read_unpack(r, (size_t)bh->len, recs, eb);
    *recs = r->frame + r->frame_pos;
    r->frame_pos += bh->len;
    return 0;
}

/* Validates the record at rec (avail bytes left in its block) and its
 * kind against the block's. 0 or MT_ECORRUPT. */
static int read_check(const struct mt_rec_hdr *rec, size_t avail, uint32_t pid, bool collector,
                      struct mt_errbuf *eb)
{
    if (trace_rec_validate(rec, avail) != 0) {
        mt_errbuf_set(eb, "invalid record (kind %u, length %u) in a block of pid %u",
                      avail >= sizeof *rec ? rec->kind : 0u, avail >= sizeof *rec ? rec->len : 0u,
                      pid);
        return MT_ECORRUPT;
    }
    if (rec->kind == MT_REC_PAD || (rec->kind >= MT_REC_SESSION) == collector) return 0;
    mt_errbuf_set(eb, "%s record in a %s block of pid %u", trace_kind_name(rec->kind),
                  collector ? "collector" : "ring", pid);
    return MT_ECORRUPT;
}

/* ALLOC and FREE are nearly every record of a ring block: accepted here on
 * the checks trace_rec_validate() makes of them (length, family, api),
 * without its two switches; anything else goes to read_check(). avail is
 * at least 8. */
static inline bool read_common_ok(const struct mt_rec_hdr *rec, size_t avail)
{
    if (rec->len > avail || rec->len % MT_REC_ALIGN) return false;
    if (rec->kind == MT_REC_ALLOC) {
        const struct mt_rec_alloc *a = (const void *)rec;
        return rec->len >= sizeof *a && a->family < MT_FAM_COUNT && a->api < MT_API_COUNT;
    }
    if (rec->kind == MT_REC_FREE) {
        const struct mt_rec_free *f = (const void *)rec;
        return rec->len >= sizeof *f && f->family < MT_FAM_COUNT && f->api < MT_API_COUNT;
    }
    return false;
}

/* Validates a ring block whole and pushes it as runs of increasing seq
 * (design notes 2, 3). */
static int read_ring_block(struct trace_reader *r, const struct mt_block_hdr *bh,
                           const uint8_t *recs, struct mt_errbuf *eb)
{
    const uint8_t *p = recs, *end = recs + bh->len, *run = NULL;
    uint64_t last = 0;
    while (p < end) {
        const struct mt_rec_hdr *rec = (const void *)p;
        int rc = 0;
        if (!read_common_ok(rec, (size_t)(end - p)))
            rc = read_check(rec, (size_t)(end - p), bh->pid, false, eb);
        if (rc) return rc;
        if (rec->kind != MT_REC_PAD) {
            uint64_t seq = ((const struct mt_rec_common *)(const void *)rec)->seq;
            if (run && seq <= last) {
                rc = trace_reorder_push_run(r->ro, bh->pid, bh->gen, bh->ring, r->cur, run,
                                            (size_t)(p - run), last, eb);
                if (rc) return rc;
                run = NULL;
            }
            if (!run) run = p;
            last = seq;
        }
        p += rec->len;
    }
    if (!run) return 0; /* only padding */
    return trace_reorder_push_run(r->ro, bh->pid, bh->gen, bh->ring, r->cur, run,
                                  (size_t)(end - run), last, eb);
}

/* Starts the next block of the frame: a ring block goes to the reorder
 * stage whole, a collector block is walked by read_collector(). */
static int read_block(struct trace_reader *r, struct mt_errbuf *eb)
{
    struct mt_block_hdr bh;
    const uint8_t *recs;
    int rc = read_block_hdr(r, &bh, &recs, eb);
    if (rc) return rc;
    if (bh.ring != MT_RING_COLLECTOR) return read_ring_block(r, &bh, recs, eb);
    r->blk_pos = (size_t)(recs - r->cur->data);
    r->blk_end = r->blk_pos + bh.len;
    r->blk_pid = bh.pid;
    r->blk_gen = bh.gen;
    return 0;
}

/* Validates the collector record at blk_pos and hands it to the reorder
 * stage, which returns it next (after its stream, for a PROC_END). */
static int read_collector(struct trace_reader *r, struct mt_errbuf *eb)
{
    const struct mt_rec_hdr *rec = (const void *)(r->cur->data + r->blk_pos);
    int rc = read_check(rec, r->blk_end - r->blk_pos, r->blk_pid, true, eb);
    if (rc) return rc;
    r->blk_pos += rec->len;
    if (rec->kind != MT_REC_PAD) trace_reorder_push_collector(r->ro, r->blk_pid, r->blk_gen, rec);
    return 0;
}

/* Parses one step of input: a collector record, a block or a frame. */
static int read_step(struct trace_reader *r, struct mt_errbuf *eb)
{
    if (r->blk_pos < r->blk_end) return read_collector(r, eb);
    if (r->frame_pos < r->frame_len) return read_block(r, eb);
    int rc = read_frame(r, eb);
    if (rc > 0) return 0;
    if (rc < 0) return rc;
    r->done = true;
    trace_reorder_finish(r->ro);
    return 0;
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
    r->packed_blocks = r->hdr.version != MT_TRACE_VERSION_PLAIN;
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
        int rc = trace_reorder_pop(r->ro, ev, eb);
        if (rc > 0) return 1;
        if (rc == 0 && r->done) return 0;
        if (rc == 0) rc = read_step(r, eb);
        if (rc) r->err = rc;
    }
}

int trace_reader_next_block(struct trace_reader *r, uint32_t *pid, uint32_t *gen, uint32_t *ring,
                            const void **records, size_t *len, struct mt_errbuf *eb)
{
    while (!r->err && !r->done) {
        if (r->frame_pos < r->frame_len) {
            struct mt_block_hdr bh;
            const uint8_t *recs;
            r->err = read_block_hdr(r, &bh, &recs, eb);
            if (r->err) break;
            *pid = bh.pid, *gen = bh.gen, *ring = bh.ring;
            *records = recs;
            *len = bh.len; /* the caller walks the records */
            return 1;
        }
        int rc = read_frame(r, eb);
        if (rc < 0)
            r->err = rc;
        else if (rc == 0)
            r->done = true;
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
    trace_reorder_chunk_put(r->ro, r->cur);
    trace_reorder_destroy(r->ro);
    free(r->in);
    free(r->packed);
    ZSTD_freeDCtx(r->dctx);
    close(r->fd);
    free(r);
}
