/*
 * rec_api.cpp — calls every interposed allocator entry point once, each from its own call site
 *
 * Target for tests/e2e/run_api.sh and run_stacks.sh. Each call site is an
 * extern "C" noinline function rec_site_<api>() that makes exactly one
 * allocating call with a size chosen for it alone (distinct odd numbers
 * above 10000 that glibc itself never requests), and releases it through the
 * release function listed next to it. main() calls every site from
 * rec_api_run() so a stack reads site -> rec_api_run -> main.
 *
 * Expected trace (pid of this program, gen 0), one ALLOC per row and one FREE
 * of that block through the listed release call:
 *   size     family           alloc api               release api
 *   10007    malloc           malloc                  free
 *   10009*3  malloc           calloc (3 x 10009)      free
 *   10037    malloc           realloc (NULL, n)       free
 *   10039    malloc           malloc   -> moved by realloc to 1048601 (realloc=1
 *                             FREE of the old block, realloc=1 ALLOC of 1048601),
 *                             then realloc(p, 0) releases it (api realloc)
 *   10243    malloc           malloc                  free     (the blocker)
 *   10061*7  malloc           reallocarray (NULL,7,n) free
 *   10067    aligned          posix_memalign (64)     free
 *   10048    aligned          aligned_alloc (64)      free     (64 * 157)
 *   10069    aligned          memalign (128)          free
 *   10079    aligned          valloc                  free
 *   10091    aligned          pvalloc                 free
 *   10093    new              new                     delete
 *   10099    new              new                     delete_sized
 *   10103    new              new_nothrow             delete_nothrow
 *   10111    new_aligned      new_aligned (64)        delete_aligned
 *   10133    new_aligned      new_aligned (64)        delete_sized_aligned
 *   10139    new_aligned      new_aligned_nothrow     delete_aligned_nothrow
 *   10141    new[]            new[]                   delete[]
 *   10151    new[]            new[]                   delete[]_sized
 *   10159    new[]            new[]_nothrow           delete[]_nothrow
 *   10163    new[]_aligned    new[]_aligned (64)      delete[]_aligned
 *   10169    new[]_aligned    new[]_aligned (64)      delete[]_sized_aligned
 *   10177    new[]_aligned    new[]_aligned_nothrow   delete[]_aligned_nothrow
 * No memory errors. Exit status 0.
 *
 * SPDX-License-Identifier: MIT
 */
#include <malloc.h>
#include <new>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

static const std::align_val_t rec_al64 = std::align_val_t(64);

/* Touch a block so the compiler and the allocator both see it used. */
static void rec_touch(void *p, size_t n)
{
    if (p) memset(p, 0x5a, n < 64 ? n : 64);
}

extern "C" {

NOINLINE void rec_site_malloc(void)
{
    void *p = malloc(10007);
    rec_touch(p, 10007);
    free(p);
}

NOINLINE void rec_site_calloc(void)
{
    void *p = calloc(3, 10009);
    rec_touch(p, 3 * 10009);
    free(p);
}

/* GCC folds realloc(NULL, n) into malloc(n), even at -O0; a volatile NULL
 * keeps the call a realloc. */
NOINLINE void rec_site_realloc_null(void)
{
    void *volatile none = NULL;
    void *p = realloc(none, 10037);
    rec_touch(p, 10037);
    free(p);
}

/* A live block right behind p (the blocker, malloc 10243) stops glibc from
 * growing p in place, so the realloc must move it; then realloc(q, 0), which
 * glibc treats as free() and answers NULL, releases it. */
NOINLINE void rec_site_realloc_move(void)
{
    void *p = malloc(10039);
    void *blocker = malloc(10243);
    rec_touch(p, 10039);
    void *q = realloc(p, 1048601);
    free(blocker);
    rec_touch(q, 1048601);
    void *r = realloc(q, 0);
    if (r) abort(); /* glibc: realloc(p, 0) frees and returns NULL */
}

NOINLINE void rec_site_reallocarray(void)
{
    void *p = reallocarray(NULL, 7, 10061);
    rec_touch(p, 7 * 10061);
    free(p);
}

NOINLINE void rec_site_posix_memalign(void)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, 10067)) abort();
    rec_touch(p, 10067);
    free(p);
}

NOINLINE void rec_site_aligned_alloc(void)
{
    void *p = aligned_alloc(64, 10048);
    rec_touch(p, 10048);
    free(p);
}

NOINLINE void rec_site_memalign(void)
{
    void *p = memalign(128, 10069);
    rec_touch(p, 10069);
    free(p);
}

NOINLINE void rec_site_valloc(void)
{
    void *p = valloc(10079);
    rec_touch(p, 10079);
    free(p);
}

NOINLINE void rec_site_pvalloc(void)
{
    void *p = pvalloc(10091);
    rec_touch(p, 10091);
    free(p);
}

NOINLINE void rec_site_new(void)
{
    void *p = ::operator new(10093);
    rec_touch(p, 10093);
    ::operator delete(p);
}

NOINLINE void rec_site_new_sized(void)
{
    void *p = ::operator new(10099);
    rec_touch(p, 10099);
    ::operator delete(p, (size_t)10099);
}

NOINLINE void rec_site_new_nothrow(void)
{
    void *p = ::operator new(10103, std::nothrow);
    rec_touch(p, 10103);
    ::operator delete(p, std::nothrow);
}

NOINLINE void rec_site_new_aligned(void)
{
    void *p = ::operator new(10111, rec_al64);
    rec_touch(p, 10111);
    ::operator delete(p, rec_al64);
}

NOINLINE void rec_site_new_aligned_sized(void)
{
    void *p = ::operator new(10133, rec_al64);
    rec_touch(p, 10133);
    ::operator delete(p, (size_t)10133, rec_al64);
}

NOINLINE void rec_site_new_aligned_nothrow(void)
{
    void *p = ::operator new(10139, rec_al64, std::nothrow);
    rec_touch(p, 10139);
    ::operator delete(p, rec_al64, std::nothrow);
}

NOINLINE void rec_site_new_array(void)
{
    void *p = ::operator new[](10141);
    rec_touch(p, 10141);
    ::operator delete[](p);
}

NOINLINE void rec_site_new_array_sized(void)
{
    void *p = ::operator new[](10151);
    rec_touch(p, 10151);
    ::operator delete[](p, (size_t)10151);
}

NOINLINE void rec_site_new_array_nothrow(void)
{
    void *p = ::operator new[](10159, std::nothrow);
    rec_touch(p, 10159);
    ::operator delete[](p, std::nothrow);
}

NOINLINE void rec_site_new_array_aligned(void)
{
    void *p = ::operator new[](10163, rec_al64);
    rec_touch(p, 10163);
    ::operator delete[](p, rec_al64);
}

NOINLINE void rec_site_new_array_aligned_sized(void)
{
    void *p = ::operator new[](10169, rec_al64);
    rec_touch(p, 10169);
    ::operator delete[](p, (size_t)10169, rec_al64);
}

NOINLINE void rec_site_new_array_aligned_nothrow(void)
{
    void *p = ::operator new[](10177, rec_al64, std::nothrow);
    rec_touch(p, 10177);
    ::operator delete[](p, rec_al64, std::nothrow);
}

NOINLINE void rec_api_run(void)
{
    rec_site_malloc();
    rec_site_calloc();
    rec_site_realloc_null();
    rec_site_realloc_move();
    rec_site_reallocarray();
    rec_site_posix_memalign();
    rec_site_aligned_alloc();
    rec_site_memalign();
    rec_site_valloc();
    rec_site_pvalloc();
    rec_site_new();
    rec_site_new_sized();
    rec_site_new_nothrow();
    rec_site_new_aligned();
    rec_site_new_aligned_sized();
    rec_site_new_aligned_nothrow();
    rec_site_new_array();
    rec_site_new_array_sized();
    rec_site_new_array_nothrow();
    rec_site_new_array_aligned();
    rec_site_new_array_aligned_sized();
    rec_site_new_array_aligned_nothrow();
}

} /* extern "C" */

int main(void)
{
    rec_api_run();
    return 0;
}
