/*
 * err_double_free.c — the same block freed twice on one thread
 *
 * Error ground truth for tests/e2e/errors_valgrind.sh. glibc alone aborts
 * ("free(): double free detected in tcache 2"); under memtrace the second
 * free is reported and not passed on, so the program reaches its end.
 * Expected: 1 error not_live (valgrind: InvalidFree); no leak.
 * Prints "done" last.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static __attribute__((noinline)) void release(void *p)
{
    free(p);
}

int main(void)
{
    char *p = malloc(64);
    memset(p, 1, 64);
    release(p);
    release(p); /* double free */
    printf("done\n");
    return 0;
}
