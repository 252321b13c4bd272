/*
 * an_errors.c — refining the preload's error records into the kinds users read
 *
 * The preload only knows "not live", "mismatch" and "realloc of not live";
 * the analysis knows the history of every address of the process, so it
 * tells (docs/metrics.md, "Memory errors"):
 *   1. freed before and not allocated since      -> double_free / realloc_of_freed
 *   2. inside a live block                        -> invalid_* / interior
 *   3. inside a PT_LOAD segment of a loaded module -> invalid_* / global
 *   4. above every loaded module (where Linux puts the main thread's stack,
 *      at the top of the address space)           -> invalid_* / stack
 *   5. anything else                              -> invalid_* / unknown
 * Thread stacks are mmapped like heap regions, so a pointer into another
 * thread's stack falls under 5.
 *
 * SPDX-License-Identifier: MIT
 */
#include "analyze/analyze_int.h"

#include "trace/trace.h"

#define AN_USER_TOP (1ull << 47) /* end of x86_64 user address space */

struct an_err {
    const char *kind, *subkind;
    const struct an_block *blk;  /* the block concerned, where known */
    uint32_t alloc_stack, free_stack, module_id;
    uint64_t block_addr;
    int have_block_addr;
};

/* The live block that contains addr strictly inside, or NULL. O(live) but
 * errors are rare. */
static const struct an_block *an_err_interior(struct an_state *st, struct an_proc *p,
                                              uint64_t addr)
{
    for (size_t i = 0; i < p->blocks.cap; i++) {
        if (!an_live_entry(p, i)) continue;
        const struct an_block *b = &st->pool[p->blocks.e[i].val];
        uint64_t end = b->addr + (b->usable > b->size ? b->usable : b->size);
        if (addr > b->addr && addr < end) return b;
    }
    return NULL;
}

static int an_err_above_modules(const struct an_proc *p, uint64_t addr)
{
    uint64_t top = 0;
    for (size_t i = 0; i < p->n_mods; i++)
        if (p->mods[i].module_id && !p->mods[i].unloaded && p->mods[i].hi > top)
            top = p->mods[i].hi;
    return top && addr > top && addr < AN_USER_TOP;
}

static void an_err_classify(struct an_state *st, struct an_proc *p, uint64_t addr,
                            const char *twice, const char *invalid, struct an_err *e)
{
    uint64_t idx;
    if (an_map_get(&p->blocks, addr, &idx) && (idx & AN_FREED_BIT)) {
        e->kind = twice;
        e->blk = &st->pool[(uint32_t)idx];
        e->alloc_stack = p->sites[e->blk->site].stack;
        e->free_stack = e->blk->free_stack;
        return;
    }
    e->kind = invalid;
    const struct an_block *b = an_err_interior(st, p, addr);
    const struct an_module *m;
    if (b) {
        e->subkind = "interior";
        e->blk = b;
        e->alloc_stack = p->sites[b->site].stack;
        e->block_addr = b->addr;
        e->have_block_addr = 1;
    } else if ((m = an_sym_module_at(p, addr))) {
        e->subkind = "global";
        e->module_id = m->module_id;
    } else if (an_err_above_modules(p, addr)) {
        e->subkind = "stack";
    } else {
        e->subkind = "unknown";
    }
}

static void an_bind_u(sqlite3_stmt *s, int i, uint64_t v)
{
    if (v) sqlite3_bind_int64(s, i, (int64_t)v);
    else sqlite3_bind_null(s, i);
}

int an_ev_error(struct an_state *st, struct an_proc *p, const struct mt_rec_error *r)
{
    struct an_err e = {0};
    uint64_t size = 0;
    if (r->kind == MT_ERR_MISMATCH) {
        e.kind = "mismatched_free";
        e.alloc_stack = an_stack_global(st, p, r->alloc_stack_id);
        size = r->alloc_size;
        e.blk = an_live_at(st, p, r->addr);
    } else if (r->kind == MT_ERR_REALLOC_NOT_LIVE) {
        an_err_classify(st, p, r->addr, "realloc_of_freed", "invalid_realloc", &e);
    } else {
        an_err_classify(st, p, r->addr, "double_free", "invalid_free", &e);
    }
    if (e.blk && !size) size = e.blk->size;
    p->n_errors++;
    sqlite3_stmt *s = st->st[AN_ST_ERROR];
    sqlite3_bind_int64(s, 1, p->proc_id);
    sqlite3_bind_int64(s, 2, r->tid);
    sqlite3_bind_int64(s, 3, (int64_t)r->c.seq);
    sqlite3_bind_int64(s, 4, (int64_t)(r->c.t_ns - st->start_mono_ns));
    sqlite3_bind_text(s, 5, e.kind, -1, SQLITE_STATIC);
    if (e.subkind) sqlite3_bind_text(s, 6, e.subkind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, (int64_t)r->addr);
    if (e.blk || size) sqlite3_bind_int64(s, 8, (int64_t)size);
    sqlite3_bind_text(s, 9, trace_api_name(r->api), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 10, trace_family_name(r->family), -1, SQLITE_STATIC);
    if (r->kind == MT_ERR_MISMATCH)
        sqlite3_bind_text(s, 11, trace_family_name(r->alloc_family), -1, SQLITE_STATIC);
    else if (e.blk)
        sqlite3_bind_text(s, 11, trace_family_name(e.blk->family), -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 12, an_stack_global(st, p, r->stack_id));
    an_bind_u(s, 13, e.alloc_stack);
    an_bind_u(s, 14, e.free_stack);
    if (e.blk && !st->opts->no_allocations) sqlite3_bind_int64(s, 15, e.blk->alloc_id);
    if (e.have_block_addr) sqlite3_bind_int64(s, 16, (int64_t)e.block_addr);
    an_bind_u(s, 17, e.module_id);
    return an_out_step(st, s);
}
