/*
 * leak.c — the block graph of the exit-time leak scan: sort, mark, cliques (runs in the target)
 *
 * leak_roots.c hands this file every live block and every root range; this
 * file decides, for each block, one of memcheck's four classes. It allocates
 * nothing (all arrays are the caller's), recurses nowhere (an explicit work
 * stack bounds memory at 2n + 2 indices) and reads only memory it is told is
 * readable. Contract and valgrind comparison: docs/leaks.md.
 *
 * Design notes
 *   1. Blocks are sorted by start address (LSD radix sort on the bits that
 *      vary); a word is looked up by binary search after a one-compare
 *      range check, so a non-pointer costs one subtraction. A start pointer
 *      (the common case) is found in a hash of block starts: one or two
 *      cache misses. Other candidates are searched first over every 64th
 *      start (small enough to stay in cache), then within one run of 64
 *      blocks: about 4 cache misses instead of 20.
 *   2. Mark phase, as memcheck's lc_push_if_a_chunk_ptr: a word that hits
 *      a block start while the word's holder is a root or a REACHABLE block
 *      makes the block REACHABLE; any other hit (an interior pointer, or any
 *      pointer held by a POSSIBLE block) makes an UNREACHED block POSSIBLE.
 *      A state change pushes the block, so a POSSIBLE block later found
 *      REACHABLE is scanned again and upgrades what it points to.
 *   3. Clique phase, as memcheck's find_leaks: blocks still UNREACHED are
 *      visited in address order; each becomes a clique leader, and every
 *      UNREACHED block reached from it through any pointer (start or
 *      interior) becomes INDIRECT. A former leader reached this way is
 *      absorbed. So a cycle has one definitely lost block, its lowest
 *      address, unless a lost block outside the cycle points into it.
 *   4. Only the requested size is scanned, whole aligned words only.
 *   5. Heuristics, as memcheck's default --leak-check-heuristics=all: an
 *      interior pointer found where a start pointer would make the block
 *      REACHABLE counts as one when the block looks like an old-ABI
 *      std::string (ptr = block + 24, capacity + 25 == size, length <=
 *      capacity), a length-prefixed buffer (block + 8, first word = size -
 *      8), a new[] array with a cookie (block + 8, first word > 0 divides
 *      size - 8), or a secondary base of a multiply inherited object (the
 *      words at ptr and at the block start both point to vtables: tables in
 *      a readable file mapping whose first non-null words, at least two in
 *      the first 20, point into executable file mappings).
 *
 * SPDX-License-Identifier: MIT
 */
#include "leak.h"

#include <stddef.h>
#include <string.h>

#include "memtrace/trace_format.h"

/* ------------------------------------------------------------------ *
 * Types
 * ------------------------------------------------------------------ */

/* A word of target memory read through a type that may alias anything. */
typedef uint64_t __attribute__((may_alias)) leak_word;

#define LEAK_RADIX_BITS 11u                    /* 2048 counters: 16 KiB on the stack */
#define LEAK_RADIX_SIZE (1u << LEAK_RADIX_BITS)
#define LEAK_NO_CLIQUE UINT64_MAX              /* g->clique while marking from roots */
#define LEAK_TOP_SHIFT 6u                      /* top index keeps every 64th start: 1 M blocks
                                                  give 128 KiB of keys, cache resident */
#define LEAK_TOP_FANOUT (1u << LEAK_TOP_SHIFT)

/* ------------------------------------------------------------------ *
 * Sorting
 * ------------------------------------------------------------------ */

/* One counting-sort pass on bits [shift, shift + LEAK_RADIX_BITS) from src to dst. */
static void leak_radix_pass(const struct leak_block *src, struct leak_block *dst, uint64_t n,
                            unsigned shift)
{
    uint64_t count[LEAK_RADIX_SIZE];
    uint64_t sum = 0;

    memset(count, 0, sizeof(count));
    for (uint64_t i = 0; i < n; i++)
        count[(src[i].addr >> shift) & (LEAK_RADIX_SIZE - 1)]++;
    for (unsigned d = 0; d < LEAK_RADIX_SIZE; d++) {
        uint64_t c = count[d];
        count[d] = sum;
        sum += c;
    }
    for (uint64_t i = 0; i < n; i++)
        dst[count[(src[i].addr >> shift) & (LEAK_RADIX_SIZE - 1)]++] = src[i];
}

/* Sorts b by addr, stable, using tmp; only the bits that differ between
 * blocks are sorted on, so a heap inside one 4 GiB range takes 3 passes. */
static void leak_sort(struct leak_block *b, struct leak_block *tmp, uint64_t n)
{
    uint64_t diff = 0;
    struct leak_block *src = b, *dst = tmp;

    for (uint64_t i = 1; i < n; i++)
        diff |= b[i].addr ^ b[0].addr;
    for (unsigned shift = 0; shift < 64 && (diff >> shift) != 0; shift += LEAK_RADIX_BITS) {
        leak_radix_pass(src, dst, n, shift);
        struct leak_block *t = src;
        src = dst;
        dst = t;
    }
    if (src != b)
        memcpy(b, src, n * sizeof(*b));
}

/* ------------------------------------------------------------------ *
 * Start-address hash
 * ------------------------------------------------------------------ */

static uint64_t leak_hash_slot(const struct leak_graph *g, uint64_t addr)
{
    return ((addr >> 4) * 0x9e3779b97f4a7c15ull) >> g->hash_shift; /* Fibonacci hashing */
}

static void leak_hash_build(struct leak_graph *g)
{
    memset(g->hash, 0, (g->hash_mask + 1) * sizeof(*g->hash));
    for (uint64_t i = 0; i < g->n; i++) {
        uint64_t h = leak_hash_slot(g, g->blocks[i].addr);
        while (g->hash[h].idx1 != 0)
            h = (h + 1) & g->hash_mask;
        g->hash[h] = (struct leak_hash_ent){(uint32_t)(i + 1), (uint32_t)g->blocks[i].addr};
    }
}

/* Index of the block starting exactly at addr, or -1. addr must lie in
 * [g->lo, g->lo + g->span): callers range-check first. */
static int64_t leak_hash_find(const struct leak_graph *g, uint64_t addr)
{
    for (uint64_t h = leak_hash_slot(g, addr);; h = (h + 1) & g->hash_mask) {
        const struct leak_hash_ent *e = &g->hash[h];
        if (e->idx1 == 0)
            return -1;
        /* Inside [lo, lo + span) with span < 4 GiB, the low half decides. */
        if (e->addr_lo == (uint32_t)addr &&
            (g->span <= UINT32_MAX || g->blocks[e->idx1 - 1].addr == addr))
            return (int64_t)e->idx1 - 1;
    }
}

/* ------------------------------------------------------------------ *
 * Heuristics (design note 5)
 * ------------------------------------------------------------------ */

#define LEAK_VTABLE_SCAN 20u /* words looked at for two function pointers */

/* 1 if addr lies in one of the n sorted ranges; *end = that range's end. */
static int leak_in_ranges(const struct leak_range *r, uint32_t n, uint64_t addr, uint64_t *end)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (r[mid].end <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == n || addr < r[lo].start)
        return 0;
    *end = r[lo].end;
    return 1;
}

/* 1 if addr looks like a vtable: inside a readable file mapping, and the
 * first non-null words after it (two needed) point into executable ones. */
static int leak_is_vtable(const struct leak_graph *g, uint64_t addr)
{
    uint64_t end, code_end;
    unsigned n_fn = 0;

    if ((addr & 7) || addr < 4096 || !leak_in_ranges(g->file_r, g->n_file_r, addr, &end))
        return 0;
    for (unsigned i = 0; i <= LEAK_VTABLE_SCAN && addr + 8 * (i + 1) <= end; i++) {
        uint64_t fn = ((const leak_word *)addr)[i];
        if (fn == 0)
            continue;
        if (!leak_in_ranges(g->file_x, g->n_file_x, fn, &code_end))
            return 0;
        if (++n_fn == 2)
            return 1;
    }
    return 0;
}

/* 1 if the interior pointer ptr into block idx counts as a start pointer. */
static int leak_heuristic(const struct leak_graph *g, uint64_t idx, uint64_t ptr)
{
    const struct leak_block *b = &g->blocks[idx];
    const leak_word *w = (const leak_word *)b->addr;
    uint64_t off = ptr - b->addr; /* > 0 and < size: ptr is interior */

    if (g->heuristics == 0 || (g->state[idx] & LEAK_ST_NOSCAN))
        return 0;
    if ((g->heuristics & LEAK_HEUR_STDSTRING) && off == 24 && w[1] + 25 == b->size &&
        w[0] <= w[1])
        return 1;
    if ((g->heuristics & LEAK_HEUR_LENGTH64) && off == 8 && w[0] > 0 && w[0] == b->size - 8)
        return 1;
    if ((g->heuristics & LEAK_HEUR_NEWARRAY) && off == 8 && w[0] > 0 && (b->size - 8) % w[0] == 0)
        return 1;
    if ((g->heuristics & LEAK_HEUR_MULTI) && (off & 7) == 0 && off + 8 <= b->size &&
        b->size >= 8 && leak_is_vtable(g, *(const leak_word *)ptr) && leak_is_vtable(g, w[0]))
        return 1;
    return 0;
}

/* ------------------------------------------------------------------ *
 * Marking
 * ------------------------------------------------------------------ */

static void leak_push(struct leak_graph *g, uint64_t idx)
{
    /* Each push follows a state change and a block changes state at most
     * twice per phase, so 2n + 2 entries cannot overflow. */
    if (g->n_work < g->cap_work)
        g->work[g->n_work++] = (uint32_t)idx;
}

static void leak_set_state(struct leak_graph *g, uint64_t idx, unsigned st)
{
    g->state[idx] = (uint8_t)((g->state[idx] & ~LEAK_ST_MASK) | st);
}

/* Pointer ptr to block idx was found in memory whose holder is a root or
 * a REACHABLE block (prior_definite) or a POSSIBLE block. */
static void leak_reach(struct leak_graph *g, uint64_t idx, uint64_t ptr, int is_start,
                       int prior_definite)
{
    unsigned st = g->state[idx] & LEAK_ST_MASK;

    if (st == LEAK_ST_REACHABLE)
        return;
    /* A heuristic only matters where a start pointer would: memcheck asks
     * it for every interior pointer, with the same outcome. */
    if (prior_definite && (is_start || leak_heuristic(g, idx, ptr))) {
        leak_set_state(g, idx, LEAK_ST_REACHABLE);
        leak_push(g, idx);
    } else if (st == LEAK_ST_UNREACHED) {
        leak_set_state(g, idx, LEAK_ST_POSSIBLE);
        leak_push(g, idx);
    }
}

/* A pointer to block idx was found inside the clique led by g->clique. */
static void leak_reach_clique(struct leak_graph *g, uint64_t idx)
{
    if ((g->state[idx] & LEAK_ST_MASK) != LEAK_ST_UNREACHED || idx == g->clique)
        return;
    leak_set_state(g, idx, LEAK_ST_INDIRECT);
    leak_push(g, idx);
}

/* Looks at every whole aligned word of [start, end). */
static void leak_scan_words(struct leak_graph *g, uint64_t start, uint64_t end, int prior_definite)
{
    const leak_word *p = (const leak_word *)((start + 7) & ~(uint64_t)7);
    const leak_word *stop = (const leak_word *)(end & ~(uint64_t)7);
    uint64_t lo = g->lo, span = g->span;

    if ((uint64_t)p >= (uint64_t)stop)
        return;
    g->words_scanned += (uint64_t)(stop - p);
    for (; p < stop; p++) {
        uint64_t w = *p;
        if (w - lo >= span)
            continue;
        int is_start;
        int64_t idx = leak_graph_find(g, w, &is_start);
        if (idx < 0)
            continue;
        if (g->clique == LEAK_NO_CLIQUE)
            leak_reach(g, (uint64_t)idx, w, is_start, prior_definite);
        else
            leak_reach_clique(g, (uint64_t)idx);
    }
}

/* Pops until the work stack is empty, scanning each popped block. */
static void leak_drain(struct leak_graph *g)
{
    while (g->n_work > 0) {
        uint64_t idx = g->work[--g->n_work];
        if (g->state[idx] & LEAK_ST_NOSCAN)
            continue;
        int prior_definite = (g->state[idx] & LEAK_ST_MASK) != LEAK_ST_POSSIBLE;
        leak_scan_words(g, g->blocks[idx].addr, g->blocks[idx].addr + g->blocks[idx].size,
                        prior_definite);
    }
}

/* ------------------------------------------------------------------ *
 * Exported functions
 * ------------------------------------------------------------------ */

LEAK_API uint64_t leak_graph_top_len(uint64_t n)
{
    return (n >> LEAK_TOP_SHIFT) + 1;
}

LEAK_API uint64_t leak_graph_hash_len(uint64_t n)
{
    uint64_t len = 16;
    while (len < n + n / 3) /* load factor <= 3/4: linear probe runs stay short */
        len <<= 1;
    return len;
}

LEAK_API void leak_graph_init(struct leak_graph *g, struct leak_block *blocks, uint64_t n,
                              struct leak_block *tmp, uint8_t *state, uint32_t *work,
                              uint64_t *top, struct leak_hash_ent *hash)
{
    memset(g, 0, sizeof(*g));
    leak_sort(blocks, tmp, n);
    g->blocks = blocks;
    g->state = state;
    g->work = work;
    g->top = top;
    g->hash = hash;
    g->hash_mask = leak_graph_hash_len(n) - 1;
    g->hash_shift = (unsigned)(64 - __builtin_ctzll(g->hash_mask + 1));
    g->n_top = (n + LEAK_TOP_FANOUT - 1) >> LEAK_TOP_SHIFT;
    g->n = n;
    g->cap_work = 2 * n + 2;
    g->clique = LEAK_NO_CLIQUE;
    g->heuristics = LEAK_HEUR_ALL;
    if (n == 0) {
        g->lo = 1; /* span 0 rejects every word */
        return;
    }
    memset(state, 0, n);
    uint64_t hi = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t end = blocks[i].addr + (blocks[i].size ? blocks[i].size : 1);
        if (end > hi)
            hi = end;
    }
    g->lo = blocks[0].addr;
    g->span = hi - g->lo;
    for (uint64_t k = 0; k < g->n_top; k++)
        top[k] = blocks[k << LEAK_TOP_SHIFT].addr;
    leak_hash_build(g);
}

LEAK_API void leak_graph_set_files(struct leak_graph *g, const struct leak_range *file_r,
                                   uint32_t n_file_r, const struct leak_range *file_x,
                                   uint32_t n_file_x)
{
    g->file_r = file_r;
    g->n_file_r = n_file_r;
    g->file_x = file_x;
    g->n_file_x = n_file_x;
}

LEAK_API int64_t leak_graph_find(const struct leak_graph *g, uint64_t ptr, int *is_start)
{
    uint64_t lo = 0, hi = g->n_top; /* answer: last index with key <= ptr, in [lo, hi) */

    if (g->n == 0 || ptr - g->lo >= g->span)
        return -1;
    int64_t idx = leak_hash_find(g, ptr);
    if (idx >= 0) {
        *is_start = 1;
        return idx;
    }
    while (hi - lo > 1) { /* top level: n/64 keys, stays in cache */
        uint64_t mid = lo + (hi - lo) / 2;
        if (g->top[mid] <= ptr)
            lo = mid;
        else
            hi = mid;
    }
    lo <<= LEAK_TOP_SHIFT;
    hi = lo + LEAK_TOP_FANOUT < g->n ? lo + LEAK_TOP_FANOUT : g->n;
    while (hi - lo > 1) { /* bottom level: one run of at most 64 blocks */
        uint64_t mid = lo + (hi - lo) / 2;
        if (g->blocks[mid].addr <= ptr)
            lo = mid;
        else
            hi = mid;
    }
    const struct leak_block *b = &g->blocks[lo];
    *is_start = ptr == b->addr;
    if (ptr - b->addr < b->size || ptr == b->addr)
        return (int64_t)lo;
    return -1;
}

LEAK_API void leak_graph_scan_root(struct leak_graph *g, uint64_t start, uint64_t end)
{
    leak_scan_words(g, start, end, 1);
}

LEAK_API void leak_graph_root_word(struct leak_graph *g, uint64_t word)
{
    int is_start;
    int64_t idx = leak_graph_find(g, word, &is_start);

    if (idx >= 0)
        leak_reach(g, (uint64_t)idx, word, is_start, 1);
}

LEAK_API void leak_graph_mark(struct leak_graph *g)
{
    g->clique = LEAK_NO_CLIQUE;
    leak_drain(g);
}

LEAK_API void leak_graph_cliques(struct leak_graph *g)
{
    for (uint64_t i = 0; i < g->n; i++) {
        if ((g->state[i] & LEAK_ST_MASK) != LEAK_ST_UNREACHED)
            continue;
        g->clique = i;
        leak_push(g, i);
        leak_drain(g);
    }
    g->clique = LEAK_NO_CLIQUE;
}

LEAK_API uint8_t leak_graph_class(const struct leak_graph *g, uint64_t idx)
{
    switch (g->state[idx] & LEAK_ST_MASK) {
    case LEAK_ST_REACHABLE:
        return MT_LEAK_REACHABLE;
    case LEAK_ST_POSSIBLE:
        return MT_LEAK_POSSIBLE;
    case LEAK_ST_INDIRECT:
        return MT_LEAK_INDIRECT;
    default:
        return MT_LEAK_DEFINITE;
    }
}
