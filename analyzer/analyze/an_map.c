/*
 * an_map.c — the uint64 -> uint64 hash map behind every table of the analysis
 *
 * Live blocks, freed addresses, threads, sites, frames and processes are all
 * looked up through it. Open addressing with linear probing keeps a lookup
 * to one or two cache lines; deletion shifts the following entries back
 * (no tombstones), so heavy address reuse never degrades the table. Load
 * stays at or below 1/2. Keys must be nonzero.
 *
 * SPDX-License-Identifier: MIT
 */
#include "analyze/analyze_int.h"

#include <errno.h>
#include <stdlib.h>

#define AN_MAP_MIN_CAP 16u /* power of two, so & replaces % */

static inline size_t an_map_slot(uint64_t key, size_t cap)
{
    /* Addresses are 16-aligned; multiply-shift spreads the high bits down. */
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    h ^= h >> 29;
    return (size_t)h & (cap - 1);
}

int an_map_init(struct an_map *m, size_t cap_hint)
{
    size_t cap = AN_MAP_MIN_CAP;
    while (cap < cap_hint * 2) cap <<= 1;
    m->keys = calloc(cap, sizeof *m->keys);
    m->vals = malloc(cap * sizeof *m->vals);
    m->cap = cap;
    m->n = 0;
    if (!m->keys || !m->vals) {
        an_map_fini(m);
        return -ENOMEM;
    }
    return 0;
}

void an_map_fini(struct an_map *m)
{
    free(m->keys);
    free(m->vals);
    m->keys = m->vals = NULL;
    m->cap = m->n = 0;
}

int an_map_get(const struct an_map *m, uint64_t key, uint64_t *val)
{
    if (!m->cap) return 0;
    size_t mask = m->cap - 1;
    for (size_t i = an_map_slot(key, m->cap);; i = (i + 1) & mask) {
        if (m->keys[i] == key) {
            *val = m->vals[i];
            return 1;
        }
        if (!m->keys[i]) return 0;
    }
}

static int an_map_grow(struct an_map *m)
{
    struct an_map big;
    int rc = an_map_init(&big, m->cap);
    if (rc) return rc;
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i]) an_map_put(&big, m->keys[i], m->vals[i]);
    an_map_fini(m);
    *m = big;
    return 0;
}

int an_map_put(struct an_map *m, uint64_t key, uint64_t val)
{
    if ((m->n + 1) * 2 > m->cap) {
        int rc = m->cap ? an_map_grow(m) : an_map_init(m, AN_MAP_MIN_CAP);
        if (rc) return rc;
    }
    size_t mask = m->cap - 1;
    size_t i = an_map_slot(key, m->cap);
    while (m->keys[i] && m->keys[i] != key) i = (i + 1) & mask;
    if (!m->keys[i]) m->n++;
    m->keys[i] = key;
    m->vals[i] = val;
    return 0;
}

int an_map_del(struct an_map *m, uint64_t key, uint64_t *val)
{
    if (!m->cap) return 0;
    size_t mask = m->cap - 1;
    size_t i = an_map_slot(key, m->cap);
    while (m->keys[i] != key) {
        if (!m->keys[i]) return 0;
        i = (i + 1) & mask;
    }
    if (val) *val = m->vals[i];
    /* Backward shift: move later entries of the run into the hole when
     * their home slot does not lie cyclically in (hole, j]. */
    size_t hole = i;
    for (size_t j = (i + 1) & mask; m->keys[j]; j = (j + 1) & mask) {
        size_t home = an_map_slot(m->keys[j], m->cap);
        int between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (between) continue;
        m->keys[hole] = m->keys[j];
        m->vals[hole] = m->vals[j];
        hole = j;
    }
    m->keys[hole] = 0;
    m->n--;
    return 1;
}
