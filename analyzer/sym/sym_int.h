/*
 * sym_int.h — private declarations shared by the files of analyzer/sym/
 *
 * sym.c owns the context, the module registry and the resolve cache;
 * sym_dwarf.c opens one Dwfl per distinct ELF file and walks its DWARF;
 * sym_str.c interns strings and demangles C++ names; sym_map.c is the small
 * hash map they all use. Nothing here is visible outside the folder.
 * Contract of the folder: sym.h and docs/symbols.md.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMTRACE_SYM_INT_H
#define MEMTRACE_SYM_INT_H

#include <stddef.h>
#include <stdint.h>

#include <elfutils/libdwfl.h>

#include "sym/sym.h"

/* ---- sym_map.c: open-addressing map from a two-word key to a uint64 ---- */

#define SYM_MAP_EMPTY UINT64_MAX /* k2 value marking a free slot; never a real key */

struct sym_map_slot {
    uint64_t k1, k2; /* key; k2 == SYM_MAP_EMPTY when the slot is free */
    uint64_t value;
};

struct sym_map {
    struct sym_map_slot *slots; /* owned; cap entries */
    size_t cap;                 /* power of two so that & replaces % */
    size_t n;                   /* used slots */
};

void sym_map_init(struct sym_map *map);
void sym_map_fini(struct sym_map *map);
/* Returns 1 and sets *value when (k1, k2) is present, else 0. */
int sym_map_get(const struct sym_map *map, uint64_t k1, uint64_t k2, uint64_t *value);
/* Inserts or overwrites. k2 must not be SYM_MAP_EMPTY. 0 or -ENOMEM. */
int sym_map_put(struct sym_map *map, uint64_t k1, uint64_t k2, uint64_t value);
/* 64-bit FNV-1a of len bytes; used for string and build-id keys. */
uint64_t sym_map_hash(const void *data, size_t len);

/* ---- sym_str.c: interned strings, demangled names ---- */

struct sym_str_entry;

struct sym_strtab {
    struct sym_str_entry *slots;  /* owned; open addressing */
    size_t cap;                   /* power of two */
    size_t n;                     /* used slots */
    struct sym_str_chunk *chunks; /* owned; string bytes live here */
};

void sym_str_init(struct sym_strtab *tab);
void sym_str_fini(struct sym_strtab *tab);
/* Returns the interned copy of s, valid until sym_str_fini(); NULL on ENOMEM. */
const char *sym_str_intern(struct sym_strtab *tab, const char *s);
/* Returns the interned demangled form of a (possibly mangled) name: C++
 * names through the libstdc++ demangler, anything else unchanged. Each
 * distinct name is demangled once. NULL on ENOMEM. */
const char *sym_str_demangle(struct sym_strtab *tab, const char *name);

/* ---- sym_symtab.c: an ELF file's function symbols, sorted ---- */

struct sym_symtab {
    struct sym_elfsym *syms; /* owned; sorted by address, one per address */
    size_t n;
    int built; /* 1 once sym_symtab_build() ran */
};

/* Indexes the function symbols of mod (.symtab, else .dynsym). 0 or -ENOMEM. */
int sym_symtab_build(struct sym_symtab *t, Dwfl_Module *mod);
void sym_symtab_free(struct sym_symtab *t);
/* Raw (mangled) name of the function symbol containing addr, borrowed from
 * the module's ELF; NULL when none. */
const char *sym_symtab_find(const struct sym_symtab *t, uint64_t addr);

/* ---- sym_dwarf.c: one ELF file, its Dwfl and its function index ---- */

struct sym_file {
    const char *path;         /* interned: the module path as registered */
    uint8_t build_id[40];     /* NT_GNU_BUILD_ID from the MODULE record */
    size_t build_id_len;      /* 0 when the record had none */
    int opened;               /* 0 until sym_dwarf_open() ran once */
    Dwfl *dwfl;               /* owned; NULL when the file could not be used */
    Dwfl_Module *mod;         /* borrowed from dwfl */
    struct sym_map cus;       /* CU DIE -> struct sym_cu * (owned) */
    struct sym_symtab symtab; /* built at the first lookup needing it */
};

/* One frame as sym_dwarf_lookup() finds it, before sym.c adds the module. */
struct sym_dwarf_frame {
    const char *function; /* interned, or NULL */
    const char *file;     /* interned, or NULL */
    uint32_t line, column;
    int inlined;
    int mangled; /* 1 when function came from a C++ linkage name */
};

#define SYM_MAX_CHAIN 64 /* deepest inline chain kept; real code stays far below */

/* Opens f once: the file at its path when its build-id matches, else a debug
 * file found by build-id under the debug directories. Failure is not an
 * error: f->dwfl stays NULL and lookups return an unknown frame. */
void sym_dwarf_open(struct sym_file *f, const Dwfl_Callbacks *callbacks,
                    const char *const *build_id_dirs);
/* Frees what sym_dwarf_open() and lookups allocated in f. */
void sym_dwarf_close(struct sym_file *f);
/* Resolves addr (a file address: pc - load_bias, already -1 for return
 * addresses) into out[0..SYM_MAX_CHAIN), innermost first. Returns the count
 * (>= 1; one frame with function NULL when nothing is known) or -ENOMEM. */
int sym_dwarf_lookup(struct sym_file *f, struct sym_strtab *strs, uint64_t addr,
                     struct sym_dwarf_frame *out);

#endif /* MEMTRACE_SYM_INT_H */
