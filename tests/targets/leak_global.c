/*
 * leak_global.c — a global cache (still reachable) and an evicted entry
 *
 * Leak-scan ground truth for tests/e2e/leaks_valgrind.sh. A .bss array
 * holds 8 entries of 128 bytes; a .data pointer holds a malloc'd table of 16
 * buckets (128 bytes), each bucket a chain of 2 nodes of 24 bytes. One
 * 200-byte entry is evicted by overwriting its only pointer.
 * Expected verdicts (program's own blocks; glibc's stdout buffer adds one
 * still reachable block in both tools):
 *   definitely lost   1 block   200 bytes  (evicted entry)
 *   still reachable  41 blocks 1920 bytes  (8*128 + 128 + 32*24)
 * Prints "done" last.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bucket_node {
    struct bucket_node *next;
    long key, value;
};

static void *cache[8];                        /* .bss */
static struct bucket_node **table = (void *)1; /* .data: initialised, replaced */
static void *evictable;

static __attribute__((noinline)) void scrub_stack(void)
{
    volatile char pad[16384];
    memset((char *)pad, 0, sizeof(pad));
}

static __attribute__((noinline)) void fill(void)
{
    for (int i = 0; i < 8; i++)
        cache[i] = calloc(1, 128);
    table = calloc(16, sizeof(*table));
    for (long k = 0; k < 32; k++) {
        struct bucket_node *n = calloc(1, sizeof(*n));
        n->key = k;
        n->next = table[k % 16];
        table[k % 16] = n;
    }
    evictable = malloc(200);
    memset(evictable, 0, 200);
    evictable = NULL;
}

int main(void)
{
    fill();
    scrub_stack();
    printf("done\n");
    return 0;
}
