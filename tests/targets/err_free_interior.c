/*
 * err_free_interior.c — free() of a pointer into the middle of a live block
 *
 * Error ground truth for tests/e2e/errors_valgrind.sh. The interior free is
 * reported and skipped; the block itself is then freed correctly.
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
    memset(p, 0, 64);
    release(p + 16); /* interior */
    release(p);      /* correct */
    printf("done\n");
    return 0;
}
