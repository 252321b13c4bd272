/*
 * sym_dwarf.c — one ELF file's DWARF: functions, inlined chains, lines
 *
 * Called by sym.c, once per distinct file (path + build-id), whatever load
 * bias each process gave it: the file is reported to its own Dwfl at bias 0,
 * so a lookup address is the file address pc - load_bias.
 *
 * Design notes:
 *  1. A file is used only when its build-id matches the MODULE record's; a
 *     missing or rebuilt file is replaced by the debug file of the recorded
 *     build-id (<dir>/.build-id/xx/rest.debug), whose symtab and DWARF are
 *     complete. Otherwise the module has no symbols (module + offset).
 *  2. libdwfl's standard find_debuginfo finds separate debug files of a
 *     stripped file, by build-id then by .gnu_debuglink, in the debug path.
 *  3. dwfl_module_addrdie() finds the CU through .debug_aranges. Per CU, a
 *     sorted array of the ranges of every DW_TAG_subprogram is built on first
 *     use, so finding the function is a binary search instead of the walk of
 *     the whole CU that dwarf_getscopes() does for every address.
 *  4. From the function DIE, the inline chain is the path of
 *     DW_TAG_inlined_subroutine children containing the address (through
 *     lexical blocks). The innermost frame's line comes from the line table;
 *     each outer frame's line is the DW_AT_call_file/line/column of the
 *     inlined DIE just inside it.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sym/sym_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <libelf.h>

/* ======================== types ======================== */

struct sym_range {
    uint64_t lo, hi; /* [lo, hi) in DWARF addresses */
    Dwarf_Die die;   /* the DW_TAG_subprogram; valid while the Dwfl lives */
};

struct sym_cu {
    struct sym_range *ranges; /* owned; sorted by lo */
    size_t n, cap;
};

#define SYM_CU_BACKSCAN                                                                            \
    16 /* ranges scanned back from the bisection point:                                            \
          overlaps (nested functions) are rare and short */

/* ======================== static helpers: opening ======================== */

/* 1 when the ELF file at path exists and carries the wanted build-id (or
 * the record had none), else 0. */
static int file_matches(const char *path, const uint8_t *build_id, size_t build_id_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    int ok = 0;
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    if (elf && elf_kind(elf) == ELF_K_ELF) {
        const void *bits = NULL;
        ssize_t len = dwelf_elf_gnu_build_id(elf, &bits);
        ok = build_id_len == 0 ||
             (len == (ssize_t)build_id_len && memcmp(bits, build_id, build_id_len) == 0);
    }
    elf_end(elf);
    close(fd);
    return ok;
}

/* Looks for dir/.build-id/xx/rest.debug in each dir. Returns a malloc'ed
 * path owned by the caller, or NULL when none exists. */
static char *find_by_build_id(const uint8_t *id, size_t len, const char *const *dirs)
{
    char hex[2 * 40 + 1];
    if (len < 2 || len > 40) return NULL;
    for (size_t i = 0; i < len; i++) snprintf(hex + 2 * i, 3, "%02x", id[i]);
    for (size_t d = 0; dirs && dirs[d]; d++) {
        char *path = NULL;
        if (asprintf(&path, "%s/.build-id/%.2s/%s.debug", dirs[d], hex, hex + 2) < 0) return NULL;
        if (file_matches(path, id, len)) return path;
        free(path);
    }
    return NULL;
}

/* ======================== static helpers: function index ======================== */

static int cu_add(struct sym_cu *cu, uint64_t lo, uint64_t hi, Dwarf_Die *die)
{
    if (cu->n == cu->cap) {
        size_t cap = cu->cap ? cu->cap * 2 : 32;
        struct sym_range *ranges = realloc(cu->ranges, cap * sizeof(*ranges));
        if (!ranges) return -ENOMEM;
        cu->ranges = ranges;
        cu->cap = cap;
    }
    cu->ranges[cu->n++] = (struct sym_range){.lo = lo, .hi = hi, .die = *die};
    return 0;
}

static int tag_may_hold_functions(int tag)
{
    switch (tag) {
    case DW_TAG_subprogram: /* GNU C nested functions */
    case DW_TAG_lexical_block:
    case DW_TAG_namespace:
    case DW_TAG_class_type:
    case DW_TAG_structure_type:
    case DW_TAG_union_type:
        return 1;
    default:
        return 0;
    }
}

/* Adds every subprogram with code below parent to cu. 0 or -ENOMEM. */
static int cu_collect(struct sym_cu *cu, Dwarf_Die *parent)
{
    Dwarf_Die child;
    if (dwarf_child(parent, &child) != 0) return 0;
    do {
        int tag = dwarf_tag(&child);
        if (tag == DW_TAG_subprogram) {
            Dwarf_Addr base, lo, hi;
            ptrdiff_t off = 0;
            while ((off = dwarf_ranges(&child, off, &base, &lo, &hi)) > 0)
                if (lo < hi && cu_add(cu, lo, hi, &child) < 0) return -ENOMEM;
        }
        if (tag_may_hold_functions(tag) && cu_collect(cu, &child) < 0) return -ENOMEM;
    } while (dwarf_siblingof(&child, &child) == 0);
    return 0;
}

static int range_cmp(const void *a, const void *b)
{
    const struct sym_range *ra = a, *rb = b;
    return ra->lo < rb->lo ? -1 : ra->lo > rb->lo;
}

/* Returns the function index of the CU cudie, building it on first use;
 * NULL on ENOMEM. */
static struct sym_cu *cu_index(struct sym_file *f, Dwarf_Die *cudie)
{
    uint64_t key = (uint64_t)(uintptr_t)cudie->addr; /* unique per CU in this Dwfl */
    uint64_t value;
    if (sym_map_get(&f->cus, key, 0, &value)) return (struct sym_cu *)(uintptr_t)value;
    struct sym_cu *cu = calloc(1, sizeof(*cu));
    if (!cu) return NULL;
    if (cu_collect(cu, cudie) < 0 || sym_map_put(&f->cus, key, 0, (uintptr_t)cu) < 0) {
        free(cu->ranges);
        free(cu);
        return NULL;
    }
    if (cu->n) qsort(cu->ranges, cu->n, sizeof(*cu->ranges), range_cmp);
    return cu;
}

/* Finds the innermost subprogram of cu containing addr. 1 if found. */
static int cu_find(const struct sym_cu *cu, uint64_t addr, Dwarf_Die *out)
{
    size_t lo = 0, hi = cu->n; /* first range with ranges[i].lo > addr */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cu->ranges[mid].lo <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo, scanned = 0; i > 0 && scanned < SYM_CU_BACKSCAN; i--, scanned++) {
        const struct sym_range *r = &cu->ranges[i - 1];
        if (addr < r->hi) {
            *out = r->die;
            return 1;
        }
    }
    return 0;
}

/* ======================== static helpers: inline chains ======================== */

static int has_pc_attrs(Dwarf_Die *die)
{
    return dwarf_hasattr(die, DW_AT_low_pc) || dwarf_hasattr(die, DW_AT_ranges);
}

/* Appends to chain the inlined subroutines below parent that contain addr,
 * outermost first. Returns the new depth. */
static int chain_descend(Dwarf_Die *parent, Dwarf_Addr addr, Dwarf_Die *chain, int depth)
{
    Dwarf_Die child;
    if (dwarf_child(parent, &child) != 0) return depth;
    do {
        int tag = dwarf_tag(&child);
        if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_lexical_block &&
            tag != DW_TAG_try_block && tag != DW_TAG_catch_block)
            continue;
        if (dwarf_haspc(&child, addr) > 0) {
            if (tag == DW_TAG_inlined_subroutine) {
                if (depth == SYM_MAX_CHAIN) return depth;
                chain[depth++] = child;
            }
            return chain_descend(&child, addr, chain, depth);
        }
        /* A block without pc attributes is transparent: look inside. */
        if (!has_pc_attrs(&child)) {
            int deeper = chain_descend(&child, addr, chain, depth);
            if (deeper > depth) return deeper;
        }
    } while (dwarf_siblingof(&child, &child) == 0);
    return depth;
}

static const char *die_string(Dwarf_Die *die, unsigned int name)
{
    Dwarf_Attribute attr;
    return dwarf_formstring(dwarf_attr_integrate(die, name, &attr));
}

/* Name of a function DIE: its C++ linkage name demangled (qualified, with
 * template arguments) when DWARF has one, else DW_AT_name; NULL if none. A
 * linkage name that is not mangled is an asm label (glibc's __GI__exit for
 * _exit): the source name is the better one. */
static const char *die_name(Dwarf_Die *die, struct sym_strtab *strs, int *mangled)
{
    const char *linkage = die_string(die, DW_AT_linkage_name);
    if (!linkage) linkage = die_string(die, DW_AT_MIPS_linkage_name);
    *mangled = linkage && linkage[0] == '_' && linkage[1] == 'Z';
    if (*mangled) return sym_str_demangle(strs, linkage);
    const char *name = die_string(die, DW_AT_name);
    if (name) return sym_str_intern(strs, name);
    return linkage ? sym_str_intern(strs, linkage) : NULL;
}

/* Sets fr's file/line/column from the call site of the inlined DIE inl. */
static void call_site(Dwarf_Die *inl, struct sym_strtab *strs, struct sym_dwarf_frame *fr)
{
    Dwarf_Attribute attr;
    Dwarf_Word val;
    Dwarf_Die cu;
    Dwarf_Files *files;
    size_t n_files;
    if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_file, &attr), &val) == 0 &&
        dwarf_diecu(inl, &cu, NULL, NULL) && dwarf_getsrcfiles(&cu, &files, &n_files) == 0) {
        const char *file = dwarf_filesrc(files, val, NULL, NULL);
        fr->file = file ? sym_str_intern(strs, file) : NULL;
    }
    if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_line, &attr), &val) == 0)
        fr->line = (uint32_t)val;
    if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_column, &attr), &val) == 0)
        fr->column = (uint32_t)val;
}

/* Fills out with the DWARF function chain at addr (innermost first), without
 * the innermost line. Returns the frame count, 0 when DWARF has no function
 * there, -ENOMEM. */
static int dwarf_chain(struct sym_file *f, struct sym_strtab *strs, Dwarf_Die *cudie,
                       Dwarf_Addr addr, struct sym_dwarf_frame *out)
{
    struct sym_cu *cu = cu_index(f, cudie);
    if (!cu) return -ENOMEM;
    Dwarf_Die chain[SYM_MAX_CHAIN];
    if (!cu_find(cu, addr, &chain[0])) return 0;
    int depth = chain_descend(&chain[0], addr, chain, 1);
    for (int i = 0; i < depth; i++) {
        struct sym_dwarf_frame *fr = &out[i];
        memset(fr, 0, sizeof(*fr));
        fr->function = die_name(&chain[depth - 1 - i], strs, &fr->mangled);
        fr->inlined = i < depth - 1;
        if (i > 0) call_site(&chain[depth - i], strs, fr);
    }
    return depth;
}

/* ======================== exported functions ======================== */

void sym_dwarf_open(struct sym_file *f, const Dwfl_Callbacks *callbacks,
                    const char *const *build_id_dirs)
{
    f->opened = 1;
    char *alt = NULL;
    const char *use = f->path;
    if (!file_matches(f->path, f->build_id, f->build_id_len)) {
        alt = find_by_build_id(f->build_id, f->build_id_len, build_id_dirs);
        if (!alt) return;
        use = alt;
    }
    Dwfl *dwfl = dwfl_begin(callbacks);
    if (!dwfl) goto fail_begin;
    dwfl_report_begin(dwfl);
    Dwfl_Module *mod = dwfl_report_elf(dwfl, f->path, use, -1, 0, true);
    if (dwfl_report_end(dwfl, NULL, NULL) != 0 || !mod) goto fail_report;
    f->dwfl = dwfl;
    f->mod = mod;
    free(alt);
    return;

fail_report:
    dwfl_end(dwfl);
fail_begin:
    free(alt);
}

void sym_dwarf_close(struct sym_file *f)
{
    for (size_t i = 0; i < f->cus.cap; i++) {
        struct sym_map_slot *slot = &f->cus.slots[i];
        if (slot->k2 == SYM_MAP_EMPTY) continue;
        struct sym_cu *cu = (struct sym_cu *)(uintptr_t)slot->value;
        free(cu->ranges);
        free(cu);
    }
    sym_map_fini(&f->cus);
    sym_symtab_free(&f->symtab);
    dwfl_end(f->dwfl);
    f->dwfl = NULL;
    f->mod = NULL;
}

int sym_dwarf_lookup(struct sym_file *f, struct sym_strtab *strs, uint64_t addr,
                     struct sym_dwarf_frame *out)
{
    memset(&out[0], 0, sizeof(out[0]));
    if (!f->mod) return 1;
    int n = 0;
    Dwarf_Addr bias = 0;
    Dwarf_Die *cudie = dwfl_module_addrdie(f->mod, addr, &bias);
    if (cudie) n = dwarf_chain(f, strs, cudie, addr - bias, out);
    if (n < 0) return n;
    if (n == 0) n = 1;
    /* The outermost frame is the ELF symbol containing addr. Its mangled
     * name qualifies what DWARF may name bare (constructors, C++ functions
     * without DW_AT_linkage_name); a C symbol only fills a gap in DWARF. */
    struct sym_dwarf_frame *outer = &out[n - 1];
    if (!outer->function || !outer->mangled) {
        if (!f->symtab.built && sym_symtab_build(&f->symtab, f->mod) < 0) return -ENOMEM;
        const char *raw = sym_symtab_find(&f->symtab, addr);
        if (raw && (!outer->function || (raw[0] == '_' && raw[1] == 'Z')))
            outer->function = sym_str_demangle(strs, raw);
    }
    Dwfl_Line *line = dwfl_module_getsrc(f->mod, addr);
    if (line) {
        int lineno = 0, col = 0;
        const char *file = dwfl_lineinfo(line, NULL, &lineno, &col, NULL, NULL);
        out[0].file = file ? sym_str_intern(strs, file) : NULL;
        out[0].line = lineno > 0 ? (uint32_t)lineno : 0;
        out[0].column = col > 0 ? (uint32_t)col : 0;
    }
    return n;
}
