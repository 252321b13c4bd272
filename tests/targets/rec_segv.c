/*
 * rec_segv.c — allocates a known set, then dies of SIGSEGV
 *
 * Target for tests/e2e/crash_segv.sh. Makes 777 x malloc(60017), frees the
 * first 333, then stores through a null pointer.
 * Expected trace: exactly 777 ALLOCs of 60017 and 333 FREEs of them, no EXIT
 * record, no leak scan; the collector reports the image as signaled by 11.
 *
 * SPDX-License-Identifier: MIT
 */
#include <signal.h>
#include <stdlib.h>

#define REC_BLOCKS 777
#define REC_FREED 333

int main(void)
{
    static void *blocks[REC_BLOCKS];

    for (int i = 0; i < REC_BLOCKS; i++) blocks[i] = malloc(60017);
    for (int i = 0; i < REC_FREED; i++) free(blocks[i]);
    /* Restore the default action in case the environment ignores SIGSEGV. */
    signal(SIGSEGV, SIG_DFL);
    volatile int *null_ptr = NULL;
    *null_ptr = 1;
    return 0;
}
