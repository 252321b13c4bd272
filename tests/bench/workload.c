/*
 * workload.c — the allocation-heavy program scripts/bench times natively and under each tracer
 *
 * Not part of ctest (timing is never asserted); scripts/bench builds it with
 * -O2 -g and runs it as `workload THREADS ALLOCS_PER_THREAD`. Each thread
 * makes ALLOCS_PER_THREAD allocations, each from the bottom of a call chain
 * 10 to 20 frames deep that recurses through four distinct noinline
 * functions, so every event carries a realistic stack and there are a few
 * hundred distinct stacks. Sizes are mixed (mostly 16-512 bytes, some
 * 4 KiB, a few 64 KiB); each new block replaces a pseudo-randomly chosen one
 * of 256 live slots, so lifetimes vary and every block is freed. Every run
 * with the same arguments makes the same calls. Prints
 * "allocs=<n> frees=<n> checksum=<x>" so a tracer that changed the
 * program's behaviour shows. Contract page: docs/performance.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))
#define BENCH_SLOTS 256u     /* live blocks per thread; power of two for & */
#define BENCH_MAX_THREADS 64 /* more than any machine this runs on needs */

/* realloc(NULL, n) through a volatile, or GCC turns it into malloc(n). */
static void *volatile bench_null;

struct bench_thread {
    pthread_t th;
    uint64_t rng;      /* xorshift state, seeded per thread */
    long n_allocs;     /* allocations to make */
    uint64_t checksum; /* OUT: mixes the bytes read back */
    void *slots[BENCH_SLOTS];
};

static uint64_t bench_next(struct bench_thread *t)
{
    t->rng ^= t->rng << 13;
    t->rng ^= t->rng >> 7;
    t->rng ^= t->rng << 17;
    return t->rng;
}

/* 80% small (16-512), 18% around 4 KiB, 2% around 64 KiB. */
static size_t bench_size(uint64_t r)
{
    unsigned pct = (unsigned)(r % 100);
    if (pct < 80) return 16 + (size_t)((r >> 8) % 497);
    if (pct < 98) return 4096 + (size_t)((r >> 8) % 64) * 8;
    return 65536 + (size_t)((r >> 8) % 16) * 64;
}

/* The leaf: allocate through one of three call sites chosen by the size
 * class, release the slot's previous block, touch the new one. */
static NOINLINE void bench_leaf(struct bench_thread *t, uint64_t r)
{
    size_t size = bench_size(r);
    unsigned slot = (unsigned)(r >> 32) & (BENCH_SLOTS - 1);
    char *p;

    if (size < 4096) p = malloc(size);
    else if (size < 65536) p = calloc(1, size);
    else p = realloc(bench_null, size);
    if (!p) abort();
    p[0] = (char)r;
    p[size - 1] = (char)(r >> 8);
    if (t->slots[slot]) t->checksum += *(unsigned char *)t->slots[slot];
    free(t->slots[slot]);
    t->slots[slot] = p;
}

static NOINLINE void bench_a(struct bench_thread *t, uint64_t r, int depth);

static NOINLINE void bench_d(struct bench_thread *t, uint64_t r, int depth)
{
    if (depth <= 0) bench_leaf(t, r);
    else bench_a(t, r, depth - 1);
    __asm__ volatile("" ::: "memory"); /* keep the call a call, not a jump */
}

static NOINLINE void bench_c(struct bench_thread *t, uint64_t r, int depth)
{
    if (depth <= 0) bench_leaf(t, r);
    else bench_d(t, r, depth - 1);
    __asm__ volatile("" ::: "memory");
}

static NOINLINE void bench_b(struct bench_thread *t, uint64_t r, int depth)
{
    if (depth <= 0) bench_leaf(t, r);
    else bench_c(t, r, depth - 1);
    __asm__ volatile("" ::: "memory");
}

static NOINLINE void bench_a(struct bench_thread *t, uint64_t r, int depth)
{
    if (depth <= 0) bench_leaf(t, r);
    else bench_b(t, r, depth - 1);
    __asm__ volatile("" ::: "memory");
}

/* Thread body: a chain of 6..16 bench_a..d frames, so with the leaf, this
 * function and libc's two thread-start frames each allocation's stack is
 * 10 to 20 frames deep. */
static void *bench_thread_main(void *arg)
{
    struct bench_thread *t = arg;

    for (long i = 0; i < t->n_allocs; i++) {
        uint64_t r = bench_next(t);
        bench_a(t, r, 5 + (int)(r % 11));
    }
    for (unsigned s = 0; s < BENCH_SLOTS; s++) free(t->slots[s]);
    return NULL;
}

int main(int argc, char **argv)
{
    static struct bench_thread threads[BENCH_MAX_THREADS];

    if (argc != 3) {
        fprintf(stderr, "usage: workload THREADS ALLOCS_PER_THREAD\n");
        return 2;
    }
    int n = atoi(argv[1]);
    long per = atol(argv[2]);
    if (n < 1 || n > BENCH_MAX_THREADS || per < 1) return 2;
    for (int i = 0; i < n; i++) {
        threads[i].rng = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
        threads[i].n_allocs = per;
        if (pthread_create(&threads[i].th, NULL, bench_thread_main, &threads[i])) return 1;
    }
    uint64_t sum = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(threads[i].th, NULL);
        sum += threads[i].checksum;
    }
    printf("allocs=%ld frees=%ld checksum=%llx\n", per * n, per * n, (unsigned long long)sum);
    return 0;
}
