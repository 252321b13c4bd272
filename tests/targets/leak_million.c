/*
 * leak_million.c — a large heap for the leak scan's cost and correctness at scale
 *
 * argv[1] blocks (default 1048576) of 32 bytes in 1024 singly linked chains,
 * allocated round-robin so neighbouring blocks belong to different chains.
 * The heads of chains 0..511 stay in a global array; the heads of chains
 * 512..1023 are dropped. Used by tests/e2e/leaks_scale.sh and for the figure
 * in docs/leaks.md (leak_end duration_ns).
 * Expected verdicts for n blocks (n a multiple of 1024; glibc's stdout buffer
 * adds one still reachable block):
 *   still reachable  n/2 blocks
 *   definitely lost  512 blocks (the dropped heads)
 *   indirectly lost  n/2 - 512 blocks
 * Prints "done" last.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHAINS 1024

struct link {
    struct link *next;
    long payload[3];
};

static struct link *heads[CHAINS];

static __attribute__((noinline)) void scrub_stack(void)
{
    volatile char pad[16384];
    memset((char *)pad, 0, sizeof(pad));
}

static __attribute__((noinline)) void build(long n)
{
    for (long i = 0; i < n; i++) {
        struct link *l = malloc(sizeof(*l));
        l->payload[0] = i;
        l->next = heads[i % CHAINS];
        heads[i % CHAINS] = l;
    }
    for (int c = CHAINS / 2; c < CHAINS; c++)
        heads[c] = NULL;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1048576;
    build(n);
    scrub_stack();
    printf("done\n");
    return 0;
}
