/*
 * client_arena.c — a bump arena over mmap'ed superblocks annotated with memtrace.h (test target)
 *
 * Superblocks are 16384-byte anonymous mappings; chunks of 96 bytes are
 * bumped from them (170 per superblock, the last 64 bytes unused).
 * Ground truth, checked by tests/e2e/client_arena.sh:
 *   - round 1: 100 chunks (9600 bytes), marker "round1", reset;
 *   - round 2: 200 chunks (19200 bytes, 2 superblocks), marker "round2",
 *     reset: the pool's peak is 19200 live bytes against 32768 held, waste
 *     13568; the process's peak heap counts those chunks;
 *   - round 3: 50 chunks, reset, then the arena is destroyed (superblocks
 *     released first): no chunk leaks at all;
 *   - between pause and resume, 5 malloc blocks of 333 bytes are leaked by
 *     leak_while_paused(): neither recorded nor reported;
 *   - markers, in seq order: round1, pause, resume, round2, round3.
 * Output and exit status (0) are the same with and without memtrace.
 *
 * SPDX-License-Identifier: MIT
 */
#include <memtrace/memtrace.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define ARENA_SB_BYTES 16384u
#define ARENA_MAX_SB 16

struct arena {
    memtrace_pool_t h;
    char *sb[ARENA_MAX_SB]; /* superblocks, kept across resets */
    int n_sb, cur;          /* superblocks mapped, the one being bumped */
    size_t used;            /* bytes used in sb[cur] */
};

static void *arena_alloc(struct arena *a, size_t size)
{
    if (a->n_sb == 0 || a->used + size > ARENA_SB_BYTES) {
        if (a->n_sb > 0) a->cur++;
        if (a->cur == a->n_sb) {
            a->sb[a->n_sb] = mmap(NULL, ARENA_SB_BYTES, PROT_READ | PROT_WRITE,
                                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            memtrace_pool_superblock(a->h, a->sb[a->n_sb], ARENA_SB_BYTES);
            a->n_sb++;
        }
        a->used = 0;
    }
    void *p = a->sb[a->cur] + a->used;
    a->used += size;
    memtrace_pool_alloc(a->h, p, size);
    return p;
}

static void arena_reset(struct arena *a)
{
    memtrace_pool_reset(a->h);
    a->cur = 0;
    a->used = 0;
}

static void arena_destroy(struct arena *a)
{
    for (int i = 0; i < a->n_sb; i++) {
        memtrace_pool_superblock_release(a->h, a->sb[i]);
        munmap(a->sb[i], ARENA_SB_BYTES);
    }
    memtrace_pool_destroy(a->h);
}

static unsigned long round_of(struct arena *a, int n)
{
    unsigned long sum = 0;
    for (int i = 0; i < n; i++) {
        unsigned char *c = arena_alloc(a, 96);
        memset(c, i & 0xff, 96);
        sum += c[95];
    }
    return sum;
}

static void leak_while_paused(void)
{
    for (int i = 0; i < 5; i++) memset(malloc(333), 1, 333);
}

int main(void)
{
    struct arena a = {.h = memtrace_pool_create("frame")};
    unsigned long sum = round_of(&a, 100);
    memtrace_mark("round1");
    arena_reset(&a);
    memtrace_pause();
    leak_while_paused();
    memtrace_resume();
    sum += round_of(&a, 200);
    memtrace_mark("round2");
    arena_reset(&a);
    sum += round_of(&a, 50);
    memtrace_mark("round3");
    arena_reset(&a);
    arena_destroy(&a);
    printf("arena sum %lu superblocks %d\n", sum, a.n_sb);
    return 0;
}
