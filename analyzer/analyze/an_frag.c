/*
 * an_frag.c — external and internal fragmentation of a process's live heap
 *
 * analyze.c calls an_frag_measure() at a process's peak, periodically and at
 * its end. The live blocks are sorted by address; consecutive blocks closer
 * than AN_FRAG_RANGE_SPLIT belong to one heap address range, and the bytes
 * between them (minus glibc's chunk header) are free gaps inside the heap.
 * external = 1 - largest gap / total gap bytes (0 when there is no gap);
 * internal = sum(usable - requested) / sum(usable). Exact definitions and
 * their reasons: docs/metrics.md, "Fragmentation". Cost O(n log n) in live
 * blocks, so analyze.c rations the calls.
 *
 * SPDX-License-Identifier: MIT
 */
#include "analyze/analyze_int.h"

#include <errno.h>
#include <stdlib.h>

/* A gap this large or larger separates two heap address ranges: glibc's
 * main heap, its per-thread arenas and mmapped chunks are separate
 * regions, and the space between them is not the allocator's free memory.
 * 1 MiB is far above any hole glibc keeps inside one region by default
 * (M_TRIM_THRESHOLD 128 KiB trims the top; larger requests are mmapped). */
#define AN_FRAG_RANGE_SPLIT (1ull << 20)

/* glibc x86_64: the next chunk's user pointer is 8 bytes after the end of
 * this chunk's usable area (its size field). Not free memory. */
#define AN_FRAG_CHUNK_HDR 8u

static int an_frag_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int an_frag_measure(struct an_state *st, struct an_proc *p, struct an_frag *out)
{
    size_t n = an_live_entries(p);
    *out = (struct an_frag){0};
    if (p->live_usable)
        out->internal = (double)(p->live_usable - p->live_bytes) / (double)p->live_usable;
    if (!n) return 0;
    if (n * 2 > st->frag_cap) {
        uint64_t *nb = realloc(st->frag_buf, n * 2 * sizeof *nb);
        if (!nb) return -ENOMEM;
        st->frag_buf = nb;
        st->frag_cap = n * 2;
    }
    uint64_t *a = st->frag_buf;
    size_t k = 0;
    for (size_t i = 0; i < p->blocks.cap; i++) {
        if (!an_live_entry(p, i)) continue;
        const struct an_block *b = &st->pool[p->blocks.e[i].val];
        a[2 * k] = b->addr;
        a[2 * k + 1] = b->addr + (b->usable > b->size ? b->usable : b->size);
        k++;
    }
    qsort(a, k, 2 * sizeof *a, an_frag_cmp);
    uint64_t range_lo = a[0], end = a[1];
    out->n_ranges = 1;
    for (size_t i = 1; i < k; i++) {
        uint64_t lo = a[2 * i], hi = a[2 * i + 1];
        uint64_t d = lo > end ? lo - end : 0;
        if (d >= AN_FRAG_RANGE_SPLIT) {
            out->span_bytes += end - range_lo;
            out->n_ranges++;
            range_lo = lo;
        } else if (d > AN_FRAG_CHUNK_HDR) {
            uint64_t gap = d - AN_FRAG_CHUNK_HDR;
            out->free_bytes += gap;
            if (gap > out->largest_gap) out->largest_gap = gap;
        }
        if (hi > end) end = hi;
    }
    out->span_bytes += end - range_lo;
    if (out->free_bytes)
        out->external = 1.0 - (double)out->largest_gap / (double)out->free_bytes;
    return 0;
}
