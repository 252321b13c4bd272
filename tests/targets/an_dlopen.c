/*
 * an_dlopen.c — leaks from inside a dlopen'ed library, which is then unloaded
 *
 * Target for tests/e2e/analyze_dlopen.sh. argv[1] is the path of
 * libmt_an_leaklib.so. Steps: dlopen it, an_lib_churn(100) (100 x 4099
 * bytes, all freed), an_lib_leak(3) (3 x malloc(12347) from an_lib_leaf,
 * pointers dropped), dlclose, then one malloc(333) freed by main.
 * Expected verdicts: exactly 3 leaked blocks, 37041 bytes, all at
 * an_lib_leaf in an_leaklib.c on the line marked AN_LIB_LEAK, in the module
 * libmt_an_leaklib.so, class definite when the exit scan ran (unclassified
 * otherwise); no other leak from this program or the library; 0 errors.
 * Exit status 0.
 *
 * SPDX-License-Identifier: MIT
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "an_dlopen: %s\n", dlerror());
        return 1;
    }
    int (*leak)(int) = (int (*)(int))dlsym(h, "an_lib_leak");
    void (*churn)(int) = (void (*)(int))dlsym(h, "an_lib_churn");
    if (!leak || !churn) return 1;
    churn(100);
    if (leak(3) != 3) return 1;
    if (dlclose(h)) return 1;
    free(malloc(333));
    return 0;
}
