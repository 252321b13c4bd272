/*
 * err_double_free_threads.c — one block freed by two threads, one after the other
 *
 * Error ground truth for tests/e2e/errors_valgrind.sh. Thread 1 frees the
 * block and ends; thread 2 then frees it again.
 * Expected: 1 error not_live on thread 2 (valgrind: InvalidFree); no leak.
 * Prints "done" last.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static void *shared;

static void *releaser(void *arg)
{
    free(shared);
    return arg;
}

int main(void)
{
    pthread_t t;
    shared = malloc(96);
    pthread_create(&t, NULL, releaser, NULL);
    pthread_join(t, NULL);
    pthread_create(&t, NULL, releaser, NULL); /* frees it again */
    pthread_join(t, NULL);
    shared = NULL;
    printf("done\n");
    return 0;
}
