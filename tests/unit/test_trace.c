/*
 * test_trace.c — unit tests of the trace writer, reader and reorder window
 *
 * Writes real trace files with trace_writer_* into a temp dir and reads them
 * back with trace_reader_*: roundtrip of every field, seq order restored from
 * shuffled blocks, holes counted, truncated files read up to the last whole
 * frame, and bad files (magic, version, corrupt records) rejected with one
 * error. Module under test: analyzer/trace/ (docs/trace-format.md).
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "memtrace/error.h"
#include "trace/trace.h"
#include "trace/trace_reorder.h"

/* ------------------------------------------------------------ helpers */

struct tt_ctx {
    char dir[64];  /* temp dir of the test */
    char path[96]; /* trace file inside it */
};

static int tt_setup(void **state)
{
    struct tt_ctx *c = calloc(1, sizeof *c);
    snprintf(c->dir, sizeof c->dir, "/tmp/mt-test-trace.XXXXXX");
    assert_non_null(mkdtemp(c->dir));
    snprintf(c->path, sizeof c->path, "%s/t.mtrace", c->dir);
    *state = c;
    return 0;
}

static int tt_teardown(void **state)
{
    struct tt_ctx *c = *state;
    unlink(c->path);
    rmdir(c->dir);
    free(c);
    return 0;
}

static struct mt_file_hdr tt_hdr(void)
{
    return (struct mt_file_hdr){.start_mono_ns = 11, .start_real_ns = 22, .root_pid = 100};
}

/* An ALLOC record with the given seq; addr encodes (pid, seq) for checks. */
static struct mt_rec_alloc tt_alloc(uint64_t seq, uint64_t addr)
{
    struct mt_rec_alloc a = {0};
    a.c.hdr.kind = MT_REC_ALLOC;
    a.c.hdr.len = sizeof a;
    a.c.seq = seq;
    a.c.t_ns = 1000 + seq;
    a.addr = addr;
    a.size = 24;
    a.usable = 24;
    a.stack_id = 1;
    a.tid = 7;
    a.family = MT_FAM_MALLOC;
    a.api = MT_API_MALLOC;
    return a;
}

static struct mt_rec_proc_end tt_proc_end(uint32_t pid, uint32_t gen)
{
    struct mt_rec_proc_end e = {0};
    e.hdr.kind = MT_REC_PROC_END;
    e.hdr.len = sizeof e;
    e.pid = pid;
    e.gen = gen;
    e.how = MT_END_EXITED;
    return e;
}

static struct trace_writer *tt_writer(const struct tt_ctx *c)
{
    struct mt_file_hdr h = tt_hdr();
    struct trace_writer *w = NULL;
    assert_int_equal(trace_writer_open(c->path, &h, &w), 0);
    return w;
}

static struct trace_reader *tt_reader(const struct tt_ctx *c)
{
    struct trace_reader *r = NULL;
    struct mt_errbuf eb = {{0}};
    assert_int_equal(trace_reader_open(c->path, &r, &eb), 0);
    return r;
}

/* Writes n ALLOC records of (pid, gen) into ring blocks, seqs from order[]. */
static void tt_write_allocs(struct trace_writer *w, uint32_t pid, uint32_t ring,
                            const uint64_t *seqs, size_t n)
{
    struct mt_rec_alloc *recs = calloc(n, sizeof *recs);
    for (size_t i = 0; i < n; i++) recs[i] = tt_alloc(seqs[i], (uint64_t)pid << 32 | seqs[i]);
    assert_int_equal(trace_writer_block(w, pid, 0, ring, recs, n * sizeof *recs), 0);
    free(recs);
}

static void tt_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static long tt_file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (long)st.st_size;
}

/* ------------------------------------------------------------ tests */

static void test_trace_roundtrip_keeps_every_field(void **state)
{
    struct tt_ctx *c = *state;
    struct trace_writer *w = tt_writer(c);
    struct {
        struct mt_rec_session s;
        char argv[8];
    } sess = {{.hdr = {MT_REC_SESSION, 0, sizeof sess}, .t_ns = 5, .argv_len = 8,
               .max_depth = 32, .sample_period_us = 10000},
              "ls\0-l\0\0"};
    assert_int_equal(trace_writer_block(w, 0, 0, MT_RING_COLLECTOR, &sess, sizeof sess), 0);
    uint64_t seqs[3] = {0, 1, 2};
    tt_write_allocs(w, 100, 0, seqs, 3);
    struct mt_rec_proc_end pe = tt_proc_end(100, 0);
    assert_int_equal(trace_writer_block(w, 100, 0, MT_RING_COLLECTOR, &pe, sizeof pe), 0);
    assert_int_equal(trace_writer_close(w), 0);

    struct trace_reader *r = tt_reader(c);
    const struct mt_file_hdr *h = trace_reader_header(r);
    assert_int_equal(h->root_pid, 100);
    assert_int_equal(h->start_real_ns, 22);
    struct trace_event ev;
    struct mt_errbuf eb = {{0}};
    assert_int_equal(trace_reader_next(r, &ev, &eb), 1);
    assert_int_equal(ev.rec->kind, MT_REC_SESSION);
    assert_memory_equal(ev.rec, &sess, sizeof sess);
    for (uint64_t i = 0; i < 3; i++) {
        assert_int_equal(trace_reader_next(r, &ev, &eb), 1);
        struct mt_rec_alloc want = tt_alloc(i, 100ull << 32 | i);
        assert_int_equal(ev.pid, 100);
        assert_int_equal(ev.ring, 0);
        assert_memory_equal(ev.rec, &want, sizeof want);
    }
    assert_int_equal(trace_reader_next(r, &ev, &eb), 1);
    assert_int_equal(ev.rec->kind, MT_REC_PROC_END);
    assert_int_equal(trace_reader_next(r, &ev, &eb), 0);
    assert_int_equal(trace_reader_truncated(r, NULL), 0);
    assert_int_equal(trace_reader_seq_holes(r), 0);
    trace_reader_close(r);
}

/* Two processes, four rings each: seqs dealt round-robin to the rings and
 * the rings written one after the other, several rounds, as the collector
 * drains them. The reader must return every seq of each stream in order. */
static void test_trace_reorder_restores_seq_order(void **state)
{
    struct tt_ctx *c = *state;
    enum { ROUNDS = 50, RINGS = 4, PER = 37 }; /* PER records per ring per round */
    struct trace_writer *w = tt_writer(c);
    uint64_t next[2] = {0, 0};
    for (int round = 0; round < ROUNDS; round++) {
        for (uint32_t p = 0; p < 2; p++) {
            uint64_t seqs[RINGS][PER];
            for (int i = 0; i < RINGS * PER; i++) seqs[i % RINGS][i / RINGS] = next[p]++;
            for (int ring = RINGS - 1; ring >= 0; ring--) /* last ring first: worst order */
                tt_write_allocs(w, 200 + p, (uint32_t)ring, seqs[ring], PER);
        }
        if (round % 7 == 0) assert_int_equal(trace_writer_flush(w), 0);
    }
    assert_int_equal(trace_writer_close(w), 0);

    struct trace_reader *r = tt_reader(c);
    struct trace_event ev;
    struct mt_errbuf eb = {{0}};
    uint64_t want[2] = {0, 0};
    int rc;
    while ((rc = trace_reader_next(r, &ev, &eb)) == 1) {
        uint32_t p = ev.pid - 200;
        assert_true(p < 2);
        const struct mt_rec_alloc *a = (const void *)ev.rec;
        assert_int_equal(a->c.seq, want[p]);
        assert_int_equal(a->addr, (uint64_t)ev.pid << 32 | want[p]);
        want[p]++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(want[0], next[0]);
    assert_int_equal(want[1], next[1]);
    assert_int_equal(trace_reader_seq_holes(r), 0);
    trace_reader_close(r);
}

/* A stream that lost seq 2 (process killed mid-record): the rest comes out
 * in order at the end, and the hole is counted. PROC_END releases first. */
static void test_trace_holes_released_at_proc_end(void **state)
{
    struct tt_ctx *c = *state;
    struct trace_writer *w = tt_writer(c);
    uint64_t seqs[] = {0, 1, 4, 3, 6};
    tt_write_allocs(w, 300, 0, seqs, 5);
    struct mt_rec_proc_end pe = tt_proc_end(300, 0);
    assert_int_equal(trace_writer_block(w, 300, 0, MT_RING_COLLECTOR, &pe, sizeof pe), 0);
    assert_int_equal(trace_writer_close(w), 0);

    struct trace_reader *r = tt_reader(c);
    struct trace_event ev;
    struct mt_errbuf eb = {{0}};
    uint64_t order[] = {0, 1, 3, 4, 6};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(trace_reader_next(r, &ev, &eb), 1);
        assert_int_equal(ev.rec->kind, MT_REC_ALLOC);
        assert_int_equal(((const struct mt_rec_common *)ev.rec)->seq, order[i]);
    }
    assert_int_equal(trace_reader_next(r, &ev, &eb), 1);
    assert_int_equal(ev.rec->kind, MT_REC_PROC_END);
    assert_int_equal(trace_reader_next(r, &ev, &eb), 0);
    assert_int_equal(trace_reader_seq_holes(r), 2);
    trace_reader_close(r);
}

/* The window holds only what is out of order, whatever the length. */
static void test_trace_reorder_memory_bounded_by_disorder(void **state)
{
    (void)state;
    struct trace_reorder *ro = trace_reorder_create();
    assert_non_null(ro);
    struct mt_errbuf eb = {{0}};
    uint64_t max_held = 0, n_out = 0;
    enum { WINDOW = 64 };
    for (uint64_t base = 0; base < 200000; base += WINDOW) {
        for (int i = WINDOW - 1; i >= 0; i--) { /* each window reversed */
            struct mt_rec_alloc a = tt_alloc(base + (uint64_t)i, 0);
            assert_int_equal(trace_reorder_push(ro, 1, 0, 0, &a.c.hdr, &eb), 0);
            struct trace_event ev;
            while (trace_reorder_pop(ro, &ev)) {
                assert_int_equal(((const struct mt_rec_common *)ev.rec)->seq, n_out);
                n_out++;
            }
            uint64_t held = trace_reorder_pending_bytes(ro);
            if (held > max_held) max_held = held;
        }
    }
    assert_int_equal(n_out, 200000);
    assert_true(max_held <= WINDOW * sizeof(struct mt_rec_alloc));
    trace_reorder_destroy(ro);
}

/* Each flush ends a frame; cutting the file inside the last frame leaves
 * the earlier frames readable and reports the cut. */
static void test_trace_truncated_reads_to_last_frame(void **state)
{
    struct tt_ctx *c = *state;
    struct trace_writer *w = tt_writer(c);
    long ends[4];
    for (uint64_t f = 0; f < 4; f++) {
        uint64_t seqs[10];
        for (int i = 0; i < 10; i++) seqs[i] = f * 10 + (uint64_t)i;
        tt_write_allocs(w, 400, 0, seqs, 10);
        assert_int_equal(trace_writer_flush(w), 0);
        ends[f] = tt_file_size(c->path);
    }
    assert_int_equal(trace_writer_close(w), 0);
    long cut = ends[2] + (ends[3] - ends[2]) / 2;
    assert_int_equal(truncate(c->path, cut), 0);

    struct trace_reader *r = tt_reader(c);
    struct trace_event ev;
    struct mt_errbuf eb = {{0}};
    int n = 0, rc;
    while ((rc = trace_reader_next(r, &ev, &eb)) == 1) n++;
    assert_int_equal(rc, 0);
    assert_int_equal(n, 30);
    uint64_t off = 0;
    assert_int_equal(trace_reader_truncated(r, &off), 1);
    assert_int_equal(off, ends[2]);
    trace_reader_close(r);
}

static void test_trace_header_only_file_is_empty_not_truncated(void **state)
{
    struct tt_ctx *c = *state;
    struct trace_writer *w = tt_writer(c);
    assert_int_equal(trace_writer_close(w), 0);
    struct trace_reader *r = tt_reader(c);
    struct trace_event ev;
    struct mt_errbuf eb = {{0}};
    assert_int_equal(trace_reader_next(r, &ev, &eb), 0);
    assert_int_equal(trace_reader_truncated(r, NULL), 0);
    trace_reader_close(r);
}

static void test_trace_bad_headers_rejected(void **state)
{
    struct tt_ctx *c = *state;
    struct trace_reader *r = NULL;
    struct mt_errbuf eb = {{0}};
    tt_write_file(c->path, "", 0);
    assert_int_equal(trace_reader_open(c->path, &r, &eb), MT_ETRUNC);
    tt_write_file(c->path, "#!/bin/sh\necho not a trace\n", 27);
    assert_int_equal(trace_reader_open(c->path, &r, &eb), MT_EBADMAGIC);
    assert_true(strlen(eb.msg) > 0);
    tt_write_file(c->path, "MEMTRA", 6);
    assert_int_equal(trace_reader_open(c->path, &r, &eb), MT_ETRUNC);
    struct mt_file_hdr h = tt_hdr();
    memcpy(h.magic, MT_FILE_MAGIC, 8);
    h.version = MT_TRACE_VERSION + 1;
    h.hdr_size = sizeof h;
    tt_write_file(c->path, &h, sizeof h);
    assert_int_equal(trace_reader_open(c->path, &r, &eb), MT_EVERSION);
    assert_int_equal(trace_reader_open("/nonexistent/x.mtrace", &r, &eb), -ENOENT);
}

/* A record whose length does not fit its kind stops the reader with one
 * error, and the error stays. */
static void test_trace_corrupt_record_is_an_error(void **state)
{
    struct tt_ctx *c = *state;
    struct trace_writer *w = tt_writer(c);
    struct mt_rec_alloc a = tt_alloc(0, 1);
    a.c.hdr.len = 32; /* shorter than an alloc */
    assert_int_equal(trace_writer_block(w, 1, 0, 0, &a, 32), 0);
    assert_int_equal(trace_writer_close(w), 0);
    struct trace_reader *r = tt_reader(c);
    struct trace_event ev;
    struct mt_errbuf eb = {{0}};
    assert_int_equal(trace_reader_next(r, &ev, &eb), MT_ECORRUPT);
    assert_non_null(strstr(eb.msg, "invalid record"));
    assert_int_equal(trace_reader_next(r, &ev, &eb), MT_ECORRUPT);
    trace_reader_close(r);
}

/* Garbage where a frame should be is an error, not a truncation. */
static void test_trace_garbage_frame_is_an_error(void **state)
{
    struct tt_ctx *c = *state;
    struct mt_file_hdr h = tt_hdr();
    memcpy(h.magic, MT_FILE_MAGIC, 8);
    h.version = MT_TRACE_VERSION;
    h.hdr_size = sizeof h;
    char buf[sizeof h + 64];
    memcpy(buf, &h, sizeof h);
    memset(buf + sizeof h, 0x5a, 64);
    tt_write_file(c->path, buf, sizeof buf);
    struct trace_reader *r = tt_reader(c);
    struct trace_event ev;
    struct mt_errbuf eb = {{0}};
    assert_int_equal(trace_reader_next(r, &ev, &eb), MT_EZSTD);
    trace_reader_close(r);
}

static void test_trace_duplicate_seq_is_an_error(void **state)
{
    struct tt_ctx *c = *state;
    struct trace_writer *w = tt_writer(c);
    uint64_t seqs[] = {0, 1, 1};
    tt_write_allocs(w, 5, 0, seqs, 3);
    assert_int_equal(trace_writer_close(w), 0);
    struct trace_reader *r = tt_reader(c);
    struct trace_event ev;
    struct mt_errbuf eb = {{0}};
    int rc;
    while ((rc = trace_reader_next(r, &ev, &eb)) == 1) {}
    assert_int_equal(rc, MT_ECORRUPT);
    trace_reader_close(r);
}

static void test_trace_rec_validate_checks_tails(void **state)
{
    (void)state;
    struct {
        struct mt_rec_process p;
        char tail[16];
    } pr = {0};
    pr.p.c.hdr = (struct mt_rec_hdr){MT_REC_PROCESS, 0, sizeof pr};
    pr.p.exe_len = 5;
    pr.p.argv_len = 3;
    memcpy(pr.tail, "/bin\0ab\0", 8);
    assert_int_equal(trace_rec_validate(&pr.p.c.hdr, sizeof pr), 0);
    pr.tail[4] = 'x'; /* exe not NUL-terminated */
    assert_int_equal(trace_rec_validate(&pr.p.c.hdr, sizeof pr), MT_ECORRUPT);
    pr.tail[4] = '\0';
    pr.p.argv_len = 100; /* runs past the record */
    assert_int_equal(trace_rec_validate(&pr.p.c.hdr, sizeof pr), MT_ECORRUPT);
    assert_int_equal(trace_rec_validate(&pr.p.c.hdr, 40), MT_ECORRUPT); /* len > avail */

    struct mt_rec_stack st = {.c.hdr = {MT_REC_STACK, 0, sizeof st}, .n_frames = 1};
    assert_int_equal(trace_rec_validate(&st.c.hdr, sizeof st), MT_ECORRUPT);
    st.n_frames = 0;
    assert_int_equal(trace_rec_validate(&st.c.hdr, sizeof st), 0);

    struct mt_rec_alloc a = tt_alloc(0, 0);
    a.family = MT_FAM_COUNT;
    assert_int_equal(trace_rec_validate(&a.c.hdr, sizeof a), MT_ECORRUPT);
    struct mt_rec_hdr bad = {200, 0, 8};
    assert_int_equal(trace_rec_validate(&bad, 8), MT_ECORRUPT);
    struct mt_rec_hdr odd = {MT_REC_PAD, 0, 12};
    assert_int_equal(trace_rec_validate(&odd, 16), MT_ECORRUPT);
}

static void test_trace_names_follow_enums(void **state)
{
    (void)state;
    assert_string_equal(trace_kind_name(MT_REC_MODULE_UNLOAD), "module_unload");
    assert_string_equal(trace_kind_name(MT_REC_STATS), "stats");
    assert_string_equal(trace_kind_name(20), "?");
    assert_string_equal(trace_family_name(MT_FAM_NEW_ARRAY_ALIGNED), "new[]_aligned");
    assert_string_equal(trace_api_name(MT_API_DELETE_ARRAY_ALIGNED_NOTHROW),
                        "delete[]_aligned_nothrow");
    assert_string_equal(trace_api_name(MT_API_POSIX_MEMALIGN), "posix_memalign");
    assert_string_equal(trace_api_name(MT_API_COUNT), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_trace_roundtrip_keeps_every_field, tt_setup,
                                        tt_teardown),
        cmocka_unit_test_setup_teardown(test_trace_reorder_restores_seq_order, tt_setup,
                                        tt_teardown),
        cmocka_unit_test_setup_teardown(test_trace_holes_released_at_proc_end, tt_setup,
                                        tt_teardown),
        cmocka_unit_test(test_trace_reorder_memory_bounded_by_disorder),
        cmocka_unit_test_setup_teardown(test_trace_truncated_reads_to_last_frame, tt_setup,
                                        tt_teardown),
        cmocka_unit_test_setup_teardown(test_trace_header_only_file_is_empty_not_truncated,
                                        tt_setup, tt_teardown),
        cmocka_unit_test_setup_teardown(test_trace_bad_headers_rejected, tt_setup, tt_teardown),
        cmocka_unit_test_setup_teardown(test_trace_corrupt_record_is_an_error, tt_setup,
                                        tt_teardown),
        cmocka_unit_test_setup_teardown(test_trace_garbage_frame_is_an_error, tt_setup,
                                        tt_teardown),
        cmocka_unit_test_setup_teardown(test_trace_duplicate_seq_is_an_error, tt_setup,
                                        tt_teardown),
        cmocka_unit_test(test_trace_rec_validate_checks_tails),
        cmocka_unit_test(test_trace_names_follow_enums),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
