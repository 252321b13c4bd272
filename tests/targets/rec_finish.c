/*
 * rec_finish.c — keeps allocating after its collector is killed, and must finish
 *
 * Target for tests/e2e/crash_collector_kill.sh. argv: marker go done.
 * Makes 1000 x malloc(60037), writes "ready <pid>" to the marker (through a
 * rename), then waits for the file `go` to appear (the test creates it once
 * it has SIGKILLed the collector), then makes 200000 malloc(60041)/free
 * pairs, far more than one ring holds, so the producer meets a full ring
 * with no collector behind it. It then frees the 1000 blocks and writes
 * "done <pid> <pairs>" to `done` as the very last thing before returning 0.
 * Gives up (exit 3) when `go` does not appear within 30 s.
 * Expected: the done file appears and the process ends; nothing hangs.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define REC_BLOCKS 1000
#define REC_PAIRS 200000 /* ~22 MB of records: many times a default ring */

static int rec_write_file(const char *path, const char *what, long n)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    fprintf(f, "%s %d %ld\n", what, (int)getpid(), n);
    if (fclose(f)) return -1;
    return rename(tmp, path);
}

static int rec_wait_for(const char *path)
{
    struct stat st;
    struct timespec nap = {0, 2000000}; /* 2 ms between looks */
    for (int i = 0; i < 15000; i++) {
        if (stat(path, &st) == 0) return 0;
        nanosleep(&nap, NULL);
    }
    return -1;
}

int main(int argc, char **argv)
{
    static void *blocks[REC_BLOCKS];

    if (argc < 4) return 2;
    for (int i = 0; i < REC_BLOCKS; i++) blocks[i] = malloc(60037);
    if (rec_write_file(argv[1], "ready", 0)) return 2;
    if (rec_wait_for(argv[2])) return 3;
    long n;
    for (n = 0; n < REC_PAIRS; n++) {
        volatile char *p = malloc(60041);
        p[0] = (char)n;
        free((void *)p);
    }
    for (int i = 0; i < REC_BLOCKS; i++) free(blocks[i]);
    return rec_write_file(argv[3], "done", n) ? 2 : 0;
}
