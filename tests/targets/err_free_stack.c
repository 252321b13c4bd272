/*
 * err_free_stack.c — free() of a stack address
 *
 * Error ground truth for tests/e2e/errors_valgrind.sh. glibc alone aborts
 * ("free(): invalid pointer"); memtrace reports it and skips the real free.
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
    char local[48];
    memset(local, 0, sizeof(local));
    release(local);
    printf("done\n");
    return 0;
}
