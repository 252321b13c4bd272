/*
 * err_double_free_leak.c — a lost block, then the same block freed twice
 *
 * Ground truth for tests/e2e/check_no_errors.sh: what a run recorded
 * with --no-errors must not claim to have checked. The 48-byte block's
 * only pointer is dropped before the double free of a 64-byte block.
 * Expected under memtrace: 1 error not_live (double free, at release);
 * definitely lost 1 block, 48 bytes (at lose); prints "done" last.
 * Under `run --no-errors` the second free reaches glibc, which aborts
 * ("free(): double free detected in tcache 2"): no scan, nothing judged.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static __attribute__((noinline)) void lose(void)
{
    char *volatile p = malloc(48);
    memset(p, 2, 48);
    p = NULL; /* the only pointer: definitely lost */
}

static __attribute__((noinline)) void release(void *p)
{
    free(p);
}

int main(void)
{
    lose();
    char *p = malloc(64);
    memset(p, 1, 64);
    release(p);
    release(p); /* double free */
    printf("done\n");
    return 0;
}
