/*
 * client_slab.c — a slab pool of 64-byte objects annotated with memtrace.h (test target)
 *
 * Superblocks are 4096-byte malloc blocks: a 64-byte header, then 63 slots.
 * Ground truth, checked by tests/e2e/client_slab.sh:
 *   - phase 1: 100 objects kept (in a global array), 10 leaked by
 *     leak_phase1() and 3 malloc blocks of 100 bytes leaked by
 *     leak_malloc_phase1(); 110 live chunks need 2 superblocks, so the
 *     pool's peak is 7040 live bytes against 8192 held: waste 1152;
 *   - marker "phase1-done", then memtrace_leak_check(): exactly 13 definite
 *     blocks (10 chunks + 3 malloc), 940 bytes;
 *   - phase 2: the 100 kept objects freed, 5 more leaked by leak_phase2(),
 *     one object freed twice (double_free) and one pointer the pool never
 *     gave out freed (invalid_free), marker "phase2-done";
 *   - one chunk and one malloc block ignored (memtrace_ignore_object) and
 *     dropped: not leaks; the malloc block the ignored chunk points to is
 *     reachable;
 *   - at exit: 15 definite chunk leaks of pool:slab with their own stacks,
 *     no superblock reported.
 * Output and exit status (7) are the same with and without memtrace.
 *
 * SPDX-License-Identifier: MIT
 */
#include <memtrace/memtrace.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLAB_SB_BYTES 4096u
#define SLAB_HDR_BYTES 64u
#define SLAB_OBJ 64u

struct slab {
    memtrace_pool_t h;
    void *free_list;  /* singly linked through the first word of free slots */
    char *sbs;        /* superblocks, linked through their header */
};

static struct slab slab;
static void *keep[100];

static void slab_grow(struct slab *s)
{
    char *sb = malloc(SLAB_SB_BYTES);
    memtrace_pool_superblock(s->h, sb, SLAB_SB_BYTES);
    *(char **)sb = s->sbs;
    s->sbs = sb;
    for (unsigned off = SLAB_SB_BYTES - SLAB_OBJ; off >= SLAB_HDR_BYTES; off -= SLAB_OBJ) {
        *(void **)(sb + off) = s->free_list;
        s->free_list = sb + off;
    }
}

static void *slab_alloc(struct slab *s)
{
    if (!s->free_list) slab_grow(s);
    void *p = s->free_list;
    s->free_list = *(void **)p;
    memtrace_pool_alloc(s->h, p, SLAB_OBJ);
    memset(p, 0, SLAB_OBJ);
    return p;
}

static void slab_free(struct slab *s, void *p)
{
    memtrace_pool_free(s->h, p);
    *(void **)p = s->free_list;
    s->free_list = p;
}

static unsigned long leak_phase1(void)
{
    unsigned long sum = 0;
    for (int i = 0; i < 10; i++) {
        unsigned long *o = slab_alloc(&slab);
        o[1] = (unsigned long)i;
        sum += o[1];
    }
    return sum;
}

static void leak_malloc_phase1(void)
{
    for (int i = 0; i < 3; i++) {
        char *p = malloc(100);
        p[0] = (char)i;
    }
}

static unsigned long leak_phase2(void)
{
    unsigned long sum = 0;
    for (int i = 0; i < 5; i++) {
        unsigned long *o = slab_alloc(&slab);
        o[1] = (unsigned long)i * 3;
        sum += o[1];
    }
    return sum;
}

static void bad_frees(void)
{
    void *o = slab_alloc(&slab);
    slab_free(&slab, o);
    memtrace_pool_free(slab.h, o); /* double free: the program's slab would corrupt its list */
    memtrace_pool_free(slab.h, (char *)slab.sbs + 8); /* inside the header: never handed out */
}

/* Overwrites the dead frames below main's, where stale pointers to the
 * leaked objects could otherwise keep them "possibly" reachable. */
static void __attribute__((noinline)) scrub_stack(void)
{
    volatile char buf[8192];
    memset((char *)buf, 0, sizeof buf);
}

static void ignored_objects(void)
{
    void **o = slab_alloc(&slab);
    o[1] = malloc(48); /* reachable through the ignored chunk */
    memtrace_ignore_object(o);
    void *m = malloc(32);
    memtrace_ignore_object(m);
}

int main(void)
{
    unsigned long sum = 0;
    slab.h = memtrace_pool_create("slab");
    memtrace_mark("start");
    for (int i = 0; i < 100; i++) {
        keep[i] = slab_alloc(&slab);
        ((unsigned long *)keep[i])[1] = (unsigned long)i;
    }
    sum += leak_phase1();
    leak_malloc_phase1();
    memtrace_mark("phase1-done");
    scrub_stack();
    memtrace_leak_check();
    for (int i = 0; i < 100; i++) {
        sum += ((unsigned long *)keep[i])[1];
        slab_free(&slab, keep[i]);
        keep[i] = NULL;
    }
    sum += leak_phase2();
    bad_frees();
    ignored_objects();
    memtrace_mark("phase2-done");
    scrub_stack();
    printf("slab sum %lu\n", sum);
    return 7;
}
