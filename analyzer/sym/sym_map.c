/*
 * sym_map.c — open-addressing hash map from a two-word key to a uint64
 *
 * Used by the symbolizer for its resolve cache ((pc, handle) -> frames), its
 * module registry and its per-file CU index. Linear probing, load factor at
 * most 1/2, no deletion (the symbolizer only ever adds). See sym_int.h.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sym/sym_int.h"

#include <errno.h>
#include <stdlib.h>

#define SYM_MAP_MIN_CAP 64 /* first allocation; power of two */

/* ======================== static helpers ======================== */

/* Mixes both key words (splitmix64 finalizer) so that page-aligned pcs and
 * small handles still spread over the table. */
static uint64_t map_mix(uint64_t k1, uint64_t k2)
{
    uint64_t x = k1 ^ (k2 * 0x9e3779b97f4a7c15ull);
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

static struct sym_map_slot *map_find(struct sym_map_slot *slots, size_t cap, uint64_t k1,
                                     uint64_t k2)
{
    size_t idx = map_mix(k1, k2) & (cap - 1);
    while (slots[idx].k2 != SYM_MAP_EMPTY && (slots[idx].k1 != k1 || slots[idx].k2 != k2))
        idx = (idx + 1) & (cap - 1);
    return &slots[idx];
}

static int map_grow(struct sym_map *map)
{
    size_t cap = map->cap ? map->cap * 2 : SYM_MAP_MIN_CAP;
    struct sym_map_slot *slots = malloc(cap * sizeof(*slots));
    if (!slots) return -ENOMEM;
    for (size_t i = 0; i < cap; i++) slots[i].k2 = SYM_MAP_EMPTY;
    for (size_t i = 0; i < map->cap; i++) {
        struct sym_map_slot *old = &map->slots[i];
        if (old->k2 != SYM_MAP_EMPTY) *map_find(slots, cap, old->k1, old->k2) = *old;
    }
    free(map->slots);
    map->slots = slots;
    map->cap = cap;
    return 0;
}

/* ======================== exported functions ======================== */

void sym_map_init(struct sym_map *map)
{
    map->slots = NULL;
    map->cap = 0;
    map->n = 0;
}

void sym_map_fini(struct sym_map *map)
{
    free(map->slots);
    sym_map_init(map);
}

int sym_map_get(const struct sym_map *map, uint64_t k1, uint64_t k2, uint64_t *value)
{
    if (!map->cap) return 0;
    struct sym_map_slot *slot = map_find(map->slots, map->cap, k1, k2);
    if (slot->k2 == SYM_MAP_EMPTY) return 0;
    *value = slot->value;
    return 1;
}

int sym_map_put(struct sym_map *map, uint64_t k1, uint64_t k2, uint64_t value)
{
    if ((map->n + 1) * 2 > map->cap) {
        int rc = map_grow(map);
        if (rc < 0) return rc;
    }
    struct sym_map_slot *slot = map_find(map->slots, map->cap, k1, k2);
    if (slot->k2 == SYM_MAP_EMPTY) map->n++;
    slot->k1 = k1;
    slot->k2 = k2;
    slot->value = value;
    return 0;
}

uint64_t sym_map_hash(const void *data, size_t len)
{
    const unsigned char *bytes = data;
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a offset basis */
    for (size_t i = 0; i < len; i++) {
        h ^= bytes[i];
        h *= 0x100000001b3ull; /* FNV-1a 64-bit prime */
    }
    return h;
}
