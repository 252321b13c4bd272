/*
 * leak_roots.c — exit-time leak scan: find roots, classify, emit (runs in the target)
 *
 * proc.c calls leak_scan_run() from its exit handler, after MT_REC_EXIT, on
 * the exiting thread. This file gathers what memcheck treats as roots and
 * feeds them to the block graph in leak.c, then writes LEAK_BEGIN, LEAK
 * arrays and LEAK_END. It never calls malloc or stdio: memory comes from
 * arena_map(), /proc is read with open/read. Contract: docs/leaks.md.
 *
 * Design notes
 *   1. Order matters because other threads may still run and may hold the
 *      dynamic loader's lock or a ring's lock:
 *        a. modules are listed while the other threads still run
 *           (dl_iterate_phdr takes the loader lock a thread may hold);
 *        b. every other thread is stopped (leak_stop.c: a realtime signal
 *           whose handler saves the registers and waits on a futex);
 *        c. the lock-free live table is copied and sorted; /proc/self/maps
 *           flags blocks outside readable memory and lists the file
 *           mappings the vtable heuristic needs; module data and
 *           registers are scanned; /proc/self/smaps is read and each
 *           mapping classified as root or not (design note 2);
 *        d. mark, cliques; threads are released, the old action restored;
 *        e. LEAK_BEGIN, LEAK arrays and LEAK_END are written only now: a
 *           stopped thread may hold the overflow ring's lock.
 *   2. Roots: writable PT_LOAD of every module but libmemtrace.so (minus
 *      RELRO), each thread's stack from its stack pointer minus the 128-byte
 *      red zone to the end of its mapping, its saved registers, the mapping
 *      around its thread pointer (static TLS, TCB), and every other
 *      readable+writable mapping that holds no live block; memtrace's own
 *      memory (arena, scratch, ring files) is never a root.
 *   3. glibc's main_arena lives in libc's data: its top, last_remainder and
 *      bins point at chunk headers, and the header after a block lies inside
 *      the block whenever its size leaves under 8 spare bytes (malloc(100)).
 *      valgrind replaces malloc and has no such state, so in the data of the
 *      module that holds the real malloc, when that module is glibc, a word
 *      equal to the chunk header right after a block is not a pointer into
 *      it. Without this the block carved last from the top chunk is always
 *      "possibly" lost instead of "definitely".
 *
 * SPDX-License-Identifier: MIT
 */
#include "leak.h"

#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <link.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "preload_int.h"

/* ------------------------------------------------------------------ *
 * Types
 * ------------------------------------------------------------------ */

#define LEAK_REDZONE 128u                /* x86_64 ABI red zone below the stack pointer */
#define LEAK_MAX_RANGES 8192u            /* per list; vm.max_map_count is 65530, but
                                            modules and file maps are a few hundred */
#define LEAK_READ_BYTES 65536u           /* /proc read buffer */
#define LEAK_REC_BYTES 4096u             /* one LEAK record: fits any sane ring */
#define LEAK_PAGE 4096u                  /* x86_64 base page: mmap granularity */
#define LEAK_AUX_BYTES (4 * LEAK_MAX_RANGES * sizeof(struct leak_range) + LEAK_READ_BYTES)
#define LEAK_MMAP_CHUNK (128u * 1024u)   /* glibc's default mmap threshold */

/* All state of one scan; the arrays are borrowed from the scratch maps. */
struct leak_scan {
    struct leak_graph g;
    struct leak_block *blocks; /* cap entries, snapshot of the live table */
    struct leak_block *tmp;    /* cap entries: sort scratch, then the work stack */
    uint64_t *top;             /* leak_graph_top_len(cap) entries: search index */
    struct leak_hash_ent *hash; /* leak_graph_hash_len(cap) slots: start lookup */
    uint8_t *state;            /* cap entries */
    uint64_t cap, n, n_bytes;  /* capacity, blocks taken, their requested bytes */
    int overflow;              /* the live table grew past cap during the snapshot */
    void *map;                 /* owned: arena_map of map_bytes */
    uint64_t map_bytes;
    struct leak_range *excl;   /* never scanned: memtrace's own memory; sorted */
    uint32_t n_excl;
    struct leak_range *mods;   /* writable module data, scanned by the module pass */
    uint32_t n_mods;
    struct leak_range *file_r; /* readable file mappings (vtable heuristic), sorted */
    uint32_t n_file_r;
    struct leak_range *file_x; /* executable file mappings, sorted */
    uint32_t n_file_x;
    uint64_t cursor;           /* leak_vma_cover's walk over the sorted blocks */
    char *buf;                 /* LEAK_READ_BYTES for /proc reads */
    void *aux;                 /* owned: arena_map holding excl, mods, buf */
    uint64_t self_lo, self_hi; /* libmemtrace.so's own PT_LOAD span */
    uint64_t libc_lo, libc_hi; /* glibc's PT_LOAD span when it is the real malloc */
    uint64_t self_sp;          /* scanning thread's stack pointer */
    uint64_t self_fs;          /* scanning thread's TCB */
};

/* ------------------------------------------------------------------ *
 * Helpers
 * ------------------------------------------------------------------ */

static int leak_has_suffix(const char *s, size_t len, const char *suf)
{
    size_t n = strlen(suf);
    return len >= n && memcmp(s + len - n, suf, n) == 0;
}

/* ------------------------------------------------------------------ *
 * Range lists
 * ------------------------------------------------------------------ */

static void leak_range_add(struct leak_range *r, uint32_t *n, uint64_t start, uint64_t end)
{
    if (*n < LEAK_MAX_RANGES && start < end)
        r[(*n)++] = (struct leak_range){start, end};
}

/* Insertion sort: a few hundred ranges, once per scan. */
static void leak_range_sort(struct leak_range *r, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++) {
        struct leak_range x = r[i];
        uint32_t j = i;
        for (; j > 0 && r[j - 1].start > x.start; j--)
            r[j] = r[j - 1];
        r[j] = x;
    }
}

/* Scans [start, end) as a root, minus every excluded range. */
static void leak_scan_minus(struct leak_scan *s, uint64_t start, uint64_t end)
{
    for (uint32_t i = 0; i < s->n_excl && start < end; i++) {
        const struct leak_range *x = &s->excl[i];
        if (x->end <= start)
            continue;
        if (x->start >= end)
            break;
        if (x->start > start)
            leak_graph_scan_root(&s->g, start, x->start);
        start = x->end;
    }
    if (start < end)
        leak_graph_scan_root(&s->g, start, end);
}

/* ------------------------------------------------------------------ *
 * Modules
 * ------------------------------------------------------------------ */

static int leak_module_cb(struct dl_phdr_info *info, size_t size, void *ctx)
{
    struct leak_scan *s = ctx;
    uint64_t relro_lo = 0, relro_hi = 0, lo = UINT64_MAX, hi = 0;
    uint64_t self = (uint64_t)(uintptr_t)&leak_scan_run;

    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uint64_t a = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_GNU_RELRO) {
            relro_lo = a;
            relro_hi = a + ph->p_memsz;
        } else if (ph->p_type == PT_LOAD) {
            lo = a < lo ? a : lo;
            hi = a + ph->p_memsz > hi ? a + ph->p_memsz : hi;
        }
    }
    if (self >= lo && self < hi) { /* libmemtrace.so: valgrind has no such module */
        s->self_lo = lo & ~(uint64_t)(LEAK_PAGE - 1);
        s->self_hi = (hi + LEAK_PAGE - 1) & ~(uint64_t)(LEAK_PAGE - 1);
        leak_range_add(s->excl, &s->n_excl, s->self_lo, s->self_hi);
        return 0;
    }
    uint64_t real = (uint64_t)(uintptr_t)hook_real.malloc;
    uint64_t libc = (uint64_t)(uintptr_t)&gnu_get_libc_version;
    if (real >= lo && real < hi && libc >= lo && libc < hi) { /* design note 3 */
        s->libc_lo = lo;
        s->libc_hi = hi;
    }
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
            continue;
        uint64_t a = info->dlpi_addr + ph->p_vaddr, b = a + ph->p_memsz;
        /* RELRO is read-only by now and holds no heap pointer; memcheck
         * scans only writable segments. */
        if (relro_lo <= a && relro_hi > a)
            a = relro_hi < b ? relro_hi : b;
        leak_range_add(s->mods, &s->n_mods, a, b);
    }
    return 0;
}

/* 1 if w is the glibc chunk header that follows the block it points into
 * (design note 3). The size word before the block is read only when it is
 * on the block's own page, which is readable: a block starting a page
 * keeps the plain rule. */
static int leak_is_chunk_head(const struct leak_scan *s, uint64_t w)
{
    int is_start;
    int64_t idx = leak_graph_find(&s->g, w, &is_start);
    if (idx < 0 || is_start || (s->state[idx] & LEAK_ST_NOSCAN))
        return 0;
    uint64_t a = s->blocks[idx].addr;
    if ((a & (LEAK_PAGE - 1)) < 16 || (w & 15) != 0)
        return 0;
    uint64_t size_word = *(const uint64_t *)(uintptr_t)(a - 8);
    if (size_word & 2) /* IS_MMAPPED: no arena points into it */
        return 0;
    return w == a - 16 + (size_word & ~(uint64_t)7);
}

/* Scans glibc's writable data as a root, minus main_arena's chunk headers. */
static void leak_scan_libc(struct leak_scan *s, uint64_t start, uint64_t end)
{
    for (uint64_t p = (start + 7) & ~(uint64_t)7; p + 8 <= end; p += 8) {
        uint64_t w = *(const uint64_t *)(uintptr_t)p;
        if (w - s->g.lo < s->g.span && !leak_is_chunk_head(s, w))
            leak_graph_root_word(&s->g, w);
    }
}

/* ------------------------------------------------------------------ *
 * Live snapshot
 * ------------------------------------------------------------------ */

static int leak_take_cb(uint64_t addr, uint64_t size, uint32_t stack_id, uint8_t family, void *ctx)
{
    struct leak_scan *s = ctx;
    if (s->n == s->cap) {
        s->overflow = 1;
        return 1;
    }
    s->blocks[s->n++] = (struct leak_block){addr, size};
    s->n_bytes += size;
    return 0;
}

/* Maps scratch for cap blocks and copies the live table; 0 or -ENOMEM. */
static int leak_snapshot(struct leak_scan *s)
{
    for (int attempt = 0; attempt < 4; attempt++) {
        uint64_t count = live_count(); /* exact: the other threads are stopped */
        s->cap = count + (count >> (4 - attempt)) + 1024;
        s->map_bytes = s->cap * (2 * sizeof(struct leak_block) + 1) +
                       leak_graph_top_len(s->cap) * sizeof(uint64_t) +
                       leak_graph_hash_len(s->cap) * sizeof(struct leak_hash_ent);
        s->map_bytes = (s->map_bytes + LEAK_PAGE - 1) & ~(uint64_t)(LEAK_PAGE - 1);
        s->map = arena_map(s->map_bytes);
        if (s->map == NULL)
            return -ENOMEM;
        madvise(s->map, s->map_bytes, MADV_HUGEPAGE); /* random lookups: fewer TLB misses */
        s->blocks = s->map;
        s->tmp = s->blocks + s->cap;
        s->top = (uint64_t *)(s->tmp + s->cap);
        s->hash = (struct leak_hash_ent *)(s->top + leak_graph_top_len(s->cap));
        s->state = (uint8_t *)(s->hash + leak_graph_hash_len(s->cap));
        s->n = s->n_bytes = 0;
        s->overflow = 0;
        live_foreach(leak_take_cb, s);
        if (!s->overflow)
            return 0;
        arena_unmap(s->map, s->map_bytes);
        s->map = NULL;
    }
    return -ENOMEM;
}

/* ------------------------------------------------------------------ *
 * Mappings: /proc/self/smaps
 * ------------------------------------------------------------------ */

/* One mapping as smaps describes it. */
struct leak_vma {
    uint64_t start, end;
    int readable, writable, executable, shared;
    int noreserve;        /* VmFlags "nr": MAP_NORESERVE (memtrace's arena, glibc arenas) */
    int is_file;          /* path starts with '/' */
    int skip_file;        /* device (but /dev/zero) or a memtrace ring file */
    int is_brk;           /* "[heap]" */
    int valid;
};

/* Index of the first block whose start is >= addr (s->n if none). */
static uint64_t leak_first_block(const struct leak_scan *s, uint64_t addr)
{
    uint64_t lo = 0, hi = s->n;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (s->blocks[mid].addr < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Marks blocks that no readable mapping covers so that their memory is
 * never read. *cursor walks the sorted blocks along the sorted mappings. */
static void leak_vma_cover(struct leak_scan *s, const struct leak_vma *v, uint64_t *cursor)
{
    uint64_t i = *cursor;
    for (; i < s->n && s->blocks[i].addr < v->start; i++)
        s->state[i] |= LEAK_ST_NOSCAN;
    for (; i < s->n && s->blocks[i].addr < v->end; i++)
        if (!v->readable)
            s->state[i] |= LEAK_ST_NOSCAN;
    *cursor = i;
}

/* Scans the part of a thread stack mapping above sp; returns 1 if sp is
 * inside v. The scan stops at a live block: the kernel may have merged the
 * stack with a neighbouring mmapped malloc chunk. */
static int leak_vma_stack(struct leak_scan *s, const struct leak_vma *v, uint64_t sp)
{
    if (sp < v->start || sp >= v->end)
        return 0;
    uint64_t lo = sp - LEAK_REDZONE > v->start ? sp - LEAK_REDZONE : v->start;
    uint64_t hi = v->end;
    uint64_t k = leak_first_block(s, sp);
    if (k < s->n && s->blocks[k].addr < hi)
        hi = (s->blocks[k].addr - 16) & ~(uint64_t)(LEAK_PAGE - 1);
    if (lo < hi)
        leak_scan_minus(s, lo, hi);
    return 1;
}

/* 1 if a stopped thread's (or our) thread pointer lies inside v. */
static int leak_vma_has_tcb(const struct leak_scan *s, const struct leak_vma *v)
{
    if (s->self_fs >= v->start && s->self_fs < v->end)
        return 1;
    for (uint32_t i = 0; i < leak_stop_n(); i++)
        if (leak_stop_at(i)->fs >= v->start && leak_stop_at(i)->fs < v->end)
            return 1;
    return 0;
}

/* A mapping that holds live blocks is malloc's: not a root. Only the ends
 * of a glibc mmapped chunk (page-aligned header) are scanned, for a client
 * mapping the kernel merged with it. */
static void leak_vma_heap(struct leak_scan *s, const struct leak_vma *v, uint64_t k)
{
    const struct leak_block *first = &s->blocks[k];
    uint64_t last_idx = leak_first_block(s, v->end) - 1;
    const struct leak_block *last = &s->blocks[last_idx];

    if (v->is_brk || v->noreserve)
        return;
    if (((first->addr - 16) & (LEAK_PAGE - 1)) == 0)
        leak_scan_minus(s, v->start, first->addr - 16);
    if (((last->addr - 16) & (LEAK_PAGE - 1)) == 0 && last->size >= LEAK_MMAP_CHUNK)
        leak_scan_minus(s, (last->addr + last->size + LEAK_PAGE - 1) & ~(uint64_t)(LEAK_PAGE - 1),
                        v->end);
}

/* Applies the root rules of design note 2 to one mapping. */
static void leak_vma_root(struct leak_scan *s, const struct leak_vma *v)
{
    if (!v->readable || !v->writable)
        return;
    if (leak_vma_stack(s, v, s->self_sp))
        return;
    for (uint32_t i = 0; i < leak_stop_n(); i++)
        if (leak_vma_stack(s, v, leak_stop_at(i)->sp))
            return;
    if (v->is_file) {
        if (!v->skip_file)
            leak_scan_minus(s, v->start, v->end);
        return;
    }
    uint64_t k = leak_first_block(s, v->start);
    if (k < s->n && s->blocks[k].addr < v->end) {
        leak_vma_heap(s, v, k);
        return;
    }
    if (v->noreserve && !leak_vma_has_tcb(s, v))
        return; /* memtrace's arena (or an emptied glibc arena) */
    leak_scan_minus(s, v->start, v->end);
}

/* Parses an smaps header line "start-end perms offset dev inode [path]". */
static void leak_vma_parse(struct leak_vma *v, const char *line, size_t len)
{
    const char *p = line;
    memset(v, 0, sizeof(*v));
    v->start = leak_parse_hex(&p);
    p++;
    v->end = leak_parse_hex(&p);
    p++;
    v->readable = p[0] == 'r';
    v->writable = p[1] == 'w';
    v->executable = p[2] == 'x';
    v->shared = p[3] == 's';
    for (int f = 0; f < 4; f++)
        p = leak_parse_skip(p);
    size_t path_len = len - (size_t)(p - line);
    v->is_file = *p == '/';
    v->is_brk = path_len == 6 && memcmp(p, "[heap]", 6) == 0;
    if (v->is_file) {
        int dev = path_len >= 5 && memcmp(p, "/dev/", 5) == 0 &&
                  !(path_len == 9 && memcmp(p, "/dev/zero", 9) == 0);
        v->skip_file = dev || leak_has_suffix(p, path_len, ".ring");
    }
    v->valid = 1;
}

/* Reads a maps-format file (maps or smaps) line by line and hands every
 * mapping, with its VmFlags when the file has them, to on_vma. */
static void leak_read_maps(struct leak_scan *s, const char *path,
                           void (*on_vma)(struct leak_scan *, const struct leak_vma *))
{
    struct leak_vma v = {0};
    size_t have = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return;
    for (;;) {
        long got = read(fd, s->buf + have, LEAK_READ_BYTES - 1 - have);
        if (got <= 0)
            break;
        have += (size_t)got;
        size_t start = 0;
        for (char *nl; (nl = memchr(s->buf + start, '\n', have - start)) != NULL;) {
            const char *line = s->buf + start;
            size_t len = (size_t)(nl - line);
            if ((line[0] >= '0' && line[0] <= '9') || (line[0] >= 'a' && line[0] <= 'f')) {
                if (v.valid)
                    on_vma(s, &v);
                leak_vma_parse(&v, line, len);
            } else if (len > 8 && memcmp(line, "VmFlags:", 8) == 0) {
                *nl = 0;
                v.noreserve = strstr(line, " nr") != NULL;
            }
            start = (size_t)(nl - s->buf) + 1;
        }
        memmove(s->buf, s->buf + start, have - start);
        have -= start;
    }
    close(fd);
    if (v.valid)
        on_vma(s, &v);
}

/* First pass, /proc/self/maps: blocks no readable mapping covers are
 * flagged never to be read, and file mappings are kept for the vtable
 * heuristic. Runs before any root is scanned, since both are needed then. */
static void leak_vma_first(struct leak_scan *s, const struct leak_vma *v)
{
    leak_vma_cover(s, v, &s->cursor);
    if (v->is_file && v->readable)
        leak_range_add(s->file_r, &s->n_file_r, v->start, v->end);
    if (v->is_file && v->executable)
        leak_range_add(s->file_x, &s->n_file_x, v->start, v->end);
}

static void leak_scan_layout(struct leak_scan *s)
{
    s->cursor = 0;
    leak_read_maps(s, "/proc/self/maps", leak_vma_first); /* the kernel lists by address */
    for (; s->cursor < s->n; s->cursor++)
        s->state[s->cursor] |= LEAK_ST_NOSCAN;
    leak_graph_set_files(&s->g, s->file_r, s->n_file_r, s->file_x, s->n_file_x);
}

/* ------------------------------------------------------------------ *
 * Records
 * ------------------------------------------------------------------ */

static void leak_emit_mark(uint16_t kind, uint64_t n_blocks, uint64_t n_bytes, uint64_t dur_ns)
{
    struct mt_rec_leak_mark m;
    memset(&m, 0, sizeof(m));
    m.c.hdr.kind = kind;
    m.c.hdr.len = sizeof(m);
    m.n_blocks = n_blocks;
    m.n_bytes = n_bytes;
    m.duration_ns = dur_ns;
    rec_emit(&m.c);
}

/* One MT_REC_LEAK per LEAK_REC_BYTES (or half a ring, if smaller). */
static void leak_emit_entries(const struct leak_scan *s)
{
    uint64_t buf[LEAK_REC_BYTES / sizeof(uint64_t)];
    struct mt_rec_leak *rec = (struct mt_rec_leak *)buf;
    struct mt_leak_entry *ent = (struct mt_leak_entry *)(rec + 1);
    uint64_t rec_bytes = ring_max_record();
    rec_bytes = rec_bytes < LEAK_REC_BYTES ? rec_bytes : LEAK_REC_BYTES;
    if (rec_bytes < sizeof(*rec) + sizeof(*ent))
        return;
    uint32_t max = (uint32_t)((rec_bytes - sizeof(*rec)) / sizeof(*ent));

    for (uint64_t i = 0; i < s->n;) {
        uint32_t k = 0;
        memset(buf, 0, sizeof(buf));
        for (; k < max && i < s->n; k++, i++) {
            ent[k].addr = s->blocks[i].addr;
            ent[k].cls = leak_graph_class(&s->g, i);
        }
        rec->c.hdr.kind = MT_REC_LEAK;
        rec->c.hdr.len = (uint32_t)(sizeof(*rec) + k * sizeof(*ent));
        rec->n = k;
        if (rec_emit(&rec->c) != 0)
            return;
    }
}

/* ------------------------------------------------------------------ *
 * The scan
 * ------------------------------------------------------------------ */

/* Scratch map for ranges and /proc reads, module ranges; 0 or -ENOMEM.
 * Runs before the other threads stop: dl_iterate_phdr takes the loader lock. */
static int leak_prepare(struct leak_scan *s)
{
    s->aux = arena_map(LEAK_AUX_BYTES);
    if (s->aux == NULL)
        return -ENOMEM;
    s->excl = s->aux;
    s->mods = s->excl + LEAK_MAX_RANGES;
    s->file_r = s->mods + LEAK_MAX_RANGES;
    s->file_x = s->file_r + LEAK_MAX_RANGES;
    s->buf = (char *)(s->file_x + LEAK_MAX_RANGES);
    leak_range_add(s->excl, &s->n_excl, (uint64_t)s->aux, (uint64_t)s->aux + LEAK_AUX_BYTES);
    dl_iterate_phdr(leak_module_cb, s);
    for (uint32_t i = 0; i < s->n_mods; i++)
        leak_range_add(s->excl, &s->n_excl, s->mods[i].start, s->mods[i].end);
    return 0;
}

/* Live snapshot into a sorted graph; 0 or -ENOMEM. Threads are stopped: the
 * live table is lock-free, so walking it cannot deadlock on them. */
static int leak_index(struct leak_scan *s)
{
    int rc = leak_snapshot(s);
    if (rc != 0)
        return rc;
    leak_range_add(s->excl, &s->n_excl, (uint64_t)s->map, (uint64_t)s->map + s->map_bytes);
    leak_range_sort(s->excl, s->n_excl);
    leak_graph_init(&s->g, s->blocks, s->n, s->tmp, s->state, (uint32_t *)s->tmp, s->top,
                    s->hash);
    return 0;
}

/* Every root into the graph, then mark and cliques. Threads are stopped. */
static void leak_classify(struct leak_scan *s)
{
    leak_scan_layout(s);
    for (uint32_t i = 0; i < s->n_mods; i++) {
        const struct leak_range *m = &s->mods[i];
        if (m->start >= s->libc_lo && m->end <= s->libc_hi)
            leak_scan_libc(s, m->start, m->end);
        else
            leak_graph_scan_root(&s->g, m->start, m->end);
    }
    for (uint32_t i = 0; i < leak_stop_n(); i++) {
        const struct leak_thread *t = leak_stop_at(i);
        for (uint32_t r = 0; t->has_regs && r < NGREG; r++)
            leak_graph_root_word(&s->g, t->regs[r]);
    }
    client_leak_roots(&s->g); /* memtrace_ignore_object()'s blocks (client.c) */
    leak_read_maps(s, "/proc/self/smaps", leak_vma_root);
    leak_graph_mark(&s->g);
    leak_graph_cliques(&s->g);
}

void leak_scan_run(void)
{
    struct leak_scan s;
    uint64_t t0 = leak_now_ns();

    if (!atomic_load(&ring_proc.tracing))
        return; /* nobody would read the result (collector gone, or no session) */
    memset(&s, 0, sizeof(s));
    s.self_sp = (uint64_t)(uintptr_t)__builtin_frame_address(0);
    __asm__ volatile("mov %%fs:0, %0" : "=r"(s.self_fs));
    tls_guard_enter();
    if (leak_prepare(&s) == 0) {
        int stopped = leak_stop_world(s.buf, LEAK_READ_BYTES) == 0;
        int rc = leak_index(&s);
        if (rc == 0)
            leak_classify(&s);
        if (stopped)
            leak_start_world();
        uint64_t dur = leak_now_ns() - t0;
        if (rc == 0) {
            leak_emit_mark(MT_REC_LEAK_BEGIN, s.n, s.n_bytes, 0);
            leak_emit_entries(&s);
            leak_emit_mark(MT_REC_LEAK_END, s.n, s.n_bytes, dur);
        }
    }
    if (s.map != NULL)
        arena_unmap(s.map, s.map_bytes);
    if (s.aux != NULL)
        arena_unmap(s.aux, LEAK_AUX_BYTES);
    tls_guard_leave();
}
