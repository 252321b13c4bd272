/*
 * rec_dlopen.c — loads libmt_rec_dl.so at run time, lets it allocate, unloads it
 *
 * Target for tests/e2e/run_dlopen.sh. argv[1] is the path of libmt_rec_dl.so.
 * Steps: malloc(40013) (before the load), dlopen, rec_dl_alloc(7) (7 x
 * malloc(40009) from rec_dl_leaf inside the library), rec_dl_free(), dlclose,
 * then malloc(40031) (after the unload, gives the preload a hook call in
 * which to notice the unmapping), and both main blocks are freed.
 * Expected trace: a MODULE record whose path ends in libmt_rec_dl.so, before
 * the first ALLOC of 40009; 7 ALLOCs of 40009 whose stacks' innermost frame
 * in that module resolves to rec_dl_leaf; 7 FREEs of them; a MODULE_UNLOAD of
 * that module id after them; 40013 and 40031 once each. Exit status 0.
 *
 * SPDX-License-Identifier: MIT
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    void *before = malloc(40013);
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "rec_dlopen: %s\n", dlerror());
        return 1;
    }
    int (*dl_alloc)(int) = (int (*)(int))dlsym(h, "rec_dl_alloc");
    void (*dl_free)(void) = (void (*)(void))dlsym(h, "rec_dl_free");
    if (!dl_alloc || !dl_free) return 1;
    if (dl_alloc(7) != 7) return 1;
    dl_free();
    if (dlclose(h)) return 1;
    void *after = malloc(40031);
    free(after);
    free(before);
    return 0;
}
