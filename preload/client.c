/*
 * client.c — the client API's entry points in libmemtrace.so (runs in the target)
 *
 * include/memtrace/memtrace.h calls these through weak references: each
 * memtrace_impl_* is exported (exports.map: memtrace_*) and does nothing
 * unless the process is being recorded and the calling thread is not inside
 * memtrace already. Pools keep their tables in pool.c; this file turns the
 * calls into MT_REC_POOL, MT_REC_POOL_CHUNK and MT_REC_CLIENT records, runs
 * on-demand leak checks through the leak scan (leak_roots.c) and gives the
 * scan its extra roots (ignored objects). Contract: docs/client-api.md.
 *
 * Design notes
 *   1. Pool records are written with the pool's lock held (pool.c): two
 *      threads freeing and re-allocating one chunk cannot have their records
 *      reordered against the table.
 *   2. Stacks of allocations are unwound before the lock; a free's stack is
 *      unwound only for an error or with MEMTRACE_FREE_STACKS, as hooks.c does.
 *   3. A leak check is LEAK_CHECK, the scan's own LEAK_BEGIN..LEAK_END, and
 *      LEAK_CHECK|DONE; checks are serialised by a mutex so their records
 *      never interleave (trace_format.h, MT_REC_CLIENT).
 *
 * SPDX-License-Identifier: MIT
 */
#include "preload_int.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "leak.h"

/* ---------------------------------------------------------------- state */

#define CLIENT_LABEL_MAX 256u /* bytes of a marker label kept, incl. NUL */

_Atomic uint32_t client_paused;

static struct {
    pthread_mutex_t check_lock; /* one leak check at a time (design note 3) */
    uint64_t n_checks;          /* checks started, under check_lock */
} client_g = {.check_lock = PTHREAD_MUTEX_INITIALIZER};

/* ------------------------------------------------------------- helpers */

/* 1 (guard taken, errno saved in *saved) when the call is to be recorded. */
static int client_enter(int *saved)
{
    if (hook_mode() != HOOK_TRACE) return 0;
    *saved = errno;
    tls_state.guard++;
    return 1;
}

static void client_leave(int saved)
{
    tls_state.guard--;
    errno = saved;
}

static uint32_t client_pad8(uint32_t len)
{
    return (len + MT_REC_ALIGN - 1) & ~(MT_REC_ALIGN - 1);
}

static void client_write_pool(const struct pool *p, uint16_t event, uint32_t stack_id)
{
    uint32_t name_len = event == MT_POOL_CREATE ? (uint32_t)strlen(p->name) + 1 : 0;
    uint32_t len = client_pad8(sizeof(struct mt_rec_pool) + name_len);
    struct mt_rec_pool *r = (struct mt_rec_pool *)ring_reserve(MT_REC_POOL, len, 0);
    if (r == NULL) return;
    memset((uint8_t *)r + sizeof(r->c), 0, len - sizeof(r->c));
    r->pool_id = p->id;
    r->tid = tls_tid();
    r->stack_id = stack_id;
    r->event = event;
    r->name_len = (uint16_t)name_len;
    memcpy(r + 1, p->name, name_len);
    ring_commit(&r->c);
}

static void client_write_chunk(const struct pool *p, uint8_t op, uint16_t flags, uint64_t addr,
                               uint64_t size, uint32_t stack_id, uint32_t alloc_stack_id)
{
    struct mt_rec_pool_chunk *r = (struct mt_rec_pool_chunk *)ring_reserve(
        MT_REC_POOL_CHUNK, sizeof(struct mt_rec_pool_chunk), op == MT_CHUNK_ALLOC || op == MT_CHUNK_FREE);
    if (r == NULL) return;
    r->c.hdr.flags = flags;
    r->addr = addr;
    r->size = size;
    r->pool_id = p->id;
    r->tid = tls_tid();
    r->stack_id = stack_id;
    r->alloc_stack_id = alloc_stack_id;
    r->op = op;
    memset(r->pad, 0, sizeof(r->pad));
    ring_commit(&r->c);
}

static void client_write_client(uint16_t op, uint16_t flags, uint64_t addr, uint32_t pool_id,
                                const char *label)
{
    uint32_t label_len = label ? (uint32_t)strnlen(label, CLIENT_LABEL_MAX - 1) + 1 : 0;
    uint32_t len = client_pad8(sizeof(struct mt_rec_client) + label_len);
    uint32_t stack_id = stack_capture();
    struct mt_rec_client *r = (struct mt_rec_client *)ring_reserve(MT_REC_CLIENT, len, 0);
    if (r == NULL) return;
    memset((uint8_t *)r + sizeof(r->c), 0, len - sizeof(r->c));
    r->c.hdr.flags = flags;
    r->addr = addr;
    r->tid = tls_tid();
    r->stack_id = stack_id;
    r->op = op;
    r->label_len = (uint16_t)label_len;
    r->pad = pool_id;
    if (label_len) memcpy(r + 1, label, label_len - 1);
    ring_commit(&r->c);
}

/* Superblocks of p go back to being plain malloc blocks (destroy). */
static void client_sb_unflag_all(struct pool *p)
{
    struct pool_tab *t = atomic_load_explicit(&p->sbs, memory_order_relaxed);
    for (uint64_t i = 0; t && i < t->cap; i++) {
        uint64_t key = atomic_load_explicit(&t->e[i].key, memory_order_relaxed);
        if (key != 0 && key != UINT64_MAX) live_set_flags(key - 1, 0, LIVE_F_SUPERBLOCK);
    }
}

static void client_root_cb(uint64_t addr, uint64_t size, void *ctx)
{
    leak_graph_scan_root(ctx, addr, addr + size);
}

/* ------------------------------------------------------------ internal */

void client_leak_roots(struct leak_graph *g)
{
    live_ignored_foreach(client_root_cb, g);
    pool_ignored_foreach(client_root_cb, g);
}

/* ------------------------------------------------------------ exported */

MT_EXPORT int memtrace_impl_running(void)
{
    return hook_mode() != HOOK_PASS;
}

MT_EXPORT uint64_t memtrace_impl_pool_create(const char *name)
{
    int saved;
    if (!client_enter(&saved)) return 0;
    uint32_t stack_id = stack_capture();
    struct pool *p = pool_new(name);
    if (p != NULL) {
        pool_lock(p);
        client_write_pool(p, MT_POOL_CREATE, stack_id);
        pool_unlock(p);
    }
    client_leave(saved);
    return p ? p->id : 0;
}

MT_EXPORT void memtrace_impl_pool_destroy(uint64_t handle)
{
    int saved;
    struct pool *p = pool_of(handle);
    if (p == NULL || !client_enter(&saved)) return;
    uint32_t stack_id = stack_capture();
    pool_lock(p);
    client_write_pool(p, MT_POOL_DESTROY, stack_id);
    atomic_store_explicit(&p->alive, 0, memory_order_relaxed);
    client_sb_unflag_all(p);
    pool_tab_clear(&p->chunks);
    pool_tab_clear(&p->sbs);
    pool_unlock(p);
    client_leave(saved);
}

MT_EXPORT void memtrace_impl_pool_alloc(uint64_t handle, const void *ptr, size_t size)
{
    int saved;
    struct pool *p = pool_of(handle);
    if (p == NULL || ptr == NULL || !client_enter(&saved)) return;
    uint32_t stack_id = stack_capture();
    pool_lock(p);
    if (pool_tab_put(&p->chunks, (uint64_t)ptr, size, stack_id, NULL) >= 0)
        client_write_chunk(p, MT_CHUNK_ALLOC, 0, (uint64_t)ptr, size, stack_id, 0);
    pool_unlock(p);
    client_leave(saved);
}

MT_EXPORT void memtrace_impl_pool_free(uint64_t handle, const void *ptr)
{
    int saved;
    struct pool *p = pool_of(handle);
    if (p == NULL || ptr == NULL || !client_enter(&saved)) return;
    struct pool_ent e;
    pool_lock(p);
    if (pool_tab_del(&p->chunks, (uint64_t)ptr, &e)) {
        uint32_t stack_id = proc_free_stacks ? stack_capture() : 0;
        client_write_chunk(p, MT_CHUNK_FREE, 0, (uint64_t)ptr, e.size, stack_id, e.stack_id);
    } else {
        client_write_chunk(p, MT_CHUNK_FREE, MT_CHUNK_F_NOT_LIVE, (uint64_t)ptr, 0,
                           stack_capture(), 0);
    }
    pool_unlock(p);
    client_leave(saved);
}

MT_EXPORT void memtrace_impl_pool_reset(uint64_t handle)
{
    int saved;
    struct pool *p = pool_of(handle);
    if (p == NULL || !client_enter(&saved)) return;
    uint32_t stack_id = stack_capture();
    pool_lock(p);
    client_write_pool(p, MT_POOL_RESET, stack_id);
    pool_tab_clear(&p->chunks);
    pool_unlock(p);
    client_leave(saved);
}

MT_EXPORT void memtrace_impl_pool_superblock(uint64_t handle, const void *ptr, size_t size)
{
    int saved;
    struct pool *p = pool_of(handle);
    if (p == NULL || ptr == NULL || !client_enter(&saved)) return;
    uint32_t stack_id = stack_capture();
    struct live_block b;
    uint16_t flags = 0;
    pool_lock(p);
    if (live_lookup((uint64_t)ptr, &b) && live_set_flags((uint64_t)ptr, LIVE_F_SUPERBLOCK, 0) &&
        !(b.flags & LIVE_F_UNTRACED))
        flags = MT_CHUNK_F_MALLOC_SB;
    if (pool_tab_put(&p->sbs, (uint64_t)ptr, size, stack_id, NULL) >= 0)
        client_write_chunk(p, MT_CHUNK_SB_ADD, flags, (uint64_t)ptr, size, stack_id, 0);
    pool_unlock(p);
    client_leave(saved);
}

MT_EXPORT void memtrace_impl_pool_superblock_release(uint64_t handle, const void *ptr)
{
    int saved;
    struct pool *p = pool_of(handle);
    if (p == NULL || ptr == NULL || !client_enter(&saved)) return;
    struct pool_ent e;
    pool_lock(p);
    if (pool_tab_del(&p->sbs, (uint64_t)ptr, &e)) {
        live_set_flags((uint64_t)ptr, 0, LIVE_F_SUPERBLOCK);
        client_write_chunk(p, MT_CHUNK_SB_RELEASE, 0, (uint64_t)ptr, e.size, stack_capture(),
                           e.stack_id);
    } else {
        client_write_chunk(p, MT_CHUNK_SB_RELEASE, MT_CHUNK_F_NOT_LIVE, (uint64_t)ptr, 0,
                           stack_capture(), 0);
    }
    pool_unlock(p);
    client_leave(saved);
}

MT_EXPORT void memtrace_impl_mark(const char *label)
{
    int saved;
    if (!client_enter(&saved)) return;
    client_write_client(MT_CLIENT_MARK, 0, 0, 0, label ? label : "");
    client_leave(saved);
}

MT_EXPORT void memtrace_impl_pause(void)
{
    int saved;
    if (!client_enter(&saved)) return;
    atomic_fetch_add_explicit(&client_paused, 1, memory_order_relaxed);
    client_write_client(MT_CLIENT_PAUSE, 0, 0, 0, NULL);
    client_leave(saved);
}

MT_EXPORT void memtrace_impl_resume(void)
{
    int saved;
    if (!client_enter(&saved)) return;
    uint32_t n = atomic_load_explicit(&client_paused, memory_order_relaxed);
    while (n > 0 && !atomic_compare_exchange_weak_explicit(&client_paused, &n, n - 1,
                                                           memory_order_relaxed,
                                                           memory_order_relaxed)) {
    }
    client_write_client(MT_CLIENT_RESUME, 0, 0, 0, NULL);
    client_leave(saved);
}

MT_EXPORT int memtrace_impl_leak_check(void)
{
    int saved;
    if (!proc_live_on || !client_enter(&saved)) return 0; /* no live table: nothing to scan */
    pthread_mutex_lock(&client_g.check_lock);
    uint64_t n = ++client_g.n_checks;
    client_write_client(MT_CLIENT_LEAK_CHECK, 0, n, 0, NULL);
    if (leak_scan_run) leak_scan_run();
    client_write_client(MT_CLIENT_LEAK_CHECK, MT_CLIENT_F_DONE, n, 0, NULL);
    pthread_mutex_unlock(&client_g.check_lock);
    client_leave(saved);
    return (int)n;
}

MT_EXPORT void memtrace_impl_ignore_object(const void *ptr)
{
    int saved;
    if (ptr == NULL || !client_enter(&saved)) return;
    struct live_block b;
    uint32_t pool_id = 0;
    uint16_t flags = 0;
    if (live_lookup((uint64_t)ptr, &b) && !(b.flags & (LIVE_F_UNTRACED | LIVE_F_SUPERBLOCK)))
        live_set_flags((uint64_t)ptr, LIVE_F_IGNORED, 0);
    else if ((pool_id = pool_chunk_ignore((uint64_t)ptr)) == 0)
        flags = MT_CLIENT_F_NOT_LIVE;
    client_write_client(MT_CLIENT_IGNORE, flags, (uint64_t)ptr, pool_id, NULL);
    client_leave(saved);
}
