/*
 * hooks_cxx.c — the interposed C++ operator new / delete, by mangled name
 *
 * All 20 replaceable forms (plain, nothrow, std::align_val_t, sized; scalar
 * and array) are defined here in C so the preload needs no C++ runtime. Each
 * forwards to libstdc++'s own definition, found with dlsym(RTLD_NEXT) on
 * first use, so bad_alloc, new_handler and alignment rules are exactly the
 * library's. The records are the same as for malloc (hooks.c), with the
 * operator's family, which is what lets delete/free/delete[] mismatches be
 * detected. Contract page: docs/preload.md ("C++ operators").
 *
 * Design notes
 *   1. The real operator new runs with the recursion guard held, so the
 *      malloc it calls is not recorded a second time (it only enters the
 *      live table, untraced, and is then overwritten with the new entry).
 *   2. The real operator new may throw. This file is compiled with
 *      -fexceptions and the guard is restored by a cleanup handler, so an
 *      exception leaves the thread's state as it found it.
 *   3. Without libstdc++ (a C program whose dlopen'ed plugin brought another
 *      runtime, say) the forms fall back to glibc: nothrow ones return NULL,
 *      throwing ones print one line and abort, as a runtime without
 *      exceptions would.
 *
 * SPDX-License-Identifier: MIT
 */
#include "preload_int.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------- state */

#define CXX_N (MT_API_DELETE_ARRAY_ALIGNED_NOTHROW - MT_API_NEW + 1)

/* Mangled names, in enum mt_api order from MT_API_NEW. */
static const char *const cxx_names[CXX_N] = {
    "_Znwm", "_ZnwmRKSt9nothrow_t", "_ZnwmSt11align_val_t", "_ZnwmSt11align_val_tRKSt9nothrow_t",
    "_Znam", "_ZnamRKSt9nothrow_t", "_ZnamSt11align_val_t", "_ZnamSt11align_val_tRKSt9nothrow_t",
    "_ZdlPv", "_ZdlPvm", "_ZdlPvSt11align_val_t", "_ZdlPvmSt11align_val_t",
    "_ZdlPvRKSt9nothrow_t", "_ZdlPvSt11align_val_tRKSt9nothrow_t",
    "_ZdaPv", "_ZdaPvm", "_ZdaPvSt11align_val_t", "_ZdaPvmSt11align_val_t",
    "_ZdaPvRKSt9nothrow_t", "_ZdaPvSt11align_val_tRKSt9nothrow_t",
};

static void *cxx_fn[CXX_N];         /* resolved real functions, NULL = not yet */
static const char cxx_nothrow_tag;  /* stands for std::nothrow: never read */

typedef void *(*cxx_new_fn)(size_t);
typedef void *(*cxx_new_nt_fn)(size_t, const void *);
typedef void *(*cxx_new_al_fn)(size_t, size_t);
typedef void *(*cxx_new_al_nt_fn)(size_t, size_t, const void *);
typedef void (*cxx_del_fn)(void *);
typedef void (*cxx_del_sz_fn)(void *, size_t);
typedef void (*cxx_del_sz_al_fn)(void *, size_t, size_t);
typedef void (*cxx_del_nt_fn)(void *, const void *);
typedef void (*cxx_del_al_nt_fn)(void *, size_t, const void *);

/* ------------------------------------------------------------ helpers */

static void *cxx_real(uint8_t api)
{
    int idx = api - MT_API_NEW;
    void *fn = __atomic_load_n(&cxx_fn[idx], __ATOMIC_ACQUIRE);
    if (MT_UNLIKELY(fn == NULL)) {
        tls_state.guard++; /* dlsym may allocate */
        fn = dlsym(RTLD_NEXT, cxx_names[idx]);
        tls_state.guard--;
        __atomic_store_n(&cxx_fn[idx], fn, __ATOMIC_RELEASE);
    }
    return fn;
}

static int cxx_is_nothrow(uint8_t api)
{
    return api == MT_API_NEW_NOTHROW || api == MT_API_NEW_ALIGNED_NOTHROW ||
           api == MT_API_NEW_ARRAY_NOTHROW || api == MT_API_NEW_ARRAY_ALIGNED_NOTHROW;
}

static int cxx_is_aligned(uint8_t api)
{
    return api == MT_API_NEW_ALIGNED || api == MT_API_NEW_ALIGNED_NOTHROW ||
           api == MT_API_NEW_ARRAY_ALIGNED || api == MT_API_NEW_ARRAY_ALIGNED_NOTHROW;
}

static MT_COLD void *cxx_fallback_new(uint8_t api, size_t size, size_t align)
{
    void *p = cxx_is_aligned(api) ? hook_real.memalign(align, size ? size : 1)
                                  : hook_real.malloc(size ? size : 1);
    if (p == NULL && !cxx_is_nothrow(api)) {
        static const char msg[] = "memtrace: operator new failed and no C++ runtime to throw\n";
        ssize_t rc = write(2, msg, sizeof(msg) - 1);
        (void)rc;
        abort();
    }
    return p;
}

/* Calls the real form api; may throw (design note 2). */
static void *cxx_call_new(uint8_t api, size_t size, size_t align)
{
    void *fn = cxx_real(api);
    if (MT_UNLIKELY(fn == NULL)) return cxx_fallback_new(api, size, align);
    switch (api) {
    case MT_API_NEW:
    case MT_API_NEW_ARRAY: return ((cxx_new_fn)fn)(size);
    case MT_API_NEW_NOTHROW:
    case MT_API_NEW_ARRAY_NOTHROW: return ((cxx_new_nt_fn)fn)(size, &cxx_nothrow_tag);
    case MT_API_NEW_ALIGNED:
    case MT_API_NEW_ARRAY_ALIGNED: return ((cxx_new_al_fn)fn)(size, align);
    default: return ((cxx_new_al_nt_fn)fn)(size, align, &cxx_nothrow_tag);
    }
}

static void cxx_call_delete(uint8_t api, void *p, size_t size, size_t align)
{
    void *fn = cxx_real(api);
    if (MT_UNLIKELY(fn == NULL)) {
        hook_real.free(p);
        return;
    }
    switch (api) {
    case MT_API_DELETE:
    case MT_API_DELETE_ARRAY: ((cxx_del_fn)fn)(p); break;
    case MT_API_DELETE_SIZED:
    case MT_API_DELETE_ARRAY_SIZED: ((cxx_del_sz_fn)fn)(p, size); break;
    case MT_API_DELETE_ALIGNED:
    case MT_API_DELETE_ARRAY_ALIGNED: ((cxx_del_sz_fn)fn)(p, align); break;
    case MT_API_DELETE_SIZED_ALIGNED:
    case MT_API_DELETE_ARRAY_SIZED_ALIGNED: ((cxx_del_sz_al_fn)fn)(p, size, align); break;
    case MT_API_DELETE_NOTHROW:
    case MT_API_DELETE_ARRAY_NOTHROW: ((cxx_del_nt_fn)fn)(p, &cxx_nothrow_tag); break;
    default: ((cxx_del_al_nt_fn)fn)(p, align, &cxx_nothrow_tag); break;
    }
}

static void cxx_guard_restore(uint32_t *saved)
{
    tls_state.guard = *saved;
}

static void *cxx_new(uint8_t api, uint8_t family, size_t size, size_t align)
{
    int mode = hook_mode();
    void *p;
    {
        uint32_t saved __attribute__((cleanup(cxx_guard_restore))) = tls_state.guard;
        tls_state.guard = saved + 1;
        p = cxx_call_new(api, size, align);
    }
    if (p != NULL && mode == HOOK_TRACE) hook_alloc_done(p, size, family, api, 0);
    else if (p != NULL && mode == HOOK_GUARDED) hook_guard_alloc(p, size, family);
    return p;
}

static void cxx_delete(uint8_t api, uint8_t family, void *p, size_t size, size_t align)
{
    if (p == NULL) return;
    int mode = hook_mode();
    if (mode == HOOK_TRACE) {
        if (!hook_free_begin(p, family, api)) return;
    } else if (mode == HOOK_GUARDED) {
        hook_guard_free(p);
    }
    tls_state.guard++;
    cxx_call_delete(api, p, size, align);
    tls_state.guard--;
}

/* ------------------------------------------------------ exported hooks */

#define NT const void *nt __attribute__((unused))

MT_EXPORT void *_Znwm(size_t n) { return cxx_new(MT_API_NEW, MT_FAM_NEW, n, 0); }
MT_EXPORT void *_ZnwmRKSt9nothrow_t(size_t n, NT)
{
    return cxx_new(MT_API_NEW_NOTHROW, MT_FAM_NEW, n, 0);
}
MT_EXPORT void *_ZnwmSt11align_val_t(size_t n, size_t al)
{
    return cxx_new(MT_API_NEW_ALIGNED, MT_FAM_NEW_ALIGNED, n, al);
}
MT_EXPORT void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t n, size_t al, NT)
{
    return cxx_new(MT_API_NEW_ALIGNED_NOTHROW, MT_FAM_NEW_ALIGNED, n, al);
}
MT_EXPORT void *_Znam(size_t n) { return cxx_new(MT_API_NEW_ARRAY, MT_FAM_NEW_ARRAY, n, 0); }
MT_EXPORT void *_ZnamRKSt9nothrow_t(size_t n, NT)
{
    return cxx_new(MT_API_NEW_ARRAY_NOTHROW, MT_FAM_NEW_ARRAY, n, 0);
}
MT_EXPORT void *_ZnamSt11align_val_t(size_t n, size_t al)
{
    return cxx_new(MT_API_NEW_ARRAY_ALIGNED, MT_FAM_NEW_ARRAY_ALIGNED, n, al);
}
MT_EXPORT void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t n, size_t al, NT)
{
    return cxx_new(MT_API_NEW_ARRAY_ALIGNED_NOTHROW, MT_FAM_NEW_ARRAY_ALIGNED, n, al);
}

MT_EXPORT void _ZdlPv(void *p) { cxx_delete(MT_API_DELETE, MT_FAM_NEW, p, 0, 0); }
MT_EXPORT void _ZdlPvm(void *p, size_t n) { cxx_delete(MT_API_DELETE_SIZED, MT_FAM_NEW, p, n, 0); }
MT_EXPORT void _ZdlPvSt11align_val_t(void *p, size_t al)
{
    cxx_delete(MT_API_DELETE_ALIGNED, MT_FAM_NEW_ALIGNED, p, 0, al);
}
MT_EXPORT void _ZdlPvmSt11align_val_t(void *p, size_t n, size_t al)
{
    cxx_delete(MT_API_DELETE_SIZED_ALIGNED, MT_FAM_NEW_ALIGNED, p, n, al);
}
MT_EXPORT void _ZdlPvRKSt9nothrow_t(void *p, NT)
{
    cxx_delete(MT_API_DELETE_NOTHROW, MT_FAM_NEW, p, 0, 0);
}
MT_EXPORT void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *p, size_t al, NT)
{
    cxx_delete(MT_API_DELETE_ALIGNED_NOTHROW, MT_FAM_NEW_ALIGNED, p, 0, al);
}
MT_EXPORT void _ZdaPv(void *p) { cxx_delete(MT_API_DELETE_ARRAY, MT_FAM_NEW_ARRAY, p, 0, 0); }
MT_EXPORT void _ZdaPvm(void *p, size_t n)
{
    cxx_delete(MT_API_DELETE_ARRAY_SIZED, MT_FAM_NEW_ARRAY, p, n, 0);
}
MT_EXPORT void _ZdaPvSt11align_val_t(void *p, size_t al)
{
    cxx_delete(MT_API_DELETE_ARRAY_ALIGNED, MT_FAM_NEW_ARRAY_ALIGNED, p, 0, al);
}
MT_EXPORT void _ZdaPvmSt11align_val_t(void *p, size_t n, size_t al)
{
    cxx_delete(MT_API_DELETE_ARRAY_SIZED_ALIGNED, MT_FAM_NEW_ARRAY_ALIGNED, p, n, al);
}
MT_EXPORT void _ZdaPvRKSt9nothrow_t(void *p, NT)
{
    cxx_delete(MT_API_DELETE_ARRAY_NOTHROW, MT_FAM_NEW_ARRAY, p, 0, 0);
}
MT_EXPORT void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *p, size_t al, NT)
{
    cxx_delete(MT_API_DELETE_ARRAY_ALIGNED_NOTHROW, MT_FAM_NEW_ARRAY_ALIGNED, p, 0, al);
}
