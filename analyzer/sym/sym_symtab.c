/*
 * sym_symtab.c — sorted index of an ELF file's function symbols
 *
 * Fallback names for addresses DWARF does not cover, and the qualified name
 * of the outermost frame (sym_dwarf.c). libdwfl's dwfl_module_addrname()
 * scans the whole symbol table at every call (measured: 70% of the time of
 * a 200k-address run); this index is built once per file from
 * dwfl_module_getsym_info() and searched by bisection.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sym/sym_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <gelf.h>

/* ======================== types ======================== */

struct sym_elfsym {
    uint64_t lo, hi;  /* [lo, hi) in module addresses; hi == lo for size 0 */
    const char *name; /* borrowed from the Dwfl's ELF, valid while it lives */
    int rank;         /* which of several symbols at lo names it best */
};

#define SYM_SYMTAB_BACKSCAN 4 /* symbols scanned back for a containing one */

/* ======================== static helpers ======================== */

/* Aliases share an address (malloc, __libc_malloc, __malloc): prefer a
 * global, then a weak symbol, then the fewest leading underscores. */
static int symbol_rank(const GElf_Sym *sym, const char *name)
{
    int bind = GELF_ST_BIND(sym->st_info);
    int rank = bind == STB_GLOBAL ? 200 : bind == STB_WEAK ? 100 : 0;
    int underscores = 0;
    while (name[underscores] == '_' && underscores < 50) underscores++;
    return rank - underscores;
}

static int elfsym_cmp(const void *a, const void *b)
{
    const struct sym_elfsym *x = a, *y = b;
    if (x->lo != y->lo) return x->lo < y->lo ? -1 : 1;
    return y->rank - x->rank; /* best first among aliases */
}

/* Keeps the best-ranked symbol of each address. */
static void symtab_dedup(struct sym_symtab *t)
{
    size_t out = 0;
    for (size_t i = 0; i < t->n; i++)
        if (out == 0 || t->syms[out - 1].lo != t->syms[i].lo) t->syms[out++] = t->syms[i];
    t->n = out;
}

static int symtab_add(struct sym_symtab *t, size_t *cap, const struct sym_elfsym *s)
{
    if (t->n == *cap) {
        size_t new_cap = *cap ? *cap * 2 : 256;
        struct sym_elfsym *syms = realloc(t->syms, new_cap * sizeof(*syms));
        if (!syms) return -ENOMEM;
        t->syms = syms;
        *cap = new_cap;
    }
    t->syms[t->n++] = *s;
    return 0;
}

/* ======================== exported functions ======================== */

int sym_symtab_build(struct sym_symtab *t, Dwfl_Module *mod)
{
    t->built = 1;
    int n_syms = dwfl_module_getsymtab(mod);
    size_t cap = 0;
    for (int i = 1; i < n_syms; i++) {
        GElf_Sym sym;
        GElf_Addr addr;
        GElf_Word shndx;
        const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr, &shndx, NULL, NULL);
        int type = GELF_ST_TYPE(sym.st_info);
        if (!name || !name[0] || sym.st_shndx == SHN_UNDEF ||
            (type != STT_FUNC && type != STT_GNU_IFUNC))
            continue;
        struct sym_elfsym s = {addr, addr + sym.st_size, name, symbol_rank(&sym, name)};
        if (symtab_add(t, &cap, &s) < 0) return -ENOMEM;
    }
    if (t->n == 0) return 0; /* qsort wants a non-NULL base even for 0 */
    qsort(t->syms, t->n, sizeof(*t->syms), elfsym_cmp);
    symtab_dedup(t);
    return 0;
}

void sym_symtab_free(struct sym_symtab *t)
{
    free(t->syms);
    memset(t, 0, sizeof(*t));
}

const char *sym_symtab_find(const struct sym_symtab *t, uint64_t addr)
{
    size_t lo = 0, hi = t->n; /* first symbol with syms[i].lo > addr */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->syms[mid].lo <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo, scanned = 0; i > 0 && scanned < SYM_SYMTAB_BACKSCAN; i--, scanned++) {
        const struct sym_elfsym *s = &t->syms[i - 1];
        if (addr < s->hi) return s->name;
        /* A size-0 symbol (hand-written assembly) runs to the next one. */
        if (s->hi == s->lo && scanned == 0) return s->name;
    }
    return NULL;
}
