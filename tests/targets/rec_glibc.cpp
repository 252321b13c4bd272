/*
 * rec_glibc.cpp — the corner cases where an interposer most easily differs from glibc
 *
 * Target for tests/e2e/run_glibc.sh, which runs it natively and under
 * `memtrace run` and requires the two outputs to be identical, then checks
 * the documented glibc answers line by line. Every line is
 * "<check> <result>" and never contains an address, so the output is the
 * same in every run. Expected (glibc 2.36 man pages):
 *   calloc_overflow NULL ENOMEM          calloc(SIZE_MAX/2, 3)
 *   malloc_max NULL ENOMEM               malloc(SIZE_MAX)
 *   reallocarray_overflow NULL ENOMEM    reallocarray(NULL, SIZE_MAX/2, 3)
 *   realloc_max NULL ENOMEM kept         realloc(p, SIZE_MAX): p still valid
 *   posix_memalign_3 EINVAL unchanged    alignment not a power of two
 *   posix_memalign_4 EINVAL unchanged    not a multiple of sizeof(void *)
 *   posix_memalign_0 EINVAL unchanged
 *   posix_memalign_max ENOMEM            posix_memalign(&p, 64, SIZE_MAX)
 *   malloc_zero nonnull                  malloc(0) is a unique pointer
 *   usable_null 0 / usable_ok 1          malloc_usable_size(NULL), (malloc(100)) >= 100
 *   errno_free 4242                      errno unchanged by free()
 *   errno_free_null 4242 / errno_free_mmapped 4242 / errno_delete 4242
 *   errno_malloc_ok 4242                 errno unchanged by a successful malloc
 *   calloc_zeroed 1                      calloc returns zeroed memory after reuse
 *   new_max bad_alloc / new_nothrow_max NULL / new_array_max bad_alloc
 * plus aligned_alloc, memalign, valloc and pvalloc answers for odd inputs,
 * which only have to match the native run.
 * Exit status 0.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <malloc.h>
#include <new>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Name of an errno value for the report; numbers would also do, names read better. */
static const char *rec_errname(int e)
{
    switch (e) {
    case 0: return "0";
    case ENOMEM: return "ENOMEM";
    case EINVAL: return "EINVAL";
    default: {
        static char buf[32];
        snprintf(buf, sizeof buf, "errno%d", e);
        return buf;
    }
    }
}

/* Prints "<name> NULL <errno>" or "<name> nonnull <errno>" and frees p. */
static void rec_report_ptr(const char *name, void *p, int e)
{
    printf("%s %s %s\n", name, p ? "nonnull" : "NULL", rec_errname(e));
    free(p);
}

static void rec_check_overflow(void)
{
    errno = 0;
    void *p = calloc(SIZE_MAX / 2, 3);
    rec_report_ptr("calloc_overflow", p, errno);
    errno = 0;
    p = malloc(SIZE_MAX);
    rec_report_ptr("malloc_max", p, errno);
    errno = 0;
    p = reallocarray(NULL, SIZE_MAX / 2, 3);
    rec_report_ptr("reallocarray_overflow", p, errno);

    void *keep = malloc(10193);
    memset(keep, 7, 10193);
    errno = 0;
    p = realloc(keep, SIZE_MAX);
    int e = errno;
    printf("realloc_max %s %s %s\n", p ? "nonnull" : "NULL", rec_errname(e),
           ((unsigned char *)keep)[10192] == 7 ? "kept" : "lost");
    free(p ? p : keep);
}

static void rec_check_posix_memalign(void)
{
    static const size_t aligns[] = {3, 4, 0};
    for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++) {
        void *p = (void *)0x1;
        int rc = posix_memalign(&p, aligns[i], 64);
        printf("posix_memalign_%zu %s %s\n", aligns[i], rc ? rec_errname(rc) : "ok",
               p == (void *)0x1 ? "unchanged" : "changed");
        if (!rc) free(p);
    }
    void *p = NULL;
    int rc = posix_memalign(&p, 64, SIZE_MAX);
    printf("posix_memalign_max %s\n", rc ? rec_errname(rc) : "ok");
    if (!rc) free(p);
}

/* Odd inputs whose answers changed between glibc versions: only compared
 * with the native run, never with a fixed value. */
static void rec_check_odd_aligned(void)
{
    errno = 0;
    void *p = aligned_alloc(3, 64);
    rec_report_ptr("aligned_alloc_3", p, errno);
    errno = 0;
    p = aligned_alloc(64, SIZE_MAX);
    rec_report_ptr("aligned_alloc_max", p, errno);
    errno = 0;
    p = memalign(48, 64); /* glibc rounds a non-power-of-two alignment up */
    printf("memalign_48 %s %s\n", p ? "nonnull" : "NULL",
           p && ((uintptr_t)p % 64) == 0 ? "aligned64" : "unaligned");
    free(p);
    errno = 0;
    p = memalign(64, SIZE_MAX);
    rec_report_ptr("memalign_max", p, errno);
    errno = 0;
    p = valloc(SIZE_MAX);
    rec_report_ptr("valloc_max", p, errno);
    errno = 0;
    p = pvalloc(SIZE_MAX);
    rec_report_ptr("pvalloc_max", p, errno);
    p = pvalloc(1);
    printf("pvalloc_1 usable_page %d\n", p && malloc_usable_size(p) >= 4096);
    free(p);
}

static void rec_check_usable_and_zero(void)
{
    void *p = malloc(0);
    printf("malloc_zero %s\n", p ? "nonnull" : "NULL");
    free(p);
    printf("usable_null %zu\n", malloc_usable_size(NULL));
    p = malloc(100);
    printf("usable_ok %d\n", malloc_usable_size(p) >= 100);
    free(p);

    /* A dirty block freed, then calloc of the same size: glibc may hand the
     * same chunk back and must clear it. */
    unsigned char *d = (unsigned char *)malloc(1000);
    memset(d, 0xaa, 1000);
    free(d);
    unsigned char *z = (unsigned char *)calloc(1000, 1);
    int zeroed = 1;
    for (int i = 0; i < 1000; i++) zeroed &= z[i] == 0;
    printf("calloc_zeroed %d\n", zeroed);
    free(z);
}

static void rec_check_errno(void)
{
    void *p = malloc(64);
    errno = 4242;
    free(p);
    printf("errno_free %d\n", errno);
    errno = 4242;
    free(NULL);
    printf("errno_free_null %d\n", errno);
    p = malloc(4 << 20); /* above the mmap threshold: free calls munmap */
    errno = 4242;
    free(p);
    printf("errno_free_mmapped %d\n", errno);
    p = ::operator new(64);
    errno = 4242;
    ::operator delete(p);
    printf("errno_delete %d\n", errno);
    errno = 4242;
    p = malloc(48);
    printf("errno_malloc_ok %d\n", errno);
    free(p);
}

static void rec_check_new(void)
{
    const char *r = "returned";
    try {
        void *p = ::operator new(SIZE_MAX);
        ::operator delete(p);
    } catch (const std::bad_alloc &) {
        r = "bad_alloc";
    }
    printf("new_max %s\n", r);
    void *p = ::operator new(SIZE_MAX, std::nothrow);
    printf("new_nothrow_max %s\n", p ? "nonnull" : "NULL");
    r = "returned";
    try {
        void *q = ::operator new[](SIZE_MAX);
        ::operator delete[](q);
    } catch (const std::bad_alloc &) {
        r = "bad_alloc";
    }
    printf("new_array_max %s\n", r);
}

/* argv[1], when given, receives the report instead of stdout, so that
 * nothing memtrace itself prints can mix with it. */
int main(int argc, char **argv)
{
    if (argc > 1 && !freopen(argv[1], "w", stdout)) return 2;
    rec_check_overflow();
    rec_check_posix_memalign();
    rec_check_odd_aligned();
    rec_check_usable_and_zero();
    rec_check_errno();
    rec_check_new();
    return 0;
}
