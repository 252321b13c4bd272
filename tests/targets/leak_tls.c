/*
 * leak_tls.c — pointers kept only in a __thread variable
 *
 * Leak-scan ground truth for tests/e2e/leaks_valgrind.sh. The main thread's
 * copy of a __thread variable (static TLS next to its TCB, an anonymous
 * mapping) holds a 256-byte block; a second thread's copy (static TLS at the
 * top of its stack mapping) holds a 512-byte block while that thread blocks
 * in read(2) until the process exits.
 * Expected verdicts (glibc's stdout buffer adds one still reachable block
 * in both tools):
 *   still reachable  2 blocks  768 bytes
 *   possibly lost    1 block   288 bytes  (glibc's DTV of the thread: its
 *                                          TCB points 16 bytes into it)
 * Prints "done" last.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static __thread void *tls_slot;
static int pipe_fd[2];
static pthread_barrier_t ready;

static __attribute__((noinline)) void keep(size_t size)
{
    tls_slot = malloc(size);
    memset(tls_slot, 0, size);
}

static void *holder(void *arg)
{
    keep(512);
    pthread_barrier_wait(&ready);
    char c;
    while (read(pipe_fd[0], &c, 1) != 0)
        ;
    return NULL;
}

static __attribute__((noinline)) void scrub_stack(void)
{
    volatile char pad[16384];
    memset((char *)pad, 0, sizeof(pad));
}

static __attribute__((noinline)) void start(void)
{
    pthread_t t;
    pipe(pipe_fd);
    pthread_barrier_init(&ready, NULL, 2);
    pthread_create(&t, NULL, holder, NULL);
    pthread_barrier_wait(&ready);
}

int main(void)
{
    keep(256);
    start();
    scrub_stack();
    printf("done\n");
    return 0;
}
