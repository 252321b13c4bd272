/*
 * leak_interior.c — blocks held only through interior pointers
 *
 * Leak-scan ground truth for tests/e2e/leaks_valgrind.sh. A global keeps
 * P + 40 (P is a 100-byte block): P is possibly lost. P holds a start
 * pointer to Q (50 bytes); a pointer held by a possibly lost block makes Q
 * possibly lost too (memcheck does not call it indirect). R (72 bytes) is
 * pointed to by an interior and by a start pointer: still reachable. The
 * offsets avoid memcheck's interior-pointer heuristics (+8, +24, vtables),
 * which are on by default.
 * Expected verdicts (program's own blocks; glibc's stdout buffer adds one
 * still reachable block in both tools):
 *   possibly lost    2 blocks  150 bytes  (P, Q)
 *   still reachable  1 block    72 bytes  (R)
 * Prints "done" last.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *p_inner; /* P + 40 */
static char *r_inner; /* R + 16 */
static char *r_start; /* R */

static __attribute__((noinline)) void scrub_stack(void)
{
    volatile char pad[16384];
    memset((char *)pad, 0, sizeof(pad));
}

static __attribute__((noinline)) void build(void)
{
    char *p = calloc(1, 100);
    char *q = calloc(1, 50);
    memcpy(p + 16, &q, sizeof(q));
    p_inner = p + 40;
    char *r = calloc(1, 72);
    r_inner = r + 16;
    r_start = r;
}

int main(void)
{
    build();
    scrub_stack();
    printf("done\n");
    return 0;
}
