/*
 * err_free_global.c — free() of a global array
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

static char global_buf[64] = "not from malloc";

static __attribute__((noinline)) void release(void *p)
{
    free(p);
}

int main(void)
{
    release(global_buf);
    printf("done\n");
    return 0;
}
