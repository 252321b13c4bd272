/*
 * leak_thread.c — pointers kept only on other threads' stacks at exit
 *
 * Leak-scan ground truth for tests/e2e/leaks_valgrind.sh. Two threads each
 * allocate a block, keep the only pointer in a local variable and block in
 * read(2) on a pipe that never gets data; main exits while they are still
 * blocked. The first thread accepts signals, so memtrace stops it and reads
 * its registers; the second blocks every signal, so memtrace finds its
 * stack pointer in /proc/self/task/<tid>/syscall instead.
 * Expected verdicts (glibc's stdout buffer adds one still reachable block
 * in both tools):
 *   still reachable  2 blocks  500 bytes  (200 + 300)
 *   possibly lost    2 blocks  544 bytes  (glibc's DTV of each thread: its
 *                                          TCB points 16 bytes into it)
 * Prints "done" last.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int pipe_fd[2];
static pthread_barrier_t ready;

static void *holder(void *arg)
{
    long size = (long)arg;
    if (size == 300) {
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, NULL);
    }
    volatile char *mine = malloc(size);
    memset((char *)mine, 0, size);
    pthread_barrier_wait(&ready);
    char c;
    while (read(pipe_fd[0], &c, 1) != 0)
        ;
    return (void *)mine;
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
    pthread_barrier_init(&ready, NULL, 3);
    pthread_create(&t, NULL, holder, (void *)200L);
    pthread_create(&t, NULL, holder, (void *)300L);
    pthread_barrier_wait(&ready);
}

int main(void)
{
    start();
    scrub_stack();
    printf("done\n");
    return 0; /* exit() with both threads blocked in read() */
}
