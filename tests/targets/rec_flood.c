/*
 * rec_flood.c — millions of small allocations from several threads, as fast as possible
 *
 * Target for tests/e2e/run_lossless.sh and run_lossy.sh. argv: threads
 * iterations. Each thread keeps a window of 8 live blocks: iteration i frees
 * the block in slot i % 8 (if any) and puts malloc(size[i % 4]) there, with
 * size[] = {1009, 1013, 1019, 1021}; at the end it frees the window. The
 * threads start together, so with 64 of them (plus main) there are more
 * producers alive than a process file has exclusive rings (ring.h).
 * Expected trace: threads * iterations / 4 ALLOCs of each of the four sizes
 * (iterations a multiple of 4), every one freed, no memory errors, sequence
 * numbers dense; with a ring too small to keep up, exactly the same (the
 * producer waits) unless the session is --lossy. Exit status 0.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <stdlib.h>

#define REC_WINDOW 8 /* live blocks per thread: addresses keep changing */

static const size_t rec_sizes[4] = {1009, 1013, 1019, 1021};
static long rec_iters;
static pthread_barrier_t rec_start; /* all threads alive before the first event */

static void *rec_flood(void *arg)
{
    void *window[REC_WINDOW] = {0};
    (void)arg;
    pthread_barrier_wait(&rec_start);
    for (long i = 0; i < rec_iters; i++) {
        free(window[i % REC_WINDOW]);
        window[i % REC_WINDOW] = malloc(rec_sizes[i % 4]);
        *(volatile char *)window[i % REC_WINDOW] = (char)i;
    }
    for (int k = 0; k < REC_WINDOW; k++) free(window[k]);
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t th[64];

    if (argc < 3) return 2;
    int n = atoi(argv[1]);
    rec_iters = atol(argv[2]);
    if (n < 1 || n > 64 || rec_iters < 1) return 2;
    pthread_barrier_init(&rec_start, NULL, n);
    for (int t = 0; t < n; t++)
        if (pthread_create(&th[t], NULL, rec_flood, NULL)) return 1;
    for (int t = 0; t < n; t++) pthread_join(th[t], NULL);
    return 0;
}
