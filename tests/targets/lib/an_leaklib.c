/*
 * an_leaklib.c — a dlopen'ed library that leaks, for tests/e2e/analyze_dlopen.sh
 *
 * Built as libmt_an_leaklib.so in the targets dir and loaded by an_dlopen.c.
 * an_lib_leak(n) makes n calls malloc(12347) from an_lib_leaf() (the line
 * marked AN_LIB_LEAK) and drops every pointer: n blocks definitely lost,
 * allocated inside the library, whose innermost frame must resolve to
 * an_lib_leaf at an_leaklib.c:<that line> even after the library was
 * unloaded. an_lib_churn(n) allocates and frees n blocks of 4099 bytes
 * (no leak) so the library's module also has non-leaking sites.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>

__attribute__((noinline)) void *an_lib_leaf(void)
{
    return malloc(12347); /* AN_LIB_LEAK */
}

__attribute__((noinline)) int an_lib_leak(int n)
{
    int made = 0;
    for (int i = 0; i < n; i++) {
        void *volatile p = an_lib_leaf();
        made += p != NULL;
    }
    return made;
}

__attribute__((noinline)) void an_lib_churn(int n)
{
    for (int i = 0; i < n; i++) free(malloc(4099));
}
