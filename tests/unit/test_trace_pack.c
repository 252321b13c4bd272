/*
 * test_trace_pack.c — unit tests of the packed block encoding (trace version 2)
 *
 * Packs record streams with trace_pack_records() and unpacks them with
 * trace_unpack_frame(): every byte comes back (deltas up and down, kinds
 * above the delta table, flag and length changes, pad filler as zeros,
 * bytes that are no records stored raw), packed ring records shrink, and
 * damaged packed input is MT_ECORRUPT, never a read past the end. Also
 * reads a version 1 (plain) file written by hand. Module under test:
 * analyzer/trace/trace_pack.c (docs/trace-format.md "Packed blocks").
 *
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zstd.h>

#include "memtrace/error.h"
#include "memtrace/trace_format.h"
#include "trace/trace.h"
#include "trace/trace_pack.h"

/* ------------------------------------------------------------ helpers */

#define TP_MAX (1u << 20) /* bytes of records a test builds */

struct tp_buf {
    uint8_t rec[TP_MAX]; /* plain records */
    size_t len;
};

static uint64_t tp_rng = 0x9e3779b97f4a7c15ull;

static uint64_t tp_next(void)
{
    tp_rng ^= tp_rng << 13;
    tp_rng ^= tp_rng >> 7;
    tp_rng ^= tp_rng << 17;
    return tp_rng;
}

/* Appends a record of kind/flags/len whose words are filled by the
 * caller afterwards; returns it. */
static uint8_t *tp_rec(struct tp_buf *b, uint16_t kind, uint16_t flags, uint32_t len)
{
    assert_true(b->len + len <= TP_MAX);
    uint8_t *r = b->rec + b->len;
    struct mt_rec_hdr h = {.kind = kind, .flags = flags, .len = len};
    memcpy(r, &h, sizeof h);
    memset(r + sizeof h, 0, len - sizeof h);
    b->len += len;
    return r;
}

/* One block frame: header + packed records, as trace_write.c lays it out. */
static size_t tp_pack_frame(const struct tp_buf *b, uint8_t *out)
{
    struct mt_block_hdr bh = {.magic = MT_BLOCK_MAGIC, .pid = 5, .ring = 1, .len = b->len};
    memcpy(out, &bh, sizeof bh);
    return sizeof bh + trace_pack_records(b->rec, b->len, out + sizeof bh);
}

/* Packs b, unpacks it, checks every byte; returns the packed size. */
static size_t tp_roundtrip(const struct tp_buf *b)
{
    uint8_t *packed = malloc(sizeof(struct mt_block_hdr) + trace_pack_bound(b->len));
    size_t n = tp_pack_frame(b, packed);
    assert_true(n <= sizeof(struct mt_block_hdr) + trace_pack_bound(b->len));
    uint8_t *out = NULL;
    size_t cap = 0, out_len = 0;
    assert_int_equal(trace_unpack_frame(packed, n, &out, &cap, &out_len, 1u << 30), 0);
    assert_int_equal(out_len, sizeof(struct mt_block_hdr) + b->len);
    assert_memory_equal(out + sizeof(struct mt_block_hdr), b->rec, b->len);
    free(out);
    free(packed);
    return n;
}

/* Ring-like records: alternating ALLOC/FREE with growing seq and time. */
static void tp_fill_ring(struct tp_buf *b, int pairs)
{
    uint64_t seq = 3, t = 1000000;
    for (int i = 0; i < pairs; i++) {
        uint64_t addr = 0x7f0000000000ull + (tp_next() & 0xfffff0);
        struct mt_rec_alloc *a = (void *)tp_rec(b, MT_REC_ALLOC, 0, sizeof *a);
        a->c.seq = seq++;
        a->c.t_ns = t += tp_next() % 700;
        a->addr = addr;
        a->size = 16 + tp_next() % 500;
        a->usable = a->size + 8;
        a->stack_id = 1 + (uint32_t)(tp_next() % 40);
        a->tid = 4242;
        a->api = MT_API_CALLOC;
        struct mt_rec_free *f = (void *)tp_rec(b, MT_REC_FREE, 0, sizeof *f);
        f->c.seq = seq++;
        f->c.t_ns = t += tp_next() % 700;
        f->addr = addr - 4096; /* deltas go both ways */
        f->tid = 4242;
        f->api = MT_API_FREE;
    }
}

/* ------------------------------------------------------------ tests */

static void test_trace_pack_ring_records_roundtrip_and_shrink(void **state)
{
    (void)state;
    struct tp_buf *b = calloc(1, sizeof *b);
    tp_fill_ring(b, 2000);
    size_t n = tp_roundtrip(b);
    /* 112 bytes per pair plain; the deltas leave a few bytes per word */
    assert_true(n * 3 < b->len);
    free(b);
}

static void test_trace_pack_every_shape_roundtrips(void **state)
{
    (void)state;
    struct tp_buf *b = calloc(1, sizeof *b);
    for (int i = 0; i < 3000; i++) {
        uint64_t r = tp_next();
        /* kinds above the delta table too, and lengths that change */
        uint16_t kind = (uint16_t)(1 + r % 80);
        uint32_t len = 8 * (1 + (uint32_t)((r >> 8) % 12));
        uint8_t *rec = tp_rec(b, kind, (uint16_t)((r >> 16) % 3), len);
        for (uint32_t o = 8; o < len; o += 8) {
            uint64_t w = (r >> 24) % 2 ? tp_next() : (uint64_t)o * 3;
            memcpy(rec + o, &w, 8);
        }
    }
    tp_roundtrip(b);
    free(b);
}

/* A ring pad carries stale bytes after its header; they read back as 0. */
static void test_trace_pack_pad_filler_reads_back_as_zeros(void **state)
{
    (void)state;
    struct tp_buf *b = calloc(1, sizeof *b);
    tp_fill_ring(b, 3);
    uint8_t *pad = tp_rec(b, MT_REC_PAD, 0, 256);
    memset(pad + 8, 0xab, 248);
    tp_fill_ring(b, 3);
    uint8_t *packed = malloc(24 + trace_pack_bound(b->len));
    size_t n = tp_pack_frame(b, packed);
    uint8_t *out = NULL;
    size_t cap = 0, out_len = 0;
    assert_int_equal(trace_unpack_frame(packed, n, &out, &cap, &out_len, 1u << 30), 0);
    memset(pad + 8, 0, 248);
    assert_memory_equal(out + 24, b->rec, b->len);
    free(out);
    free(packed);
    free(b);
}

/* Bytes that are no records (bad length) are kept as they are. */
static void test_trace_pack_unparsable_bytes_stored_raw(void **state)
{
    (void)state;
    struct tp_buf *b = calloc(1, sizeof *b);
    tp_fill_ring(b, 4);
    uint8_t *bad = tp_rec(b, MT_REC_ALLOC, 0, 64);
    struct mt_rec_hdr h = {.kind = MT_REC_ALLOC, .len = 4096}; /* past the block */
    memcpy(bad, &h, sizeof h);
    memset(bad + 8, 0x77, 56);
    tp_roundtrip(b);
    b->len = 0;
    uint8_t *odd = tp_rec(b, MT_REC_FREE, 0, 48);
    h = (struct mt_rec_hdr){.kind = MT_REC_FREE, .len = 44}; /* not a multiple of 8 */
    memcpy(odd, &h, sizeof h);
    tp_roundtrip(b);
    free(b);
}

/* Every cut and every flipped byte of a packed frame is an error or a
 * frame of the right shape; never a read past the input. */
static void test_trace_pack_damaged_input_is_corrupt(void **state)
{
    (void)state;
    struct tp_buf *b = calloc(1, sizeof *b);
    tp_fill_ring(b, 20);
    uint8_t *packed = malloc(24 + trace_pack_bound(b->len));
    size_t n = tp_pack_frame(b, packed);
    uint8_t *out = NULL;
    size_t cap = 0, out_len = 0;
    for (size_t cut = 1; cut < n; cut++) {
        uint8_t *copy = malloc(cut); /* exact size: ASan catches an overread */
        memcpy(copy, packed, cut);
        assert_int_equal(trace_unpack_frame(copy, cut, &out, &cap, &out_len, 1u << 30),
                         MT_ECORRUPT);
        free(copy);
    }
    int corrupt = 0;
    for (size_t i = 24; i < n; i++) {
        packed[i] ^= 0x80;
        int rc = trace_unpack_frame(packed, n, &out, &cap, &out_len, 1u << 30);
        assert_true(rc == 0 || rc == MT_ECORRUPT);
        corrupt += rc == MT_ECORRUPT;
        packed[i] ^= 0x80;
    }
    assert_true(corrupt > 0);
    struct mt_block_hdr *bh = (void *)packed;
    bh->magic ^= 1;
    assert_int_equal(trace_unpack_frame(packed, n, &out, &cap, &out_len, 1u << 30), MT_ECORRUPT);
    bh->magic ^= 1;
    assert_int_equal(trace_unpack_frame(packed, n, &out, &cap, &out_len, 64), MT_ECORRUPT);
    free(out);
    free(packed);
    free(b);
}

/* A version 1 file (plain blocks in the frame) is still read. */
static void test_trace_pack_version1_file_still_read(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/tmp/test_trace_pack.%d.mtrace", (int)getpid());
    struct tp_buf *b = calloc(1, sizeof *b);
    tp_fill_ring(b, 10);
    for (size_t o = 0; o + 8 <= b->len;) { /* seqs dense from 0 */
        struct mt_rec_common *c = (void *)(b->rec + o);
        c->seq -= 3;
        o += c->hdr.len;
    }
    size_t plain = 24 + b->len;
    uint8_t *frame = malloc(plain);
    struct mt_block_hdr bh = {.magic = MT_BLOCK_MAGIC, .pid = 5, .ring = 0, .len = b->len};
    memcpy(frame, &bh, sizeof bh);
    memcpy(frame + 24, b->rec, b->len);
    size_t zcap = ZSTD_compressBound(plain);
    uint8_t *file = malloc(sizeof(struct mt_file_hdr) + zcap);
    struct mt_file_hdr h = {.version = MT_TRACE_VERSION_PLAIN, .hdr_size = sizeof h,
                            .root_pid = 5};
    memcpy(h.magic, MT_FILE_MAGIC, 8);
    memcpy(file, &h, sizeof h);
    size_t z = ZSTD_compress(file + sizeof h, zcap, frame, plain, 1);
    assert_false(ZSTD_isError(z));
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(file, 1, sizeof h + z, f), sizeof h + z);
    fclose(f);
    struct trace_reader *r = NULL;
    struct mt_errbuf eb = {{0}};
    assert_int_equal(trace_reader_open(path, &r, &eb), 0);
    struct trace_event ev;
    int n_alloc = 0, n_free = 0, rc;
    while ((rc = trace_reader_next(r, &ev, &eb)) == 1) {
        n_alloc += ev.rec->kind == MT_REC_ALLOC;
        n_free += ev.rec->kind == MT_REC_FREE;
    }
    if (rc != 0) fprintf(stderr, "reader: %s\n", eb.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(n_alloc, 10);
    assert_int_equal(n_free, 10);
    trace_reader_close(r);
    unlink(path);
    free(file);
    free(frame);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trace_pack_ring_records_roundtrip_and_shrink),
        cmocka_unit_test(test_trace_pack_every_shape_roundtrips),
        cmocka_unit_test(test_trace_pack_pad_filler_reads_back_as_zeros),
        cmocka_unit_test(test_trace_pack_unparsable_bytes_stored_raw),
        cmocka_unit_test(test_trace_pack_damaged_input_is_corrupt),
        cmocka_unit_test(test_trace_pack_version1_file_still_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
