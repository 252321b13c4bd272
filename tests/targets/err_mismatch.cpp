/*
 * err_mismatch.cpp — every mismatched allocation/release pair, once each
 *
 * Error ground truth for tests/e2e/errors_valgrind.sh. Six pairs:
 * malloc/delete, malloc/delete[], new/free, new/delete[], new[]/free,
 * new[]/delete, on int storage (no array cookie). Each release is reported
 * as a mismatch and the block is still freed.
 * Expected: 6 errors mismatch (valgrind: 6 MismatchedFree); no leak.
 * Prints "done" last.
 *
 * SPDX-License-Identifier: MIT
 */
#include <cstdio>
#include <cstdlib>

static __attribute__((noinline)) int *use(int *p)
{
    p[0] = 1;
    return p;
}

int main()
{
    delete use(static_cast<int *>(malloc(sizeof(int))));        /* malloc / delete */
    delete[] use(static_cast<int *>(malloc(4 * sizeof(int))));  /* malloc / delete[] */
    free(use(new int(2)));                                      /* new / free */
    delete[] use(new int(3));                                   /* new / delete[] */
    free(use(new int[4]));                                      /* new[] / free */
    delete use(new int[5]);                                     /* new[] / delete */
    std::printf("done\n");
    return 0;
}
