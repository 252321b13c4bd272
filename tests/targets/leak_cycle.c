/*
 * leak_cycle.c — lost cycles: alone, and entered from another lost block
 *
 * Leak-scan ground truth for tests/e2e/leaks_valgrind.sh. A cycle
 * A->B->C->A of 40-byte blocks is lost: memcheck makes one of them (the
 * lowest address) the clique leader, definitely lost, and the two others
 * indirectly lost. A 64-byte block D points into a second cycle E<->F
 * (40 bytes each) and is itself lost: D is definitely lost, E and F
 * indirectly lost whatever their addresses (an earlier clique is merged
 * into the later one that reaches it).
 * Expected verdicts (program's own blocks; glibc's stdout buffer adds one
 * still reachable block in both tools):
 *   definitely lost  2 blocks  104 bytes  (one of A/B/C, D)
 *   indirectly lost  4 blocks  160 bytes  (two of A/B/C, E, F)
 * Prints "done" last.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ring {
    struct ring *next;
    char pad[32];
};

static __attribute__((noinline)) struct ring *cycle_build(int n)
{
    struct ring *first = calloc(1, sizeof(*first)), *cur = first;
    for (int i = 1; i < n; i++) {
        cur->next = calloc(1, sizeof(*cur));
        cur = cur->next;
    }
    cur->next = first;
    return first;
}

static __attribute__((noinline)) void scrub_stack(void)
{
    volatile char pad[16384];
    memset((char *)pad, 0, sizeof(pad));
}

static __attribute__((noinline)) void lose_cycles(void)
{
    struct ring *abc = cycle_build(3);
    void **d = calloc(1, 64);
    d[3] = cycle_build(2); /* D -> E <-> F */
    abc = NULL;
    d = NULL;
    (void)abc, (void)d;
}

int main(void)
{
    lose_cycles();
    scrub_stack();
    printf("done\n");
    return 0;
}
