/*
 * live_map.c — the uint64-keyed hash map of the live aggregator
 *
 * Live blocks by address, freed addresses, cells by (stack, thread): every
 * table of analyzer/live is one of these. Open addressing with linear
 * probing and backward-shift deletion, so a delete leaves no tombstone and
 * lookups stay short under the alloc/free churn of a live heap. Grows at
 * 50% load; never shrinks (a heap that was big once may be big again).
 *
 * SPDX-License-Identifier: MIT
 */
#include "live/live_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LIVE_MAP_EMPTY UINT64_MAX /* the one key callers may not use */
#define LIVE_MAP_MIN_CAP 64u      /* power of two so that & works */

static size_t live_map_slot(uint64_t key, size_t cap)
{
    key ^= key >> 33; /* murmur3 finalizer: addresses share low bits */
    key *= 0xff51afd7ed558ccdull;
    key ^= key >> 33;
    return (size_t)key & (cap - 1);
}

static int live_map_grow(struct live_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : LIVE_MAP_MIN_CAP;
    uint64_t *keys = malloc(cap * sizeof *keys), *vals = malloc(cap * 2 * sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return -ENOMEM;
    }
    memset(keys, 0xff, cap * sizeof *keys);
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i] == LIVE_MAP_EMPTY) continue;
        size_t j = live_map_slot(m->keys[i], cap);
        while (keys[j] != LIVE_MAP_EMPTY) j = (j + 1) & (cap - 1);
        keys[j] = m->keys[i];
        vals[2 * j] = m->vals[2 * i];
        vals[2 * j + 1] = m->vals[2 * i + 1];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return 0;
}

/* Slot of key, or SIZE_MAX. */
static size_t live_map_find(const struct live_map *m, uint64_t key)
{
    if (!m->cap) return SIZE_MAX;
    for (size_t i = live_map_slot(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == key) return i;
        if (m->keys[i] == LIVE_MAP_EMPTY) return SIZE_MAX;
    }
}

void live_map_fini(struct live_map *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

int live_map_get(const struct live_map *m, uint64_t key, uint64_t *v0, uint64_t *v1)
{
    size_t i = live_map_find(m, key);
    if (i == SIZE_MAX) return 0;
    if (v0) *v0 = m->vals[2 * i];
    if (v1) *v1 = m->vals[2 * i + 1];
    return 1;
}

int live_map_put(struct live_map *m, uint64_t key, uint64_t v0, uint64_t v1)
{
    size_t i = live_map_find(m, key);
    if (i == SIZE_MAX) {
        if ((m->n + 1) * 2 > m->cap && live_map_grow(m)) return -ENOMEM;
        i = live_map_slot(key, m->cap);
        while (m->keys[i] != LIVE_MAP_EMPTY) i = (i + 1) & (m->cap - 1);
        m->keys[i] = key;
        m->n++;
    }
    m->vals[2 * i] = v0;
    m->vals[2 * i + 1] = v1;
    return 0;
}

int live_map_del(struct live_map *m, uint64_t key, uint64_t *v0, uint64_t *v1)
{
    size_t i = live_map_find(m, key);
    if (i == SIZE_MAX) return 0;
    if (v0) *v0 = m->vals[2 * i];
    if (v1) *v1 = m->vals[2 * i + 1];
    size_t mask = m->cap - 1;
    /* backward shift: pull later members of the run into the hole */
    for (size_t j = (i + 1) & mask; m->keys[j] != LIVE_MAP_EMPTY; j = (j + 1) & mask) {
        size_t home = live_map_slot(m->keys[j], m->cap);
        if (((j - home) & mask) < ((j - i) & mask)) continue; /* home is after the hole */
        m->keys[i] = m->keys[j];
        m->vals[2 * i] = m->vals[2 * j];
        m->vals[2 * i + 1] = m->vals[2 * j + 1];
        i = j;
    }
    m->keys[i] = LIVE_MAP_EMPTY;
    m->n--;
    return 1;
}

uint64_t *live_map_ref(const struct live_map *m, uint64_t key)
{
    size_t i = live_map_find(m, key);
    return i == SIZE_MAX ? NULL : &m->vals[2 * i];
}

uint64_t *live_map_upsert(struct live_map *m, uint64_t key, int *created)
{
    if ((m->n + 1) * 2 > m->cap && live_map_grow(m)) return NULL;
    size_t i = live_map_slot(key, m->cap);
    for (; m->keys[i] != LIVE_MAP_EMPTY; i = (i + 1) & (m->cap - 1))
        if (m->keys[i] == key) {
            *created = 0;
            return &m->vals[2 * i];
        }
    m->keys[i] = key;
    m->n++;
    m->vals[2 * i] = m->vals[2 * i + 1] = 0;
    *created = 1;
    return &m->vals[2 * i];
}

int live_reserve(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t ncap = *cap ? *cap * 2 : 16;
    while (ncap < need) ncap *= 2;
    void *n = realloc(*arr, ncap * elem);
    if (!n) return -ENOMEM;
    *arr = n;
    *cap = ncap;
    return 0;
}

int live_map_each(struct live_map *m, int (*fn)(void *ctx, uint64_t key, uint64_t *v), void *ctx)
{
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i] == LIVE_MAP_EMPTY) continue;
        int rc = fn(ctx, m->keys[i], &m->vals[2 * i]);
        if (rc) return rc;
    }
    return 0;
}
