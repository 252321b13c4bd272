/*
 * an_churn.c — a steady heap churned N times (argv[1], default 10000 rounds)
 *
 * The live set stays at 256 blocks whatever N is, so the analysis of a
 * 10x longer trace must not need much more memory
 * (tests/e2e/analyze_streaming.sh). Four threads share nothing; each round
 * frees a slot and refills it with a new size, so addresses are reused
 * heavily. Expected: 0 leaks except nothing (all freed), 0 errors.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <stdlib.h>

#define SLOTS 64 /* live blocks per thread */

static long rounds = 10000;

static void *churn(void *arg)
{
    void *slot[SLOTS] = {0};
    unsigned seed = (unsigned)(size_t)arg;
    for (long r = 0; r < rounds; r++) {
        unsigned i = (unsigned)rand_r(&seed) % SLOTS;
        free(slot[i]);
        slot[i] = malloc(16 + (size_t)(rand_r(&seed) % 2000));
    }
    for (int i = 0; i < SLOTS; i++) free(slot[i]);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1) rounds = atol(argv[1]);
    pthread_t t[4];
    for (long i = 0; i < 4; i++) pthread_create(&t[i], NULL, churn, (void *)(i + 1));
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    return 0;
}
