/*
 * sym.h — symbolizer: turns raw return addresses into functions, files and lines
 *
 * The analyzer registers each MODULE record of a process with sym_module_add()
 * and resolves every frame of every STACK record with sym_resolve(). Backed by
 * elfutils libdw/libdwfl: DWARF functions, inlined chains, line tables, ELF
 * symtab as a fallback, separate debug files by build-id, C++ names demangled.
 * A frame in a module without a file or symbols resolves to module + offset.
 * One ctx is not thread-safe: use it from one thread. Contract: docs/symbols.md.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMTRACE_SYM_H
#define MEMTRACE_SYM_H

#include <stddef.h>
#include <stdint.h>

#include <memtrace/trace_format.h>

struct sym_ctx;

/* One resolved frame. Every string is owned by the sym_ctx and stays valid
 * until sym_ctx_destroy(). */
struct sym_frame {
    const char *function;   /* demangled name, or NULL when unknown */
    const char *file;       /* source file (absolute path as DWARF gives it), or NULL */
    uint32_t line;          /* 0 when unknown */
    uint32_t column;        /* 0 when unknown */
    const char *module;     /* module path (never NULL) */
    uint64_t module_offset; /* pc relative to the module's file (pc - load_bias) */
    int inlined;            /* 1 if this frame was inlined into the next (outer) one */
};

/* Creates a symbolizer. debug_paths: NULL-terminated list of extra
 * directories searched for separate debug files (by build-id under
 * <dir>/.build-id/xx/yyyy.debug, and by debuglink name), after the standard
 * ones; may be NULL. OUT: *out, owned by the caller, free with
 * sym_ctx_destroy(). Returns 0 or -errno. */
int sym_ctx_create(const char *const *debug_paths, struct sym_ctx **out);

/* Frees ctx and every string it handed out. NULL is allowed. */
void sym_ctx_destroy(struct sym_ctx *ctx);

/* Registers one loaded module (as a MODULE record gives it). Returns a handle
 * >= 0, or a negative error. The same (path, build id, load bias) registered
 * twice returns the same handle. A module whose file is missing or has no
 * symbols still gets a handle (its frames then resolve to module + offset).
 * The file is opened lazily, at the first sym_resolve() in it. segs (the
 * record's PT_LOAD segments) may be NULL: lookups use pc - load_bias, which
 * is the file's own vaddr, so segments are not needed to resolve. */
int sym_module_add(struct sym_ctx *ctx, const char *path, const uint8_t *build_id,
                   size_t build_id_len, uint64_t load_bias, const struct mt_segment *segs,
                   uint32_t n_segs);

/* Resolves one stack address in module `handle`. is_return = 1 for return
 * addresses (frames 0..n of a stack): pc-1 is looked up so that the call
 * site's line is reported. Fills out[0..] innermost first: inlined frames
 * first, then the containing function (inlined = 0 on the last). When the
 * chain is longer than max, the innermost max-1 frames and the containing
 * function are written. Returns the number of frames written (>= 1), or a
 * negative error (-EINVAL for a bad handle or max < 1, -ENOMEM). Results are
 * cached per (handle, pc, is_return): an address is resolved once. */
int sym_resolve(struct sym_ctx *ctx, int handle, uint64_t pc, int is_return, struct sym_frame *out,
                int max);

#endif /* MEMTRACE_SYM_H */
