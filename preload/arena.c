/*
 * arena.c — the preload's own memory: a lock-free bump allocator over mmap
 *
 * The preload must not call malloc for itself (it would trace itself and
 * could deadlock inside the real allocator), so stack frames, module tables
 * and the live table's directory come from here. Memory is never returned:
 * everything allocated lives as long as the process. Chunks are replaced by
 * compare-and-swap only, so a fork() in the middle leaves the child with a
 * consistent arena (no lock to inherit). Contract page: docs/preload.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include "preload_int.h"

#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

/* ---------------------------------------------------------------- types */

#define ARENA_CHUNK_BYTES (1u << 20) /* one mmap per MiB keeps syscalls rare */
#define ARENA_BIG_BYTES (ARENA_CHUNK_BYTES / 4) /* larger requests get their own map */
#define ARENA_ALIGN 16u /* enough for any scalar the preload stores */

struct arena_chunk {
    _Atomic uint64_t used; /* bytes handed out, incl. this header */
    uint64_t size;         /* bytes mapped */
};

static struct {
    _Atomic(struct arena_chunk *) cur; /* chunk bump allocations go to */
} arena;

/* ------------------------------------------------------------ helpers */

static struct arena_chunk *arena_chunk_new(void)
{
    struct arena_chunk *c = arena_map(ARENA_CHUNK_BYTES);
    if (c == NULL) return NULL;
    c->size = ARENA_CHUNK_BYTES;
    atomic_store_explicit(&c->used, (sizeof(*c) + ARENA_ALIGN - 1) & ~(uint64_t)(ARENA_ALIGN - 1),
                          memory_order_relaxed);
    return c;
}

/* Bump-allocates from c; NULL when it does not fit. */
static void *arena_chunk_take(struct arena_chunk *c, size_t bytes)
{
    uint64_t used = atomic_load_explicit(&c->used, memory_order_relaxed);
    for (;;) {
        if (used + bytes > c->size) return NULL;
        if (atomic_compare_exchange_weak_explicit(&c->used, &used, used + bytes,
                                                  memory_order_relaxed, memory_order_relaxed))
            return (uint8_t *)c + used;
    }
}

/* ------------------------------------------------------------ exported */

void *arena_map(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void arena_unmap(void *addr, size_t bytes)
{
    if (addr != NULL) munmap(addr, bytes);
}

void *arena_alloc(size_t bytes)
{
    if (bytes == 0) bytes = 1;
    bytes = (bytes + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (bytes >= ARENA_BIG_BYTES) return arena_map(bytes);
    for (;;) {
        struct arena_chunk *c = atomic_load_explicit(&arena.cur, memory_order_acquire);
        if (c != NULL) {
            void *p = arena_chunk_take(c, bytes);
            if (p != NULL) return p;
        }
        struct arena_chunk *fresh = arena_chunk_new();
        if (fresh == NULL) return NULL;
        if (!atomic_compare_exchange_strong_explicit(&arena.cur, &c, fresh, memory_order_acq_rel,
                                                     memory_order_acquire))
            arena_unmap(fresh, ARENA_CHUNK_BYTES); /* another thread won; use its chunk */
    }
}
