/*
 * preload_int.h — private interfaces between the files of libmemtrace.so
 *
 * The preload is split by noun (STYLE.md 2): arena.c (own memory), ring.c
 * (producer side of the shared rings, TLS state), stack.c (unwind + intern),
 * module.c (loaded objects), live.c (live-pointer table), proc.c (init, env,
 * fork, exit), hooks.c / hooks_cxx.c (the interposed entry points) and
 * leak.c (exit-time scan, owned by the leak-scan engineer). Everything here
 * is hidden: only the interposed names leave the library (exports.map).
 *
 * All functions below run in the target process, on any thread, possibly
 * inside an interposed allocator call or a signal handler; none of them
 * calls malloc or stdio. Contract page: docs/preload.md.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMTRACE_PRELOAD_INT_H
#define MEMTRACE_PRELOAD_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <memtrace/ring.h>
#include <memtrace/trace_format.h>

#pragma GCC visibility push(hidden)

#define MT_EXPORT __attribute__((visibility("default")))
#define MT_LIKELY(x) __builtin_expect(!!(x), 1)
#define MT_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define MT_COLD __attribute__((noinline, cold))
#define MT_TLS __attribute__((tls_model("initial-exec")))

/* Defensive checks: abort in debug builds, plain conditions in release
 * (STYLE.md 11: the preload never fails the target). */
#ifdef MT_DEBUG
#include <stdlib.h>
#define MT_ALWAYS(x) ((x) ? 1 : (abort(), 0))
#define MT_NEVER(x) ((x) ? (abort(), 1) : 0)
#else
#define MT_ALWAYS(x) (x)
#define MT_NEVER(x) (x)
#endif

/* ------------------------------------------------------------------ *
 * Per-thread state (ring.c). Initial-exec TLS: touching it never allocates.
 * ------------------------------------------------------------------ */

#define TLS_F_ANNOUNCED 0x1u /* THREAD start record written */
#define TLS_F_EXITING 0x2u   /* ring released at thread exit; use overflow */
#define TLS_F_KEYED 0x4u     /* pthread key set, destructor will run */

struct tls_state {
    uint32_t guard;      /* >0 while memtrace code runs on this thread */
    uint32_t tid;        /* cached gettid(), 0 = unknown */
    int32_t ring_idx;    /* claimed ring, -1 = none */
    uint32_t flags;      /* TLS_F_* */
    uint64_t epoch;      /* ring_proc.epoch the claim belongs to */
    uint64_t tail_cache; /* last tail seen on the claimed ring, bytes */
    uint64_t pend_head;  /* head to publish at ring_commit() */
};
extern __thread struct tls_state tls_state MT_TLS;

void tls_guard_enter(void);
void tls_guard_leave(void);
uint32_t tls_tid(void); /* gettid(), cached */

/* ------------------------------------------------------------------ *
 * Arena (arena.c): zeroed memory that is never returned to malloc.
 * ------------------------------------------------------------------ */

/* Returns zeroed memory, 16-byte aligned, owned by the arena forever;
 * NULL when mmap failed (MT_DEGRADED_ARENA is then set by the caller). */
void *arena_alloc(size_t bytes);
/* Page-granular zeroed mapping for large tables; NULL on failure. */
void *arena_map(size_t bytes);
void arena_unmap(void *addr, size_t bytes);

/* ------------------------------------------------------------------ *
 * Ring producer (ring.c): ring.h design notes 2-5.
 * ------------------------------------------------------------------ */

struct ring_proc {
    struct mt_ring_file *file; /* mapped process file; NULL = not tracing */
    struct mt_ring_ctl *ctl;   /* borrowed from file */
    uint8_t *data;             /* borrowed from file: ring 0's data */
    uint64_t file_size;        /* bytes mapped */
    uint32_t n_rings;          /* incl. the overflow ring */
    uint32_t ring_bytes;       /* power of two */
    uint32_t collector_pid;    /* 0 = none known */
    int lossy;                 /* MEMTRACE_LOSSY=1 */
    _Atomic int tracing;       /* records may be written */
    int announce;              /* write THREAD start on first claim */
    _Atomic uint64_t epoch;    /* bumped on every attach; stale claims redo */
};
extern struct ring_proc ring_proc;

/* Fills the header of a fresh ring file of mt_ring_file_size() bytes. */
void ring_file_init(void *base, uint32_t pid, uint32_t gen, uint32_t n_rings,
                    uint32_t ring_bytes, uint32_t collector_pid);
/* Makes base (already initialised) the file every producer writes to. */
void ring_attach(void *base, uint64_t size, int lossy);
/* Stops tracing and forgets the file (does not unmap it). */
void ring_detach(void);
/* Largest record a producer accepts: half a ring (padding at the wrap). */
uint32_t ring_max_record(void);
/* Sets an MT_DEGRADED_* bit in the file; one write(2) line per bit. */
void ring_degrade(uint32_t bit);
/* CLOCK_MONOTONIC in ns. */
uint64_t ring_now_ns(void);

extern int ring_prefetchw_ok; /* the CPU has PREFETCHW (checked at attach) */

/* Starts moving the seq counter's cache line to this core for writing, so
 * that the one atomic RMW of the next ring_reserve() finds it here instead
 * of stalling on the other core's copy (the counter is every thread's,
 * the largest single cost of the hot path with 2+ threads; see
 * docs/performance.md). Call it ahead of a cache miss of our own (live
 * table) so that both transfers overlap. A hint: never faults. */
static inline void ring_seq_prefetch(void)
{
    if (ring_prefetchw_ok)
        __asm__ volatile("prefetchw %0" ::"m"(*(const char *)&ring_proc.file->seq_next));
}

/* Reserves len bytes in this thread's ring and stamps seq and t_ns. The
 * caller fills the payload and calls ring_commit() before any other ring
 * call on this thread. may_drop: lossy mode may drop this record. Returns
 * NULL when not tracing or dropped. */
struct mt_rec_common *ring_reserve(uint16_t kind, uint32_t len, int may_drop);
void ring_commit(struct mt_rec_common *rec);
/* Called from the thread-exit key destructor: THREAD end, ring released. */
void ring_thread_exit(void);
/* Writes THREAD start for the calling thread if not done yet. */
void ring_announce_thread(void);

/* Caller filled hdr.kind/len and payload; fills seq and t_ns, writes to this
 * thread's ring (waits if full); 0, or -1 if not tracing. */
int rec_emit(struct mt_rec_common *rec);

/* ------------------------------------------------------------------ *
 * Stacks (stack.c) and modules (module.c).
 * ------------------------------------------------------------------ */

#define STACK_MAX_DEPTH 256u    /* MEMTRACE_DEPTH is clamped to this */
#define STACK_DEFAULT_DEPTH 64u /* MEMTRACE_DEPTH default */

/* Sets the unwind depth and the caller's own text range [lo, hi): leading
 * frames inside it are dropped. Allocates the table; 0 or -ENOMEM. */
int stack_init(uint32_t depth, uint64_t self_lo, uint64_t self_hi, uint32_t capacity);
#define STACK_SLACK 8u /* our own frames above the caller: hook + helpers */

extern uint32_t stack_unwind_max; /* depth + STACK_SLACK, set by stack_init */
/* libunwind (default visibility: it is not ours); its header stays in stack.c */
__attribute__((visibility("default"))) int unw_backtrace(void **buffer, int size);
/* Drops the leading frames inside libmemtrace.so from n unwound frames
 * (n <= 0: unwinding failed), keeps at most depth, interns the rest. */
uint32_t stack_intern_unwound(uint64_t *frames, int n);

/* The fork gate (stack.c, design note 5): a fork waits until no thread
 * is inside stack_capture, whose unwinder takes locks a child must not
 * inherit held. Threads count themselves in a stripe picked by their TLS
 * address; a closed gate sends them to stack_gate_wait(). */
#define STACK_GATE_STRIPES 64u
struct stack_gate_stripe {
    _Atomic uint32_t busy; /* threads of this stripe inside stack_capture */
    uint32_t pad[15];      /* one cache line each */
};
extern struct stack_gate_stripe stack_gate_busy[STACK_GATE_STRIPES];
extern _Atomic uint32_t stack_gate_closed;
void stack_gate_wait(_Atomic uint32_t *busy); /* leaves, waits for the fork, re-enters */

static inline __attribute__((always_inline)) _Atomic uint32_t *stack_gate_enter(void)
{
    _Atomic uint32_t *busy =
        &stack_gate_busy[((uintptr_t)&tls_state >> 12) % STACK_GATE_STRIPES].busy;
    atomic_fetch_add_explicit(busy, 1, memory_order_seq_cst); /* then read the gate */
    if (MT_UNLIKELY(atomic_load_explicit(&stack_gate_closed, memory_order_seq_cst)))
        stack_gate_wait(busy);
    return busy;
}

/* Unwinds the caller and interns the stack; returns its id, 0 if none.
 * Writes MODULE/STACK records as needed. Caller holds the guard. Inlined
 * so that the unwinder starts in the hook itself: every frame of ours it
 * walks costs ~10 ns on each allocation (docs/performance.md). */
static inline __attribute__((always_inline)) uint32_t stack_capture(void)
{
    uint64_t buf[STACK_MAX_DEPTH + STACK_SLACK];
    _Atomic uint32_t *busy = stack_gate_enter();
    uint32_t id = stack_intern_unwound(buf, unw_backtrace((void **)buf, (int)stack_unwind_max));
    atomic_fetch_sub_explicit(busy, 1, memory_order_release);
    return id;
}
/* Interns a given frame array (tests, and stack_capture). */
uint32_t stack_intern(const uint64_t *frames, uint32_t n_frames);
uint32_t stack_next_id(void); /* first id not handed out yet */
uint32_t stack_depth(void);
void stack_fork_child(void);  /* child of fork: abandon half-published entries, open the gate */

int mod_scan_all(void);       /* MODULE for every loaded object; at init */
void mod_check(void);         /* rescan if dlopen/dlclose happened */
uint32_t mod_next_id(void);
void mod_fork_child(void);
/* [lo, hi) of the PT_LOAD range of the object containing addr; 0 or -1. */
int mod_range_of(const void *addr, uint64_t *lo, uint64_t *hi);

/* ------------------------------------------------------------------ *
 * Live-pointer table (live.c): docs/preload.md "Live table".
 * ------------------------------------------------------------------ */

#define LIVE_F_UNTRACED 0x1u   /* allocated inside the guard: no ALLOC record */
#define LIVE_F_IGNORED 0x2u    /* memtrace_ignore_object: a leak-scan root, never classified */
#define LIVE_F_SUPERBLOCK 0x4u /* a pool's superblock: its chunks are classified instead */

struct live_block {
    uint64_t size;     /* requested bytes */
    uint32_t stack_id; /* allocation stack */
    uint8_t family;    /* enum mt_family */
    uint8_t flags;     /* LIVE_F_* */
};

/* Marks addr live (replacing any stale entry). 0, or -1 when the table could
 * not hold it (MT_DEGRADED_LIVE_TABLE set; the block is then unknown). */
int live_insert(uint64_t addr, uint64_t size, uint32_t stack_id, uint8_t family, uint8_t flags);
/* Atomically removes addr. 1 and *out filled when it was live; 0 when it was
 * not; -1 when addr is outside what the table covers (treat as unknown). */
int live_remove(uint64_t addr, struct live_block *out);
/* 1 and *out when addr is a live block start, 0 otherwise. */
int live_lookup(uint64_t addr, struct live_block *out);
/* 1 and *start, *out when addr lies inside a live block [start, start+size). */
int live_find(uint64_t addr, uint64_t *start, struct live_block *out);

/* Sets flag bits (LIVE_F_IGNORED, LIVE_F_SUPERBLOCK) on the live block
 * starting at addr, or clears them (set = 0). 1 when addr is live, else 0. */
int live_set_flags(uint64_t addr, uint8_t set, uint8_t clear);

/* Every block the leak scan classifies: live traced malloc blocks that are
 * neither ignored nor superblocks, then every live pool chunk that is not
 * ignored (pool.c; family MT_FAM_COUNT); stops when cb returns nonzero;
 * caller has stopped other threads. */
void live_foreach(int (*cb)(uint64_t addr, uint64_t size, uint32_t stack_id, uint8_t family,
                            void *ctx),
                  void *ctx);
uint64_t live_count(void);
/* Every live block flagged LIVE_F_IGNORED as [addr, addr + size) (world stopped). */
void live_ignored_foreach(void (*cb)(uint64_t addr, uint64_t size, void *ctx), void *ctx);
void live_reset(void); /* tests only: forget every entry */

/* ------------------------------------------------------------------ *
 * Process lifecycle (proc.c) and the leak scan (leak.c, weak).
 * ------------------------------------------------------------------ */

#define PROC_INIT_NONE 0 /* not initialised (or deferred: environ not set yet) */
#define PROC_INIT_BUSY 1 /* one thread is initialising */
#define PROC_INIT_DONE 2

extern _Atomic int proc_init_state; /* PROC_INIT_* */
extern int proc_live_on;            /* 0: no live table (untraced, or MEMTRACE_NO_ERRORS=1) */
extern int proc_free_stacks;        /* MEMTRACE_FREE_STACKS=1 */

/* The lazy init: resolves the real allocator, reads the environment, opens
 * the ring file. Thread-safe; returns when the state is DONE or deferred. */
void proc_init(void);
/* The collector asked for mallinfo2 (ring.h note 6): sample it. */
void proc_mallinfo_poll(void);

void leak_scan_run(void) __attribute__((weak));

/* ------------------------------------------------------------------ *
 * Client API (client.c, pool.c): include/memtrace/memtrace.h.
 * ------------------------------------------------------------------ */

/* Nonzero while memtrace_pause() is in force: new allocations go into the
 * live table untraced (hook_alloc_done). */
extern _Atomic uint32_t client_paused;

/* Every live, not ignored chunk of every pool (world stopped); stops when
 * cb returns nonzero, returning 1. *count grows by the chunks seen. */
int pool_chunk_foreach(int (*cb)(uint64_t addr, uint64_t size, uint32_t stack_id, uint8_t family,
                                 void *ctx),
                       void *ctx, uint64_t *count);
/* Every ignored chunk of every pool as [addr, addr + size) (world stopped). */
void pool_ignored_foreach(void (*cb)(uint64_t addr, uint64_t size, void *ctx), void *ctx);
/* Marks the live chunk at addr in any pool ignored; its pool id, or 0. */
uint32_t pool_chunk_ignore(uint64_t addr);

#define POOL_MAX 16384u     /* pool ids per process image; later creates return 0 */
#define POOL_NAME_MAX 64u   /* bytes of a pool name kept, incl. NUL */
#define POOL_E_IGNORED 0x1u /* pool_ent.flags: memtrace_ignore_object */

/* One chunk or superblock: key is addr + 1 (0 empty, UINT64_MAX removed). */
struct pool_ent {
    _Atomic uint64_t key;
    uint64_t size;     /* bytes */
    uint32_t stack_id; /* allocation stack */
    uint32_t flags;    /* POOL_E_* */
};

struct pool_tab {
    uint64_t cap;  /* entries, a power of two */
    uint64_t live; /* entries holding a key */
    uint64_t used; /* entries ever used (live + removed) */
    struct pool_ent e[];
};

struct pool {
    uint32_t id;                      /* the handle */
    _Atomic uint32_t lock;            /* spin flag: table updates + their records */
    _Atomic int alive;                /* 0 once destroyed */
    char name[POOL_NAME_MAX];
    _Atomic(struct pool_tab *) chunks; /* owned: live chunks */
    _Atomic(struct pool_tab *) sbs;    /* owned: superblocks */
};

/* A new pool with the next id (never reused); NULL when ids or memory ran out. */
struct pool *pool_new(const char *name);
/* The live pool of a handle, or NULL. */
struct pool *pool_of(uint64_t handle);
void pool_lock(struct pool *p);
void pool_unlock(struct pool *p);
/* Inserts or replaces addr; 1 if it was there (*old filled when non-NULL),
 * 0 if new, -1 when memory ran out. Caller holds the pool's lock. */
int pool_tab_put(_Atomic(struct pool_tab *) *slot, uint64_t addr, uint64_t size,
                 uint32_t stack_id, struct pool_ent *old);
/* Removes addr; 1 and *out (may be NULL) if it was there, else 0. Locked. */
int pool_tab_del(_Atomic(struct pool_tab *) *slot, uint64_t addr, struct pool_ent *out);
/* The entry of addr or NULL. Locked. */
struct pool_ent *pool_tab_get(_Atomic(struct pool_tab *) *slot, uint64_t addr);
/* Drops every entry and the table. Locked. */
void pool_tab_clear(_Atomic(struct pool_tab *) *slot);

struct leak_graph;
/* Called by the leak scan once its graph is built (world stopped): the
 * contents of ignored blocks and chunks become roots. */
void client_leak_roots(struct leak_graph *g);

/* ------------------------------------------------------------------ *
 * Hooks (hooks.c, shared with hooks_cxx.c).
 * ------------------------------------------------------------------ */

enum hook_mode {
    HOOK_PASS = 0,    /* nothing traced: forward only */
    HOOK_GUARDED = 1, /* inside memtrace (or before init): live table only */
    HOOK_TRACE = 2,   /* record the event */
};

struct hook_real {
    void *(*malloc)(size_t);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void (*free)(void *);
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    void *(*memalign)(size_t, size_t);
    void *(*valloc)(size_t);
    void *(*pvalloc)(size_t);
    size_t (*malloc_usable_size)(void *);
};
extern struct hook_real hook_real;

int hook_resolve(void); /* dlsym(RTLD_NEXT) every real function; 0 or -1 */
int hook_mode_slow(void);

static inline int hook_mode(void)
{
    if (MT_UNLIKELY(atomic_load_explicit(&proc_init_state, memory_order_acquire) != PROC_INIT_DONE))
        return hook_mode_slow();
    if (!atomic_load_explicit(&ring_proc.tracing, memory_order_relaxed)) return HOOK_PASS;
    return tls_state.guard ? HOOK_GUARDED : HOOK_TRACE;
}

/* HOOK_TRACE, after the real allocation returned p (non-NULL). */
void hook_alloc_done(void *p, size_t size, uint8_t family, uint8_t api, uint16_t flags);
/* HOOK_TRACE, before the real release of p (non-NULL): checks, records.
 * Returns 1 when the real release must be called, 0 when p is not live. */
int hook_free_begin(void *p, uint8_t family, uint8_t api);
/* HOOK_GUARDED: keep the live table right without writing anything. */
void hook_guard_alloc(void *p, size_t size, uint8_t family);
void hook_guard_free(void *p);

#pragma GCC visibility pop

#endif /* MEMTRACE_PRELOAD_INT_H */
