/*
 * pool.c — the client pools' own tables: live chunks and superblocks (runs in the target)
 *
 * memtrace_pool_* (client.c) land here: every pool has a table of its live
 * chunks and one of its superblocks, so a chunk freed twice or never handed
 * out is caught where it happens, a reset knows what it drops, and the leak
 * scan (through live_foreach) classifies chunks like malloc blocks. Records
 * are written while the pool's lock is held, so the order of seqs is the
 * order in which the pool's table changed. Contract: docs/client-api.md.
 *
 * Design notes
 *   1. Pool ids are indexes into a static directory (POOL_MAX), handed out
 *      once, never reused: a stale handle finds a dead pool and is ignored.
 *   2. A table is open addressing over arena_map'ed memory with linear
 *      probing and tombstones (no backward shift): the leak scan reads the
 *      tables with the world stopped, possibly while a stopped thread is in
 *      the middle of an update, and must then see each chunk once or not at
 *      all, never a moved copy. Entries are written size first, key last.
 *   3. A table that fills up is rebuilt into a fresh map that is published
 *      (release) before the old one is unmapped; a reader holds one pointer.
 *   4. Chunks may sit anywhere (no alignment assumed), may start where their
 *      superblock starts, and are never put into live.c's table: a chunk and
 *      its malloc'd superblock would share an address there.
 *
 * SPDX-License-Identifier: MIT
 */
#include "preload_int.h"

#include <sched.h>
#include <stdatomic.h>
#include <string.h>

/* ---------------------------------------------------------------- types */

#define POOL_TAB_MIN 256u              /* entries of a fresh table: 6 KiB, 2 pages */
#define POOL_KEY_EMPTY 0ull            /* slot never used */
#define POOL_KEY_DEAD UINT64_MAX       /* tombstone: a removed entry */

static struct {
    _Atomic(struct pool *) dir[POOL_MAX]; /* by id; [0] unused */
    _Atomic uint32_t next_id;              /* last id handed out */
} pool_g;

/* -------------------------------------------------------------- helpers */

static uint64_t pool_hash(uint64_t addr)
{
    return (addr ^ addr >> 29) * 0x9e3779b97f4a7c15ull; /* Fibonacci after folding */
}

void pool_lock(struct pool *p)
{
    uint32_t expect = 0;
    while (!atomic_compare_exchange_weak_explicit(&p->lock, &expect, 1, memory_order_acquire,
                                                  memory_order_relaxed)) {
        expect = 0;
        sched_yield();
    }
}

void pool_unlock(struct pool *p)
{
    atomic_store_explicit(&p->lock, 0, memory_order_release);
}

/* Bytes mapped for a table of cap entries. */
static size_t pool_tab_bytes(uint64_t cap)
{
    return (size_t)(sizeof(struct pool_tab) + cap * sizeof(struct pool_ent) + 4095) & ~(size_t)4095;
}

static struct pool_tab *pool_tab_new(uint64_t cap)
{
    struct pool_tab *t = arena_map(pool_tab_bytes(cap));
    if (t == NULL) {
        ring_degrade(MT_DEGRADED_ARENA);
        return NULL;
    }
    t->cap = cap;
    return t;
}

/* Slot of addr in t, or of the first free slot for it (*found = 0). */
static struct pool_ent *pool_tab_slot(struct pool_tab *t, uint64_t addr, int *found)
{
    struct pool_ent *free_slot = NULL;
    uint64_t mask = t->cap - 1;
    for (uint64_t i = pool_hash(addr) & mask, n = 0; n < t->cap; i = (i + 1) & mask, n++) {
        uint64_t key = atomic_load_explicit(&t->e[i].key, memory_order_relaxed);
        if (key == addr + 1) {
            *found = 1;
            return &t->e[i];
        }
        if (key == POOL_KEY_DEAD && free_slot == NULL) free_slot = &t->e[i];
        if (key == POOL_KEY_EMPTY) {
            *found = 0;
            return free_slot ? free_slot : &t->e[i];
        }
    }
    *found = 0;
    return free_slot;
}

/* Moves every live entry of *slot into a table sized for them; 0 or -1. */
static int pool_tab_rebuild(_Atomic(struct pool_tab *) *slot)
{
    struct pool_tab *old = atomic_load_explicit(slot, memory_order_relaxed);
    uint64_t cap = POOL_TAB_MIN;
    while (old && cap < old->live * 4) cap *= 2;
    struct pool_tab *t = pool_tab_new(cap);
    if (t == NULL) return -1;
    for (uint64_t i = 0; old && i < old->cap; i++) {
        uint64_t key = atomic_load_explicit(&old->e[i].key, memory_order_relaxed);
        if (key == POOL_KEY_EMPTY || key == POOL_KEY_DEAD) continue;
        int found;
        struct pool_ent *e = pool_tab_slot(t, key - 1, &found);
        *e = old->e[i];
        t->live++;
        t->used++;
    }
    atomic_store_explicit(slot, t, memory_order_release); /* design note 3 */
    if (old) arena_unmap(old, pool_tab_bytes(old->cap));
    return 0;
}

/* ------------------------------------------------------------ tables */

int pool_tab_put(_Atomic(struct pool_tab *) *slot, uint64_t addr, uint64_t size,
                 uint32_t stack_id, struct pool_ent *old)
{
    struct pool_tab *t = atomic_load_explicit(slot, memory_order_relaxed);
    if (t == NULL || (t->used + 1) * 4 > t->cap * 3) {
        if (pool_tab_rebuild(slot) < 0) return -1;
        t = atomic_load_explicit(slot, memory_order_relaxed);
    }
    int found;
    struct pool_ent *e = pool_tab_slot(t, addr, &found);
    if (e == NULL) return -1;
    if (found && old) *old = *e;
    uint64_t key = atomic_load_explicit(&e->key, memory_order_relaxed);
    e->size = size;
    e->stack_id = stack_id;
    e->flags = 0;
    atomic_store_explicit(&e->key, addr + 1, memory_order_release); /* design note 2 */
    if (!found) {
        t->live++;
        if (key == POOL_KEY_EMPTY) t->used++;
    }
    return found;
}

int pool_tab_del(_Atomic(struct pool_tab *) *slot, uint64_t addr, struct pool_ent *out)
{
    struct pool_tab *t = atomic_load_explicit(slot, memory_order_relaxed);
    if (t == NULL) return 0;
    int found;
    struct pool_ent *e = pool_tab_slot(t, addr, &found);
    if (!found) return 0;
    if (out) *out = *e;
    atomic_store_explicit(&e->key, POOL_KEY_DEAD, memory_order_release);
    t->live--;
    return 1;
}

struct pool_ent *pool_tab_get(_Atomic(struct pool_tab *) *slot, uint64_t addr)
{
    struct pool_tab *t = atomic_load_explicit(slot, memory_order_relaxed);
    int found;
    struct pool_ent *e = t ? pool_tab_slot(t, addr, &found) : NULL;
    return e && found ? e : NULL;
}

void pool_tab_clear(_Atomic(struct pool_tab *) *slot)
{
    struct pool_tab *t = atomic_exchange_explicit(slot, NULL, memory_order_acq_rel);
    if (t) arena_unmap(t, pool_tab_bytes(t->cap));
}

/* ------------------------------------------------------------ registry */

struct pool *pool_new(const char *name)
{
    uint32_t id = atomic_fetch_add_explicit(&pool_g.next_id, 1, memory_order_relaxed) + 1;
    if (id >= POOL_MAX) return NULL;
    struct pool *p = arena_alloc(sizeof *p);
    if (p == NULL) return NULL;
    p->id = id;
    size_t len = name ? strnlen(name, POOL_NAME_MAX - 1) : 0;
    memcpy(p->name, name ? name : "", len);
    p->name[len] = '\0';
    atomic_store_explicit(&p->alive, 1, memory_order_relaxed);
    atomic_store_explicit(&pool_g.dir[id], p, memory_order_release);
    return p;
}

struct pool *pool_of(uint64_t handle)
{
    if (handle == 0 || handle >= POOL_MAX) return NULL;
    struct pool *p = atomic_load_explicit(&pool_g.dir[handle], memory_order_acquire);
    return p && atomic_load_explicit(&p->alive, memory_order_relaxed) ? p : NULL;
}

uint32_t pool_chunk_ignore(uint64_t addr)
{
    uint32_t n = atomic_load_explicit(&pool_g.next_id, memory_order_acquire);
    for (uint32_t id = 1; id <= n && id < POOL_MAX; id++) {
        struct pool *p = pool_of(id);
        if (p == NULL) continue;
        pool_lock(p);
        struct pool_ent *e = pool_tab_get(&p->chunks, addr);
        if (e) e->flags |= POOL_E_IGNORED;
        pool_unlock(p);
        if (e) return id;
    }
    return 0;
}

/* ------------------------------------------------------------ leak scan */

/* Calls fn on every live entry of every live pool's chunk table. */
static int pool_walk(int (*fn)(const struct pool_ent *e, void *ctx), void *ctx)
{
    uint32_t n = atomic_load_explicit(&pool_g.next_id, memory_order_acquire);
    for (uint32_t id = 1; id <= n && id < POOL_MAX; id++) {
        struct pool *p = pool_of(id);
        struct pool_tab *t = p ? atomic_load_explicit(&p->chunks, memory_order_acquire) : NULL;
        for (uint64_t i = 0; t && i < t->cap; i++) {
            uint64_t key = atomic_load_explicit(&t->e[i].key, memory_order_acquire);
            if (key == POOL_KEY_EMPTY || key == POOL_KEY_DEAD) continue;
            if (fn(&t->e[i], ctx)) return 1;
        }
    }
    return 0;
}

struct pool_foreach_ctx {
    int (*cb)(uint64_t addr, uint64_t size, uint32_t stack_id, uint8_t family, void *ctx);
    void *ctx;
    uint64_t *count;
};

static int pool_foreach_fn(const struct pool_ent *e, void *vctx)
{
    struct pool_foreach_ctx *c = vctx;
    if (e->flags & POOL_E_IGNORED) return 0;
    (*c->count)++;
    return c->cb != NULL && c->cb(atomic_load(&e->key) - 1, e->size, e->stack_id, MT_FAM_COUNT,
                                  c->ctx);
}

int pool_chunk_foreach(int (*cb)(uint64_t addr, uint64_t size, uint32_t stack_id, uint8_t family,
                                 void *ctx),
                       void *ctx, uint64_t *count)
{
    struct pool_foreach_ctx c = {.cb = cb, .ctx = ctx, .count = count};
    return pool_walk(pool_foreach_fn, &c);
}

struct pool_ignored_ctx {
    void (*cb)(uint64_t addr, uint64_t size, void *ctx);
    void *ctx;
};

static int pool_ignored_fn(const struct pool_ent *e, void *vctx)
{
    struct pool_ignored_ctx *c = vctx;
    if (e->flags & POOL_E_IGNORED) c->cb(atomic_load(&e->key) - 1, e->size, c->ctx);
    return 0;
}

void pool_ignored_foreach(void (*cb)(uint64_t addr, uint64_t size, void *ctx), void *ctx)
{
    struct pool_ignored_ctx c = {.cb = cb, .ctx = ctx};
    pool_walk(pool_ignored_fn, &c);
}
