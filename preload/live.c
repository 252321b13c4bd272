/*
 * live.c — the table of live heap blocks, for memory-error detection (target)
 *
 * Every allocation the hooks see is inserted here and every release removes
 * it; a release of an address that is not live is a NOT_LIVE error, and the
 * family stored with the block detects mismatched releases. The exit-time
 * leak scan (leak.c) walks it with live_foreach(), which also yields the
 * chunks of client pools (pool.c) and skips ignored blocks and pool
 * superblocks (docs/client-api.md, "Leak scan"). This is on every
 * malloc/free, so it takes no lock. Contract: docs/preload.md ("Live table").
 *
 * Design notes
 *   1. A three-level radix directory keyed by addr/16 (glibc returns 16-byte
 *      aligned blocks, so no two blocks share a key): 12 bits select a mid
 *      table in a static array, 15 bits a leaf in the mid, 16 bits a 16-byte
 *      entry in the leaf. 47-bit user addresses are covered; higher ones are
 *      "unknown" and never judged.
 *   2. Mid tables and leaves are mmap'ed lazily and installed by CAS; the
 *      loser unmaps its copy. Nothing is ever unmapped after install, so a
 *      reader never sees freed directory memory. Leaves are MAP_NORESERVE:
 *      only the pages that hold entries cost memory (one page per 256 bytes
 *      of dense small blocks at worst, one page per large block).
 *   3. An entry is {state, size}. Insert stores size, then the state word
 *      (release). Remove is one atomic exchange of the state word with 0, so
 *      of two racing frees of one block exactly one sees it live. The size is
 *      read after the exchange and before the real free, so no insert of a
 *      reused address can overwrite it in between.
 *
 * SPDX-License-Identifier: MIT
 */
#include "preload_int.h"

#include <stdatomic.h>

/* ---------------------------------------------------------------- types */

#define LIVE_SHIFT 4u       /* addr/16: glibc's MALLOC_ALIGNMENT on x86_64 */
#define LIVE_LEAF_BITS 16u  /* 1 MiB leaf covers 1 MiB of address space */
#define LIVE_MID_BITS 15u   /* 256 KiB mid table covers 32 GiB */
#define LIVE_TOP_BITS 12u   /* 4096 mids cover 2^47 bytes */
#define LIVE_KEY_BITS (LIVE_LEAF_BITS + LIVE_MID_BITS + LIVE_TOP_BITS)
#define LIVE_LEAF_N (1u << LIVE_LEAF_BITS)
#define LIVE_MID_N (1u << LIVE_MID_BITS)
#define LIVE_TOP_N (1u << LIVE_TOP_BITS)

#define LIVE_ST_LIVE (1ull << 63) /* state word: the block is live */
#define LIVE_ST_FAM_SHIFT 32u     /* bits 32..39: family */
#define LIVE_ST_FLAGS_SHIFT 40u   /* bits 40..47: LIVE_F_* */

struct live_entry {
    _Atomic uint64_t state; /* 0 = free slot; LIVE | flags | family | stack_id */
    uint64_t size;          /* requested bytes, valid while LIVE */
};

struct live_leaf {
    struct live_entry e[LIVE_LEAF_N];
};

struct live_mid {
    _Atomic(struct live_leaf *) leaf[LIVE_MID_N];
};

static struct {
    _Atomic(struct live_mid *) top[LIVE_TOP_N]; /* .bss: 32 KiB */
} live;

/* ------------------------------------------------------------ helpers */

/* Maps and installs a zeroed table in *slot unless another thread did. */
static void *live_install(_Atomic(void *) *slot, size_t bytes)
{
    void *fresh = arena_map(bytes);
    if (fresh == NULL) {
        ring_degrade(MT_DEGRADED_LIVE_TABLE);
        return NULL;
    }
    void *cur = NULL;
    if (atomic_compare_exchange_strong_explicit(slot, &cur, fresh, memory_order_acq_rel,
                                                memory_order_acquire))
        return fresh;
    arena_unmap(fresh, bytes);
    return cur;
}

/* The entry for key, creating the directory path when create is set.
 * NULL when absent (or when memory ran out). */
static struct live_entry *live_entry_of(uint64_t key, int create)
{
    uint32_t ti = (uint32_t)(key >> (LIVE_LEAF_BITS + LIVE_MID_BITS));
    uint32_t mi = (uint32_t)(key >> LIVE_LEAF_BITS) & (LIVE_MID_N - 1);
    struct live_mid *mid = atomic_load_explicit(&live.top[ti], memory_order_acquire);
    if (MT_UNLIKELY(mid == NULL)) {
        if (!create) return NULL;
        mid = live_install((_Atomic(void *) *)&live.top[ti], sizeof(struct live_mid));
        if (mid == NULL) return NULL;
    }
    struct live_leaf *leaf = atomic_load_explicit(&mid->leaf[mi], memory_order_acquire);
    if (MT_UNLIKELY(leaf == NULL)) {
        if (!create) return NULL;
        leaf = live_install((_Atomic(void *) *)&mid->leaf[mi], sizeof(struct live_leaf));
        if (leaf == NULL) return NULL;
    }
    return &leaf->e[key & (LIVE_LEAF_N - 1)];
}

static void live_unpack(uint64_t state, uint64_t size, struct live_block *out)
{
    out->size = size;
    out->stack_id = (uint32_t)state;
    out->family = (uint8_t)(state >> LIVE_ST_FAM_SHIFT);
    out->flags = (uint8_t)(state >> LIVE_ST_FLAGS_SHIFT);
}

/* Calls fn on every live entry, in address order; stops on nonzero. */
static int live_walk(int (*fn)(uint64_t addr, uint64_t state, uint64_t size, void *ctx), void *ctx)
{
    for (uint32_t ti = 0; ti < LIVE_TOP_N; ti++) {
        struct live_mid *mid = atomic_load_explicit(&live.top[ti], memory_order_acquire);
        if (mid == NULL) continue;
        for (uint32_t mi = 0; mi < LIVE_MID_N; mi++) {
            struct live_leaf *leaf = atomic_load_explicit(&mid->leaf[mi], memory_order_acquire);
            if (leaf == NULL) continue;
            uint64_t base = ((uint64_t)ti << (LIVE_MID_BITS + LIVE_LEAF_BITS) |
                             (uint64_t)mi << LIVE_LEAF_BITS);
            for (uint32_t li = 0; li < LIVE_LEAF_N; li++) {
                uint64_t st = atomic_load_explicit(&leaf->e[li].state, memory_order_acquire);
                if (!(st & LIVE_ST_LIVE)) continue;
                if (fn((base + li) << LIVE_SHIFT, st, leaf->e[li].size, ctx)) return 1;
            }
        }
    }
    return 0;
}

/* ------------------------------------------------------------ exported */

int live_insert(uint64_t addr, uint64_t size, uint32_t stack_id, uint8_t family, uint8_t flags)
{
    uint64_t key = addr >> LIVE_SHIFT;
    if (MT_UNLIKELY(addr & ((1u << LIVE_SHIFT) - 1) || key >> LIVE_KEY_BITS)) return -1;
    struct live_entry *e = live_entry_of(key, 1);
    if (MT_UNLIKELY(e == NULL)) return -1;
    e->size = size;
    uint64_t st = LIVE_ST_LIVE | (uint64_t)flags << LIVE_ST_FLAGS_SHIFT |
                  (uint64_t)family << LIVE_ST_FAM_SHIFT | stack_id;
    atomic_store_explicit(&e->state, st, memory_order_release);
    return 0;
}

int live_remove(uint64_t addr, struct live_block *out)
{
    uint64_t key = addr >> LIVE_SHIFT;
    if (MT_UNLIKELY(key >> LIVE_KEY_BITS)) return -1;
    if (MT_UNLIKELY(addr & ((1u << LIVE_SHIFT) - 1))) return 0; /* no block starts there */
    struct live_entry *e = live_entry_of(key, 0);
    if (e == NULL) return 0;
    uint64_t st = atomic_exchange_explicit(&e->state, 0, memory_order_acq_rel);
    if (!(st & LIVE_ST_LIVE)) return 0;
    live_unpack(st, e->size, out);
    return 1;
}

int live_lookup(uint64_t addr, struct live_block *out)
{
    uint64_t key = addr >> LIVE_SHIFT;
    if (addr & ((1u << LIVE_SHIFT) - 1) || key >> LIVE_KEY_BITS) return 0;
    struct live_entry *e = live_entry_of(key, 0);
    if (e == NULL) return 0;
    uint64_t st = atomic_load_explicit(&e->state, memory_order_acquire);
    if (!(st & LIVE_ST_LIVE)) return 0;
    live_unpack(st, e->size, out);
    return 1;
}

int live_find(uint64_t addr, uint64_t *start, struct live_block *out)
{
    uint64_t key = addr >> LIVE_SHIFT;
    if (key >> LIVE_KEY_BITS) return 0;
    /* The nearest block start at or below addr decides: blocks never overlap. */
    for (;;) {
        struct live_entry *e = live_entry_of(key, 0);
        if (e == NULL) {
            uint64_t leaf_start = key & ~(uint64_t)(LIVE_LEAF_N - 1);
            if (leaf_start == 0) return 0;
            key = leaf_start - 1; /* skip the whole absent leaf */
            continue;
        }
        uint64_t st = atomic_load_explicit(&e->state, memory_order_acquire);
        if (st & LIVE_ST_LIVE) {
            uint64_t base = key << LIVE_SHIFT;
            uint64_t size = e->size;
            if (addr >= base + (size ? size : 1)) return 0;
            *start = base;
            live_unpack(st, size, out);
            return 1;
        }
        if (key == 0) return 0;
        key--;
    }
}

int live_set_flags(uint64_t addr, uint8_t set, uint8_t clear)
{
    uint64_t key = addr >> LIVE_SHIFT;
    if (addr & ((1u << LIVE_SHIFT) - 1) || key >> LIVE_KEY_BITS) return 0;
    struct live_entry *e = live_entry_of(key, 0);
    if (e == NULL) return 0;
    uint64_t st = atomic_load_explicit(&e->state, memory_order_acquire);
    for (;;) {
        if (!(st & LIVE_ST_LIVE)) return 0;
        uint64_t flags = (st >> LIVE_ST_FLAGS_SHIFT) & 0xff;
        flags = (flags | set) & ~(uint64_t)clear;
        uint64_t nst = (st & ~(0xffull << LIVE_ST_FLAGS_SHIFT)) | flags << LIVE_ST_FLAGS_SHIFT;
        /* a racing free wins: the CAS fails and the reload sees it dead */
        if (atomic_compare_exchange_weak_explicit(&e->state, &st, nst, memory_order_acq_rel,
                                                  memory_order_acquire))
            return 1;
    }
}

struct live_foreach_ctx {
    int (*cb)(uint64_t addr, uint64_t size, uint32_t stack_id, uint8_t family, void *ctx);
    void *ctx;
    uint64_t count;
};

static int live_foreach_fn(uint64_t addr, uint64_t state, uint64_t size, void *vctx)
{
    struct live_foreach_ctx *c = vctx;
    struct live_block b;
    live_unpack(state, size, &b);
    /* ignored blocks are roots, superblocks containers: neither is classified */
    if (b.flags & (LIVE_F_UNTRACED | LIVE_F_IGNORED | LIVE_F_SUPERBLOCK)) return 0;
    c->count++;
    return c->cb != NULL && c->cb(addr, b.size, b.stack_id, b.family, c->ctx);
}

void live_foreach(int (*cb)(uint64_t addr, uint64_t size, uint32_t stack_id, uint8_t family,
                            void *ctx),
                  void *ctx)
{
    struct live_foreach_ctx c = {.cb = cb, .ctx = ctx};
    if (live_walk(live_foreach_fn, &c)) return;
    pool_chunk_foreach(cb, ctx, &c.count);
}

uint64_t live_count(void)
{
    struct live_foreach_ctx c = {.cb = NULL};
    live_walk(live_foreach_fn, &c);
    pool_chunk_foreach(NULL, NULL, &c.count);
    return c.count;
}

struct live_ignored_ctx {
    void (*cb)(uint64_t addr, uint64_t size, void *ctx);
    void *ctx;
};

static int live_ignored_fn(uint64_t addr, uint64_t state, uint64_t size, void *vctx)
{
    struct live_ignored_ctx *c = vctx;
    struct live_block b;
    live_unpack(state, size, &b);
    if ((b.flags & (LIVE_F_IGNORED | LIVE_F_UNTRACED)) == LIVE_F_IGNORED) c->cb(addr, size, c->ctx);
    return 0;
}

void live_ignored_foreach(void (*cb)(uint64_t addr, uint64_t size, void *ctx), void *ctx)
{
    struct live_ignored_ctx c = {.cb = cb, .ctx = ctx};
    live_walk(live_ignored_fn, &c);
}

static int live_reset_fn(uint64_t addr, uint64_t state, uint64_t size, void *ctx)
{
    struct live_block b;
    (void)state, (void)size, (void)ctx;
    live_remove(addr, &b);
    return 0;
}

void live_reset(void)
{
    live_walk(live_reset_fn, NULL);
}
