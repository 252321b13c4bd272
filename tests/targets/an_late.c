/*
 * an_late.c — allocations whose rows come late: blocks that outlive a long churn, and leaks
 *
 * argv[1] early blocks (default 300) are allocated first, from
 * early_alloc(); then argv[2] (default 100000) malloc/free pairs churn 64
 * slots from churn_alloc(); then the even-numbered early blocks are freed
 * in a shuffled order, the odd-numbered ones are leaked, and so are the 64
 * churn slots' last blocks. The analysis's writer keeps rows in an
 * ordering window of 65536 allocations (analyzer/analyze/an_writer.c):
 * with a churn longer than that, every early block's row arrives after
 * its turn and goes through the late-row path (sorted spill, SQL inserts
 * after the splice). Used by tests/e2e/analyze_late_rows.sh.
 * Expected for n early blocks and m churn pairs: n + m + 2 allocations
 * (two arrays), (n + 1) / 2 early blocks freed, n / 2 + 64 blocks
 * leaked. Prints nothing.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>

#define SLOTS 64 /* churn slots */

static void **early;

static __attribute__((noinline)) void *early_alloc(long i)
{
    return malloc(16 + (size_t)(i % 200));
}

static __attribute__((noinline)) void *churn_alloc(long i)
{
    return malloc(32 + (size_t)(i % 500));
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 300;
    long m = argc > 2 ? atol(argv[2]) : 100000;
    void *slot[SLOTS] = {0};
    early = malloc((size_t)n * sizeof *early); /* itself an early block, freed at the end */
    for (long i = 0; i < n; i++) early[i] = early_alloc(i);
    for (long i = 0; i < m; i++) {
        free(slot[i % SLOTS]);
        slot[i % SLOTS] = churn_alloc(i);
    }
    unsigned seed = 7;
    long evens = (n + 1) / 2;
    long *order = malloc((size_t)evens * sizeof *order);
    for (long k = 0; k < evens; k++) order[k] = 2 * k;
    for (long k = evens - 1; k > 0; k--) { /* Fisher-Yates */
        long j = rand_r(&seed) % (k + 1), t = order[k];
        order[k] = order[j];
        order[j] = t;
    }
    for (long k = 0; k < evens; k++) free(early[order[k]]);
    free(order);
    free(early);
    return slot[0] ? 0 : 1;
}
