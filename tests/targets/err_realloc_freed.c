/*
 * err_realloc_freed.c — realloc() of a pointer that was already freed
 *
 * Error ground truth for tests/e2e/errors_valgrind.sh. glibc alone may
 * abort or corrupt its heap; memtrace reports realloc_not_live and the call
 * returns NULL without freeing anything, as valgrind's realloc does.
 * Expected: 1 error realloc_not_live (valgrind: InvalidFree); realloc
 * returns NULL; no leak. Prints "done" last.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    char *p = malloc(32);
    memset(p, 0, 32);
    free(p);
    char *q = realloc(p, 64); /* p is not live */
    if (q != NULL)
        free(q);
    printf("done %s\n", q == NULL ? "null" : "moved");
    return 0;
}
