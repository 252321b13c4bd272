/*
 * an_known.c — a program whose heap figures are known to the byte
 *
 * Expected analysis (tests/e2e/analyze_known.sh checks each):
 *   - peak heap = 3 * 100000 + 50000 = 350000 bytes, reached when
 *     big_buffer() holds 3 blocks and side_buffer() 1; at the peak
 *     big_buffer's site has 300000 bytes in 3 blocks, side_buffer's 50000;
 *   - 1001 temporary allocations: 1000 in tmp_work (malloc, free, repeat)
 *     and side_buffer's block, freed before main allocated again;
 *   - definite leaks: 4 blocks of 24 bytes from leak_four() (an_known.c,
 *     the malloc line marked LEAK4), 1 block of 77 bytes from the inlined
 *     leak_inline() (marked LEAK_INLINE) called from main;
 *   - no memory errors.
 * Built -O0 -g like every target; leak_inline is always_inline.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

static void *keep[8];
static void *sink;

__attribute__((noinline)) static void *big_buffer(void)
{
    return malloc(100000);
}

__attribute__((noinline)) static void *side_buffer(void)
{
    return malloc(50000);
}

__attribute__((noinline)) static void tmp_work(void)
{
    for (int i = 0; i < 1000; i++) {
        char *p = malloc(32);
        p[0] = (char)i;
        sink = p;
        free(p);
    }
}

__attribute__((noinline)) static void leak_four(void)
{
    for (int i = 0; i < 4; i++) {
        void *p = malloc(24); /* LEAK4 */
        memset(p, 0, 24);
    }
}

static inline __attribute__((always_inline)) void leak_inline(void)
{
    void *p = malloc(77); /* LEAK_INLINE */
    memset(p, 1, 77);
}

int main(void)
{
    for (int i = 0; i < 3; i++) keep[i] = big_buffer();
    keep[3] = side_buffer();
    for (int i = 0; i < 4; i++) free(keep[i]);
    keep[0] = keep[1] = keep[2] = keep[3] = NULL;
    tmp_work();
    sink = NULL;
    leak_four();
    leak_inline();
    return 0;
}
