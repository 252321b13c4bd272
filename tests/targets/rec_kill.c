/*
 * rec_kill.c — allocates a known set, says so, then keeps allocating until SIGKILL
 *
 * Target for tests/e2e/crash_sigkill.sh. Makes 1000 x malloc(60013) and
 * frees the first 400, then writes "ready <pid>" to the marker file argv[1]
 * (through a rename, so the test never reads half a line), then loops on
 * malloc(60029)/free without end, so that the kill lands while records are
 * being written. Gives up after 30 s (exit 3) in case nobody kills it.
 * Expected trace: exactly 1000 ALLOCs of 60013 and 400 FREEs of them, a
 * matched FREE for every ALLOC of 60029 except at most the last one, no EXIT
 * record; the collector reports the image as signaled by 9.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define REC_BLOCKS 1000
#define REC_FREED 400

static int rec_write_marker(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    fprintf(f, "ready %d\n", (int)getpid());
    if (fclose(f)) return -1;
    return rename(tmp, path);
}

int main(int argc, char **argv)
{
    static void *blocks[REC_BLOCKS];

    if (argc < 2) return 2;
    for (int i = 0; i < REC_BLOCKS; i++) blocks[i] = malloc(60013);
    for (int i = 0; i < REC_FREED; i++) free(blocks[i]);
    if (rec_write_marker(argv[1])) return 2;
    time_t t0 = time(NULL);
    for (unsigned long n = 0;; n++) {
        volatile char *p = malloc(60029);
        p[0] = (char)n;
        free((void *)p);
        if ((n & 1023) == 0 && time(NULL) - t0 > 30) return 3;
    }
}
