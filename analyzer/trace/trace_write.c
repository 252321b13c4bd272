/*
 * trace_write.c — the trace file writer: file header, then independent zstd frames
 *
 * The collector (analyzer/collect/) hands whole blocks of ring bytes to
 * trace_writer_block(); they are packed (trace_pack.c: varint deltas, ~4x
 * fewer bytes for zstd to chew), buffered, and compressed into one zstd
 * frame once TRACE_FRAME_BYTES are buffered, or when the collector flushes
 * (at least every ~200 ms). A block never straddles two frames, so
 * a file cut short (collector crash, full disk) is readable up to its last
 * complete frame. Frames carry zstd's content checksum so that a flipped
 * byte is reported instead of being decoded into plausible records.
 * Contract: docs/trace-format.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include "trace/trace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "memtrace/error.h"
#include "trace/trace_pack.h"

/* 1 MiB of packed blocks (~4 MiB of records) per frame: big enough that
 * zstd finds long matches (stack records repeat across frames only within
 * one), small enough that a crash loses little and a reader needs little
 * memory. */
#define TRACE_FRAME_BYTES (1u << 20)
/* Level 1: the collector shares cores with the target, and higher levels
 * gain little on packed records (level 2: 14% smaller, 30% slower). */
#define TRACE_ZSTD_LEVEL 1
/* A 256-entry match table (1 KiB) instead of level 1's 16K entries: it
 * stays in L1, which makes zstd 2x faster on packed records for a file 5%
 * larger (343 -> 680 MB/s, ratio 1.40 -> 1.34: what is left after packing
 * compresses through Huffman literals, hardly through matches; 2^10
 * entries gave the same ratio at 570 MB/s; docs/performance.md). */
#define TRACE_ZSTD_HASH_LOG 8

struct trace_writer {
    int fd;             /* owned */
    ZSTD_CCtx *cctx;    /* owned */
    char *buf;          /* owned: uncompressed blocks of the open frame */
    size_t len;         /* bytes used in buf */
    size_t cap;         /* bytes allocated in buf */
    char *zbuf;         /* owned: compressed frame */
    size_t zcap;        /* bytes allocated in zbuf */
    int err;            /* first error seen, sticky */
};

/* Writes all of len bytes. 0 or -errno. */
static int trace_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Grows *buf to hold at least need bytes. 0 or -ENOMEM. */
static int trace_grow(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap : 4096;
    while (n < need) n *= 2;
    char *nb = realloc(*buf, n);
    if (!nb) return -ENOMEM;
    *buf = nb;
    *cap = n;
    return 0;
}

int trace_writer_open(const char *path, const struct mt_file_hdr *hdr, struct trace_writer **out)
{
    struct trace_writer *w = calloc(1, sizeof *w);
    if (!w) return -ENOMEM;
    int rc = -ENOMEM;
    w->cctx = ZSTD_createCCtx();
    if (!w->cctx) goto fail_cctx;
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, TRACE_ZSTD_LEVEL);
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_hashLog, TRACE_ZSTD_HASH_LOG);
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_contentSizeFlag, 1);
    w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        rc = -errno;
        goto fail_open;
    }
    struct mt_file_hdr h = *hdr;
    memcpy(h.magic, MT_FILE_MAGIC, sizeof h.magic);
    h.version = MT_TRACE_VERSION;
    h.hdr_size = sizeof h;
    rc = trace_write_all(w->fd, &h, sizeof h);
    if (rc) goto fail_write;
    *out = w;
    return 0;

fail_write:
    close(w->fd);
    unlink(path); /* an empty file is no trace; we truncated it already */
fail_open:
    ZSTD_freeCCtx(w->cctx);
fail_cctx:
    free(w);
    return rc;
}

int trace_writer_block(struct trace_writer *w, uint32_t pid, uint32_t gen, uint32_t ring,
                       const void *records, size_t len)
{
    if (w->err) return w->err;
    if (len == 0) return 0;
    /* packed ring records come out at ~1/4 of their size: close the frame
     * first when this block would likely push it past the target */
    if (w->len > 0 && w->len + sizeof(struct mt_block_hdr) + len / 4 > TRACE_FRAME_BYTES) {
        int rc = trace_writer_flush(w);
        if (rc) return rc;
    }
    size_t need = sizeof(struct mt_block_hdr) + trace_pack_bound(len);
    int rc = trace_grow(&w->buf, &w->cap, w->len + need);
    if (rc) return rc; /* not sticky: nothing was lost yet */
    struct mt_block_hdr bh = {
        .magic = MT_BLOCK_MAGIC, .pid = pid, .gen = gen, .ring = ring, .len = len,
    };
    memcpy(w->buf + w->len, &bh, sizeof bh);
    w->len += sizeof bh;
    w->len += trace_pack_records(records, len, (uint8_t *)w->buf + w->len);
    return w->len >= TRACE_FRAME_BYTES ? trace_writer_flush(w) : 0;
}

int trace_writer_flush(struct trace_writer *w)
{
    if (w->err) return w->err;
    if (w->len == 0) return 0;
    int rc = trace_grow(&w->zbuf, &w->zcap, ZSTD_compressBound(w->len));
    if (rc) return rc;
    size_t z = ZSTD_compress2(w->cctx, w->zbuf, w->zcap, w->buf, w->len);
    if (ZSTD_isError(z)) {
        w->err = MT_EZSTD;
        return w->err;
    }
    rc = trace_write_all(w->fd, w->zbuf, z);
    if (rc) {
        w->err = rc;
        return rc;
    }
    w->len = 0;
    /* Keep at most one frame of memory: an oversized block may have grown
     * buf far beyond a frame; give that back. */
    if (w->cap > 2 * TRACE_FRAME_BYTES) {
        free(w->buf);
        w->buf = NULL;
        w->cap = 0;
    }
    return 0;
}

int trace_writer_close(struct trace_writer *w)
{
    if (!w) return 0;
    int rc = trace_writer_flush(w);
    if (close(w->fd) < 0 && rc == 0) rc = -errno;
    ZSTD_freeCCtx(w->cctx);
    free(w->buf);
    free(w->zbuf);
    free(w);
    return rc;
}
