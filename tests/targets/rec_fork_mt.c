/*
 * rec_fork_mt.c — forks again and again while other threads allocate without pause
 *
 * Target for tests/e2e/run_fork_threads.sh. Four threads loop on
 * malloc(1009)/free in bursts of 64 with 1 ms naps (to bound the trace)
 * until told to stop, so that every fork lands while some
 * thread is inside the preload (holding a ring, the overflow ring's lock or
 * the stack table). Meanwhile main forks REC_CHILDREN children one after the
 * other; each child makes 3 x malloc(50021), frees them and exits 0 through
 * exit() (so atexit work, the leak scan and the EXIT record run in a child
 * whose parent had four busy threads). argv[1] receives one line per child:
 * "child <pid> status <status>". A child that does not finish within 10 s
 * is killed and reported with status -1.
 * Expected: every child's image holds exactly 3 ALLOCs of 50021 and 3 FREEs,
 * a PROCESS record with forked=1, an EXIT with status 0; nothing hangs.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REC_CHILDREN 20 /* enough forks to hit a busy moment, still fast */
#define REC_BUSY 4      /* allocating threads in the parent */
#define REC_BURST 64 /* pairs between 1 ms naps: busy ~10 % of the time each, a small trace */

static atomic_int rec_stop;
static pthread_barrier_t rec_start;

static void *rec_busy(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&rec_start);
    struct timespec nap = {0, 1000000};
    for (long n = 1; !atomic_load(&rec_stop); n++) {
        volatile char *p = malloc(1009);
        p[0] = 1;
        free((void *)p);
        if (n % REC_BURST == 0) nanosleep(&nap, NULL);
    }
    return NULL;
}

static void rec_child(void)
{
    void *b[3];
    for (int i = 0; i < 3; i++) b[i] = malloc(50021);
    for (int i = 0; i < 3; i++) free(b[i]);
    exit(0);
}

/* Waits up to 10 s for pid; kills it if it hangs. Returns its status or -1. */
static int rec_reap(pid_t pid)
{
    struct timespec nap = {0, 1000000}; /* 1 ms */
    int status;
    for (int i = 0; i < 10000; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid) return status;
        nanosleep(&nap, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

int main(int argc, char **argv)
{
    pthread_t th[REC_BUSY];
    pid_t kids[REC_CHILDREN];
    int status[REC_CHILDREN];

    if (argc < 2) return 2;
    pthread_barrier_init(&rec_start, NULL, REC_BUSY + 1);
    for (int t = 0; t < REC_BUSY; t++)
        if (pthread_create(&th[t], NULL, rec_busy, NULL)) return 1;
    pthread_barrier_wait(&rec_start);
    for (int c = 0; c < REC_CHILDREN; c++) {
        kids[c] = fork();
        if (kids[c] < 0) return 1;
        if (kids[c] == 0) rec_child();
        status[c] = rec_reap(kids[c]);
    }
    atomic_store(&rec_stop, 1);
    for (int t = 0; t < REC_BUSY; t++) pthread_join(th[t], NULL);
    FILE *f = fopen(argv[1], "w");
    if (!f) return 2;
    for (int c = 0; c < REC_CHILDREN; c++) fprintf(f, "child %d status %d\n", (int)kids[c], status[c]);
    fclose(f);
    return 0;
}
