/*
 * test_live.c — the preload's live-pointer table (preload/live.c)
 *
 * The table decides whether a free is legal, so these tests pin its
 * semantics: insert/lookup/remove, a second remove of one block fails,
 * addresses it cannot judge, racing removers (exactly one wins), many
 * threads inserting and removing at once, interior lookups across directory
 * leaves, and the walk the leak scan uses. Addresses are made up and never
 * dereferenced. Contract: docs/preload.md ("Live table").
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "preload_int.h"

/* ---------------------------------------------------------------- types */

#define TL_BASE 0x100000000000ull /* a made-up heap region, 16 TiB */
#define TL_LEAF_SPAN (1ull << 20)  /* bytes of address space one leaf covers */
#define TL_THREADS 4
#define TL_PER_THREAD 50000u

struct tl_worker {
    uint64_t base;  /* first address this worker uses */
    uint32_t n;     /* blocks */
    uint32_t wins;  /* OUT: removes that returned 1 */
    uint32_t fails; /* OUT: unexpected results */
};

/* ------------------------------------------------------------ helpers */

static int tl_setup(void **state)
{
    (void)state;
    live_reset();
    return 0;
}

static void *tl_insert_remove(void *arg)
{
    struct tl_worker *w = arg;
    struct live_block b;
    for (uint32_t i = 0; i < w->n; i++)
        w->fails += live_insert(w->base + i * (16ull * TL_THREADS), i, i + 1, MT_FAM_MALLOC, 0) != 0;
    for (uint32_t i = 0; i < w->n; i++) {
        if (live_remove(w->base + i * (16ull * TL_THREADS), &b) != 1 || b.size != i || b.stack_id != i + 1)
            w->fails++;
    }
    return NULL;
}

static void *tl_race_remove(void *arg)
{
    struct tl_worker *w = arg;
    struct live_block b;
    for (uint32_t i = 0; i < w->n; i++) w->wins += live_remove(w->base + i * 16ull, &b) == 1;
    return NULL;
}

struct tl_walk {
    uint64_t n;         /* blocks seen */
    uint64_t bytes;     /* their sizes */
    uint64_t stop_after; /* return nonzero after this many (0: never) */
};

static int tl_walk_cb(uint64_t addr, uint64_t size, uint32_t stack_id, uint8_t family, void *ctx)
{
    struct tl_walk *w = ctx;
    (void)addr, (void)stack_id, (void)family;
    w->n++;
    w->bytes += size;
    return w->stop_after != 0 && w->n >= w->stop_after;
}

/* -------------------------------------------------------------- tests */

static void test_live_insert_lookup_remove(void **state)
{
    (void)state;
    struct live_block b;
    uint64_t a = TL_BASE + 0x40;
    assert_int_equal(live_lookup(a, &b), 0);
    assert_int_equal(live_insert(a, 123, 7, MT_FAM_NEW_ARRAY, 0), 0);
    assert_int_equal(live_lookup(a, &b), 1);
    assert_int_equal(b.size, 123);
    assert_int_equal(b.stack_id, 7);
    assert_int_equal(b.family, MT_FAM_NEW_ARRAY);
    assert_int_equal(b.flags, 0);
    assert_int_equal(live_count(), 1);
    assert_int_equal(live_remove(a, &b), 1);
    assert_int_equal(b.size, 123);
    assert_int_equal(b.family, MT_FAM_NEW_ARRAY);
    assert_int_equal(live_lookup(a, &b), 0);
    assert_int_equal(live_count(), 0);
}

static void test_live_second_remove_is_not_live(void **state)
{
    (void)state;
    struct live_block b;
    uint64_t a = TL_BASE + 0x1000;
    assert_int_equal(live_insert(a, 8, 1, MT_FAM_MALLOC, 0), 0);
    assert_int_equal(live_remove(a, &b), 1);
    assert_int_equal(live_remove(a, &b), 0); /* double free */
    assert_int_equal(live_insert(a, 16, 2, MT_FAM_MALLOC, 0), 0); /* address reused */
    assert_int_equal(live_remove(a, &b), 1);
    assert_int_equal(b.size, 16);
}

static void test_live_addresses_it_cannot_hold(void **state)
{
    (void)state;
    struct live_block b;
    assert_int_equal(live_remove(TL_BASE + 0x2000, &b), 0);         /* leaf exists? no matter */
    assert_int_equal(live_remove(0x7ff000000000ull, &b), 0);        /* no leaf at all */
    assert_int_equal(live_insert(TL_BASE + 0x3000, 8, 1, 0, 0), 0);
    assert_int_equal(live_remove(TL_BASE + 0x3008, &b), 0);         /* interior: not a block */
    assert_int_equal(live_insert(TL_BASE + 0x3008, 8, 1, 0, 0), -1); /* not 16-aligned */
    assert_int_equal(live_insert(1ull << 47, 8, 1, 0, 0), -1);       /* beyond 47 bits */
    assert_int_equal(live_remove(1ull << 47, &b), -1);               /* "unknown", not "not live" */
    assert_int_equal(live_remove(TL_BASE + 0x3000, &b), 1);
}

static void test_live_untraced_blocks_are_not_walked(void **state)
{
    (void)state;
    struct live_block b;
    assert_int_equal(live_insert(TL_BASE, 100, 3, MT_FAM_MALLOC, 0), 0);
    assert_int_equal(live_insert(TL_BASE + 0x100, 50, 0, MT_FAM_MALLOC, LIVE_F_UNTRACED), 0);
    assert_int_equal(live_insert(TL_BASE + 5 * TL_LEAF_SPAN, 7, 4, MT_FAM_NEW, 0), 0);
    struct tl_walk w = {0};
    live_foreach(tl_walk_cb, &w);
    assert_int_equal(w.n, 2);
    assert_int_equal(w.bytes, 107);
    assert_int_equal(live_count(), 2);
    struct tl_walk stop = {.stop_after = 1};
    live_foreach(tl_walk_cb, &stop);
    assert_int_equal(stop.n, 1); /* the callback's nonzero return stops the walk */
    assert_int_equal(live_lookup(TL_BASE + 0x100, &b), 1);
    assert_int_equal(b.flags, LIVE_F_UNTRACED);
}

static void test_live_interior_lookups(void **state)
{
    (void)state;
    struct live_block b;
    uint64_t start = 0;
    uint64_t a = TL_BASE + 0x500;
    assert_int_equal(live_insert(a, 100, 9, MT_FAM_MALLOC, 0), 0);
    assert_int_equal(live_find(a, &start, &b), 1);
    assert_int_equal(start, a);
    assert_int_equal(live_find(a + 99, &start, &b), 1);
    assert_int_equal(start, a);
    assert_int_equal(b.stack_id, 9);
    assert_int_equal(live_find(a + 100, &start, &b), 0); /* one past the end */
    assert_int_equal(live_find(a - 1, &start, &b), 0);

    /* a big block whose interior spans empty directory leaves */
    uint64_t big = TL_BASE + 8 * TL_LEAF_SPAN - 16;
    assert_int_equal(live_insert(big, 3 * TL_LEAF_SPAN, 10, MT_FAM_MALLOC, 0), 0);
    assert_int_equal(live_find(big + 2 * TL_LEAF_SPAN + 5, &start, &b), 1);
    assert_int_equal(start, big);
    assert_int_equal(live_find(big + 3 * TL_LEAF_SPAN, &start, &b), 0);

    /* a zero-sized block is found at its own address only */
    uint64_t z = TL_BASE + 0x900;
    assert_int_equal(live_insert(z, 0, 11, MT_FAM_MALLOC, 0), 0);
    assert_int_equal(live_find(z, &start, &b), 1);
    assert_int_equal(live_find(z + 1, &start, &b), 0);
}

static void test_live_many_threads_insert_and_remove(void **state)
{
    (void)state;
    pthread_t th[TL_THREADS];
    struct tl_worker w[TL_THREADS];
    for (int i = 0; i < TL_THREADS; i++) {
        /* interleaved 16-byte slots: threads share leaves and cache lines */
        w[i] = (struct tl_worker){.base = TL_BASE + 0x10000000 + 16ull * i, .n = TL_PER_THREAD};
        assert_int_equal(pthread_create(&th[i], NULL, tl_insert_remove, &w[i]), 0);
    }
    for (int i = 0; i < TL_THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].fails, 0);
    }
    assert_int_equal(live_count(), 0);
}

static void test_live_racing_removers_exactly_one_wins(void **state)
{
    (void)state;
    const uint32_t n = 100000;
    uint64_t base = TL_BASE + 0x40000000;
    for (uint32_t i = 0; i < n; i++) assert_int_equal(live_insert(base + i * 16ull, 1, 1, 0, 0), 0);
    pthread_t th[TL_THREADS];
    struct tl_worker w[TL_THREADS];
    for (int i = 0; i < TL_THREADS; i++) {
        w[i] = (struct tl_worker){.base = base, .n = n};
        assert_int_equal(pthread_create(&th[i], NULL, tl_race_remove, &w[i]), 0);
    }
    uint32_t wins = 0;
    for (int i = 0; i < TL_THREADS; i++) {
        pthread_join(th[i], NULL);
        wins += w[i].wins;
    }
    assert_int_equal(wins, n); /* every block freed once; the rest are double frees */
    assert_int_equal(live_count(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_live_insert_lookup_remove, tl_setup),
        cmocka_unit_test_setup(test_live_second_remove_is_not_live, tl_setup),
        cmocka_unit_test_setup(test_live_addresses_it_cannot_hold, tl_setup),
        cmocka_unit_test_setup(test_live_untraced_blocks_are_not_walked, tl_setup),
        cmocka_unit_test_setup(test_live_interior_lookups, tl_setup),
        cmocka_unit_test_setup(test_live_many_threads_insert_and_remove, tl_setup),
        cmocka_unit_test_setup(test_live_racing_removers_exactly_one_wins, tl_setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
