/*
 * an_handoff.c — one thread allocates, another frees, addresses reused heavily
 *
 * Target for tests/e2e/analyze_handoff.sh. PAIRS producer/consumer pairs
 * (2); each producer makes argv[1] (default 20000) allocations from
 * handoff_alloc() with a few sizes and passes them through a small queue
 * (QUEUE_SLOTS) to its consumer, which frees them from handoff_free(). The
 * queue is small, so glibc hands the same addresses out again and again.
 * Every block is freed by a thread other than the one that allocated it.
 * Expected verdicts: 0 leaks at handoff_*, 0 errors, every allocation of
 * handoff_alloc freed by another thread (free_tid != tid), none of them
 * temporary, far fewer distinct addresses than allocations. Exit status 0.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <stdlib.h>

#define NOINLINE __attribute__((noinline))
#define PAIRS 2
#define QUEUE_SLOTS 16 /* small: blocks come back to the allocator quickly */

struct handoff_queue {
    void *slot[QUEUE_SLOTS];
    unsigned head, len;
    long n;            /* allocations to make */
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static NOINLINE void *handoff_alloc(long i)
{
    static const size_t sizes[4] = {24, 40, 100, 200};
    return malloc(sizes[i & 3]);
}

static NOINLINE void handoff_free(void *p)
{
    free(p);
}

static void *producer(void *arg)
{
    struct handoff_queue *q = arg;
    for (long i = 0; i < q->n; i++) {
        void *p = handoff_alloc(i);
        pthread_mutex_lock(&q->mu);
        while (q->len == QUEUE_SLOTS) pthread_cond_wait(&q->cv, &q->mu);
        q->slot[(q->head + q->len++) % QUEUE_SLOTS] = p;
        pthread_cond_broadcast(&q->cv);
        pthread_mutex_unlock(&q->mu);
    }
    return NULL;
}

static void *consumer(void *arg)
{
    struct handoff_queue *q = arg;
    for (long i = 0; i < q->n; i++) {
        pthread_mutex_lock(&q->mu);
        while (q->len == 0) pthread_cond_wait(&q->cv, &q->mu);
        void *p = q->slot[q->head];
        q->head = (q->head + 1) % QUEUE_SLOTS;
        q->len--;
        pthread_cond_broadcast(&q->cv);
        pthread_mutex_unlock(&q->mu);
        handoff_free(p);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    static struct handoff_queue q[PAIRS];
    pthread_t th[2 * PAIRS];
    long n = argc > 1 ? atol(argv[1]) : 20000;
    for (int i = 0; i < PAIRS; i++) {
        q[i].n = n;
        pthread_mutex_init(&q[i].mu, NULL);
        pthread_cond_init(&q[i].cv, NULL);
        if (pthread_create(&th[2 * i], NULL, producer, &q[i]) ||
            pthread_create(&th[2 * i + 1], NULL, consumer, &q[i]))
            return 1;
    }
    for (int i = 0; i < 2 * PAIRS; i++) pthread_join(th[i], NULL);
    return 0;
}
