/*
 * client_bench.c — cost of memtrace.h annotations in a program running without memtrace
 *
 * The same free-list pool loop twice: once annotated (memtrace_pool_alloc /
 * memtrace_pool_free on every chunk, a marker per round) and once plain.
 * Rounds of the two alternate so that frequency changes and noise hit both
 * alike; the median ns per operation of each is printed, with their
 * difference and the spread (max - min) of the plain loop as the noise
 * floor. Run by scripts/bench (section "client API"); not linked with
 * anything but libc. Usage: client_bench [ops_per_round] [rounds].
 *
 * SPDX-License-Identifier: MIT
 */
#include <memtrace/memtrace.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BENCH_SLOTS 4096u /* chunks in the pool: fits L1/L2, the annotation is what differs */

struct bench_pool {
    void *free_list;
    memtrace_pool_t h;
    unsigned char slots[BENCH_SLOTS][32];
};

static struct bench_pool pool;
static void *live[BENCH_SLOTS / 2];

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void bench_init(void)
{
    pool.h = memtrace_pool_create("bench");
    for (unsigned i = 0; i < BENCH_SLOTS; i++) {
        *(void **)pool.slots[i] = pool.free_list;
        pool.free_list = pool.slots[i];
    }
}

/* One alloc + one free per op; annotated or not. Returns a checksum. */
static __attribute__((noinline)) unsigned long bench_round(unsigned long ops, int annotated)
{
    unsigned long sum = 0;
    for (unsigned long i = 0; i < ops; i++) {
        unsigned k = (unsigned)(i % (BENCH_SLOTS / 2));
        if (live[k]) {
            if (annotated) memtrace_pool_free(pool.h, live[k]);
            *(void **)live[k] = pool.free_list;
            pool.free_list = live[k];
        }
        void *p = pool.free_list;
        pool.free_list = *(void **)p;
        if (annotated) memtrace_pool_alloc(pool.h, p, 32);
        ((unsigned char *)p)[8] = (unsigned char)i;
        sum += ((unsigned char *)p)[8];
        live[k] = p;
    }
    if (annotated) memtrace_mark("round");
    return sum;
}

static int bench_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    unsigned long ops = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000000ul;
    int rounds = argc > 2 ? atoi(argv[2]) : 15;
    if (rounds < 1 || rounds > 1000 || ops == 0) return 2;
    double t_ann[1000], t_plain[1000];
    unsigned long check = 0;
    bench_init();
    bench_round(ops, 0); /* warm-up */
    for (int r = 0; r < rounds; r++) {
        int first = r & 1; /* alternate which loop runs first */
        for (int k = 0; k < 2; k++) {
            int ann = k ^ first;
            double t0 = bench_now();
            check += bench_round(ops, ann);
            double ns = (bench_now() - t0) / (double)ops;
            if (ann) t_ann[r] = ns;
            else t_plain[r] = ns;
        }
    }
    qsort(t_ann, (size_t)rounds, sizeof(double), bench_cmp);
    qsort(t_plain, (size_t)rounds, sizeof(double), bench_cmp);
    double ma = t_ann[rounds / 2], mp = t_plain[rounds / 2];
    printf("client_bench: %lu ops x %d rounds, memtrace %s (checksum %lu)\n", ops, rounds,
           memtrace_running() ? "present" : "absent", check % 1000);
    printf("plain      median %.3f ns/op (min %.3f, max %.3f)\n", mp, t_plain[0],
           t_plain[rounds - 1]);
    printf("annotated  median %.3f ns/op (min %.3f, max %.3f)\n", ma, t_ann[0], t_ann[rounds - 1]);
    printf("difference %+.3f ns/op (%+.1f%%); plain spread %.3f ns/op\n", ma - mp,
           100.0 * (ma - mp) / mp, t_plain[rounds - 1] - t_plain[0]);
    return 0;
}
