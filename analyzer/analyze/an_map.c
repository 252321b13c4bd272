/*
 * an_map.c — the uint64 -> uint64 hash map behind every table of the analysis
 *
 * Live blocks, freed addresses, threads, sites, frames and processes are all
 * looked up through it. Open addressing with linear probing keeps a lookup
 * to one or two cache lines; deletion shifts the following entries back
 * (no tombstones), so heavy address reuse never degrades the table. Load
 * stays at or below 1/2. Key 0 marks an empty slot: it is never found and
 * cannot be inserted (-EINVAL), whatever a forged trace says.
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
    m->e = calloc(cap, sizeof *m->e);
    m->cap = m->e ? cap : 0;
    m->n = 0;
    return m->e ? 0 : -ENOMEM;
}

void an_map_fini(struct an_map *m)
{
    free(m->e);
    m->e = NULL;
    m->cap = m->n = 0;
}

uint64_t *an_map_ref(struct an_map *m, uint64_t key)
{
    if (!m->cap || !key) return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = an_map_slot(key, m->cap);; i = (i + 1) & mask) {
        if (m->e[i].key == key) return &m->e[i].val;
        if (!m->e[i].key) return NULL;
    }
}

int an_map_get(const struct an_map *m, uint64_t key, uint64_t *val)
{
    if (!m->cap || !key) return 0;
    size_t mask = m->cap - 1;
    for (size_t i = an_map_slot(key, m->cap);; i = (i + 1) & mask) {
        if (m->e[i].key == key) {
            *val = m->e[i].val;
            return 1;
        }
        if (!m->e[i].key) return 0;
    }
}

static int an_map_grow(struct an_map *m)
{
    struct an_map big;
    int rc = an_map_init(&big, m->cap);
    if (rc) return rc;
    for (size_t i = 0; i < m->cap; i++)
        if (m->e[i].key) an_map_put(&big, m->e[i].key, m->e[i].val);
    an_map_fini(m);
    *m = big;
    return 0;
}

int an_map_swap(struct an_map *m, uint64_t key, uint64_t val, uint64_t *old)
{
    if (!key) return -EINVAL;
    if ((m->n + 1) * 2 > m->cap) {
        int rc = m->cap ? an_map_grow(m) : an_map_init(m, AN_MAP_MIN_CAP);
        if (rc) return rc;
    }
    size_t mask = m->cap - 1;
    size_t i = an_map_slot(key, m->cap);
    while (m->e[i].key && m->e[i].key != key) i = (i + 1) & mask;
    int had = m->e[i].key != 0;
    if (had) *old = m->e[i].val;
    else m->n++;
    m->e[i] = (struct an_map_ent){key, val};
    return had;
}

int an_map_put(struct an_map *m, uint64_t key, uint64_t val)
{
    uint64_t old;
    int rc = an_map_swap(m, key, val, &old);
    return rc < 0 ? rc : 0;
}

int an_map_del(struct an_map *m, uint64_t key, uint64_t *val)
{
    if (!m->cap || !key) return 0;
    size_t mask = m->cap - 1;
    size_t i = an_map_slot(key, m->cap);
    while (m->e[i].key != key) {
        if (!m->e[i].key) return 0;
        i = (i + 1) & mask;
    }
    if (val) *val = m->e[i].val;
    /* Backward shift: move later entries of the run into the hole when
     * their home slot does not lie cyclically in (hole, j]. */
    size_t hole = i;
    for (size_t j = (i + 1) & mask; m->e[j].key; j = (j + 1) & mask) {
        size_t home = an_map_slot(m->e[j].key, m->cap);
        int between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (between) continue;
        m->e[hole] = m->e[j];
        hole = j;
    }
    m->e[hole].key = 0;
    m->n--;
    return 1;
}
