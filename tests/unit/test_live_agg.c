/*
 * test_live_agg.c — the live aggregator restores order across rings and counts like the database
 *
 * Feeds hand-made record blocks to live_agg_feed() in the order a
 * collector may drain them (a free on ring 1 before the allocation on ring
 * 0), then checks a snapshot: live heap, peak, counts, the error kind, and
 * a snapshot surviving its wire encoding. Code: analyzer/live/.
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

#include "live/live.h"
#include "memtrace/trace_format.h"

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

    struct live_agg *a = live_agg_create(1000);
    assert_non_null(a);
    live_agg_feed(a, 100, 0, 1, buf[1], used[1]); /* drained first */
    live_agg_feed(a, 100, 0, 0, buf[0], used[0]);
    assert_int_equal(live_agg_status(a), 0);
    live_agg_finish(a);

    struct live_req q = {0};
    struct live_snap snap;
    assert_int_equal(live_agg_snapshot(a, &q, 0, &snap), 0);
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
    assert_int_not_equal(live_snap_decode(wire, len / 2, &back), 0); /* cut short */
    free(wire);
    live_snap_free(&back);
    live_snap_free(&snap);
    live_agg_destroy(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_agg_free_before_its_alloc_is_ordered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
