/*
 * sym_target.c — functions at known lines for the symbolizer's unit test
 *
 * tests/unit/test_sym.c reads this file's SYM_MARK comments to learn the
 * expected lines, reads the built binary's symbol table for the expected
 * addresses, and runs it as `sym_target print LIB` to get real return
 * addresses. Expected verdicts:
 *   - sym_plain_function: resolves with this file and the SYM_MARK plain_def line
 *   - inside sym_inline_caller: two frames, sym_leaf_inlined (inlined=1, line
 *     inlined_body), then sym_inline_caller at the inline_call line
 *   - the return address printed as "ret": sym_caller at the plain_call line
 *   - the one printed as "libret": sym_lib_outer (lib/sym_lib.c) at its call line
 *
 * SPDX-License-Identifier: MIT
 */
#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static inline __attribute__((always_inline)) int sym_leaf_inlined(int x)
{
    return x * 3 + 1; /* SYM_MARK inlined_body */
}

__attribute__((noinline)) int sym_inline_caller(int x)
{
    int y = sym_leaf_inlined(x); /* SYM_MARK inline_call */
    return y + 2;
}

__attribute__((noinline)) void *sym_plain_function(int x)
{ /* SYM_MARK plain_def */
    return x ? __builtin_return_address(0) : NULL;
}

__attribute__((noinline)) void *sym_caller(int x)
{
    void *ret = sym_plain_function(x); /* SYM_MARK plain_call */
    return ret;
}

/* Prints each loaded module as the preload's MODULE record would give it. */
static int print_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    char exe[PATH_MAX];
    const char *path = info->dlpi_name;
    if (!path[0]) {
        ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (len < 0) return 0;
        exe[len] = '\0';
        path = exe;
    }
    printf("module 0x%llx %s\n", (unsigned long long)info->dlpi_addr, path);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[1], "print") != 0) return sym_inline_caller(argc) == 0;
    void *lib = dlopen(argv[2], RTLD_NOW);
    if (!lib) {
        fprintf(stderr, "sym_target: %s\n", dlerror());
        return 1;
    }
    void *(*lib_outer)(void) = (void *(*)(void))dlsym(lib, "sym_lib_outer");
    if (!lib_outer) return 1;
    printf("ret %p\n", sym_caller(1));
    printf("libret %p\n", lib_outer());
    dl_iterate_phdr(print_module, NULL);
    return 0;
}
