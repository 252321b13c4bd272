/*
 * test_leak.c — the leak scan's block graph on synthetic memory (cmocka)
 *
 * Drives preload/leak.c directly: blocks are slices of one buffer owned by
 * the test, roots are arrays on the test's stack, so every class memcheck
 * defines (reachable, possibly, definitely, indirectly lost) and its edge
 * cases (cycles, clique merging, upgrades, requested-size bound) are checked
 * without a target process. leak.c is included with LEAK_API static so the
 * test owns a private copy whatever the preload library exports.
 * The stop-the-world handshake of preload/leak_stop.c (linked from
 * mtpreload_core) is checked on real threads of this process.
 * The last case times 1 M blocks and prints the figure docs/leaks.md quotes.
 *
 * SPDX-License-Identifier: MIT
 */
#define LEAK_API static __attribute__((unused))
#include "../../preload/leak.c"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/* ------------------------------------------------------------------ *
 * Fixture: n blocks of BLK_WORDS words carved from one buffer
 * ------------------------------------------------------------------ */

#define BLK_WORDS 8u /* 64-byte blocks */

struct fix {
    uint64_t *heap;  /* owned: n * BLK_WORDS words */
    struct leak_block *blocks, *tmp;
    uint8_t *state;
    uint32_t *work;
    uint64_t *top;
    struct leak_hash_ent *hash;
    uint64_t n;
    struct leak_graph g;
};

static uint64_t blk(struct fix *f, uint64_t i)
{
    return (uint64_t)(uintptr_t)(f->heap + i * BLK_WORDS);
}

/* Word w of block i. */
static uint64_t *slot(struct fix *f, uint64_t i, unsigned w)
{
    return f->heap + i * BLK_WORDS + w;
}

static void fix_create(struct fix *f, uint64_t n)
{
    memset(f, 0, sizeof(*f));
    f->n = n;
    f->heap = aligned_alloc(16, n * BLK_WORDS * sizeof(uint64_t));
    memset(f->heap, 0, n * BLK_WORDS * sizeof(uint64_t));
    f->blocks = calloc(n, sizeof(*f->blocks));
    f->tmp = calloc(n, sizeof(*f->tmp));
    f->state = calloc(n, 1);
    f->work = calloc(2 * n + 2, sizeof(*f->work));
    f->top = calloc(leak_graph_top_len(n), sizeof(*f->top));
    f->hash = calloc(leak_graph_hash_len(n), sizeof(*f->hash));
    assert_non_null(f->heap);
    assert_non_null(f->work);
}

/* Registers the blocks in a scrambled order (the live table is a hash). */
static void fix_index(struct fix *f)
{
    for (uint64_t i = 0; i < f->n; i++) {
        uint64_t j = (i * 7919u) % f->n; /* 7919 is prime: a permutation unless n divides it */
        f->blocks[i] = (struct leak_block){blk(f, j), BLK_WORDS * sizeof(uint64_t)};
    }
    leak_graph_init(&f->g, f->blocks, f->n, f->tmp, f->state, f->work, f->top, f->hash);
}

/* Class of the block that starts at heap slice i. */
static uint8_t fix_class(struct fix *f, uint64_t i)
{
    int is_start;
    int64_t idx = leak_graph_find(&f->g, blk(f, i), &is_start);
    assert_true(idx >= 0);
    return leak_graph_class(&f->g, (uint64_t)idx);
}

static void fix_classify(struct fix *f, const uint64_t *roots, size_t n_roots)
{
    leak_graph_scan_root(&f->g, (uint64_t)(uintptr_t)roots,
                         (uint64_t)(uintptr_t)(roots + n_roots));
    leak_graph_mark(&f->g);
    leak_graph_cliques(&f->g);
}

static void fix_destroy(struct fix *f)
{
    free(f->heap);
    free(f->blocks);
    free(f->tmp);
    free(f->state);
    free(f->work);
    free(f->top);
    free(f->hash);
}

/* ------------------------------------------------------------------ *
 * Cases
 * ------------------------------------------------------------------ */

static void test_leak_sort_orders_scrambled_blocks(void **unused)
{
    struct fix f;
    fix_create(&f, 1000);
    fix_index(&f);
    for (uint64_t i = 1; i < f.n; i++)
        assert_true(f.blocks[i - 1].addr < f.blocks[i].addr);
    fix_destroy(&f);
}

static void test_leak_find_tells_start_interior_and_outside(void **unused)
{
    struct leak_block b[3] = {{0x1000, 32}, {0x2000, 0}, {0x3000, 8}};
    struct leak_block tmp[3];
    uint8_t st[3];
    uint32_t work[8];
    uint64_t top[2];
    struct leak_hash_ent hash[16];
    struct leak_graph g;
    int is_start = -1;

    leak_graph_init(&g, b, 3, tmp, st, work, top, hash);
    assert_int_equal(leak_graph_find(&g, 0x1000, &is_start), 0);
    assert_int_equal(is_start, 1);
    assert_int_equal(leak_graph_find(&g, 0x101f, &is_start), 0);
    assert_int_equal(is_start, 0);
    assert_int_equal(leak_graph_find(&g, 0x1020, &is_start), -1); /* one past the end */
    assert_int_equal(leak_graph_find(&g, 0x2000, &is_start), 1);  /* zero-sized: start only */
    assert_int_equal(leak_graph_find(&g, 0x2001, &is_start), -1);
    assert_int_equal(leak_graph_find(&g, 0xfff, &is_start), -1);
    assert_int_equal(leak_graph_find(&g, 0x3008, &is_start), -1);
}

/* root -> 0 -> 1 -> 2: a start-pointer chain is still reachable; 3 has no pointer. */
static void test_leak_start_chain_is_reachable_and_orphan_definite(void **unused)
{
    struct fix f;
    fix_create(&f, 4);
    *slot(&f, 0, 3) = blk(&f, 1);
    *slot(&f, 1, 7) = blk(&f, 2);
    fix_index(&f);
    uint64_t roots[2] = {blk(&f, 0), 12345};
    fix_classify(&f, roots, 2);
    assert_int_equal(fix_class(&f, 0), MT_LEAK_REACHABLE);
    assert_int_equal(fix_class(&f, 1), MT_LEAK_REACHABLE);
    assert_int_equal(fix_class(&f, 2), MT_LEAK_REACHABLE);
    assert_int_equal(fix_class(&f, 3), MT_LEAK_DEFINITE);
    fix_destroy(&f);
}

/* root -> interior of 0; 0 -> start of 1: both possibly lost (memcheck). */
static void test_leak_interior_root_makes_block_and_pointees_possible(void **unused)
{
    struct fix f;
    fix_create(&f, 2);
    *slot(&f, 0, 2) = blk(&f, 1);
    fix_index(&f);
    uint64_t roots[1] = {blk(&f, 0) + 24};
    fix_classify(&f, roots, 1);
    assert_int_equal(fix_class(&f, 0), MT_LEAK_POSSIBLE);
    assert_int_equal(fix_class(&f, 1), MT_LEAK_POSSIBLE);
    fix_destroy(&f);
}

/* 0 is found first through an interior pointer, later through a start pointer
 * held by reachable block 2: it and its pointee 1 end up reachable. */
static void test_leak_possible_block_is_upgraded_by_start_pointer(void **unused)
{
    struct fix f;
    fix_create(&f, 3);
    *slot(&f, 0, 0) = blk(&f, 1);
    *slot(&f, 2, 5) = blk(&f, 0);
    fix_index(&f);
    uint64_t roots[2] = {blk(&f, 0) + 8, blk(&f, 2)};
    fix_classify(&f, roots, 2);
    assert_int_equal(fix_class(&f, 0), MT_LEAK_REACHABLE);
    assert_int_equal(fix_class(&f, 1), MT_LEAK_REACHABLE);
    assert_int_equal(fix_class(&f, 2), MT_LEAK_REACHABLE);
    fix_destroy(&f);
}

/* Lost cycle 1 -> 2 -> 3 -> 1: the lowest address leads (definite). */
static void test_leak_lost_cycle_has_one_definite_block(void **unused)
{
    struct fix f;
    fix_create(&f, 4);
    *slot(&f, 1, 0) = blk(&f, 2);
    *slot(&f, 2, 0) = blk(&f, 3);
    *slot(&f, 3, 0) = blk(&f, 1);
    fix_index(&f);
    uint64_t roots[1] = {blk(&f, 0)};
    fix_classify(&f, roots, 1);
    assert_int_equal(fix_class(&f, 0), MT_LEAK_REACHABLE);
    assert_int_equal(fix_class(&f, 1), MT_LEAK_DEFINITE);
    assert_int_equal(fix_class(&f, 2), MT_LEAK_INDIRECT);
    assert_int_equal(fix_class(&f, 3), MT_LEAK_INDIRECT);
    fix_destroy(&f);
}

/* 2 -> interior of 0 and 0 <-> 1: 0 leads a clique first, then 2 absorbs it. */
static void test_leak_later_leader_absorbs_earlier_clique(void **unused)
{
    struct fix f;
    fix_create(&f, 3);
    *slot(&f, 0, 0) = blk(&f, 1);
    *slot(&f, 1, 0) = blk(&f, 0);
    *slot(&f, 2, 4) = blk(&f, 0) + 16;
    fix_index(&f);
    fix_classify(&f, NULL, 0);
    assert_int_equal(fix_class(&f, 0), MT_LEAK_INDIRECT);
    assert_int_equal(fix_class(&f, 1), MT_LEAK_INDIRECT);
    assert_int_equal(fix_class(&f, 2), MT_LEAK_DEFINITE);
    fix_destroy(&f);
}

/* A possibly lost block's pointees are possible, never indirect. */
static void test_leak_pointee_of_possible_is_not_indirect(void **unused)
{
    struct fix f;
    fix_create(&f, 3);
    *slot(&f, 0, 1) = blk(&f, 1);
    *slot(&f, 1, 1) = blk(&f, 2);
    fix_index(&f);
    uint64_t roots[1] = {blk(&f, 0) + 40};
    fix_classify(&f, roots, 1);
    assert_int_equal(fix_class(&f, 0), MT_LEAK_POSSIBLE);
    assert_int_equal(fix_class(&f, 1), MT_LEAK_POSSIBLE);
    assert_int_equal(fix_class(&f, 2), MT_LEAK_POSSIBLE);
    fix_destroy(&f);
}

/* A pointer stored past the requested size (in malloc's slack) is not seen. */
static void test_leak_scan_stops_at_requested_size(void **unused)
{
    struct fix f;
    fix_create(&f, 2);
    *slot(&f, 0, 5) = blk(&f, 1); /* bytes 40..47 */
    fix_index(&f);
    assert_int_equal(f.g.blocks[0].addr, blk(&f, 0)); /* sorted: slice 0 first */
    f.g.blocks[0].size = 44;
    uint64_t roots[1] = {blk(&f, 0)};
    fix_classify(&f, roots, 1);
    assert_int_equal(fix_class(&f, 0), MT_LEAK_REACHABLE);
    assert_int_equal(fix_class(&f, 1), MT_LEAK_DEFINITE); /* word 5 is not whole */
    fix_destroy(&f);
}

/* A block flagged NOSCAN is classified but its memory never read. */
static void test_leak_noscan_block_is_classified_not_read(void **unused)
{
    struct fix f;
    fix_create(&f, 2);
    *slot(&f, 0, 0) = blk(&f, 1);
    fix_index(&f);
    int is_start;
    int64_t idx = leak_graph_find(&f.g, blk(&f, 0), &is_start);
    f.g.state[idx] |= LEAK_ST_NOSCAN;
    uint64_t roots[1] = {blk(&f, 0)};
    fix_classify(&f, roots, 1);
    assert_int_equal(fix_class(&f, 0), MT_LEAK_REACHABLE);
    assert_int_equal(fix_class(&f, 1), MT_LEAK_DEFINITE);
    fix_destroy(&f);
}

/* Registers count as roots, and an empty graph rejects every word. */
static void test_leak_register_word_and_empty_graph(void **unused)
{
    struct fix f;
    fix_create(&f, 1);
    fix_index(&f);
    leak_graph_root_word(&f.g, blk(&f, 0));
    leak_graph_mark(&f.g);
    leak_graph_cliques(&f.g);
    assert_int_equal(fix_class(&f, 0), MT_LEAK_REACHABLE);
    fix_destroy(&f);

    struct leak_graph g;
    uint32_t work[2];
    int is_start;
    leak_graph_init(&g, NULL, 0, NULL, NULL, work, NULL, NULL);
    leak_graph_root_word(&g, 0x1000);
    assert_int_equal(leak_graph_find(&g, 0x1000, &is_start), -1);
}

/* memcheck's heuristics: an interior pointer of a known shape held by a
 * root counts as a start pointer; the same pointer held by a possibly lost
 * block does not make its target reachable. */
static void test_leak_heuristics_accept_known_interior_shapes(void **unused)
{
    struct fix f;
    fix_create(&f, 5);
    *slot(&f, 0, 0) = 7;  /* newarray: 7 divides 64 - 8 */
    *slot(&f, 1, 0) = 56; /* length64 (newarray too): 64 - 8 */
    *slot(&f, 2, 0) = 10; /* stdstring: length 10 ... */
    *slot(&f, 2, 1) = 39; /* ... capacity 39: 24 + 39 + 1 == 64 */
    *slot(&f, 3, 0) = 5;  /* fits nothing */
    fix_index(&f);
    uint64_t roots[4] = {blk(&f, 0) + 8, blk(&f, 1) + 8, blk(&f, 2) + 24, blk(&f, 3) + 8};
    fix_classify(&f, roots, 4);
    assert_int_equal(fix_class(&f, 0), MT_LEAK_REACHABLE);
    assert_int_equal(fix_class(&f, 1), MT_LEAK_REACHABLE);
    assert_int_equal(fix_class(&f, 2), MT_LEAK_REACHABLE);
    assert_int_equal(fix_class(&f, 3), MT_LEAK_POSSIBLE);
    assert_int_equal(fix_class(&f, 4), MT_LEAK_DEFINITE);
    fix_destroy(&f);
}

static void fake_fn_a(void) {}
static void fake_fn_b(void) {}

/* Multiple inheritance: vtable-looking words at the block start and at the
 * pointer; a "vtable" must live in a readable file mapping and hold two
 * pointers into executable ones (here: ranges the test declares). */
static void test_leak_heuristic_multiple_inheritance_needs_vtables(void **unused)
{
    static uint64_t vtables[4]; /* two fake vtables of two entries each */
    uint64_t fa = (uint64_t)(uintptr_t)&fake_fn_a, fb = (uint64_t)(uintptr_t)&fake_fn_b;
    struct leak_range file_r = {(uint64_t)(uintptr_t)vtables, (uint64_t)(uintptr_t)(vtables + 4)};
    struct leak_range file_x = {(fa < fb ? fa : fb), (fa < fb ? fb : fa) + 1};
    struct fix f;

    vtables[0] = vtables[2] = fa;
    vtables[1] = vtables[3] = fb;
    fix_create(&f, 2);
    *slot(&f, 0, 0) = (uint64_t)(uintptr_t)&vtables[0];
    *slot(&f, 0, 2) = (uint64_t)(uintptr_t)&vtables[2];
    *slot(&f, 1, 0) = (uint64_t)(uintptr_t)&vtables[0];
    *slot(&f, 1, 2) = 12345; /* not a vtable */
    fix_index(&f);
    leak_graph_set_files(&f.g, &file_r, 1, &file_x, 1);
    uint64_t roots[2] = {blk(&f, 0) + 16, blk(&f, 1) + 16};
    fix_classify(&f, roots, 2);
    assert_int_equal(fix_class(&f, 0), MT_LEAK_REACHABLE);
    assert_int_equal(fix_class(&f, 1), MT_LEAK_POSSIBLE);
    fix_destroy(&f);
}

static int stop_pipe[2];

/* A thread blocked in read(2); with arg != NULL it blocks every signal. */
static void *stop_blocker(void *arg)
{
    char c;
    if (arg != NULL) {
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, NULL);
    }
    while (read(stop_pipe[0], &c, 1) != 1)
        ;
    return NULL;
}

/* Two threads answer the stop signal with their registers; the one that
 * blocks signals is not waited for but still gets its stack pointer from
 * /proc; all three run on after leak_start_world(). */
static void test_leak_stop_world_stops_and_releases_threads(void **unused)
{
    pthread_t t[3];
    static char buf[65536];
    assert_int_equal(pipe(stop_pipe), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&t[i], NULL, stop_blocker, i == 2 ? (void *)1 : NULL), 0);
    usleep(100000); /* let them reach read() */
    assert_int_equal(leak_stop_world(buf, sizeof(buf)), 0);
    uint32_t with_regs = 0, with_sp = 0;
    for (uint32_t i = 0; i < leak_stop_n(); i++) {
        const struct leak_thread *th = leak_stop_at(i);
        with_regs += th->has_regs && th->sp != 0 && th->fs != 0;
        with_sp += th->sp != 0;
    }
    leak_start_world();
    assert_int_equal(leak_stop_n(), 3);
    assert_int_equal(with_regs, 2);
    assert_int_equal(with_sp, 3);
    assert_int_equal(write(stop_pipe[1], "abc", 3), 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    close(stop_pipe[0]);
    close(stop_pipe[1]);
}

static double sec_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* 1 M blocks: half on reachable chains from 1024 roots, half in lost chains.
 * Prints the time; asserts only the classification. */
static void test_leak_million_blocks_classified(void **unused)
{
    const uint64_t n = 1u << 20;
    struct fix f;
    static uint64_t roots[1024];
    struct timespec t0;

    fix_create(&f, n);
    for (uint64_t i = 0; i + 1024 < n; i++)
        *slot(&f, i, 1) = blk(&f, i + 1024); /* 1024 interleaved chains */
    for (uint64_t r = 0; r < 512; r++)
        roots[r] = blk(&f, r); /* chains 0..511 reachable, 512..1023 lost */
    for (uint64_t i = 0; i < n; i++)
        f.blocks[i] = (struct leak_block){blk(&f, (i * 7919u) % n), BLK_WORDS * 8};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    leak_graph_init(&f.g, f.blocks, n, f.tmp, f.state, f.work, f.top, f.hash);
    fix_classify(&f, roots, 1024);
    double sec = sec_since(&t0);
    printf("leak graph: %llu blocks, %llu words scanned, %.3f s (sort + mark + cliques)\n",
           (unsigned long long)n, (unsigned long long)f.g.words_scanned, sec);
    uint64_t count[5] = {0};
    for (uint64_t i = 0; i < n; i++)
        count[leak_graph_class(&f.g, i)]++;
    assert_int_equal(count[MT_LEAK_REACHABLE], n / 2);
    assert_int_equal(count[MT_LEAK_DEFINITE], 512);
    assert_int_equal(count[MT_LEAK_INDIRECT], n / 2 - 512);
    fix_destroy(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leak_sort_orders_scrambled_blocks),
        cmocka_unit_test(test_leak_find_tells_start_interior_and_outside),
        cmocka_unit_test(test_leak_start_chain_is_reachable_and_orphan_definite),
        cmocka_unit_test(test_leak_interior_root_makes_block_and_pointees_possible),
        cmocka_unit_test(test_leak_possible_block_is_upgraded_by_start_pointer),
        cmocka_unit_test(test_leak_lost_cycle_has_one_definite_block),
        cmocka_unit_test(test_leak_later_leader_absorbs_earlier_clique),
        cmocka_unit_test(test_leak_pointee_of_possible_is_not_indirect),
        cmocka_unit_test(test_leak_scan_stops_at_requested_size),
        cmocka_unit_test(test_leak_noscan_block_is_classified_not_read),
        cmocka_unit_test(test_leak_register_word_and_empty_graph),
        cmocka_unit_test(test_leak_heuristics_accept_known_interior_shapes),
        cmocka_unit_test(test_leak_heuristic_multiple_inheritance_needs_vtables),
        cmocka_unit_test(test_leak_stop_world_stops_and_releases_threads),
        cmocka_unit_test(test_leak_million_blocks_classified),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
