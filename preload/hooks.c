/*
 * hooks.c — the interposed C allocator entry points (malloc family)
 *
 * LD_PRELOAD puts these definitions in front of glibc's. Each one forwards
 * to the real function found with dlsym(RTLD_NEXT) and, when the process is
 * traced, records the event: an allocation after the real call returned, a
 * release before the real call (DESIGN.md "Ordering"). Behaviour seen by the
 * program (results, errno) is glibc's; the only deliberate difference is
 * that releasing a pointer that is not live does nothing (and is reported).
 * C++ operators are in hooks_cxx.c. Contract page: docs/preload.md.
 *
 * Design notes
 *   1. hook_mode() decides per call: PASS (nothing traced), GUARDED (this
 *      thread is inside memtrace already, or init is not finished: keep the
 *      live table right, write nothing), TRACE.
 *   2. dlsym() calls calloc before the real one is known: such calls are
 *      served from a static buffer that free/realloc recognise and never
 *      hand to glibc.
 *   3. realloc writes FREE(old) before the real call; if the real call fails
 *      the old block is still live, so an ALLOC re-establishing it (same
 *      address, size and stack) follows. See docs/preload.md.
 *   4. MEMTRACE_NO_ERRORS=1 (`run --no-errors`): proc_live_on is 0 from
 *      init on, and the traced paths skip the live table as the guarded
 *      ones already did: every release is written as FREE unjudged (as for
 *      an address the table cannot hold) and reaches the real allocator.
 *      One load of a global that never changes, so a predicted branch.
 *
 * SPDX-License-Identifier: MIT
 */
#include "preload_int.h"

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- state */

#define HOOK_BOOT_BYTES (256u << 10) /* dlsym's needs at startup, with margin */
#define HOOK_BOOT_HDR 16u            /* size word kept in front of a block */

struct hook_real hook_real;

static struct {
    _Alignas(4096) uint8_t buf[HOOK_BOOT_BYTES];
    _Atomic size_t used; /* bytes handed out */
} boot;

/* ------------------------------------------------------- bootstrap pool */

static int hook_boot_owns(const void *p)
{
    return (const uint8_t *)p >= boot.buf && (const uint8_t *)p < boot.buf + HOOK_BOOT_BYTES;
}

static size_t hook_boot_size(const void *p)
{
    return (size_t)((const uint64_t *)p)[-1];
}

/* Zeroed memory from the static pool (never reused); NULL + ENOMEM when
 * the pool is exhausted. align: a power of two, or 0. */
static void *hook_boot_alloc(size_t size, size_t align)
{
    if (align < HOOK_BOOT_HDR) align = HOOK_BOOT_HDR;
    size_t used = atomic_load_explicit(&boot.used, memory_order_relaxed);
    for (;;) {
        size_t start = (used + HOOK_BOOT_HDR + align - 1) & ~(align - 1);
        if (size > HOOK_BOOT_BYTES || start + size > HOOK_BOOT_BYTES) {
            errno = ENOMEM;
            return NULL;
        }
        if (atomic_compare_exchange_weak_explicit(&boot.used, &used, start + size,
                                                  memory_order_relaxed, memory_order_relaxed)) {
            ((uint64_t *)(boot.buf + start))[-1] = size;
            return boot.buf + start;
        }
    }
}

/* ------------------------------------------------------------- records */

static void hook_write_alloc(void *p, size_t size, uint32_t stack_id, uint8_t family,
                             uint8_t api, uint16_t flags)
{
    struct mt_rec_alloc *r =
        (struct mt_rec_alloc *)ring_reserve(MT_REC_ALLOC, sizeof(struct mt_rec_alloc), 1);
    if (r == NULL) return;
    r->c.hdr.flags = flags;
    r->addr = (uint64_t)p;
    r->size = size;
    r->usable = hook_real.malloc_usable_size(p);
    r->stack_id = stack_id;
    r->tid = tls_tid();
    r->family = family;
    r->api = api;
    r->pad0 = 0;
    r->pad1 = 0;
    ring_commit(&r->c);
}

static void hook_write_free(void *p, uint32_t stack_id, uint8_t family, uint8_t api,
                            uint16_t flags)
{
    struct mt_rec_free *r =
        (struct mt_rec_free *)ring_reserve(MT_REC_FREE, sizeof(struct mt_rec_free), 1);
    if (r == NULL) return;
    r->c.hdr.flags = flags;
    r->addr = (uint64_t)p;
    r->tid = tls_tid();
    r->stack_id = stack_id;
    r->family = family;
    r->api = api;
    r->pad0 = 0;
    r->pad1 = 0;
    ring_commit(&r->c);
}

/* blk: the live block for MISMATCH, NULL for the NOT_LIVE kinds. */
static MT_COLD void hook_write_error(uint8_t kind, void *p, uint32_t stack_id, uint8_t family,
                                     uint8_t api, const struct live_block *blk)
{
    struct mt_rec_error *r =
        (struct mt_rec_error *)ring_reserve(MT_REC_ERROR, sizeof(struct mt_rec_error), 0);
    if (r == NULL) return;
    r->addr = (uint64_t)p;
    r->tid = tls_tid();
    r->stack_id = stack_id;
    r->alloc_stack_id = blk ? blk->stack_id : 0;
    r->kind = kind;
    r->family = family;
    r->alloc_family = blk ? blk->family : 0;
    r->api = api;
    r->alloc_size = blk ? blk->size : 0;
    ring_commit(&r->c);
}

static int hook_family_ok(uint8_t block_family, uint8_t call_family)
{
    if (call_family == MT_FAM_MALLOC)
        return block_family == MT_FAM_MALLOC || block_family == MT_FAM_ALIGNED;
    return block_family == call_family;
}

static inline void hook_mallinfo_check(void)
{
    struct mt_ring_file *f = ring_proc.file;
    if (MT_UNLIKELY(atomic_load_explicit(&f->mallinfo_req, memory_order_relaxed) !=
                    atomic_load_explicit(&f->mallinfo_done, memory_order_relaxed)))
        proc_mallinfo_poll();
}

/* --------------------------------------------------- shared hook logic */

int hook_mode_slow(void)
{
    if (tls_state.guard) return HOOK_GUARDED; /* init itself (dlsym) */
    proc_init();
    if (atomic_load_explicit(&proc_init_state, memory_order_acquire) != PROC_INIT_DONE)
        return HOOK_GUARDED; /* deferred: glibc not ready to tell us the environment */
    return hook_mode();
}

void hook_guard_alloc(void *p, size_t size, uint8_t family)
{
    if (p != NULL && proc_live_on) live_insert((uint64_t)p, size, 0, family, LIVE_F_UNTRACED);
}

void hook_guard_free(void *p)
{
    struct live_block b;
    if (proc_live_on) live_remove((uint64_t)p, &b);
}

void hook_alloc_done(void *p, size_t size, uint8_t family, uint8_t api, uint16_t flags)
{
    if (MT_UNLIKELY(atomic_load_explicit(&client_paused, memory_order_relaxed))) {
        if (proc_live_on) live_insert((uint64_t)p, size, 0, family, LIVE_F_UNTRACED); /* pause */
        return;
    }
    int saved = errno;
    tls_state.guard++;
    hook_mallinfo_check();
    uint32_t stack_id = stack_capture();
    ring_seq_prefetch(); /* overlaps the live table's miss */
    if (MT_LIKELY(proc_live_on)) live_insert((uint64_t)p, size, stack_id, family, 0);
    hook_write_alloc(p, size, stack_id, family, api, flags);
    tls_state.guard--;
    errno = saved;
}

int hook_free_begin(void *p, uint8_t family, uint8_t api)
{
    if (hook_boot_owns(p)) return 0;
    int saved = errno;
    int call_real = 1;
    struct live_block b;
    tls_state.guard++;
    hook_mallinfo_check();
    ring_seq_prefetch(); /* overlaps the live table's miss */
    int st = MT_LIKELY(proc_live_on) ? live_remove((uint64_t)p, &b) : -1; /* design note 4 */
    if (st == 0) {
        hook_write_error(MT_ERR_NOT_LIVE, p, stack_capture(), family, api, NULL);
        call_real = 0;
    } else if (st == -1 || !(b.flags & LIVE_F_UNTRACED)) {
        /* st == -1: the table cannot hold this address; its ALLOC was written,
         * so its FREE is too, unjudged */
        int ok = st == -1 || hook_family_ok(b.family, family);
        uint32_t stack_id = (proc_free_stacks || !ok) ? stack_capture() : 0;
        if (!ok) hook_write_error(MT_ERR_MISMATCH, p, stack_id, family, api, &b);
        hook_write_free(p, proc_free_stacks ? stack_id : 0, family, api, 0);
    }
    tls_state.guard--;
    errno = saved;
    return call_real;
}

/* GUARDED malloc/calloc/aligned: real call when known, else the boot pool. */
static void *hook_guarded_alloc(size_t size, size_t align, int zero, uint8_t family)
{
    void *p;
    if (align != 0 && hook_real.memalign == NULL) return hook_boot_alloc(size, align);
    if (align == 0 && (zero ? hook_real.calloc == NULL : hook_real.malloc == NULL))
        return hook_boot_alloc(size, 0);
    if (align != 0) p = hook_real.memalign(align, size);
    else p = zero ? hook_real.calloc(1, size) : hook_real.malloc(size);
    hook_guard_alloc(p, size, family);
    return p;
}

/* --------------------------------------------------------------- realloc */

/* realloc of a block from the boot pool: copy into a real block. */
static void *hook_realloc_boot(void *old, size_t size, int mode)
{
    size_t old_size = hook_boot_size(old);
    void *p = mode == HOOK_GUARDED ? hook_guarded_alloc(size, 0, 0, MT_FAM_MALLOC)
                                   : hook_real.malloc(size);
    if (p == NULL) return NULL;
    memcpy(p, old, old_size < size ? old_size : size);
    if (mode == HOOK_TRACE) hook_alloc_done(p, size, MT_FAM_MALLOC, MT_API_REALLOC, 0);
    return p;
}

static void *hook_realloc_guarded(void *old, size_t size)
{
    struct live_block b;
    int st = (old != NULL && proc_live_on) ? live_remove((uint64_t)old, &b) : 0;
    void *p = hook_real.realloc(old, size);
    if (p != NULL) hook_guard_alloc(p, size, MT_FAM_MALLOC);
    else if (st == 1 && size != 0) live_insert((uint64_t)old, b.size, b.stack_id, b.family, b.flags);
    return p;
}

/* realloc(old != NULL) when traced; design note 3. */
static void *hook_realloc_traced(void *old, size_t size, uint8_t api)
{
    struct live_block b;
    int saved = errno;
    tls_state.guard++;
    hook_mallinfo_check();
    int st = MT_LIKELY(proc_live_on) ? live_remove((uint64_t)old, &b) : -1; /* design note 4 */
    if (st == 0) {
        hook_write_error(MT_ERR_REALLOC_NOT_LIVE, old, stack_capture(), MT_FAM_MALLOC, api, NULL);
        tls_state.guard--;
        errno = ENOMEM;
        return NULL;
    }
    if (st == -1) b = (struct live_block){.family = MT_FAM_MALLOC}; /* unjudged, traced */
    int traced = st == -1 || !(b.flags & LIVE_F_UNTRACED);
    if (st == 1 && traced && !hook_family_ok(b.family, MT_FAM_MALLOC))
        hook_write_error(MT_ERR_MISMATCH, old, stack_capture(), MT_FAM_MALLOC, api, &b);
    if (traced)
        hook_write_free(old, proc_free_stacks ? stack_capture() : 0, MT_FAM_MALLOC, api,
                        size != 0 ? MT_FREE_F_REALLOC : 0);
    errno = saved;
    void *p = hook_real.realloc(old, size);
    saved = errno;
    if (p != NULL) {
        uint32_t stack_id = stack_capture();
        if (MT_LIKELY(proc_live_on)) live_insert((uint64_t)p, size, stack_id, MT_FAM_MALLOC, 0);
        hook_write_alloc(p, size, stack_id, MT_FAM_MALLOC, api, traced ? MT_ALLOC_F_REALLOC : 0);
    } else if (size != 0) {
        /* failed: the old block is untouched and live again */
        if (st == 1) live_insert((uint64_t)old, b.size, b.stack_id, b.family, b.flags);
        if (st == -1) b.size = hook_real.malloc_usable_size(old); /* best known size */
        if (traced)
            hook_write_alloc(old, b.size, b.stack_id, b.family, api, MT_ALLOC_F_REALLOC);
    }
    tls_state.guard--;
    errno = saved;
    return p;
}

static void *hook_realloc(void *old, size_t size, uint8_t api)
{
    int mode = hook_mode();
    if (old != NULL && hook_boot_owns(old)) return hook_realloc_boot(old, size, mode);
    if (mode == HOOK_GUARDED) {
        if (hook_real.realloc == NULL) return hook_boot_alloc(size, 0); /* old is NULL here */
        return hook_realloc_guarded(old, size);
    }
    if (mode == HOOK_PASS) return hook_real.realloc(old, size);
    if (old == NULL) {
        void *p = hook_real.realloc(NULL, size);
        if (p != NULL) hook_alloc_done(p, size, MT_FAM_MALLOC, api, 0);
        return p;
    }
    return hook_realloc_traced(old, size, api);
}

/* ------------------------------------------------------------ resolution */

int hook_resolve(void)
{
    if (hook_real.malloc != NULL) return 0;
    struct hook_real r;
    r.malloc = dlsym(RTLD_NEXT, "malloc");
    r.calloc = dlsym(RTLD_NEXT, "calloc");
    r.realloc = dlsym(RTLD_NEXT, "realloc");
    r.free = dlsym(RTLD_NEXT, "free");
    r.posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    r.aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
    r.memalign = dlsym(RTLD_NEXT, "memalign");
    r.valloc = dlsym(RTLD_NEXT, "valloc");
    r.pvalloc = dlsym(RTLD_NEXT, "pvalloc");
    r.malloc_usable_size = dlsym(RTLD_NEXT, "malloc_usable_size");
    if (!r.malloc || !r.calloc || !r.realloc || !r.free || !r.posix_memalign ||
        !r.aligned_alloc || !r.memalign || !r.valloc || !r.pvalloc || !r.malloc_usable_size)
        return -1;
    /* publish malloc last: hook_guarded_alloc tests the pointer it calls */
    hook_real.calloc = r.calloc;
    hook_real.realloc = r.realloc;
    hook_real.free = r.free;
    hook_real.posix_memalign = r.posix_memalign;
    hook_real.memalign = r.memalign;
    hook_real.valloc = r.valloc;
    hook_real.pvalloc = r.pvalloc;
    hook_real.malloc_usable_size = r.malloc_usable_size;
    hook_real.aligned_alloc = r.aligned_alloc;
    __atomic_store_n(&hook_real.malloc, r.malloc, __ATOMIC_RELEASE);
    return 0;
}

/* ------------------------------------------------------ exported hooks */

MT_EXPORT void *malloc(size_t size)
{
    int mode = hook_mode();
    if (MT_UNLIKELY(mode == HOOK_GUARDED)) return hook_guarded_alloc(size, 0, 0, MT_FAM_MALLOC);
    void *p = hook_real.malloc(size);
    if (mode == HOOK_TRACE && p != NULL) hook_alloc_done(p, size, MT_FAM_MALLOC, MT_API_MALLOC, 0);
    return p;
}

MT_EXPORT void free(void *p)
{
    if (p == NULL) return;
    int mode = hook_mode();
    if (mode == HOOK_TRACE) {
        if (!hook_free_begin(p, MT_FAM_MALLOC, MT_API_FREE)) return;
    } else if (hook_boot_owns(p)) {
        return;
    } else if (mode == HOOK_GUARDED) {
        hook_guard_free(p);
    }
    hook_real.free(p);
}

MT_EXPORT void *calloc(size_t nmemb, size_t size)
{
    int mode = hook_mode();
    if (MT_UNLIKELY(mode == HOOK_GUARDED)) {
        size_t total;
        if (__builtin_mul_overflow(nmemb, size, &total)) {
            errno = ENOMEM;
            return NULL;
        }
        return hook_guarded_alloc(total, 0, 1, MT_FAM_MALLOC);
    }
    void *p = hook_real.calloc(nmemb, size);
    if (mode == HOOK_TRACE && p != NULL)
        hook_alloc_done(p, nmemb * size, MT_FAM_MALLOC, MT_API_CALLOC, 0);
    return p;
}

MT_EXPORT void *realloc(void *old, size_t size)
{
    return hook_realloc(old, size, MT_API_REALLOC);
}

MT_EXPORT void *reallocarray(void *old, size_t nmemb, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(nmemb, size, &total)) {
        errno = ENOMEM; /* glibc: old block untouched */
        return NULL;
    }
    return hook_realloc(old, total, MT_API_REALLOCARRAY);
}

MT_EXPORT int posix_memalign(void **memptr, size_t align, size_t size)
{
    int mode = hook_mode();
    if (MT_UNLIKELY(mode == HOOK_GUARDED && hook_real.posix_memalign == NULL)) {
        if (align == 0 || (align & (align - 1)) || align % sizeof(void *)) return EINVAL;
        void *p = hook_boot_alloc(size, align);
        if (p == NULL) return ENOMEM;
        *memptr = p;
        return 0;
    }
    int rc = hook_real.posix_memalign(memptr, align, size);
    if (rc == 0 && mode == HOOK_TRACE)
        hook_alloc_done(*memptr, size, MT_FAM_ALIGNED, MT_API_POSIX_MEMALIGN, 0);
    else if (rc == 0 && mode == HOOK_GUARDED)
        hook_guard_alloc(*memptr, size, MT_FAM_ALIGNED);
    return rc;
}

/* The four "returns an aligned pointer" calls share one body. */
#define HOOK_ALIGNED_BODY(real_call, size, boot_align, api)                                        \
    do {                                                                                           \
        int mode = hook_mode();                                                                    \
        if (MT_UNLIKELY(mode == HOOK_GUARDED && hook_real.memalign == NULL))                       \
            return hook_boot_alloc(size, boot_align);                                              \
        void *p = real_call;                                                                       \
        if (p != NULL && mode == HOOK_TRACE) hook_alloc_done(p, size, MT_FAM_ALIGNED, api, 0);     \
        else if (p != NULL && mode == HOOK_GUARDED) hook_guard_alloc(p, size, MT_FAM_ALIGNED);     \
        return p;                                                                                  \
    } while (0)

MT_EXPORT void *aligned_alloc(size_t align, size_t size)
{
    HOOK_ALIGNED_BODY(hook_real.aligned_alloc(align, size), size, align, MT_API_ALIGNED_ALLOC);
}

MT_EXPORT void *memalign(size_t align, size_t size)
{
    HOOK_ALIGNED_BODY(hook_real.memalign(align, size), size, align, MT_API_MEMALIGN);
}

MT_EXPORT void *valloc(size_t size)
{
    HOOK_ALIGNED_BODY(hook_real.valloc(size), size, 4096, MT_API_VALLOC);
}

MT_EXPORT void *pvalloc(size_t size)
{
    HOOK_ALIGNED_BODY(hook_real.pvalloc(size), size, 4096, MT_API_PVALLOC);
}

MT_EXPORT size_t malloc_usable_size(void *p)
{
    if (p == NULL) return 0;
    if (hook_boot_owns(p)) return hook_boot_size(p);
    if (hook_real.malloc_usable_size == NULL) proc_init();
    return hook_real.malloc_usable_size ? hook_real.malloc_usable_size(p) : 0;
}
