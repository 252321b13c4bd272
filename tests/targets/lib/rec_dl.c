/*
 * rec_dl.c — a shared library that allocates, loaded with dlopen by rec_dlopen
 *
 * Built as libmt_rec_dl.so in the targets dir. rec_dl_alloc(n) makes n calls
 * malloc(40009), each from rec_dl_leaf(), so a stack recorded inside the
 * library resolves (addr2line on the .so) to rec_dl_leaf, then rec_dl_alloc.
 * rec_dl_free() releases them. Expected verdicts: see rec_dlopen.c.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>

#define REC_DL_MAX 64 /* more than any caller asks for */

static void *rec_dl_blocks[REC_DL_MAX];
static int rec_dl_n;

__attribute__((noinline)) void *rec_dl_leaf(void)
{
    return malloc(40009);
}

__attribute__((noinline)) int rec_dl_alloc(int n)
{
    for (rec_dl_n = 0; rec_dl_n < n && rec_dl_n < REC_DL_MAX; rec_dl_n++)
        rec_dl_blocks[rec_dl_n] = rec_dl_leaf();
    return rec_dl_n;
}

void rec_dl_free(void)
{
    for (int i = 0; i < rec_dl_n; i++) free(rec_dl_blocks[i]);
    rec_dl_n = 0;
}
