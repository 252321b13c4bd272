/*
 * test_trace.c — unit tests of the trace writer, reader and reorder window
 *
 * Writes real trace files with trace_writer_* into a temp dir and reads them
 * back with trace_reader_*: roundtrip of every field, seq order restored from
 * runs of many rings, holes counted, truncated files read up to the last
 * whole frame, and bad files (magic, version, corrupt records, duplicate or
 * absurd seqs) rejected with one error. The merge itself (trace_reorder.c)
 * is also driven directly, chunk by chunk, to check what it keeps alive.
 * Module under test: analyzer/trace/ (docs/trace-format.md).
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

/* Writes the collector's PROC_END of (pid, 0). */
static void tt_write_proc_end(struct trace_writer *w, uint32_t pid)
{
    struct mt_rec_proc_end pe = tt_proc_end(pid, 0);
    assert_int_equal(trace_writer_block(w, pid, 0, MT_RING_COLLECTOR, &pe, sizeof pe), 0);
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

/* A new file with one block of ring 0 and one of ring 1 of (pid, 0). */
static struct trace_writer *tt_two_rings(const struct tt_ctx *c, uint32_t pid, const uint64_t *s0,
                                         size_t n0, const uint64_t *s1, size_t n1)
{
    struct trace_writer *w = tt_writer(c);
    tt_write_allocs(w, pid, 0, s0, n0);
    tt_write_allocs(w, pid, 1, s1, n1);
    return w;
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

/* Reads a whole file: every seq of pid's stream must come in order from
 * 0 with addr matching; collector records are counted. Returns the
 * reader's final rc and fills *n_seq. */
static int tt_read_stream(const struct tt_ctx *c, uint32_t pid, uint64_t *n_seq, int *n_coll,
                          uint64_t *holes, struct mt_errbuf *eb)
{
    struct trace_reader *r = tt_reader(c);
    struct trace_event ev;
    int rc;
    *n_seq = 0;
    *n_coll = 0;
    while ((rc = trace_reader_next(r, &ev, eb)) == 1) {
        if (ev.ring == MT_RING_COLLECTOR) {
            (*n_coll)++;
            continue;
        }
        const struct mt_rec_alloc *a = (const void *)ev.rec;
        assert_int_equal(ev.pid, pid);
        assert_int_equal(a->c.seq, *n_seq);
        assert_int_equal(a->addr, (uint64_t)pid << 32 | *n_seq);
        (*n_seq)++;
    }
    *holes = trace_reader_seq_holes(r);
    trace_reader_close(r);
    return rc;
}

/* Direct drive of the merge: a chunk holding ALLOC records of seqs[],
 * pushed as one run of (pid, 0, ring); the test's own hold is dropped. */
static int tt_push(struct trace_reorder *ro, uint32_t pid, uint32_t ring, const uint64_t *seqs,
                   size_t n, struct mt_errbuf *eb)
{
    struct trace_chunk *c = trace_reorder_chunk_get(ro, n * sizeof(struct mt_rec_alloc));
    assert_non_null(c);
    for (size_t i = 0; i < n; i++) {
        struct mt_rec_alloc a = tt_alloc(seqs[i], (uint64_t)pid << 32 | seqs[i]);
        memcpy(c->data + i * sizeof a, &a, sizeof a);
    }
    c->len = n * sizeof(struct mt_rec_alloc);
    int rc = trace_reorder_push_run(ro, pid, 0, ring, c, c->data, c->len, seqs[n - 1], eb);
    trace_reorder_chunk_put(ro, c);
    return rc;
}

/* Pops what is ready; each record must be seq *want of pid (addr too,
 * read after the pop: the chunk must still be there). Returns pop's rc. */
static int tt_pop_all(struct trace_reorder *ro, uint32_t pid, uint64_t *want, struct mt_errbuf *eb)
{
    struct trace_event ev;
    int rc;
    while ((rc = trace_reorder_pop(ro, &ev, eb)) == 1) {
        const struct mt_rec_alloc *a = (const void *)ev.rec;
        assert_int_equal(ev.pid, pid);
        assert_int_equal(a->c.seq, *want);
        assert_int_equal(a->addr, (uint64_t)pid << 32 | *want);
        (*want)++;
    }
    return rc;
}

/* ------------------------------------------------------------ tests */

static void test_trace_roundtrip_keeps_every_field(void **state)
{
    struct tt_ctx *c = *state;
    struct trace_writer *w = tt_writer(c);
    struct {
        struct mt_rec_session s;
        char argv[8];
    } sess = {{.hdr = {MT_REC_SESSION, 0, sizeof sess},
               .t_ns = 5,
               .argv_len = 8,
               .max_depth = 32,
               .sample_period_us = 10000},
              "ls\0-l\0\0"};
    assert_int_equal(trace_writer_block(w, 0, 0, MT_RING_COLLECTOR, &sess, sizeof sess), 0);
    uint64_t seqs[3] = {0, 1, 2};
    tt_write_allocs(w, 100, 0, seqs, 3);
    tt_write_proc_end(w, 100);
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
    tt_write_proc_end(w, 300);
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

/* Sixteen rings of one process, each round dealing seqs to the rings in
 * uneven stretches (a thread running alone for a while, then another),
 * and the rings drained in a rotating order, several blocks per frame:
 * the merge must give back every seq in order, none lost. */
static void test_trace_merge_restores_order_from_many_rings(void **state)
{
    struct tt_ctx *c = *state;
    enum { ROUNDS = 40, RINGS = 16, PER_ROUND = 600 };
    struct trace_writer *w = tt_writer(c);
    uint64_t next = 0, x = 12345;
    uint64_t *seqs[RINGS];
    size_t n[RINGS];
    for (int k = 0; k < RINGS; k++) seqs[k] = calloc(PER_ROUND, sizeof **seqs);
    for (int round = 0; round < ROUNDS; round++) {
        memset(n, 0, sizeof n);
        for (int i = 0; i < PER_ROUND;) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            int ring = (int)(x >> 33) % RINGS, len = 1 + (int)(x >> 50) % 9;
            for (int j = 0; j < len && i < PER_ROUND; j++, i++) seqs[ring][n[ring]++] = next++;
        }
        for (int k = 0; k < RINGS; k++) {
            int ring = (k + round * 5) % RINGS;
            if (n[ring]) tt_write_allocs(w, 700, (uint32_t)ring, seqs[ring], n[ring]);
        }
        if (round % 3 == 0) assert_int_equal(trace_writer_flush(w), 0);
    }
    for (int k = 0; k < RINGS; k++) free(seqs[k]);
    assert_int_equal(trace_writer_close(w), 0);

    uint64_t got, holes;
    int n_coll;
    struct mt_errbuf eb = {{0}};
    assert_int_equal(tt_read_stream(c, 700, &got, &n_coll, &holes, &eb), 0);
    assert_int_equal(got, next);
    assert_int_equal(holes, 0);
}

/* A run that starts before another ends: ring 1's block interleaves with
 * ring 0's, whose block came first and waits mid-way. PAD filler (a ring
 * wrapping) inside and at the end of a run is skipped. */
static void test_trace_merge_run_starting_inside_another(void **state)
{
    struct tt_ctx *c = *state;
    struct trace_writer *w = tt_writer(c);
    struct mt_rec_alloc r0[4];
    uint64_t s0[] = {0, 3, 6, 9};
    for (int i = 0; i < 4; i++) r0[i] = tt_alloc(s0[i], 710ull << 32 | s0[i]);
    struct {
        struct mt_rec_alloc a, b;
        struct mt_rec_hdr pad[3];
        struct mt_rec_alloc d, e;
        struct mt_rec_hdr tail;
    } r1 = {.a = tt_alloc(1, 710ull << 32 | 1),
            .b = tt_alloc(2, 710ull << 32 | 2),
            .pad = {{MT_REC_PAD, 0, 24}},
            .d = tt_alloc(4, 710ull << 32 | 4),
            .e = tt_alloc(5, 710ull << 32 | 5),
            .tail = {MT_REC_PAD, 0, 8}};
    uint64_t s2[] = {7, 8};
    assert_int_equal(trace_writer_block(w, 710, 0, 0, r0, sizeof r0), 0);
    assert_int_equal(trace_writer_block(w, 710, 0, 1, &r1, sizeof r1), 0);
    tt_write_allocs(w, 710, 1, s2, 2);
    assert_int_equal(trace_writer_close(w), 0);

    uint64_t got, holes;
    int n_coll;
    struct mt_errbuf eb = {{0}};
    assert_int_equal(tt_read_stream(c, 710, &got, &n_coll, &holes, &eb), 0);
    assert_int_equal(got, 10);
    assert_int_equal(holes, 0);
}

/* A seq in two runs of different rings is corruption, reported once. */
static void test_trace_duplicate_seq_across_runs_is_an_error(void **state)
{
    struct tt_ctx *c = *state;
    uint64_t s0[] = {0, 2, 4}, s1[] = {1, 2, 3};
    struct trace_writer *w = tt_two_rings(c, 720, s0, 3, s1, 3);
    tt_write_proc_end(w, 720);
    assert_int_equal(trace_writer_close(w), 0);

    struct trace_reader *r = tt_reader(c);
    struct trace_event ev;
    struct mt_errbuf eb = {{0}};
    int rc, n = 0;
    while ((rc = trace_reader_next(r, &ev, &eb)) == 1) {
        assert_int_equal(((const struct mt_rec_common *)ev.rec)->seq, (uint64_t)n);
        n++;
    }
    assert_int_equal(rc, MT_ECORRUPT);
    assert_non_null(strstr(eb.msg, "seq 2 appears twice"));
    assert_true(n <= 4); /* never past the duplicate */
    assert_int_equal(trace_reader_next(r, &ev, &eb), MT_ECORRUPT);
    trace_reader_close(r);
}

/* A seq far beyond anything a ring can hold back is corruption. */
static void test_trace_absurd_seq_jump_is_an_error(void **state)
{
    struct tt_ctx *c = *state;
    uint64_t s0[] = {0, 1}, s1[] = {3, 1ull << 30};
    struct trace_writer *w = tt_two_rings(c, 730, s0, 2, s1, 2);
    assert_int_equal(trace_writer_close(w), 0);
    uint64_t got, holes;
    int n_coll;
    struct mt_errbuf eb = {{0}};
    assert_int_equal(tt_read_stream(c, 730, &got, &n_coll, &holes, &eb), MT_ECORRUPT);
    assert_non_null(strstr(eb.msg, "ahead of the stream"));
}

/* Seqs 2 and 6 never written (threads killed mid-record), spread over two
 * rings: what waits comes out at PROC_END in seq order, after the RSS
 * sample that was before it in the file and before PROC_END itself. */
static void test_trace_missing_seqs_across_rings_released_at_proc_end(void **state)
{
    struct tt_ctx *c = *state;
    uint64_t s0[] = {0, 1, 5}, s1[] = {3, 4, 7};
    struct trace_writer *w = tt_two_rings(c, 740, s0, 3, s1, 3);
    struct mt_rec_rss rss = {.hdr = {MT_REC_RSS, 0, sizeof rss}, .pid = 740, .rss = 4096};
    assert_int_equal(trace_writer_block(w, 740, 0, MT_RING_COLLECTOR, &rss, sizeof rss), 0);
    tt_write_proc_end(w, 740);
    assert_int_equal(trace_writer_close(w), 0);

    struct trace_reader *r = tt_reader(c);
    struct trace_event ev;
    struct mt_errbuf eb = {{0}};
    uint64_t order[] = {0, 1, 3, 4, 5, 7};
    uint32_t rings[] = {0, 0, 1, 1, 0, 1};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(trace_reader_next(r, &ev, &eb), 1);
        assert_int_equal(((const struct mt_rec_common *)ev.rec)->seq, order[i]);
    }
    assert_int_equal(trace_reader_next(r, &ev, &eb), 1);
    assert_int_equal(ev.rec->kind, MT_REC_RSS);
    assert_int_equal(trace_reader_seq_holes(r), 0);
    for (int i = 2; i < 6; i++) {
        assert_int_equal(trace_reader_next(r, &ev, &eb), 1);
        assert_int_equal(ev.ring, rings[i]);
        assert_int_equal(((const struct mt_rec_common *)ev.rec)->seq, order[i]);
    }
    assert_int_equal(trace_reader_next(r, &ev, &eb), 1);
    assert_int_equal(ev.rec->kind, MT_REC_PROC_END);
    assert_int_equal(trace_reader_seq_holes(r), 2);
    assert_int_equal(trace_reader_next(r, &ev, &eb), 0);
    trace_reader_close(r);
}

/* End of file without PROC_END: each stream's waiting records come out in
 * seq order, streams in the order they first appeared, holes counted. */
static void test_trace_eof_releases_streams_in_creation_order(void **state)
{
    struct tt_ctx *c = *state;
    struct trace_writer *w = tt_writer(c);
    uint64_t a1[] = {2}, b[] = {1, 3}, a2[] = {1, 4};
    tt_write_allocs(w, 750, 0, a1, 1);
    tt_write_allocs(w, 751, 0, b, 2);
    tt_write_allocs(w, 750, 1, a2, 2);
    assert_int_equal(trace_writer_close(w), 0);

    struct trace_reader *r = tt_reader(c);
    struct trace_event ev;
    struct mt_errbuf eb = {{0}};
    uint32_t pids[] = {750, 750, 750, 751, 751};
    uint64_t seqs[] = {1, 2, 4, 1, 3};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(trace_reader_next(r, &ev, &eb), 1);
        assert_int_equal(ev.pid, pids[i]);
        assert_int_equal(((const struct mt_rec_common *)ev.rec)->seq, seqs[i]);
    }
    assert_int_equal(trace_reader_next(r, &ev, &eb), 0);
    assert_int_equal(trace_reader_seq_holes(r), 4); /* 0 and 3 of 750, 0 and 2 of 751 */
    trace_reader_close(r);
}

/* A long input interleaved the way the collector drains 12 rings: every
 * chunk is released once the merge is past it, so the chunks alive stay a
 * handful (the disorder spans one round of rings), whatever the length. */
static void test_trace_merge_memory_bounded_by_disorder(void **state)
{
    (void)state;
    enum { RINGS = 12, PER = 50, ROUNDS = 2000 }; /* more rings than the pool keeps */
    struct trace_reorder *ro = trace_reorder_create();
    assert_non_null(ro);
    struct mt_errbuf eb = {{0}};
    uint64_t next = 0, want = 0;
    size_t max_alive = 0;
    uint64_t max_bytes = 0;
    for (int round = 0; round < ROUNDS; round++) {
        uint64_t seqs[RINGS][PER];
        for (int i = 0; i < RINGS * PER; i++) seqs[i % RINGS][i / RINGS] = next++;
        for (int ring = RINGS - 1; ring >= 0; ring--) { /* worst order: the first seq last */
            assert_int_equal(tt_push(ro, 9, (uint32_t)ring, seqs[ring], PER, &eb), 0);
            assert_int_equal(tt_pop_all(ro, 9, &want, &eb), 0);
            size_t alive = trace_reorder_chunks_alive(ro);
            if (alive > max_alive) max_alive = alive;
            if (trace_reorder_pending_bytes(ro) > max_bytes)
                max_bytes = trace_reorder_pending_bytes(ro);
        }
    }
    assert_int_equal(want, next);
    assert_true(max_alive <= RINGS);
    assert_true(max_bytes <= RINGS * PER * sizeof(struct mt_rec_alloc));
    trace_reorder_finish(ro);
    assert_int_equal(tt_pop_all(ro, 9, &want, &eb), 0);
    assert_int_equal(trace_reorder_chunks_alive(ro), 0);
    assert_int_equal(trace_reorder_holes(ro), 0);
    trace_reorder_destroy(ro);
}

/* Seq 0 never comes: without the bound every later run would wait for it.
 * Past the bound the stream skips to its lowest held seq (one hole) and
 * goes on in order, holding no more than the bound. */
static void test_trace_merge_pending_bound_forces_stream_forward(void **state)
{
    (void)state;
    enum { PER = 16, RUNS = 100 };
    struct trace_reorder *ro = trace_reorder_create();
    assert_non_null(ro);
    const uint64_t run_bytes = PER * sizeof(struct mt_rec_alloc);
    trace_reorder_set_max_pending(ro, 4 * run_bytes);
    struct mt_errbuf eb = {{0}};
    uint64_t want = 1, max_bytes = 0;
    for (uint64_t k = 0; k < RUNS; k++) {
        uint64_t seqs[PER];
        for (int i = 0; i < PER; i++) seqs[i] = 1 + k * PER + (uint64_t)i;
        assert_int_equal(tt_push(ro, 11, 0, seqs, PER, &eb), 0);
        if (trace_reorder_pending_bytes(ro) > max_bytes)
            max_bytes = trace_reorder_pending_bytes(ro);
        assert_int_equal(tt_pop_all(ro, 11, &want, &eb), 0);
        if (k < 4) assert_int_equal(want, 1); /* under the bound: it waits */
    }
    assert_int_equal(want, 1 + RUNS * PER);
    assert_int_equal(trace_reorder_holes(ro), 1);
    assert_true(max_bytes <= 5 * run_bytes);
    /* the skipped seq arriving late is a duplicate now */
    uint64_t late = 0;
    assert_int_equal(tt_push(ro, 11, 1, &late, 1, &eb), MT_ECORRUPT);
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
    while ((rc = trace_reader_next(r, &ev, &eb)) == 1) {
    }
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
        cmocka_unit_test_setup_teardown(test_trace_merge_restores_order_from_many_rings, tt_setup,
                                        tt_teardown),
        cmocka_unit_test_setup_teardown(test_trace_merge_run_starting_inside_another, tt_setup,
                                        tt_teardown),
        cmocka_unit_test_setup_teardown(test_trace_duplicate_seq_across_runs_is_an_error, tt_setup,
                                        tt_teardown),
        cmocka_unit_test_setup_teardown(test_trace_absurd_seq_jump_is_an_error, tt_setup,
                                        tt_teardown),
        cmocka_unit_test_setup_teardown(test_trace_missing_seqs_across_rings_released_at_proc_end,
                                        tt_setup, tt_teardown),
        cmocka_unit_test_setup_teardown(test_trace_eof_releases_streams_in_creation_order, tt_setup,
                                        tt_teardown),
        cmocka_unit_test(test_trace_merge_memory_bounded_by_disorder),
        cmocka_unit_test(test_trace_merge_pending_bound_forces_stream_forward),
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
