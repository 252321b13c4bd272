/*
 * leak_exit_thread.c — exit() called by a second thread while main still runs
 *
 * Leak-scan ground truth for tests/e2e/leaks_valgrind.sh. main keeps the
 * only pointer to a 111-byte block in a local and spins (running, not in a
 * system call); a second thread prints "done" and calls exit(0). memtrace
 * scans on the exiting thread, so it must stop main with its signal and read
 * main's stack and registers; valgrind scans main's stack at exit_group.
 * Expected verdicts (glibc's stdout buffer adds one still reachable block,
 * and the exiting thread's DTV is possibly lost, in both tools):
 *   still reachable  1 block  111 bytes (program's)
 *   possibly lost    1 block  (the second thread's DTV)
 * Prints "done" last.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static atomic_int spinning;

static void *exiter(void *arg)
{
    while (!atomic_load(&spinning))
        usleep(1000);
    usleep(20000);
    printf("done\n");
    fflush(stdout);
    exit(0);
}

int main(void)
{
    pthread_t t;
    volatile char *keep = malloc(111);
    memset((char *)keep, 7, 111);
    pthread_create(&t, NULL, exiter, NULL);
    atomic_store(&spinning, 1);
    for (volatile unsigned long i = 0;; i++)
        keep[i % 111] = (char)i; /* running: no system call to be blocked in */
}
