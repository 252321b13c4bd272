/*
 * memtrace.h — the client API: custom pools and arenas, timeline markers, leak control
 *
 * A program includes this header and ships with it. Every call is a macro or
 * inline wrapper around a weak reference to a function libmemtrace.so
 * defines (and exports): run under `memtrace run`, the preload is loaded and
 * each call reaches it; run alone, the weak reference is NULL and the call
 * is one load and one untaken branch. No library to link, no dlsym, C and
 * C++.
 *
 * Invariants:
 *   - nothing here allocates, takes a lock or touches errno when memtrace is
 *     absent; every function accepts being called then and does nothing
 *     (memtrace_pool_create returns 0, memtrace_running returns 0);
 *   - a pool handle is an opaque nonzero integer; 0 is "no pool" and every
 *     call given 0 does nothing.
 *
 * Contract page: docs/client-api.md (worked example, what each call records,
 * how the leak scan treats superblocks). Implementation: preload/client.c and
 * preload/pool.c.
 *
 * Weak references resolve at run time when the code including this header
 * is compiled position independent (-fPIE, the default of gcc and clang on
 * current distributions, or -fPIC). Code compiled -fno-pie into a non-PIE
 * executable has them bound to 0 at link time: memtrace then sees none of
 * these calls and the program is unaffected. docs/client-api.md, "Linking".
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMTRACE_MEMTRACE_H
#define MEMTRACE_MEMTRACE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque pool handle; 0 = none. */
typedef uint64_t memtrace_pool_t;

/* Inlined even at -O0: the recorded stack then starts in the caller, not in
 * a copy of the wrapper. */
#if defined(__GNUC__)
#define MEMTRACE_INLINE static inline __attribute__((always_inline, unused))
#define MEMTRACE_WEAK __attribute__((weak))
#else
#error "memtrace.h needs GCC or Clang (weak symbols)"
#endif

/* ------------------------------------------------------------------ *
 * The functions libmemtrace.so defines. Call the wrappers below instead:
 * these may be NULL.
 * ------------------------------------------------------------------ */

MEMTRACE_WEAK extern int memtrace_impl_running(void);
MEMTRACE_WEAK extern memtrace_pool_t memtrace_impl_pool_create(const char *name);
MEMTRACE_WEAK extern void memtrace_impl_pool_destroy(memtrace_pool_t pool);
MEMTRACE_WEAK extern void memtrace_impl_pool_alloc(memtrace_pool_t pool, const void *ptr,
                                                   size_t size);
MEMTRACE_WEAK extern void memtrace_impl_pool_free(memtrace_pool_t pool, const void *ptr);
MEMTRACE_WEAK extern void memtrace_impl_pool_reset(memtrace_pool_t pool);
MEMTRACE_WEAK extern void memtrace_impl_pool_superblock(memtrace_pool_t pool, const void *ptr,
                                                        size_t size);
MEMTRACE_WEAK extern void memtrace_impl_pool_superblock_release(memtrace_pool_t pool,
                                                                const void *ptr);
MEMTRACE_WEAK extern void memtrace_impl_mark(const char *label);
MEMTRACE_WEAK extern void memtrace_impl_pause(void);
MEMTRACE_WEAK extern void memtrace_impl_resume(void);
MEMTRACE_WEAK extern int memtrace_impl_leak_check(void);
MEMTRACE_WEAK extern void memtrace_impl_ignore_object(const void *ptr);

/* The calls whose stack is recorded are macros, not inline functions:
 * an inline function leaves an inlined frame (memtrace.h itself) at the
 * top of every recorded stack. Each argument is evaluated exactly once,
 * with or without memtrace, converted to the parameter's type. */
#define MEMTRACE_CALL1(fn, t1, a1)                                                                 \
    do {                                                                                           \
        t1 memtrace_arg1_ = (a1);                                                                  \
        if (fn) fn(memtrace_arg1_);                                                                \
    } while (0)
#define MEMTRACE_CALL2(fn, t1, a1, t2, a2)                                                         \
    do {                                                                                           \
        t1 memtrace_arg1_ = (a1);                                                                  \
        t2 memtrace_arg2_ = (a2);                                                                  \
        if (fn) fn(memtrace_arg1_, memtrace_arg2_);                                                \
    } while (0)
#define MEMTRACE_CALL3(fn, t1, a1, t2, a2, t3, a3)                                                 \
    do {                                                                                           \
        t1 memtrace_arg1_ = (a1);                                                                  \
        t2 memtrace_arg2_ = (a2);                                                                  \
        t3 memtrace_arg3_ = (a3);                                                                  \
        if (fn) fn(memtrace_arg1_, memtrace_arg2_, memtrace_arg3_);                                \
    } while (0)

/* ------------------------------------------------------------------ *
 * Process
 * ------------------------------------------------------------------ */

/* 1 when this process is being recorded by memtrace, else 0. */
MEMTRACE_INLINE int memtrace_running(void)
{
    return memtrace_impl_running ? memtrace_impl_running() : 0;
}

/* ------------------------------------------------------------------ *
 * Pools. A pool hands out chunks carved from memory it holds (its
 * superblocks). Chunks are recorded like malloc blocks: with their stack,
 * in the heap figures, leaks and memory errors, under the family
 * "pool:<name>".
 * ------------------------------------------------------------------ */

/* Starts a pool named name (copied; at most 63 bytes kept). Returns its
 * handle, or 0 when memtrace is not recording. */
MEMTRACE_INLINE memtrace_pool_t memtrace_pool_create(const char *name)
{
    return memtrace_impl_pool_create ? memtrace_impl_pool_create(name) : 0;
}

/* Ends a pool. Chunks still allocated in it are leaks of the pool; its
 * superblocks are released. */
#define memtrace_pool_destroy(pool) MEMTRACE_CALL1(memtrace_impl_pool_destroy, memtrace_pool_t, pool)

/* The pool handed out [ptr, ptr + size) to the program. Call it after the
 * chunk is carved (the recorded stack is the caller's). */
#define memtrace_pool_alloc(pool, ptr, size)                                                      \
    MEMTRACE_CALL3(memtrace_impl_pool_alloc, memtrace_pool_t, pool, const void *, ptr, size_t, size)

/* The program gives the chunk at ptr back. A ptr this pool does not have
 * live (freed twice, never handed out) is recorded as a memory error. Call
 * it before the chunk can be reused. */
#define memtrace_pool_free(pool, ptr)                                                             \
    MEMTRACE_CALL2(memtrace_impl_pool_free, memtrace_pool_t, pool, const void *, ptr)

/* Every chunk of the pool is released at once (an arena's reset). */
#define memtrace_pool_reset(pool) MEMTRACE_CALL1(memtrace_impl_pool_reset, memtrace_pool_t, pool)

/* The pool now holds [ptr, ptr + size) from the system or from malloc.
 * Counts in the pool's held bytes (waste = held - live chunk bytes). When
 * ptr is a malloc block, that block stops counting as a heap block of its
 * own (its chunks count instead) and the leak scan classifies the chunks,
 * not the superblock. */
#define memtrace_pool_superblock(pool, ptr, size)                                                 \
    MEMTRACE_CALL3(memtrace_impl_pool_superblock, memtrace_pool_t, pool, const void *, ptr, size_t,  \
                   size)

/* The pool gives the superblock at ptr back (before freeing/unmapping it). */
#define memtrace_pool_superblock_release(pool, ptr)                                               \
    MEMTRACE_CALL2(memtrace_impl_pool_superblock_release, memtrace_pool_t, pool, const void *, ptr)

/* ------------------------------------------------------------------ *
 * Timeline and control
 * ------------------------------------------------------------------ */

/* A named point on the timeline (ordered with allocations by seq). */
#define memtrace_mark(label) MEMTRACE_CALL1(memtrace_impl_mark, const char *, label)

/* Allocations made while paused are not recorded (nor reported as leaks);
 * releases of blocks recorded before are. Calls nest. */
MEMTRACE_INLINE void memtrace_pause(void)
{
    if (memtrace_impl_pause) memtrace_impl_pause();
}

MEMTRACE_INLINE void memtrace_resume(void)
{
    if (memtrace_impl_resume) memtrace_impl_resume();
}

/* Runs the leak classification now (as at exit) and records its result as
 * one leak check. Stops the other threads for the scan. Returns the check's
 * number (1, 2, ...), 0 when not recording. */
MEMTRACE_INLINE int memtrace_leak_check(void)
{
    return memtrace_impl_leak_check ? memtrace_impl_leak_check() : 0;
}

/* The block (malloc'd or a pool chunk) starting at ptr is never reported
 * as a leak; its contents still keep what they point to reachable (as
 * LeakSanitizer's __lsan_ignore_object). */
#define memtrace_ignore_object(ptr) MEMTRACE_CALL1(memtrace_impl_ignore_object, const void *, ptr)

#ifdef __cplusplus
}
#endif

#endif /* MEMTRACE_MEMTRACE_H */
