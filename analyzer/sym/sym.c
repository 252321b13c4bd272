/*
 * sym.c — symbolizer context: module registry, resolve cache, public API
 *
 * The database loader calls sym_module_add() for each MODULE record and
 * sym_resolve() for each frame of each STACK record (sym.h). A module handle
 * is (file, load bias); a file is (path, build-id) and owns one Dwfl, opened
 * at the first lookup (sym_dwarf.c). Results are cached per (file, file
 * address, is_return): the same library at another bias in another process
 * reuses them. Contract and measured speed: docs/symbols.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sym/sym.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libelf.h>

#include "sym/sym_int.h"

/* ======================== types ======================== */

struct sym_handle {
    uint32_t file;      /* index in ctx->files */
    uint64_t load_bias; /* dlpi_addr of this mapping */
};

struct sym_ctx {
    struct sym_strtab strs; /* every string handed out */
    struct sym_file *files; /* owned; n_files used */
    size_t n_files, cap_files;
    struct sym_handle *handles; /* owned; n_handles used */
    size_t n_handles, cap_handles;
    struct sym_map file_index;   /* (interned path, build-id hash) -> file */
    struct sym_map handle_index; /* (file, load bias) -> handle */
    struct sym_map cache;        /* (file address, file<<1|is_return) -> frames */
    struct sym_frame *frames;    /* owned; resolved frames, cache values index it */
    size_t n_frames, cap_frames;
    char *debuginfo_path;     /* owned; libdwfl's colon-separated search path */
    char **build_id_dirs;     /* owned; NULL-terminated, each owned */
    Dwfl_Callbacks callbacks; /* points at debuginfo_path */
};

#define SYM_SYSTEM_DEBUG_DIR "/usr/lib/debug" /* where Debian's -dbg packages install */
#define SYM_CACHE_N_BITS 16 /* low bits of a cache value: frame count (<= SYM_MAX_CHAIN) */

/* ======================== static helpers ======================== */

/* Returns a malloc'ed absolute form of dir: libdwfl reads a relative entry
 * of its path as relative to each binary's directory, the user meant the
 * current one. NULL on ENOMEM. */
static char *ctx_absolute(const char *dir)
{
    if (dir[0] != '/') {
        char *abs = realpath(dir, NULL);
        if (abs) return abs;
    }
    return strdup(dir); /* absolute, or absent: kept as given, finds nothing */
}

/* Builds the build-id directory list (the user's first: what they name
 * wins) and libdwfl's ":.debug:<dirs>...:/usr/lib/debug". 0 or -ENOMEM. */
static int ctx_set_paths(struct sym_ctx *ctx, const char *const *debug_paths)
{
    size_t n = 0, len = sizeof(":.debug");
    while (debug_paths && debug_paths[n]) n++;
    ctx->build_id_dirs = calloc(n + 2, sizeof(char *));
    if (!ctx->build_id_dirs) return -ENOMEM;
    for (size_t i = 0; i <= n; i++) {
        ctx->build_id_dirs[i] = i < n ? ctx_absolute(debug_paths[i]) : strdup(SYM_SYSTEM_DEBUG_DIR);
        if (!ctx->build_id_dirs[i]) return -ENOMEM;
        len += strlen(ctx->build_id_dirs[i]) + 1;
    }
    ctx->debuginfo_path = malloc(len);
    if (!ctx->debuginfo_path) return -ENOMEM;
    strcpy(ctx->debuginfo_path, ":.debug");
    for (size_t i = 0; i <= n; i++) strcat(strcat(ctx->debuginfo_path, ":"), ctx->build_id_dirs[i]);
    return 0;
}

/* Grows *arr (of elem bytes) so that `need` elements fit. 0 or -ENOMEM. */
static int array_reserve(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t new_cap = *cap ? *cap * 2 : 16;
    while (new_cap < need) new_cap *= 2;
    void *grown = realloc(*arr, new_cap * elem);
    if (!grown) return -ENOMEM;
    *arr = grown;
    *cap = new_cap;
    return 0;
}

/* Returns the index of the file (path, build-id), adding it when new, or
 * -ENOMEM. */
static int ctx_file(struct sym_ctx *ctx, const char *path, const uint8_t *build_id,
                    size_t build_id_len)
{
    uint64_t id_hash = sym_map_hash(build_id, build_id_len);
    if (id_hash == SYM_MAP_EMPTY) id_hash = 0;
    uint64_t found;
    if (sym_map_get(&ctx->file_index, (uintptr_t)path, id_hash, &found)) {
        struct sym_file *f = &ctx->files[found];
        if (f->build_id_len == build_id_len && memcmp(f->build_id, build_id, build_id_len) == 0)
            return (int)found;
    }
    if (array_reserve((void **)&ctx->files, &ctx->cap_files, ctx->n_files + 1, sizeof(*ctx->files)))
        return -ENOMEM;
    size_t idx = ctx->n_files;
    if (sym_map_put(&ctx->file_index, (uintptr_t)path, id_hash, idx) < 0) return -ENOMEM;
    struct sym_file *f = &ctx->files[idx];
    memset(f, 0, sizeof(*f));
    f->path = path;
    f->build_id_len = build_id_len;
    if (build_id_len) memcpy(f->build_id, build_id, build_id_len);
    sym_map_init(&f->cus);
    ctx->n_files++;
    return (int)idx;
}

/* Resolves (file, addr) for the first time and caches it. OUT: *packed, the
 * cache value. 0 or -ENOMEM. */
static int ctx_resolve_new(struct sym_ctx *ctx, uint32_t file_idx, uint64_t offset, int is_return,
                           uint64_t *packed)
{
    struct sym_file *f = &ctx->files[file_idx];
    if (!f->opened) sym_dwarf_open(f, &ctx->callbacks, (const char *const *)ctx->build_id_dirs);
    struct sym_dwarf_frame found[SYM_MAX_CHAIN];
    /* A return address points after the call; pc-1 is inside the call. */
    uint64_t addr = is_return && offset > 0 ? offset - 1 : offset;
    int n = sym_dwarf_lookup(f, &ctx->strs, addr, found);
    if (n < 0) return n;
    if (array_reserve((void **)&ctx->frames, &ctx->cap_frames, ctx->n_frames + (size_t)n,
                      sizeof(*ctx->frames)))
        return -ENOMEM;
    for (int i = 0; i < n; i++)
        ctx->frames[ctx->n_frames + (size_t)i] = (struct sym_frame){
            .function = found[i].function,
            .file = found[i].file,
            .line = found[i].line,
            .column = found[i].column,
            .module = f->path,
            .module_offset = offset,
            .inlined = found[i].inlined,
        };
    *packed = ((uint64_t)ctx->n_frames << SYM_CACHE_N_BITS) | (uint64_t)n;
    ctx->n_frames += (size_t)n;
    return sym_map_put(&ctx->cache, offset, ((uint64_t)file_idx << 1) | (is_return != 0), *packed);
}

/* Copies a cached chain to out: all of it, or the innermost max-1 frames and
 * the containing function. Returns the count written. */
static int ctx_copy_out(const struct sym_ctx *ctx, uint64_t packed, struct sym_frame *out, int max)
{
    const struct sym_frame *chain = &ctx->frames[packed >> SYM_CACHE_N_BITS];
    int n = (int)(packed & ((1u << SYM_CACHE_N_BITS) - 1));
    if (n <= max) {
        memcpy(out, chain, (size_t)n * sizeof(*out));
        return n;
    }
    memcpy(out, chain, (size_t)(max - 1) * sizeof(*out));
    out[max - 1] = chain[n - 1];
    return max;
}

/* ======================== exported functions ======================== */

int sym_ctx_create(const char *const *debug_paths, struct sym_ctx **out)
{
    *out = NULL;
    if (elf_version(EV_CURRENT) == EV_NONE) return -EINVAL;
    struct sym_ctx *ctx = calloc(1, sizeof(*ctx));
    if (!ctx) return -ENOMEM;
    sym_str_init(&ctx->strs);
    sym_map_init(&ctx->file_index);
    sym_map_init(&ctx->handle_index);
    sym_map_init(&ctx->cache);
    if (ctx_set_paths(ctx, debug_paths) < 0) {
        sym_ctx_destroy(ctx);
        return -ENOMEM;
    }
    ctx->callbacks.find_elf = dwfl_build_id_find_elf;
    ctx->callbacks.find_debuginfo = dwfl_standard_find_debuginfo;
    ctx->callbacks.section_address = dwfl_offline_section_address;
    ctx->callbacks.debuginfo_path = &ctx->debuginfo_path;
    *out = ctx;
    return 0;
}

void sym_ctx_destroy(struct sym_ctx *ctx)
{
    if (!ctx) return;
    for (size_t i = 0; i < ctx->n_files; i++) sym_dwarf_close(&ctx->files[i]);
    free(ctx->files);
    free(ctx->handles);
    free(ctx->frames);
    sym_map_fini(&ctx->file_index);
    sym_map_fini(&ctx->handle_index);
    sym_map_fini(&ctx->cache);
    for (size_t i = 0; ctx->build_id_dirs && ctx->build_id_dirs[i]; i++)
        free(ctx->build_id_dirs[i]);
    free(ctx->build_id_dirs);
    free(ctx->debuginfo_path);
    sym_str_fini(&ctx->strs);
    free(ctx);
}

int sym_module_add(struct sym_ctx *ctx, const char *path, const uint8_t *build_id,
                   size_t build_id_len, uint64_t load_bias, const struct mt_segment *segs,
                   uint32_t n_segs)
{
    if (!ctx || build_id_len > sizeof(((struct sym_file *)0)->build_id)) return -EINVAL;
    if (!build_id) build_id_len = 0;
    const char *name = sym_str_intern(&ctx->strs, path ? path : "");
    if (!name) return -ENOMEM;
    int file = ctx_file(ctx, name, build_id, build_id_len);
    if (file < 0) return file;
    uint64_t found;
    if (sym_map_get(&ctx->handle_index, load_bias, (uint64_t)file, &found)) return (int)found;
    if (array_reserve((void **)&ctx->handles, &ctx->cap_handles, ctx->n_handles + 1,
                      sizeof(*ctx->handles)))
        return -ENOMEM;
    int handle = (int)ctx->n_handles;
    if (sym_map_put(&ctx->handle_index, load_bias, (uint64_t)file, (uint64_t)handle) < 0)
        return -ENOMEM;
    ctx->handles[handle] = (struct sym_handle){.file = (uint32_t)file, .load_bias = load_bias};
    ctx->n_handles++;
    return handle;
}

int sym_resolve(struct sym_ctx *ctx, int handle, uint64_t pc, int is_return, struct sym_frame *out,
                int max)
{
    if (!ctx || !out || max < 1 || handle < 0 || (size_t)handle >= ctx->n_handles) return -EINVAL;
    const struct sym_handle *h = &ctx->handles[handle];
    uint64_t offset = pc - h->load_bias;
    uint64_t packed;
    if (!sym_map_get(&ctx->cache, offset, ((uint64_t)h->file << 1) | (is_return != 0), &packed)) {
        int rc = ctx_resolve_new(ctx, h->file, offset, is_return, &packed);
        if (rc < 0) return rc;
    }
    return ctx_copy_out(ctx, packed, out, max);
}
