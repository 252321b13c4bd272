/*
 * test_live_agg.c — the live aggregator restores order across rings and counts like the database
 *
 * Feeds hand-made record blocks to live_agg_feed() in the order a
 * collector may drain them (a free on ring 1 before the allocation on ring
 * 0), then checks a snapshot: live heap, peak, counts, the error kind, and
 * a snapshot surviving its wire encoding. Lazy mode: a viewer arriving
 * before any block of a recorded session gets exactly the figures of an
 * aggregator fed from the start. Client API: pools (a malloc'd superblock
 * out of the heap and its peak undone, chunks, errors, reset, destroy),
 * markers, an on-demand leak check that is not the exit's, and images
 * recorded with --no-errors. Code: analyzer/live/ (live_pool.c);
 * tests/unit/test_live_client.c runs the same on real programs.
 *
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "live/live.h"
#include "memtrace/trace_format.h"
#include "trace/trace.h"

static uint8_t buf[2][1024];
static size_t used[2];

static void *rec(int ring, uint16_t kind, uint32_t len, uint64_t seq)
{
    struct mt_rec_common *c = (void *)(buf[ring] + used[ring]);
    memset(c, 0, len);
    c->hdr = (struct mt_rec_hdr){.kind = kind, .len = len};
    c->seq = seq;
    c->t_ns = 1000 + seq;
    used[ring] += len;
    return c;
}

static void alloc(int ring, uint64_t seq, uint64_t addr, uint64_t size)
{
    struct mt_rec_alloc *a = rec(ring, MT_REC_ALLOC, sizeof *a, seq);
    a->addr = addr, a->size = size, a->usable = size, a->stack_id = 1, a->tid = 7;
}

static void release(int ring, uint64_t seq, uint64_t addr)
{
    struct mt_rec_free *f = rec(ring, MT_REC_FREE, sizeof *f, seq);
    f->addr = addr, f->tid = 8;
}

/* A finished aggregator fed ring 1's block first (a collector may drain
 * it first), then ring 0's, of image 100; its snapshot of everything. */
static struct live_agg *fed(struct live_snap *snap)
{
    struct live_agg *a = live_agg_create(1000);
    assert_non_null(a);
    live_agg_feed(a, 100, 0, 1, buf[1], used[1]);
    live_agg_feed(a, 100, 0, 0, buf[0], used[0]);
    assert_int_equal(live_agg_status(a), 0);
    live_agg_finish(a);
    struct live_req q = {0};
    assert_int_equal(live_agg_snapshot(a, &q, 0, snap), 0);
    return a;
}

static void test_live_agg_free_before_its_alloc_is_ordered(void **state)
{
    (void)state;
    used[0] = used[1] = 0;
    struct mt_rec_process *p = rec(0, MT_REC_PROCESS, sizeof *p + 8, 0);
    p->pid = 100, p->exe_len = 2;
    memcpy(p + 1, "x", 2);
    struct mt_rec_stack *s = rec(0, MT_REC_STACK, sizeof *s, 1);
    s->stack_id = 1;
    alloc(0, 2, 0x1000, 100);
    release(1, 3, 0x1000);        /* another thread frees it: ring 1 */
    alloc(0, 4, 0x1000, 50);      /* the address is reused */
    release(1, 5, 0x1000);
    struct mt_rec_error *e = rec(1, MT_REC_ERROR, sizeof *e, 6);
    e->kind = MT_ERR_NOT_LIVE, e->addr = 0x1000, e->tid = 8;
    alloc(0, 7, 0x2000, 30);

    struct live_req q = {0};
    struct live_snap snap;
    struct live_agg *a = fed(&snap);
    assert_int_equal(snap.live_bytes, 30);
    assert_int_equal(snap.peak_bytes, 100);
    assert_int_equal(snap.n_allocs, 3);
    assert_int_equal(snap.n_frees, 2);
    assert_int_equal(snap.n_errors, 1);
    assert_int_equal(snap.n_errors_shown, 1);
    assert_string_equal(snap.errors[0].kind, "double_free");
    assert_int_equal(snap.n_sites, 1);
    assert_int_equal(snap.sites[0].alloc_bytes, 180);
    assert_int_equal(snap.sites[0].n_frees, 2);

    char *wire;
    size_t len;
    struct live_snap back;
    assert_int_equal(live_snap_encode(&snap, &q, &wire, &len), 0);
    assert_int_equal(live_snap_decode(wire, len, &back), 0);
    assert_int_equal(back.live_bytes, 30);
    assert_int_equal(back.n_sites, 1);
    assert_string_equal(back.errors[0].kind, "double_free");
    live_snap_free(&back);
    assert_int_not_equal(live_snap_decode(wire, len / 2, &back), 0); /* cut short */
    free(wire);
    live_snap_free(&back);
    live_snap_free(&snap);
    live_agg_destroy(a);
}

/* ------------------------------------------------------------ client API */

static void chunk(uint64_t seq, uint8_t op, uint32_t pool, uint64_t addr, uint64_t size,
                  uint16_t flags, uint32_t stack)
{
    struct mt_rec_pool_chunk *c = rec(0, MT_REC_POOL_CHUNK, sizeof *c, seq);
    c->c.hdr.flags = flags;
    c->op = op, c->pool_id = pool, c->addr = addr, c->size = size, c->tid = 7;
    c->stack_id = stack;
}

static void pool_ev(uint64_t seq, uint16_t event, uint32_t pool, const char *name)
{
    uint32_t len = sizeof(struct mt_rec_pool) + (name ? 8 : 0);
    struct mt_rec_pool *r = rec(0, MT_REC_POOL, len, seq);
    r->event = event, r->pool_id = pool, r->tid = 7;
    if (name) r->name_len = (uint16_t)(strlen(name) + 1), strcpy((char *)(r + 1), name);
}

static void client(uint64_t seq, uint16_t op, uint16_t flags, const char *label)
{
    uint32_t len = sizeof(struct mt_rec_client) + (label ? 8 : 0);
    struct mt_rec_client *r = rec(0, MT_REC_CLIENT, len, seq);
    r->c.hdr.flags = flags;
    r->op = op, r->tid = 7;
    if (label) r->label_len = (uint16_t)(strlen(label) + 1), strcpy((char *)(r + 1), label);
}

static void leak(uint64_t seq, uint64_t addr)
{
    struct mt_rec_leak *l = rec(0, MT_REC_LEAK, sizeof *l + sizeof(struct mt_leak_entry), seq);
    l->n = 1;
    struct mt_leak_entry *e = (void *)(l + 1);
    e->addr = addr, e->cls = MT_LEAK_DEFINITE;
}

static void process(uint64_t seq, uint32_t pid, uint32_t opts)
{
    struct mt_rec_process *p = rec(0, MT_REC_PROCESS, sizeof *p + 8, seq);
    p->pid = pid, p->exe_len = 2, p->opt_flags = opts;
    memcpy(p + 1, "x", 2);
}

/* Site row of stack_id in s, or NULL. */
static const struct live_site_row *site(const struct live_snap *s, uint32_t stack_id)
{
    for (size_t i = 0; i < s->n_sites; i++)
        if (s->sites[i].stack_id == stack_id) return &s->sites[i];
    return NULL;
}

/* Pool "slab" (1): a malloc'd superblock, chunks of stack 2, a double and
 * an invalid free, a leak check, the exit scan; pool "arena" (2): reset,
 * then destroyed with a chunk live. Figures as an_pool.c computes them. */
static void client_records(void)
{
    used[0] = used[1] = 0;
    process(0, 100, 0);
    pool_ev(1, MT_POOL_CREATE, 1, "slab");
    alloc(0, 2, 0x10000, 4096); /* heap 4096: a peak for one event */
    chunk(3, MT_CHUNK_SB_ADD, 1, 0x10000, 4096, MT_CHUNK_F_MALLOC_SB, 1);
    chunk(4, MT_CHUNK_ALLOC, 1, 0x10040, 64, 0, 2);
    chunk(5, MT_CHUNK_ALLOC, 1, 0x10080, 64, 0, 2); /* slab peak: 128 live, 4096 held */
    chunk(6, MT_CHUNK_FREE, 1, 0x10040, 64, 0, 0);
    chunk(7, MT_CHUNK_FREE, 1, 0x10040, 0, MT_CHUNK_F_NOT_LIVE, 2); /* double_free */
    chunk(8, MT_CHUNK_FREE, 1, 0x10008, 0, MT_CHUNK_F_NOT_LIVE, 2); /* invalid_free */
    client(9, MT_CLIENT_MARK, 0, "m1");
    client(10, MT_CLIENT_LEAK_CHECK, 0, NULL);
    leak(11, 0x10080); /* the check's: not a leak at the end */
    client(12, MT_CLIENT_LEAK_CHECK, MT_CLIENT_F_DONE, NULL);
    pool_ev(13, MT_POOL_CREATE, 2, "arena");
    chunk(14, MT_CHUNK_ALLOC, 2, 0x20000, 100, 0, 3); /* session peak: 64 + 100 */
    pool_ev(15, MT_POOL_RESET, 2, NULL);
    chunk(16, MT_CHUNK_ALLOC, 2, 0x20000, 50, 0, 3);
    pool_ev(17, MT_POOL_DESTROY, 2, NULL); /* 50 B lost */
    client(18, MT_CLIENT_PAUSE, 0, NULL);
    leak(19, 0x10080);       /* the exit scan's */
    release(0, 20, 0x10000); /* the superblock freed */
}

static void test_live_agg_pools_markers_and_checks(void **state)
{
    (void)state;
    client_records();
    struct live_req q = {0};
    struct live_snap s;
    struct live_agg *a = fed(&s);
    assert_int_equal(s.live_bytes, 64); /* the slab's last chunk */
    assert_int_equal(s.live_blocks, 1);
    assert_int_equal(s.peak_bytes, 164); /* not the superblock's 4096 */
    assert_int_equal(s.procs[0].peak_bytes, 164);
    assert_int_equal(s.n_allocs, 5);
    assert_int_equal(s.n_frees, 4); /* a chunk, the reset, the destroy, the superblock */
    assert_int_equal(s.n_errors, 2);
    assert_string_equal(s.errors[0].kind, "double_free");
    assert_string_equal(s.errors[0].api, "pool_free");
    assert_int_equal(s.errors[0].size, 64);
    assert_string_equal(s.errors[1].kind, "invalid_free");
    assert_int_equal(s.n_pools, 2);
    const struct live_pool_row *p = &s.pools[0];
    assert_string_equal(p->name, "slab");
    assert_int_equal(p->live_bytes, 64);
    assert_int_equal(p->live_chunks, 1);
    assert_int_equal(p->held_bytes, 0); /* its superblock was freed */
    assert_int_equal(p->peak_live_bytes, 128);
    assert_int_equal(p->peak_held_bytes, 4096);
    assert_int_equal(p->max_held_bytes, 4096);
    assert_int_equal(p->n_allocs, 2);
    assert_int_equal(p->n_frees, 1);
    assert_int_equal(p->n_errors, 2);
    assert_int_equal(p->leak_chunks, 1);
    assert_int_equal(p->leak_bytes, 64);
    p = &s.pools[1];
    assert_string_equal(p->name, "arena");
    assert_int_equal(p->destroyed, 1);
    assert_int_equal(p->live_bytes, 0);
    assert_int_equal(p->peak_live_bytes, 100);
    assert_int_equal(p->n_resets, 1);
    assert_int_equal(p->leak_bytes, 50);
    assert_int_equal(site(&s, 2)->leak_bytes, 64); /* once: the check's LEAK is not counted */
    assert_int_equal(site(&s, 2)->pool_id, 1);
    assert_int_equal(site(&s, 3)->leak_bytes, 50);
    assert_int_equal(site(&s, 1)->live_bytes, 0);
    assert_int_equal(site(&s, 1)->pool_id, 0);
    assert_int_equal(s.n_markers, 2);
    assert_string_equal(s.markers[0].name, "m1");
    assert_string_equal(s.markers[0].kind, "mark");
    assert_int_equal(s.markers[0].t_ns, 9);
    assert_string_equal(s.markers[1].kind, "pause");
    assert_int_equal(s.n_unchecked, 0);
    assert_int_equal(s.n_scope_procs, 1);

    char *wire;
    size_t len;
    struct live_snap back;
    assert_int_equal(live_snap_encode(&s, &q, &wire, &len), 0);
    assert_int_equal(live_snap_decode(wire, len, &back), 0);
    assert_int_equal(back.n_pools, 2);
    assert_string_equal(back.pools[1].name, "arena");
    assert_int_equal(back.pools[0].peak_held_bytes, 4096);
    assert_int_equal(back.n_markers, 2);
    assert_string_equal(back.markers[0].name, "m1");
    assert_string_equal(back.errors[0].api, "pool_free");
    live_snap_free(&back);
    assert_int_not_equal(live_snap_decode(wire, len - 8, &back), 0); /* markers cut short */
    free(wire);
    live_snap_free(&s);
    live_agg_destroy(a);
}

/* Prints s as JSON into a string owned by the caller. */
static char *json_of(const struct live_snap *s)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(live_snap_json(s, f), 0);
    fclose(f);
    return text;
}

/* Image 100 checked, image 200 recorded with --no-errors: the scope says
 * which, in the snapshot, on the wire and in the JSON. */
static void test_live_agg_no_errors_images_are_not_checked(void **state)
{
    (void)state;
    struct live_agg *a = live_agg_create(1000);
    assert_non_null(a);
    used[0] = used[1] = 0;
    process(0, 100, 0);
    live_agg_feed(a, 100, 0, 0, buf[0], used[0]);
    used[0] = 0;
    process(0, 200, MT_OPT_NO_ERRORS | MT_OPT_FREE_STACKS);
    alloc(0, 1, 0x1000, 10);
    live_agg_feed(a, 200, 0, 0, buf[0], used[0]);
    struct live_req q = {0};
    struct live_snap s, back;
    assert_int_equal(live_agg_snapshot(a, &q, 0, &s), 0);
    assert_int_equal(s.n_scope_procs, 2);
    assert_int_equal(s.n_unchecked, 1);
    assert_int_equal(s.procs[0].errors_checked, 1);
    assert_int_equal(s.procs[1].errors_checked, 0);
    char *j = json_of(&s);
    assert_non_null(strstr(j, "\"errors_checked\":false,\"sites\""));
    assert_non_null(strstr(j, "\"n_errors\":0,\"errors_checked\":true,\"exe\""));
    assert_non_null(strstr(j, "\"pools\":[],\"markers\":[]"));
    free(j);
    live_snap_free(&s);
    q.pid = 100;
    assert_int_equal(live_agg_snapshot(a, &q, 0, &s), 0);
    assert_int_equal(s.n_scope_procs, 1);
    assert_int_equal(s.n_unchecked, 0);
    j = json_of(&s);
    assert_non_null(strstr(j, "\"errors_checked\":true,\"sites\""));
    free(j);
    live_snap_free(&s);
    q.pid = 200;
    assert_int_equal(live_agg_snapshot(a, &q, 0, &s), 0);
    char *wire;
    size_t len;
    assert_int_equal(live_snap_encode(&s, &q, &wire, &len), 0);
    assert_int_equal(live_snap_decode(wire, len, &back), 0);
    assert_int_equal(back.n_scope_procs, 1);
    assert_int_equal(back.n_unchecked, 1);
    assert_int_equal(back.procs[1].errors_checked, 0);
    free(wire);
    live_snap_free(&back);
    live_snap_free(&s);
    live_agg_destroy(a);
}

/* ------------------------------------------------------------ lazy mode */

/* Blocks as a collector may drain them: ring 1's stack and free come
 * before ring 0's process and alloc, and ring 1's free of seq 5 before
 * ring 0's alloc of seq 4, so a catch-up after block 0 or 2 ends with
 * held records waiting for a seq still "in the ring". */
struct lazy_blk {
    uint32_t ring;
    _Alignas(8) uint8_t bytes[256]; /* records are 8-byte aligned, as in a ring */
    size_t len;
    size_t n_recs;
};
static struct lazy_blk blks[6];

static void *lazy_rec(struct lazy_blk *b, uint16_t kind, uint32_t len, uint64_t seq)
{
    struct mt_rec_common *c = (void *)(b->bytes + b->len);
    memset(c, 0, len);
    c->hdr = (struct mt_rec_hdr){.kind = kind, .len = len};
    c->seq = seq;
    c->t_ns = 1000 + seq;
    b->len += len;
    b->n_recs++;
    return c;
}

static void lazy_alloc(struct lazy_blk *b, uint64_t seq, uint64_t addr, uint64_t size)
{
    struct mt_rec_alloc *a = lazy_rec(b, MT_REC_ALLOC, sizeof *a, seq);
    a->addr = addr, a->size = size, a->usable = size, a->stack_id = 1, a->tid = 7;
}

static void lazy_free(struct lazy_blk *b, uint64_t seq, uint64_t addr)
{
    struct mt_rec_free *f = lazy_rec(b, MT_REC_FREE, sizeof *f, seq);
    f->addr = addr, f->tid = 8;
}

static void lazy_blocks(void)
{
    memset(blks, 0, sizeof blks);
    blks[0].ring = 1; /* drained first: a stack too large for a slot waits */
    struct mt_rec_stack *st = lazy_rec(&blks[0], MT_REC_STACK, sizeof *st + 8 * 8, 1);
    st->stack_id = 1, st->n_frames = 8;
    lazy_free(&blks[0], 3, 0x1000);
    struct mt_rec_process *p = lazy_rec(&blks[1], MT_REC_PROCESS, sizeof *p + 8, 0);
    p->pid = 100, p->exe_len = 2;
    memcpy(p + 1, "x", 2);
    lazy_alloc(&blks[1], 2, 0x1000, 100);
    blks[2].ring = 1;
    lazy_free(&blks[2], 5, 0x1000); /* before seq 4: held back */
    struct mt_rec_error *e = lazy_rec(&blks[2], MT_REC_ERROR, sizeof *e, 6);
    e->kind = MT_ERR_NOT_LIVE, e->addr = 0x1000, e->tid = 8;
    lazy_alloc(&blks[3], 4, 0x1000, 50); /* the address is reused */
    lazy_alloc(&blks[3], 7, 0x2000, 30);
    blks[4].ring = MT_RING_COLLECTOR; /* a sample: the idle program's heartbeat */
    struct mt_rec_rss *r = (void *)blks[4].bytes;
    *r = (struct mt_rec_rss){.hdr = {.kind = MT_REC_RSS, .len = sizeof *r}, .t_ns = 1010,
                             .pid = 100, .rss = 1 << 20};
    blks[4].len = sizeof *r, blks[4].n_recs = 1;
    lazy_alloc(&blks[5], 8, 0x3000, 7);
}

/* Records a session whose viewer arrives before block `want` (6: after
 * the last, so live_agg_finish catches up), on_block called before or
 * after the writer sees each block. Checks every figure and how many
 * records came from the trace. */
static void lazy_run(size_t want, int on_block_first)
{
    char path[] = "/tmp/test_live_agg.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct mt_file_hdr h = {.start_mono_ns = 1000, .root_pid = 100};
    struct trace_writer *w;
    assert_int_equal(trace_writer_open(path, &h, &w), 0);
    struct live_agg *a = live_agg_create(1000);
    assert_non_null(a);
    assert_int_equal(live_agg_set_lazy(a, w, path), 0);
    size_t n_before = 0;
    for (size_t i = 0; i < 6; i++) {
        struct lazy_blk *b = &blks[i];
        if (i == want) live_agg_want(a);
        if (i < want || (i == want && !on_block_first)) n_before += b->n_recs;
        uint32_t pid = b->ring == MT_RING_COLLECTOR ? 0 : 100;
        if (!on_block_first) assert_int_equal(trace_writer_block(w, pid, 0, b->ring, b->bytes, b->len), 0);
        live_agg_on_block(a, pid, 0, b->ring, b->bytes, b->len);
        if (on_block_first) assert_int_equal(trace_writer_block(w, pid, 0, b->ring, b->bytes, b->len), 0);
    }
    if (want == 6) live_agg_want(a);
    live_agg_finish(a);
    assert_int_equal(live_agg_wait_ready(a, 0), 0);
    assert_int_equal(live_agg_status(a), 0);
    struct live_req q = {0};
    struct live_snap snap;
    assert_int_equal(live_agg_snapshot(a, &q, 0, &snap), 0);
    assert_int_equal(snap.replayed_records, n_before);
    assert_int_equal(snap.live_bytes, 37);
    assert_int_equal(snap.live_blocks, 2);
    assert_int_equal(snap.peak_bytes, 100);
    assert_int_equal(snap.n_allocs, 4);
    assert_int_equal(snap.n_frees, 2);
    assert_int_equal(snap.n_errors, 1);
    assert_string_equal(snap.errors[0].kind, "double_free");
    assert_int_equal(snap.rss_bytes, 0); /* the process ended at finish */
    live_snap_free(&snap);
    live_agg_destroy(a);
    assert_int_equal(trace_writer_close(w), 0);
    unlink(path);
}

static void test_live_agg_lazy_catch_up_is_exact_at_every_block(void **state)
{
    (void)state;
    lazy_blocks();
    for (size_t want = 0; want <= 6; want++) {
        lazy_run(want, 1);
        lazy_run(want, 0);
    }
}

static void test_live_agg_lazy_idle_to_the_end_stays_empty(void **state)
{
    (void)state;
    lazy_blocks();
    struct live_agg *a = live_agg_create(1000);
    assert_non_null(a);
    assert_int_equal(live_agg_set_lazy(a, NULL, "/nonexistent"), 0); /* never read */
    for (size_t i = 0; i < 6; i++)
        live_agg_on_block(a, 100, 0, blks[i].ring, blks[i].bytes, blks[i].len);
    assert_int_equal(live_agg_wait_ready(a, 1), -ETIMEDOUT);
    live_agg_finish(a);
    assert_int_equal(live_agg_wait_ready(a, 1000), -ESRCH);
    live_agg_want(a); /* too late: nothing to wake */
    assert_int_equal(live_agg_wait_ready(a, 0), -ESRCH);
    live_agg_destroy(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_agg_free_before_its_alloc_is_ordered),
        cmocka_unit_test(test_live_agg_lazy_catch_up_is_exact_at_every_block),
        cmocka_unit_test(test_live_agg_lazy_idle_to_the_end_stays_empty),
        cmocka_unit_test(test_live_agg_pools_markers_and_checks),
        cmocka_unit_test(test_live_agg_no_errors_images_are_not_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
