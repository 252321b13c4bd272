/*
 * sym_str.c — interned strings and demangled names for the symbolizer
 *
 * Every string a struct sym_frame points at (function, file, module) lives
 * here, once, until sym_ctx_destroy(): thousands of frames share a few
 * hundred file names. Names are demangled with libstdc++'s __cxa_demangle
 * (the same demangler c++filt and gdb use), once per distinct mangled name.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sym/sym_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ======================== types ======================== */

struct sym_str_entry {
    const char *str;       /* interned bytes, NULL for a free slot */
    const char *demangled; /* interned demangled form, NULL until asked */
    uint64_t hash;
};

struct sym_str_chunk {
    struct sym_str_chunk *next;
    size_t used, cap;
    char bytes[];
};

#define SYM_STR_CHUNK_BYTES (64 * 1024) /* most names are short: few mallocs */
#define SYM_STR_MIN_CAP 256             /* first table size; power of two */

/* libstdc++'s demangler (cxxabi.h is C++ only, so declared here). Returns a
 * malloc'ed string, or NULL with *status != 0 when name is not mangled. */
extern char *__cxa_demangle(const char *mangled, char *out, size_t *len, int *status);

/* ======================== static helpers ======================== */

static struct sym_str_entry *str_find(struct sym_str_entry *slots, size_t cap, const char *s,
                                      uint64_t hash)
{
    size_t idx = hash & (cap - 1);
    while (slots[idx].str && (slots[idx].hash != hash || strcmp(slots[idx].str, s) != 0))
        idx = (idx + 1) & (cap - 1);
    return &slots[idx];
}

static int str_grow(struct sym_strtab *tab)
{
    size_t cap = tab->cap ? tab->cap * 2 : SYM_STR_MIN_CAP;
    struct sym_str_entry *slots = calloc(cap, sizeof(*slots));
    if (!slots) return -ENOMEM;
    for (size_t i = 0; i < tab->cap; i++) {
        struct sym_str_entry *old = &tab->slots[i];
        if (old->str) *str_find(slots, cap, old->str, old->hash) = *old;
    }
    free(tab->slots);
    tab->slots = slots;
    tab->cap = cap;
    return 0;
}

/* Copies len+1 bytes of s into the chunk list; NULL on ENOMEM. */
static char *str_store(struct sym_strtab *tab, const char *s, size_t len)
{
    struct sym_str_chunk *c = tab->chunks;
    if (!c || c->cap - c->used < len + 1) {
        size_t cap = len + 1 > SYM_STR_CHUNK_BYTES ? len + 1 : SYM_STR_CHUNK_BYTES;
        c = malloc(sizeof(*c) + cap);
        if (!c) return NULL;
        c->next = tab->chunks;
        c->used = 0;
        c->cap = cap;
        tab->chunks = c;
    }
    char *dst = c->bytes + c->used;
    memcpy(dst, s, len + 1);
    c->used += len + 1;
    return dst;
}

/* Returns the entry of s, adding it when new; NULL on ENOMEM. */
static struct sym_str_entry *str_entry(struct sym_strtab *tab, const char *s)
{
    size_t len = strlen(s);
    uint64_t hash = sym_map_hash(s, len);
    if ((tab->n + 1) * 2 > tab->cap && str_grow(tab) < 0) return NULL;
    struct sym_str_entry *e = str_find(tab->slots, tab->cap, s, hash);
    if (e->str) return e;
    char *copy = str_store(tab, s, len);
    if (!copy) return NULL;
    e->str = copy;
    e->demangled = NULL;
    e->hash = hash;
    tab->n++;
    return e;
}

/* ======================== exported functions ======================== */

void sym_str_init(struct sym_strtab *tab)
{
    memset(tab, 0, sizeof(*tab));
}

void sym_str_fini(struct sym_strtab *tab)
{
    while (tab->chunks) {
        struct sym_str_chunk *next = tab->chunks->next;
        free(tab->chunks);
        tab->chunks = next;
    }
    free(tab->slots);
    sym_str_init(tab);
}

const char *sym_str_intern(struct sym_strtab *tab, const char *s)
{
    struct sym_str_entry *e = str_entry(tab, s);
    return e ? e->str : NULL;
}

const char *sym_str_demangle(struct sym_strtab *tab, const char *name)
{
    struct sym_str_entry *e = str_entry(tab, name);
    if (!e) return NULL;
    if (e->demangled) return e->demangled;
    const char *result = e->str;
    /* Only Itanium-ABI names start with _Z; a C name like "Zap" must stay. */
    if (name[0] == '_' && name[1] == 'Z') {
        int status = 0;
        char *plain = __cxa_demangle(name, NULL, NULL, &status);
        if (plain && status == 0) {
            /* Interning may grow the table and move e: keep the string only. */
            const char *interned = sym_str_intern(tab, plain);
            free(plain);
            if (!interned) return NULL;
            result = interned;
            e = str_entry(tab, name);
            if (!e) return NULL;
        } else {
            free(plain);
        }
    }
    e->demangled = result;
    return result;
}
