/*
 * module.c — MODULE / MODULE_UNLOAD records for the objects mapped in the target
 *
 * The analyzer symbolizes raw return addresses offline, so it needs every
 * loaded object's path, build id, load bias and PT_LOAD segments. At init
 * mod_scan_all() sends them all; afterwards stack.c calls mod_check() before
 * writing each NEW stack, which costs one dl_iterate_phdr step (the loader's
 * dlpi_adds/dlpi_subs counters) and rescans only when they moved, so the
 * MODULE of a dlopen'ed object always precedes the first STACK pointing
 * into it. Contract: docs/preload.md ("Modules"), trace_format.h.
 *
 * SPDX-License-Identifier: MIT
 */
#include "preload_int.h"

#include <elf.h>
#include <limits.h>
#include <link.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------- types */

#define MOD_INITIAL_CAP 256u /* objects; doubles when a program loads more */
#define MOD_BUILD_ID_MAX 40u /* sizeof(mt_rec_module.build_id) */

struct mod_entry {
    uint64_t bias;      /* dlpi_addr */
    uint64_t phdr;      /* dlpi_phdr address: with bias, identifies a mapping */
    uint64_t name_hash; /* guards against a different object at the same place */
    uint32_t id;        /* module id, from 0 */
    uint32_t seen;      /* found by the scan in progress */
};

static struct {
    struct mod_entry *tab;        /* arena; cap entries */
    uint32_t n;                   /* entries used */
    uint32_t cap;                 /* entries allocated */
    _Atomic uint32_t next_id;     /* next module id */
    _Atomic int lock;             /* serialises scans (rare path) */
    _Atomic uint64_t seen_adds;   /* dlpi_adds as of the last complete scan */
    _Atomic uint64_t seen_subs;   /* dlpi_subs as of the last complete scan */
    uint64_t scan_adds;           /* counters observed by the scan in progress */
    uint64_t scan_subs;
} mod;

struct mod_range_ctx {
    uint64_t addr;   /* address to find */
    uint64_t lo, hi; /* OUT: PT_LOAD range of the object holding it */
    int found;
};

/* ------------------------------------------------------------ helpers */

static uint64_t mod_name_hash(const char *name)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; name != NULL && *name; name++) h = (h ^ (uint8_t)*name) * 1099511628211ull;
    return h;
}

static void mod_lock(void)
{
    int expect = 0;
    while (!atomic_compare_exchange_weak_explicit(&mod.lock, &expect, 1, memory_order_acquire,
                                                  memory_order_relaxed)) {
        expect = 0;
        sched_yield();
    }
}

static void mod_unlock(void)
{
    atomic_store_explicit(&mod.lock, 0, memory_order_release);
}

/* Copies the NT_GNU_BUILD_ID descriptor into out; returns its length, 0 if none. */
static uint32_t mod_build_id(const struct dl_phdr_info *info, uint8_t *out)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE) continue;
        uint64_t align = ph->p_align == 8 ? 8 : 4;
        const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
        const uint8_t *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
            const uint8_t *name = p + sizeof(*nh);
            const uint8_t *desc = name + ((nh->n_namesz + align - 1) & ~(align - 1));
            const uint8_t *next = desc + ((nh->n_descsz + align - 1) & ~(align - 1));
            if (next > end) break;
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && memcmp(name, "GNU", 4) == 0) {
                uint32_t len = nh->n_descsz < MOD_BUILD_ID_MAX ? nh->n_descsz : MOD_BUILD_ID_MAX;
                memcpy(out, desc, len);
                return len;
            }
            p = next;
        }
    }
    return 0;
}

/* Writes MODULE for one object. exe: it is the main program. */
static void mod_emit(const struct dl_phdr_info *info, uint32_t id, int exe)
{
    char path[PATH_MAX];
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    if (exe) {
        ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
        path[n > 0 ? n : 0] = '\0';
        name = path;
    }
    uint32_t n_seg = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) n_seg += info->dlpi_phdr[i].p_type == PT_LOAD;
    uint32_t path_len = (uint32_t)strlen(name) + 1;
    uint32_t len = sizeof(struct mt_rec_module) + n_seg * sizeof(struct mt_segment) + path_len;
    len = (len + MT_REC_ALIGN - 1) & ~(MT_REC_ALIGN - 1);

    struct mt_rec_module *r = (struct mt_rec_module *)ring_reserve(MT_REC_MODULE, len, 0);
    if (r == NULL) return;
    memset((uint8_t *)r + sizeof(r->c), 0, len - sizeof(r->c));
    r->module_id = id;
    r->n_segments = n_seg;
    r->load_bias = info->dlpi_addr;
    r->path_len = path_len;
    r->build_id_len = mod_build_id(info, r->build_id);
    struct mt_segment *seg = (struct mt_segment *)(r + 1);
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD) continue;
        *seg++ = (struct mt_segment){.vaddr = ph->p_vaddr, .memsz = ph->p_memsz,
                                     .offset = ph->p_offset, .flags = ph->p_flags};
    }
    memcpy(seg, name, path_len);
    ring_commit(&r->c);
}

/* Appends an entry; NULL when the arena is exhausted. */
static struct mod_entry *mod_add(void)
{
    if (mod.n == mod.cap) {
        uint32_t cap = mod.cap ? mod.cap * 2 : MOD_INITIAL_CAP;
        struct mod_entry *tab = arena_alloc(cap * sizeof(*tab));
        if (tab == NULL) {
            ring_degrade(MT_DEGRADED_ARENA);
            return NULL;
        }
        if (mod.n) memcpy(tab, mod.tab, mod.n * sizeof(*tab));
        mod.tab = tab; /* the old array stays in the arena: never freed */
        mod.cap = cap;
    }
    return &mod.tab[mod.n++];
}

static int mod_scan_cb(struct dl_phdr_info *info, size_t size, void *ctx)
{
    int *first = ctx;
    int exe = *first && (info->dlpi_name == NULL || info->dlpi_name[0] == '\0');
    *first = 0;
    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof(info->dlpi_subs)) {
        mod.scan_adds = info->dlpi_adds;
        mod.scan_subs = info->dlpi_subs;
    }
    uint64_t hash = mod_name_hash(info->dlpi_name);
    for (uint32_t i = 0; i < mod.n; i++) {
        struct mod_entry *e = &mod.tab[i];
        if (e->bias == info->dlpi_addr && e->phdr == (uint64_t)info->dlpi_phdr &&
            e->name_hash == hash) {
            e->seen = 1;
            return 0;
        }
    }
    struct mod_entry *e = mod_add();
    if (e == NULL) return 0;
    *e = (struct mod_entry){.bias = info->dlpi_addr, .phdr = (uint64_t)info->dlpi_phdr,
                            .name_hash = hash, .seen = 1};
    e->id = atomic_fetch_add_explicit(&mod.next_id, 1, memory_order_relaxed);
    mod_emit(info, e->id, exe);
    return 0;
}

/* Caller holds mod.lock. MODULE for new objects, MODULE_UNLOAD for gone ones. */
static void mod_rescan(void)
{
    int first = 1;
    for (uint32_t i = 0; i < mod.n; i++) mod.tab[i].seen = 0;
    dl_iterate_phdr(mod_scan_cb, &first);
    for (uint32_t i = 0; i < mod.n;) {
        if (mod.tab[i].seen) {
            i++;
            continue;
        }
        struct mt_rec_module_unload *r = (struct mt_rec_module_unload *)ring_reserve(
            MT_REC_MODULE_UNLOAD, sizeof(struct mt_rec_module_unload), 0);
        if (r != NULL) {
            r->module_id = mod.tab[i].id;
            r->pad = 0;
            ring_commit(&r->c);
        }
        mod.tab[i] = mod.tab[--mod.n];
    }
    atomic_store_explicit(&mod.seen_adds, mod.scan_adds, memory_order_release);
    atomic_store_explicit(&mod.seen_subs, mod.scan_subs, memory_order_release);
}

static int mod_counts_cb(struct dl_phdr_info *info, size_t size, void *ctx)
{
    uint64_t *out = ctx;
    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof(info->dlpi_subs)) {
        out[0] = info->dlpi_adds;
        out[1] = info->dlpi_subs;
    }
    return 1; /* the counters are global: the first object is enough */
}

static int mod_unchanged(void)
{
    uint64_t counts[2] = {0, 0};
    dl_iterate_phdr(mod_counts_cb, counts);
    return counts[0] == atomic_load_explicit(&mod.seen_adds, memory_order_acquire) &&
           counts[1] == atomic_load_explicit(&mod.seen_subs, memory_order_acquire);
}

static int mod_range_cb(struct dl_phdr_info *info, size_t size, void *vctx)
{
    struct mod_range_ctx *ctx = vctx;
    uint64_t lo = UINT64_MAX, hi = 0;
    (void)size;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD) continue;
        uint64_t start = info->dlpi_addr + ph->p_vaddr;
        if (start < lo) lo = start;
        if (start + ph->p_memsz > hi) hi = start + ph->p_memsz;
    }
    if (ctx->addr < lo || ctx->addr >= hi) return 0;
    ctx->lo = lo;
    ctx->hi = hi;
    ctx->found = 1;
    return 1;
}

/* ------------------------------------------------------------ exported */

int mod_scan_all(void)
{
    mod_lock();
    mod_rescan();
    mod_unlock();
    return 0;
}

void mod_check(void)
{
    if (mod_unchanged()) return;
    mod_lock();
    if (!mod_unchanged()) mod_rescan(); /* another thread may have rescanned meanwhile */
    mod_unlock();
}

uint32_t mod_next_id(void)
{
    return atomic_load_explicit(&mod.next_id, memory_order_relaxed);
}

void mod_fork_child(void)
{
    atomic_store_explicit(&mod.lock, 0, memory_order_relaxed); /* its holder is gone */
}

int mod_range_of(const void *addr, uint64_t *lo, uint64_t *hi)
{
    struct mod_range_ctx ctx = {.addr = (uint64_t)addr};
    dl_iterate_phdr(mod_range_cb, &ctx);
    if (!ctx.found) return -1;
    *lo = ctx.lo;
    *hi = ctx.hi;
    return 0;
}
