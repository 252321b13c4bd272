/*
 * an_sym.c — raw stacks to global, symbolized, deduplicated stacks
 *
 * analyze.c hands every MODULE record and every STACK record of a process
 * here. A frame's pc is mapped to its module by the PT_LOAD segments known
 * in that process when the stack was defined; leading frames inside
 * libmemtrace.so are stripped; each remaining pc is resolved once through
 * the symbolizer (analyzer/sym/sym.h: inlined chain, innermost first) into
 * frames rows keyed by (module, offset, chain index); a stack is the
 * sequence of its frame ids, interned globally so equal contents from any
 * process share one stack_id. Without the symbolizer linked in, frames are
 * module + offset. Rows: docs/schema.md (modules, frames, stacks).
 *
 * SPDX-License-Identifier: MIT
 */
#include "analyze/analyze_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sym/sym.h"

/* Weak: the analysis still works (module + offset frames) in a build
 * without the symbolizer. */
#pragma weak sym_ctx_create
#pragma weak sym_ctx_destroy
#pragma weak sym_module_add
#pragma weak sym_resolve

#define AN_SYM_MAX_CHAIN 32 /* inlined frames kept per pc; deeper chains are rare */

struct an_gmod {
    char *path;           /* owned */
    char build_id[81];    /* hex, "" when none */
    int is_memtrace;
};

struct an_gstack {
    uint64_t hash;
    uint32_t off, n;      /* frame ids in sym->fr_store[off .. off+n) */
};

struct an_sym {
    struct sym_ctx *ctx;       /* owned; NULL without symbolizer */
    struct an_gmod *mods;      /* owned; index = module_id - 1 */
    size_t n_mods, cap_mods;
    struct an_map pc_cache;    /* (module_id << 48 | offset) -> first frame id << 8 | n */
    uint32_t next_frame_id;
    uint32_t *fr_store;        /* owned */
    size_t n_fr, cap_fr;
    struct an_gstack *stacks;  /* owned; index = stack_id - 1 */
    size_t n_stacks, cap_stacks;
    struct an_map stack_index; /* content hash (probed) -> stack_id */
};

/* ------------------------------------------------------------ helpers */

static int an_sym_reserve(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t ncap = *cap ? *cap * 2 : 64;
    while (ncap < need) ncap *= 2;
    void *n = realloc(*arr, ncap * elem);
    if (!n) return -ENOMEM;
    *arr = n;
    *cap = ncap;
    return 0;
}

static int an_sym_is_memtrace(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return !strncmp(base, "libmemtrace", 11);
}

/* Global module id for (path, build id), adding a modules row if new. */
static int an_sym_gmod(struct an_state *st, const char *path, const char *bid, uint32_t *out)
{
    struct an_sym *sy = st->sym;
    for (size_t i = 0; i < sy->n_mods; i++)
        if (!strcmp(sy->mods[i].path, path) && !strcmp(sy->mods[i].build_id, bid)) {
            *out = (uint32_t)i + 1;
            return 0;
        }
    if (an_sym_reserve((void **)&sy->mods, &sy->cap_mods, sy->n_mods + 1, sizeof *sy->mods))
        return -ENOMEM;
    struct an_gmod *g = &sy->mods[sy->n_mods];
    g->path = strdup(path);
    if (!g->path) return -ENOMEM;
    snprintf(g->build_id, sizeof g->build_id, "%s", bid);
    g->is_memtrace = an_sym_is_memtrace(path);
    *out = (uint32_t)++sy->n_mods;
    sqlite3_stmt *s = st->st[AN_ST_MODULE];
    sqlite3_bind_int64(s, 1, *out);
    sqlite3_bind_text(s, 2, g->path, -1, SQLITE_STATIC);
    if (*bid) sqlite3_bind_text(s, 3, g->build_id, -1, SQLITE_STATIC);
    else sqlite3_bind_null(s, 3);
    sqlite3_bind_int(s, 4, g->is_memtrace);
    return an_out_step(st, s);
}

static void an_sym_hex(const uint8_t *b, uint32_t n, char *out)
{
    if (n > 40) n = 40;
    for (uint32_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", b[i]);
    out[2 * n] = 0;
}

/* ------------------------------------------------------------ modules */

int an_sym_create(struct an_state *st, const char *const *debug_paths)
{
    struct an_sym *sy = calloc(1, sizeof *sy);
    if (!sy) return -ENOMEM;
    st->sym = sy;
    sy->next_frame_id = 1;
    if (sym_ctx_create && sym_ctx_create(debug_paths, &sy->ctx)) sy->ctx = NULL;
    /* stack 0: "no stack" */
    sqlite3_stmt *s = st->st[AN_ST_STACK];
    sqlite3_bind_int64(s, 1, 0);
    sqlite3_bind_int64(s, 2, 0);
    sqlite3_bind_null(s, 3);
    return an_out_step(st, s);
}

void an_sym_destroy(struct an_state *st)
{
    struct an_sym *sy = st->sym;
    if (!sy) return;
    if (sy->ctx && sym_ctx_destroy) sym_ctx_destroy(sy->ctx);
    for (size_t i = 0; i < sy->n_mods; i++) free(sy->mods[i].path);
    free(sy->mods);
    free(sy->fr_store);
    free(sy->stacks);
    an_map_fini(&sy->pc_cache);
    an_map_fini(&sy->stack_index);
    free(sy);
    st->sym = NULL;
}

int an_sym_module(struct an_state *st, struct an_proc *p, const struct mt_rec_module *rec)
{
    const struct mt_segment *segs = (const struct mt_segment *)(rec + 1);
    const char *path = (const char *)(segs + rec->n_segments);
    char bid[81];
    an_sym_hex(rec->build_id, rec->build_id_len, bid);
    uint32_t id = rec->module_id;
    if (id >= p->n_mods) {
        size_t cap = p->n_mods;
        if (an_sym_reserve((void **)&p->mods, &cap, id + 1, sizeof *p->mods)) return -ENOMEM;
        memset(p->mods + p->n_mods, 0, (cap - p->n_mods) * sizeof *p->mods);
        p->n_mods = cap;
    }
    struct an_module *m = &p->mods[id];
    free(m->segs);
    memset(m, 0, sizeof *m);
    int rc = an_sym_gmod(st, path, bid, &m->module_id);
    if (rc) return rc;
    m->segs = malloc((rec->n_segments + 1) * sizeof *segs);
    if (!m->segs) return -ENOMEM;
    memcpy(m->segs, segs, rec->n_segments * sizeof *segs);
    m->n_segs = rec->n_segments;
    m->load_bias = rec->load_bias;
    m->load_ns = rec->c.t_ns - st->start_mono_ns;
    m->is_memtrace = st->sym->mods[m->module_id - 1].is_memtrace;
    m->lo = UINT64_MAX;
    for (uint32_t i = 0; i < m->n_segs; i++) {
        uint64_t lo = m->load_bias + segs[i].vaddr, hi = lo + segs[i].memsz;
        if (lo < m->lo) m->lo = lo;
        if (hi > m->hi) m->hi = hi;
    }
    m->sym_handle = -1;
    if (st->sym->ctx && sym_module_add)
        m->sym_handle = sym_module_add(st->sym->ctx, path, rec->build_id, rec->build_id_len,
                                       rec->load_bias, segs, rec->n_segments);
    return 0;
}

const struct an_module *an_sym_module_at(const struct an_proc *p, uint64_t addr)
{
    for (size_t i = 0; i < p->n_mods; i++) {
        const struct an_module *m = &p->mods[i];
        if (!m->module_id || m->unloaded || addr < m->lo || addr >= m->hi) continue;
        for (uint32_t k = 0; k < m->n_segs; k++) {
            uint64_t lo = m->load_bias + m->segs[k].vaddr;
            if (addr >= lo && addr < lo + m->segs[k].memsz) return m;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------ frames */

static int an_sym_frame_row(struct an_state *st, const struct sym_frame *f, uint32_t module_id,
                            uint64_t offset, uint32_t *id)
{
    sqlite3_stmt *s = st->st[AN_ST_FRAME];
    *id = st->sym->next_frame_id++;
    sqlite3_bind_int64(s, 1, *id);
    if (f && f->function) sqlite3_bind_text(s, 2, f->function, -1, SQLITE_STATIC);
    else sqlite3_bind_null(s, 2);
    if (f && f->file) sqlite3_bind_text(s, 3, f->file, -1, SQLITE_STATIC);
    else sqlite3_bind_null(s, 3);
    sqlite3_bind_int64(s, 4, f ? f->line : 0);
    sqlite3_bind_int64(s, 5, f ? f->column : 0);
    if (module_id) sqlite3_bind_int64(s, 6, module_id);
    else sqlite3_bind_null(s, 6);
    sqlite3_bind_int64(s, 7, (int64_t)offset);
    sqlite3_bind_int(s, 8, f ? f->inlined : 0);
    return an_out_step(st, s);
}

/* Frames of one pc: first frame id and count, resolved once per module+offset. */
static int an_sym_pc(struct an_state *st, const struct an_module *m, uint64_t pc, int is_return,
                     uint32_t *first, uint32_t *n)
{
    struct an_sym *sy = st->sym;
    uint64_t off = m ? pc - m->load_bias : pc;
    uint64_t key = ((uint64_t)(m ? m->module_id : 0) << 48) ^ (off & 0xffffffffffffull) ^
                   ((uint64_t)is_return << 63);
    uint64_t v;
    if (an_map_get(&sy->pc_cache, key + 1, &v)) {
        *first = (uint32_t)(v >> 8);
        *n = (uint32_t)(v & 0xff);
        return 0;
    }
    struct sym_frame fr[AN_SYM_MAX_CHAIN];
    int cnt = 0;
    if (m && m->sym_handle >= 0 && sy->ctx && sym_resolve)
        cnt = sym_resolve(sy->ctx, m->sym_handle, pc, is_return, fr, AN_SYM_MAX_CHAIN);
    int rc = 0;
    uint32_t id = 0;
    if (cnt <= 0) {
        rc = an_sym_frame_row(st, NULL, m ? m->module_id : 0, off, &id);
        *first = id;
        *n = 1;
    } else {
        for (int i = 0; i < cnt && !rc; i++) {
            rc = an_sym_frame_row(st, &fr[i], m->module_id, off, &id);
            if (i == 0) *first = id;
        }
        *n = (uint32_t)cnt;
    }
    if (rc) return rc;
    return an_map_put(&sy->pc_cache, key + 1, (uint64_t)*first << 8 | *n);
}

/* ------------------------------------------------------------ stacks */

static uint64_t an_sym_hash(const uint32_t *ids, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull ^ n;
    for (size_t i = 0; i < n; i++) h = (h ^ ids[i]) * 0x100000001b3ull;
    return h | 1;
}

static int an_sym_stack_rows(struct an_state *st, uint32_t id, const uint32_t *ids, size_t n)
{
    sqlite3_stmt *s = st->st[AN_ST_STACK];
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, (int64_t)n);
    if (n) sqlite3_bind_int64(s, 3, ids[0]);
    else sqlite3_bind_null(s, 3);
    int rc = an_out_step(st, s);
    s = st->st[AN_ST_STACK_FRAME];
    for (size_t i = 0; i < n && !rc; i++) {
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_int64(s, 2, (int64_t)i);
        sqlite3_bind_int64(s, 3, ids[i]);
        rc = an_out_step(st, s);
    }
    return rc;
}

/* Interns a frame-id sequence (stored at fr_store[n_fr..n_fr+n)). */
static int an_sym_intern(struct an_state *st, size_t n, uint32_t *out)
{
    struct an_sym *sy = st->sym;
    const uint32_t *ids = sy->fr_store + sy->n_fr;
    uint64_t h = an_sym_hash(ids, n), v;
    for (uint64_t key = h;; key += 2) { /* probe on (rare) 64-bit collisions */
        if (!an_map_get(&sy->stack_index, key, &v)) break;
        const struct an_gstack *g = &sy->stacks[v - 1];
        if (g->n == n && !memcmp(sy->fr_store + g->off, ids, n * sizeof *ids)) {
            *out = (uint32_t)v;
            return 0;
        }
        h = key + 2;
    }
    if (an_sym_reserve((void **)&sy->stacks, &sy->cap_stacks, sy->n_stacks + 1,
                       sizeof *sy->stacks))
        return -ENOMEM;
    sy->stacks[sy->n_stacks] = (struct an_gstack){h, (uint32_t)sy->n_fr, (uint32_t)n};
    *out = (uint32_t)++sy->n_stacks;
    sy->n_fr += n;
    int rc = an_map_put(&sy->stack_index, h, *out);
    return rc ? rc : an_sym_stack_rows(st, *out, ids, n);
}

int an_sym_stack(struct an_state *st, struct an_proc *p, const uint64_t *pcs, uint32_t n,
                 uint32_t *out_stack)
{
    struct an_sym *sy = st->sym;
    uint32_t i = 0;
    const struct an_module *m = NULL;
    for (; i < n; i++) { /* strip memtrace's own frames from the top */
        m = an_sym_module_at(p, pcs[i]);
        if (!m || !m->is_memtrace) break;
    }
    size_t start = sy->n_fr;
    for (uint32_t k = i; k < n; k++) {
        if (k != i) m = an_sym_module_at(p, pcs[k]);
        uint32_t first, cnt;
        int rc = an_sym_pc(st, m, pcs[k], 1, &first, &cnt);
        if (rc) return rc;
        if (an_sym_reserve((void **)&sy->fr_store, &sy->cap_fr, sy->n_fr + cnt + 1,
                           sizeof *sy->fr_store))
            return -ENOMEM;
        for (uint32_t j = 0; j < cnt; j++) sy->fr_store[sy->n_fr++] = first + j;
    }
    size_t len = sy->n_fr - start;
    sy->n_fr = start; /* an_sym_intern keeps them only for a new stack */
    return an_sym_intern(st, len, out_stack);
}
