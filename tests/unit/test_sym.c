/*
 * test_sym.c — unit tests of the symbolizer (analyzer/sym/)
 *
 * Resolves addresses in the target programs tests/targets/sym_target.c,
 * sym_cxx.cpp and lib/sym_lib.c as built by the tests CMake. Expected
 * addresses come from the built files' symbol tables (nm) and expected lines
 * from the SYM_MARK comments of their sources, never from constants here.
 * Targets are found in $MT_TARGET_DIR, else <dir of this exe>/../targets;
 * sources in $MT_SRC_DIR/tests/targets, else next to this file's __FILE__.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <link.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <elfutils/libdwelf.h>
#include <libelf.h>

#include "sym/sym.h"

#define FAKE_EXE_BIAS 0x555555554000ull /* a typical PIE load address */
#define FAKE_LIB_BIAS 0x7f1234560000ull /* a typical mmap-area address */
#define MAX_FRAMES 16
#define SPEED_MAX_ADDRS 200000 /* enough distinct addresses for a stable figure */

/* ======================== fixtures ======================== */

struct paths {
    char targets[PATH_MAX]; /* built targets */
    char sources[PATH_MAX]; /* tests/targets sources */
    char tmp[PATH_MAX];     /* scratch dir, removed at teardown */
    char target[PATH_MAX], cxx[PATH_MAX], lib[PATH_MAX];
    char target_src[PATH_MAX], lib_src[PATH_MAX], cxx_src[PATH_MAX];
};
static struct paths g_paths;

/* Formats a path into out (PATH_MAX bytes); fails the test when it does not fit. */
static void path_fmt(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(out, PATH_MAX, fmt, ap);
    va_end(ap);
    if (len < 0 || len >= PATH_MAX) fail_msg("path too long: %s", out);
}

static void path_join(char *out, const char *dir, const char *name)
{
    path_fmt(out, "%s/%s", dir, name);
}

static int setup_paths(void **state)
{
    const char *env = getenv("MT_TARGET_DIR");
    if (env) {
        path_fmt(g_paths.targets, "%s", env);
    } else {
        char exe[PATH_MAX];
        ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (len < 0) return -1;
        exe[len] = '\0';
        path_fmt(g_paths.targets, "%s/../targets", dirname(exe));
    }
    env = getenv("MT_SRC_DIR");
    if (env) {
        path_fmt(g_paths.sources, "%s/tests/targets", env);
    } else {
        char file[PATH_MAX];
        path_fmt(file, "%s", __FILE__);
        path_fmt(g_paths.sources, "%s/../targets", dirname(file));
    }
    path_join(g_paths.target, g_paths.targets, "sym_target");
    path_join(g_paths.cxx, g_paths.targets, "sym_cxx");
    path_join(g_paths.lib, g_paths.targets, "libmt_sym_lib.so");
    path_join(g_paths.target_src, g_paths.sources, "sym_target.c");
    path_join(g_paths.lib_src, g_paths.sources, "lib/sym_lib.c");
    path_join(g_paths.cxx_src, g_paths.sources, "sym_cxx.cpp");
    path_fmt(g_paths.tmp, "/tmp/test_sym.XXXXXX");
    if (!mkdtemp(g_paths.tmp)) return -1;
    elf_version(EV_CURRENT);
    *state = &g_paths;
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int teardown_paths(void **state)
{
    nftw(g_paths.tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* ======================== helpers ======================== */

/* Address and size of the defined symbol `name` in the ELF file at path,
 * read with nm. Fails the test when absent. */
static uint64_t nm_symbol(const char *path, const char *name, uint64_t *size)
{
    char cmd[PATH_MAX + 64], line[1024];
    snprintf(cmd, sizeof(cmd), "nm -S --defined-only '%s'", path);
    FILE *nm = popen(cmd, "r");
    assert_non_null(nm);
    uint64_t addr = 0, sz = 0;
    int found = 0;
    while (fgets(line, sizeof(line), nm)) {
        unsigned long long a, s;
        char type, sym[900];
        if (sscanf(line, "%llx %llx %c %899s", &a, &s, &type, sym) == 4 && !strcmp(sym, name)) {
            addr = a;
            sz = s;
            found = 1;
        }
    }
    pclose(nm);
    if (!found) fail_msg("symbol %s not in %s", name, path);
    if (size) *size = sz;
    return addr;
}

/* Line number of the line of src holding "SYM_MARK <tag>". */
static uint32_t mark_line(const char *src, const char *tag)
{
    char want[128], line[1024];
    snprintf(want, sizeof(want), "SYM_MARK %s */", tag);
    FILE *f = fopen(src, "r");
    if (!f) fail_msg("cannot open %s", src);
    uint32_t n = 0, found = 0;
    while (!found && fgets(line, sizeof(line), f)) {
        n++;
        if (strstr(line, want)) found = n;
    }
    fclose(f);
    if (!found) fail_msg("no SYM_MARK %s in %s", tag, src);
    return found;
}

/* NT_GNU_BUILD_ID of the file at path into id (40 bytes); returns its length. */
static size_t build_id_of(const char *path, uint8_t *id)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
    const void *bits = NULL;
    ssize_t len = elf ? dwelf_elf_gnu_build_id(elf, &bits) : -1;
    if (len > 0 && len <= 40) memcpy(id, bits, (size_t)len);
    elf_end(elf);
    close(fd);
    return len > 0 && len <= 40 ? (size_t)len : 0;
}

static int add_file(struct sym_ctx *ctx, const char *path, uint64_t bias)
{
    uint8_t id[40];
    size_t len = build_id_of(path, id);
    int handle = sym_module_add(ctx, path, id, len, bias, NULL, 0);
    assert_true(handle >= 0);
    return handle;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

static void run(const char *fmt, ...)
{
    char cmd[4 * PATH_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    if (system(cmd) != 0) fail_msg("command failed: %s", cmd);
}

/* ======================== tests ======================== */

static void test_sym_plain_function_has_file_and_line(void **state)
{
    struct paths *p = *state;
    struct sym_ctx *ctx;
    assert_int_equal(sym_ctx_create(NULL, &ctx), 0);
    int h = add_file(ctx, p->target, FAKE_EXE_BIAS);
    uint64_t addr = nm_symbol(p->target, "sym_plain_function", NULL);
    struct sym_frame fr[MAX_FRAMES];
    int n = sym_resolve(ctx, h, FAKE_EXE_BIAS + addr, 0, fr, MAX_FRAMES);
    assert_int_equal(n, 1);
    assert_string_equal(fr[0].function, "sym_plain_function");
    assert_non_null(fr[0].file);
    assert_true(fr[0].file[0] == '/');
    assert_true(ends_with(fr[0].file, "tests/targets/sym_target.c"));
    assert_int_equal(fr[0].line, mark_line(p->target_src, "plain_def"));
    assert_string_equal(fr[0].module, p->target);
    assert_int_equal(fr[0].module_offset, addr);
    assert_int_equal(fr[0].inlined, 0);

    struct sym_frame again[MAX_FRAMES]; /* cached: the very same strings */
    assert_int_equal(sym_resolve(ctx, h, FAKE_EXE_BIAS + addr, 0, again, MAX_FRAMES), 1);
    assert_ptr_equal(again[0].function, fr[0].function);
    assert_ptr_equal(again[0].file, fr[0].file);
    sym_ctx_destroy(ctx);
}

struct inline_case {
    const char *binary, *source; /* built file and its source */
    const char *caller_symbol;   /* ELF symbol of the function to sweep */
    const char *caller, *callee; /* expected demangled names */
    const char *body_mark, *call_mark;
};

/* Sweeps every byte of the caller: each resolves to the caller, and some to
 * [callee inlined at body_mark, caller at call_mark]. */
static void expect_inline_chain(const struct inline_case *c)
{
    struct sym_ctx *ctx;
    assert_int_equal(sym_ctx_create(NULL, &ctx), 0);
    int h = add_file(ctx, c->binary, FAKE_EXE_BIAS);
    uint64_t size, addr = nm_symbol(c->binary, c->caller_symbol, &size);
    int seen = 0;
    for (uint64_t a = addr; a < addr + size; a++) {
        struct sym_frame fr[MAX_FRAMES];
        int n = sym_resolve(ctx, h, FAKE_EXE_BIAS + a, 0, fr, MAX_FRAMES);
        assert_true(n >= 1);
        assert_string_equal(fr[n - 1].function, c->caller);
        assert_int_equal(fr[n - 1].inlined, 0);
        if (n != 2) continue;
        seen++;
        assert_string_equal(fr[0].function, c->callee);
        assert_int_equal(fr[0].inlined, 1);
        assert_int_equal(fr[0].line, mark_line(c->source, c->body_mark));
        assert_int_equal(fr[1].line, mark_line(c->source, c->call_mark));
        assert_true(ends_with(fr[1].file, strrchr(c->source, '/')));
        assert_true(fr[1].column > 0);

        struct sym_frame one; /* max = 1 keeps the containing function */
        assert_int_equal(sym_resolve(ctx, h, FAKE_EXE_BIAS + a, 0, &one, 1), 1);
        assert_string_equal(one.function, c->caller);
        assert_int_equal(one.inlined, 0);
    }
    assert_true(seen > 0);
    sym_ctx_destroy(ctx);
}

static void test_sym_inlined_function_gives_two_frames(void **state)
{
    struct paths *p = *state;
    const struct inline_case c = {p->target,           p->target_src,      "sym_inline_caller",
                                  "sym_inline_caller", "sym_leaf_inlined", "inlined_body",
                                  "inline_call"};
    expect_inline_chain(&c);
}

static void test_sym_inlined_cxx_method_is_qualified(void **state)
{
    struct paths *p = *state;
    const struct inline_case c = {p->cxx,
                                  p->cxx_src,
                                  "_ZN6sym_ns8use_peekERKNS_3BoxIiEE",
                                  "sym_ns::use_peek(sym_ns::Box<int> const&)",
                                  "sym_ns::Box<int>::peek() const",
                                  "peek_body",
                                  "peek_call"};
    expect_inline_chain(&c);
}

static void expect_cxx_name(struct sym_ctx *ctx, int h, const char *mangled, const char *want)
{
    uint64_t addr = nm_symbol(g_paths.cxx, mangled, NULL);
    struct sym_frame fr[MAX_FRAMES];
    int n = sym_resolve(ctx, h, FAKE_EXE_BIAS + addr, 0, fr, MAX_FRAMES);
    assert_true(n >= 1);
    assert_non_null(fr[n - 1].function);
    assert_string_equal(fr[n - 1].function, want);
}

static void test_sym_cxx_names_are_demangled(void **state)
{
    struct paths *p = *state;
    struct sym_ctx *ctx;
    assert_int_equal(sym_ctx_create(NULL, &ctx), 0);
    int h = add_file(ctx, p->cxx, FAKE_EXE_BIAS);
    expect_cxx_name(ctx, h, "_ZNK6sym_ns3BoxIiE3getEv", "sym_ns::Box<int>::get() const");
    expect_cxx_name(ctx, h, "_ZN6sym_ns5inner6WidgetC2Ei", "sym_ns::inner::Widget::Widget(int)");
    expect_cxx_name(ctx, h, "_ZN6sym_ns5inner5twiceIlEET_S2_",
                    "long sym_ns::inner::twice<long>(long)");
    sym_ctx_destroy(ctx);
}

static void test_sym_shared_library_at_a_bias(void **state)
{
    struct paths *p = *state;
    struct sym_ctx *ctx;
    assert_int_equal(sym_ctx_create(NULL, &ctx), 0);
    int h = add_file(ctx, p->lib, FAKE_LIB_BIAS);
    uint64_t addr = nm_symbol(p->lib, "sym_lib_inner", NULL);
    struct sym_frame fr[MAX_FRAMES];
    assert_int_equal(sym_resolve(ctx, h, FAKE_LIB_BIAS + addr, 0, fr, MAX_FRAMES), 1);
    assert_string_equal(fr[0].function, "sym_lib_inner");
    assert_true(ends_with(fr[0].file, "tests/targets/lib/sym_lib.c"));
    assert_int_equal(fr[0].module_offset, addr);

    /* The same library at another bias (another process) is another handle
     * with the same answer. */
    int h2 = add_file(ctx, p->lib, FAKE_LIB_BIAS + 0x10000000);
    assert_int_not_equal(h2, h);
    assert_int_equal(sym_resolve(ctx, h2, FAKE_LIB_BIAS + 0x10000000 + addr, 0, fr, MAX_FRAMES), 1);
    assert_string_equal(fr[0].function, "sym_lib_inner");
    sym_ctx_destroy(ctx);
}

/* Runs sym_target print LIB: real return addresses and real biases. */
static void test_sym_return_addresses_of_a_running_target(void **state)
{
    struct paths *p = *state;
    char cmd[3 * PATH_MAX], line[PATH_MAX + 64];
    snprintf(cmd, sizeof(cmd), "'%s' print '%s'", p->target, p->lib);
    FILE *out = popen(cmd, "r");
    assert_non_null(out);
    unsigned long long ret = 0, libret = 0, bias;
    int h_exe = -1, h_lib = -1;
    struct sym_ctx *ctx;
    assert_int_equal(sym_ctx_create(NULL, &ctx), 0);
    while (fgets(line, sizeof(line), out)) {
        char path[PATH_MAX];
        line[strcspn(line, "\n")] = '\0';
        if (sscanf(line, "ret %llx", &ret) == 1 || sscanf(line, "libret %llx", &libret) == 1)
            continue;
        if (sscanf(line, "module %llx %4095[^\n]", &bias, path) != 2) continue;
        if (access(path, R_OK) != 0) continue; /* linux-vdso.so.1 */
        int h = add_file(ctx, path, bias);
        if (ends_with(path, "/sym_target")) h_exe = h;
        if (ends_with(path, "/libmt_sym_lib.so")) h_lib = h, assert_true(bias != 0);
    }
    assert_int_equal(pclose(out), 0);
    assert_true(ret && libret && h_exe >= 0 && h_lib >= 0);

    struct sym_frame fr[MAX_FRAMES];
    int n = sym_resolve(ctx, h_exe, ret, 1, fr, MAX_FRAMES);
    assert_true(n >= 1);
    assert_string_equal(fr[n - 1].function, "sym_caller");
    assert_int_equal(fr[n - 1].line, mark_line(p->target_src, "plain_call"));
    n = sym_resolve(ctx, h_lib, libret, 1, fr, MAX_FRAMES);
    assert_true(n >= 1);
    assert_string_equal(fr[n - 1].function, "sym_lib_outer");
    assert_int_equal(fr[n - 1].line, mark_line(p->lib_src, "lib_call"));
    assert_true(ends_with(fr[n - 1].module, "/libmt_sym_lib.so"));
    sym_ctx_destroy(ctx);
}

static void test_sym_missing_file_gives_module_and_offset(void **state)
{
    struct sym_ctx *ctx;
    assert_int_equal(sym_ctx_create(NULL, &ctx), 0);
    const uint8_t id[20] = {0xde, 0xad, 0xbe, 0xef};
    int h = sym_module_add(ctx, "/nonexistent/libgone.so", id, sizeof(id), 0x7000000, NULL, 0);
    assert_true(h >= 0);
    struct sym_frame fr[MAX_FRAMES];
    assert_int_equal(sym_resolve(ctx, h, 0x7001234, 1, fr, MAX_FRAMES), 1);
    assert_null(fr[0].function);
    assert_null(fr[0].file);
    assert_int_equal(fr[0].line, 0);
    assert_string_equal(fr[0].module, "/nonexistent/libgone.so");
    assert_int_equal(fr[0].module_offset, 0x1234);
    sym_ctx_destroy(ctx);
}

/* Copies the target to dir/name, stripped of every symbol. */
static void make_stripped_copy(const char *dir, char *out)
{
    path_join(out, dir, "sym_target.stripped");
    run("strip --strip-all -o '%s' '%s'", out, g_paths.target);
}

static void test_sym_stripped_binary_gives_module_and_offset(void **state)
{
    struct paths *p = *state;
    char stripped[PATH_MAX];
    make_stripped_copy(p->tmp, stripped);
    struct sym_ctx *ctx;
    assert_int_equal(sym_ctx_create(NULL, &ctx), 0);
    int h = add_file(ctx, stripped, FAKE_EXE_BIAS);
    uint64_t addr = nm_symbol(p->target, "sym_plain_function", NULL);
    struct sym_frame fr[MAX_FRAMES];
    assert_int_equal(sym_resolve(ctx, h, FAKE_EXE_BIAS + addr, 0, fr, MAX_FRAMES), 1);
    assert_null(fr[0].function);
    assert_null(fr[0].file);
    assert_string_equal(fr[0].module, stripped);
    assert_int_equal(fr[0].module_offset, addr);
    sym_ctx_destroy(ctx);
}

static void expect_plain_function(struct sym_ctx *ctx, int h)
{
    uint64_t addr = nm_symbol(g_paths.target, "sym_plain_function", NULL);
    struct sym_frame fr[MAX_FRAMES];
    assert_int_equal(sym_resolve(ctx, h, FAKE_EXE_BIAS + addr, 0, fr, MAX_FRAMES), 1);
    assert_non_null(fr[0].function);
    assert_string_equal(fr[0].function, "sym_plain_function");
    assert_int_equal(fr[0].line, mark_line(g_paths.target_src, "plain_def"));
    assert_int_equal(fr[0].module_offset, addr);
}

static void test_sym_separate_debug_file_found_by_build_id(void **state)
{
    struct paths *p = *state;
    char stripped[PATH_MAX], debug_dir[PATH_MAX], hex[81], id_dir[PATH_MAX];
    make_stripped_copy(p->tmp, stripped);
    uint8_t id[40];
    size_t len = build_id_of(p->target, id);
    assert_true(len >= 2);
    for (size_t i = 0; i < len; i++) snprintf(hex + 2 * i, 3, "%02x", id[i]);
    path_join(debug_dir, p->tmp, "debug");
    path_fmt(id_dir, "%s/.build-id/%.2s", debug_dir, hex);
    run("mkdir -p '%s' && objcopy --only-keep-debug '%s' '%s/%s.debug'", id_dir, p->target, id_dir,
        hex + 2);

    const char *const dirs[] = {debug_dir, NULL};
    struct sym_ctx *ctx;
    assert_int_equal(sym_ctx_create(dirs, &ctx), 0);
    expect_plain_function(ctx, add_file(ctx, stripped, FAKE_EXE_BIAS));
    /* Even without the binary, the recorded build-id finds the debug file. */
    int h = sym_module_add(ctx, "/nonexistent/sym_target", id, len, FAKE_EXE_BIAS, NULL, 0);
    assert_true(h >= 0);
    expect_plain_function(ctx, h);
    sym_ctx_destroy(ctx);

    /* A relative --debug-path is relative to the current directory. */
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(p->tmp), 0);
    const char *const relative[] = {"debug", NULL};
    int rc = sym_ctx_create(relative, &ctx);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(rc, 0);
    expect_plain_function(ctx, add_file(ctx, stripped, FAKE_EXE_BIAS));
    sym_ctx_destroy(ctx);
}

static void test_sym_module_add_deduplicates(void **state)
{
    struct paths *p = *state;
    struct sym_ctx *ctx;
    assert_int_equal(sym_ctx_create(NULL, &ctx), 0);
    uint8_t id[40] = {1, 2, 3, 4};
    int a = sym_module_add(ctx, p->lib, id, 20, 0x1000, NULL, 0);
    assert_true(a >= 0);
    assert_int_equal(sym_module_add(ctx, p->lib, id, 20, 0x1000, NULL, 0), a);
    int b = sym_module_add(ctx, p->lib, id, 20, 0x2000, NULL, 0);
    id[0] = 9; /* same path and bias, another build: a rebuilt file */
    int c = sym_module_add(ctx, p->lib, id, 20, 0x1000, NULL, 0);
    assert_true(b >= 0 && c >= 0 && a != b && a != c && b != c);

    /* The build-id does not match the file: no symbols rather than wrong ones. */
    struct sym_frame fr[MAX_FRAMES];
    assert_int_equal(
        sym_resolve(ctx, c, 0x1000 + nm_symbol(p->lib, "sym_lib_inner", NULL), 0, fr, MAX_FRAMES),
        1);
    assert_null(fr[0].function);
    sym_ctx_destroy(ctx);
}

static void test_sym_bad_arguments_are_rejected(void **state)
{
    struct sym_ctx *ctx;
    struct sym_frame fr[MAX_FRAMES];
    assert_int_equal(sym_ctx_create(NULL, &ctx), 0);
    int h = sym_module_add(ctx, "/nonexistent", NULL, 0, 0, NULL, 0);
    assert_true(h >= 0);
    assert_int_equal(sym_resolve(ctx, -1, 0x10, 1, fr, MAX_FRAMES), -EINVAL);
    assert_int_equal(sym_resolve(ctx, h + 1, 0x10, 1, fr, MAX_FRAMES), -EINVAL);
    assert_int_equal(sym_resolve(ctx, h, 0x10, 1, fr, 0), -EINVAL);
    uint8_t long_id[41] = {0};
    assert_int_equal(sym_module_add(ctx, "/x", long_id, sizeof(long_id), 0, NULL, 0), -EINVAL);
    sym_ctx_destroy(ctx);
}

/* ---- speed: every 4th byte of every function of this process's modules ---- */

struct speed_module {
    char path[PATH_MAX];
    uint64_t bias;
};
struct speed_state {
    struct speed_module mods[64];
    int n;
};

static int speed_collect(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct speed_state *st = arg;
    if (st->n == 64) return 0;
    const char *path = info->dlpi_name;
    char exe[PATH_MAX];
    if (!path[0]) {
        ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (len < 0) return 0;
        exe[len] = '\0';
        path = exe;
    }
    if (access(path, R_OK) != 0) return 0;
    path_fmt(st->mods[st->n].path, "%s", path);
    st->mods[st->n++].bias = info->dlpi_addr;
    return 0;
}

/* Appends bias + every 4th byte of each function of path to addrs. */
static size_t speed_addresses(const char *path, uint64_t bias, uint64_t *addrs, size_t n,
                              size_t cap)
{
    char cmd[PATH_MAX + 64], line[1024];
    snprintf(cmd, sizeof(cmd),
             "nm -S --defined-only '%s' 2>/dev/null; nm -D -S --defined-only "
             "'%s' 2>/dev/null",
             path, path);
    FILE *nm = popen(cmd, "r");
    assert_non_null(nm);
    while (fgets(line, sizeof(line), nm)) {
        unsigned long long a, s;
        char type;
        if (sscanf(line, "%llx %llx %c", &a, &s, &type) != 3 || (type != 'T' && type != 't'))
            continue;
        for (unsigned long long off = 1; off < s && n < cap; off += 4) addrs[n++] = bias + a + off;
    }
    pclose(nm);
    return n;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void test_sym_resolves_many_addresses(void **state)
{
    struct speed_state st = {.n = 0};
    dl_iterate_phdr(speed_collect, &st);
    uint64_t *addrs = malloc(SPEED_MAX_ADDRS * sizeof(*addrs));
    int *handles = malloc(SPEED_MAX_ADDRS * sizeof(*handles));
    assert_true(addrs && handles);
    struct sym_ctx *ctx;
    assert_int_equal(sym_ctx_create(NULL, &ctx), 0);
    size_t n = 0;
    for (int m = 0; m < st.n; m++) {
        int h = add_file(ctx, st.mods[m].path, st.mods[m].bias);
        size_t before = n;
        n = speed_addresses(st.mods[m].path, st.mods[m].bias, addrs, n, SPEED_MAX_ADDRS);
        for (size_t i = before; i < n; i++) handles[i] = h;
    }
    assert_true(n > 1000);
    size_t named = 0, with_line = 0, frames = 0;
    double t0 = now_ms();
    for (size_t i = 0; i < n; i++) {
        struct sym_frame fr[MAX_FRAMES];
        int k = sym_resolve(ctx, handles[i], addrs[i], 1, fr, MAX_FRAMES);
        assert_true(k >= 1);
        frames += (size_t)k;
        named += fr[k - 1].function != NULL;
        with_line += fr[0].line != 0;
    }
    double t1 = now_ms();
    for (size_t i = 0; i < n; i++) {
        struct sym_frame fr[MAX_FRAMES];
        assert_true(sym_resolve(ctx, handles[i], addrs[i], 1, fr, MAX_FRAMES) >= 1);
    }
    double t2 = now_ms();
    print_message("sym: %zu addresses in %d modules, %zu frames, %zu named, %zu with a line: "
                  "%.0f ms first pass (%.0f addr/s), %.1f ms cached\n",
                  n, st.n, frames, named, with_line, t1 - t0, n / ((t1 - t0) / 1e3), t2 - t1);
    /* Every sampled address lies in a function the symbol table names. */
    assert_true(named * 100 >= n * 99);
    sym_ctx_destroy(ctx);
    free(addrs);
    free(handles);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sym_plain_function_has_file_and_line),
        cmocka_unit_test(test_sym_inlined_function_gives_two_frames),
        cmocka_unit_test(test_sym_cxx_names_are_demangled),
        cmocka_unit_test(test_sym_inlined_cxx_method_is_qualified),
        cmocka_unit_test(test_sym_shared_library_at_a_bias),
        cmocka_unit_test(test_sym_return_addresses_of_a_running_target),
        cmocka_unit_test(test_sym_missing_file_gives_module_and_offset),
        cmocka_unit_test(test_sym_stripped_binary_gives_module_and_offset),
        cmocka_unit_test(test_sym_separate_debug_file_found_by_build_id),
        cmocka_unit_test(test_sym_module_add_deduplicates),
        cmocka_unit_test(test_sym_bad_arguments_are_rejected),
        cmocka_unit_test(test_sym_resolves_many_addresses),
    };
    return cmocka_run_group_tests(tests, setup_paths, teardown_paths);
}
