/*
 * stack.c — unwind the caller of an allocation and intern its stack (target)
 *
 * Every traced allocation calls stack_capture(): libunwind's unw_backtrace
 * into a fixed array on the thread's stack, drop the preload's own frames,
 * then look the frames up in a lock-free open-addressing hash table (arena
 * memory). A new stack gets the next id (from 1) and one MT_REC_STACK record.
 * Contract: docs/preload.md ("Stacks"), record layout in trace_format.h.
 *
 * Design notes
 *   1. An entry is claimed by one CAS of its key word, which packs the
 *      frame hash (high 48 bits), the fork epoch (14 bits) and the state
 *      (2 bits): FILLING -> READY, or FILLING -> DEAD.
 *   2. The claimer fills the entry, lets module.c write any MODULE records,
 *      writes STACK (taking its seq), and only then stores READY (release).
 *      A thread that finds a FILLING entry with a matching hash waits, so
 *      every ALLOC that references a stack has a larger seq than its STACK.
 *   3. fork(): a FILLING entry whose epoch is older than the current one
 *      belongs to a thread that does not exist in this child; it is never
 *      waited for, its id is simply not used again.
 *   4. The table does not grow: past 3/4 load new stacks get id 0 and the
 *      file is flagged MT_DEGRADED_STACK_TABLE (lookups of known stacks go
 *      on working).
 *   5. fork() while another thread unwinds would hand the child locks held
 *      forever: libunwind's register-state cache mutex (Debian builds it
 *      without the per-thread cache, so PER_THREAD is GLOBAL) and glibc's
 *      dl_load_write_lock, which dl_iterate_phdr takes and fork does not
 *      reset; the child's first unwind then hangs. So a pthread_atfork
 *      prepare handler closes a gate and waits until every stripe count is
 *      0; stack_capture counts itself in (seq_cst add, then reads the gate:
 *      either it sees the gate or the fork sees its count) and waits
 *      outside while the gate is closed. The parent and the child reopen
 *      it. The wait is bounded (STACK_GATE_MAX_NS) so that a fork from a
 *      signal handler that interrupted an unwind cannot hang on itself.
 *
 * SPDX-License-Identifier: MIT
 */
#include "preload_int.h"

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

/* ---------------------------------------------------------------- types */

#define STACK_DEFAULT_CAPACITY (1u << 20) /* 32 MiB of virtual, touched lazily */
#define STACK_ST_FILLING 1u
#define STACK_ST_READY 2u
#define STACK_ST_DEAD 3u
#define STACK_EPOCH_MASK 0x3fffu
#define STACK_HASH_MASK (~(uint64_t)0xffff)

struct stack_entry {
    _Atomic uint64_t key;   /* 0 empty; hash | epoch << 2 | state */
    uint32_t id;            /* valid once READY */
    uint32_t n_frames;      /* valid once READY */
    const uint64_t *frames; /* arena, valid once READY */
    uint64_t pad;
};
_Static_assert(sizeof(struct stack_entry) == 32, "two entries per cache line");

static struct {
    struct stack_entry *tab; /* capacity entries, arena_map'ed */
    uint32_t mask;           /* capacity - 1 */
    uint32_t limit;          /* entries allowed before degrading */
    _Atomic uint32_t count;  /* entries claimed */
    _Atomic uint32_t next_id;/* next stack id */
    _Atomic uint32_t epoch;  /* bumped in every fork child */
    uint32_t depth;          /* frames kept per stack */
    uint64_t self_lo;        /* [self_lo, self_hi): our text, frames dropped */
    uint64_t self_hi;
} stk = {.next_id = 1, .depth = STACK_DEFAULT_DEPTH};

uint32_t stack_unwind_max = STACK_DEFAULT_DEPTH + STACK_SLACK;

#define STACK_GATE_MAX_NS 5000000000ull /* design note 5: give up waiting after 5 s */
#define STACK_GATE_NAP_NS 50000L        /* between looks at the stripe counts */

struct stack_gate_stripe stack_gate_busy[STACK_GATE_STRIPES];
_Atomic uint32_t stack_gate_closed;

/* ------------------------------------------------------------ helpers */

static inline uint64_t stack_rotl(uint64_t x, unsigned r)
{
    return x << r | x >> (64 - r);
}

/* Four independent multiply lanes, so the multiplies of one allocation's
 * ~20 frames overlap instead of forming one chain (that chain was most of
 * stack_intern's time); the finaliser mixes the lanes. Only probing
 * depends on it: equal hashes are confirmed by comparing the frames. */
static uint64_t stack_hash(const uint64_t *frames, uint32_t n)
{
    const uint64_t k = 0xff51afd7ed558ccdull;
    uint64_t h0 = 0x9e3779b97f4a7c15ull ^ n, h1 = 0xc2b2ae3d27d4eb4full;
    uint64_t h2 = 0x165667b19e3779f9ull, h3 = 0x27d4eb2f165667c5ull;
    uint32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        h0 = (h0 ^ frames[i]) * k;
        h1 = (h1 ^ frames[i + 1]) * k;
        h2 = (h2 ^ frames[i + 2]) * k;
        h3 = (h3 ^ frames[i + 3]) * k;
    }
    for (; i < n; i++) h0 = (h0 ^ frames[i]) * k;
    uint64_t h = h0 ^ stack_rotl(h1, 17) ^ stack_rotl(h2, 31) ^ stack_rotl(h3, 47);
    h ^= h >> 29;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 32;
    return (h & STACK_HASH_MASK) | 0x10000u; /* never 0 */
}

static uint64_t stack_key(uint64_t hash, uint32_t state)
{
    uint32_t epoch = atomic_load_explicit(&stk.epoch, memory_order_relaxed) & STACK_EPOCH_MASK;
    return hash | (uint64_t)epoch << 2 | state;
}

/* Fills a claimed entry, emits MODULE/STACK records, publishes it. */
static MT_COLD uint32_t stack_publish(struct stack_entry *e, uint64_t hash, const uint64_t *frames,
                                      uint32_t n)
{
    uint64_t *copy = arena_alloc((size_t)n * sizeof(uint64_t));
    if (copy == NULL) {
        ring_degrade(MT_DEGRADED_ARENA);
        atomic_store_explicit(&e->key, stack_key(hash, STACK_ST_DEAD), memory_order_release);
        return 0;
    }
    memcpy(copy, frames, (size_t)n * sizeof(uint64_t));
    e->frames = copy;
    e->n_frames = n;
    e->id = atomic_fetch_add_explicit(&stk.next_id, 1, memory_order_relaxed);

    mod_check(); /* modules the frames point into come before the STACK */
    uint32_t len = (uint32_t)(sizeof(struct mt_rec_stack) + (size_t)n * sizeof(uint64_t));
    struct mt_rec_stack *r = (struct mt_rec_stack *)ring_reserve(MT_REC_STACK, len, 0);
    if (r != NULL) {
        r->stack_id = e->id;
        r->n_frames = n;
        memcpy(r + 1, frames, (size_t)n * sizeof(uint64_t));
        ring_commit(&r->c);
    }
    atomic_store_explicit(&e->key, stack_key(hash, STACK_ST_READY), memory_order_release);
    return e->id;
}

/* e's hash matched: wait while it is being published, then compare.
 * Returns the id when the frames are equal, 0 otherwise. */
static uint32_t stack_match(struct stack_entry *e, uint64_t key, const uint64_t *frames, uint32_t n)
{
    for (unsigned spins = 0; (key & 3u) == STACK_ST_FILLING; spins++) {
        uint32_t epoch = atomic_load_explicit(&stk.epoch, memory_order_relaxed);
        if (((key >> 2) & STACK_EPOCH_MASK) != (epoch & STACK_EPOCH_MASK))
            return 0; /* its publisher did not survive fork (note 3) */
        if (spins > 16) sched_yield();
        key = atomic_load_explicit(&e->key, memory_order_acquire);
    }
    if ((key & 3u) != STACK_ST_READY || e->n_frames != n) return 0;
    return memcmp(e->frames, frames, (size_t)n * sizeof(uint64_t)) == 0 ? e->id : 0;
}

/* ------------------------------------------------------------ fork gate */

void stack_gate_wait(_Atomic uint32_t *busy)
{
    while (atomic_load_explicit(&stack_gate_closed, memory_order_seq_cst)) {
        atomic_fetch_sub_explicit(busy, 1, memory_order_release);
        /* sleeps only while the gate is still 1; woken when it opens */
        syscall(SYS_futex, (uint32_t *)&stack_gate_closed, FUTEX_WAIT_PRIVATE, 1u, NULL, NULL, 0);
        atomic_fetch_add_explicit(busy, 1, memory_order_seq_cst);
    }
}

static uint64_t stack_gate_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int stack_gate_idle(void)
{
    for (uint32_t i = 0; i < STACK_GATE_STRIPES; i++)
        if (atomic_load_explicit(&stack_gate_busy[i].busy, memory_order_seq_cst) != 0)
            return 0;
    return 1;
}

static void stack_gate_open(void)
{
    atomic_store_explicit(&stack_gate_closed, 0, memory_order_seq_cst);
    syscall(SYS_futex, (uint32_t *)&stack_gate_closed, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
}

/* pthread_atfork prepare: no thread inside stack_capture past this point. */
static void stack_fork_prepare(void)
{
    int saved = errno;
    atomic_store_explicit(&stack_gate_closed, 1, memory_order_seq_cst);
    uint64_t t0 = stack_gate_now_ns();
    struct timespec nap = {0, STACK_GATE_NAP_NS};
    while (!stack_gate_idle() && stack_gate_now_ns() - t0 < STACK_GATE_MAX_NS)
        nanosleep(&nap, NULL);
    errno = saved;
}

static void stack_fork_parent(void)
{
    int saved = errno;
    stack_gate_open();
    errno = saved;
}

/* ------------------------------------------------------------ exported */

int stack_init(uint32_t depth, uint64_t self_lo, uint64_t self_hi, uint32_t capacity)
{
    if (depth == 0) depth = STACK_DEFAULT_DEPTH;
    stk.depth = depth > STACK_MAX_DEPTH ? STACK_MAX_DEPTH : depth;
    stack_unwind_max = stk.depth + STACK_SLACK;
    stk.self_lo = self_lo;
    stk.self_hi = self_hi;
    if (stk.tab != NULL) return 0;
    if (capacity == 0 || (capacity & (capacity - 1)) != 0) capacity = STACK_DEFAULT_CAPACITY;
    stk.tab = arena_map((size_t)capacity * sizeof(struct stack_entry));
    if (stk.tab == NULL) return -12; /* -ENOMEM */
    stk.mask = capacity - 1;
    stk.limit = capacity / 4 * 3;
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
    pthread_atfork(stack_fork_prepare, stack_fork_parent, NULL); /* child: stack_fork_child */
    return 0;
}

uint32_t stack_intern(const uint64_t *frames, uint32_t n)
{
    if (n == 0 || stk.tab == NULL) return 0;
    uint64_t hash = stack_hash(frames, n);
    for (uint32_t probe = 0; probe <= stk.mask; probe++) {
        struct stack_entry *e = &stk.tab[((hash >> 16) + probe) & stk.mask];
        uint64_t key = atomic_load_explicit(&e->key, memory_order_acquire);
        if (key == 0) {
            if (atomic_load_explicit(&stk.count, memory_order_relaxed) >= stk.limit) break;
            uint64_t mine = stack_key(hash, STACK_ST_FILLING);
            if (atomic_compare_exchange_strong_explicit(&e->key, &key, mine, memory_order_acq_rel,
                                                        memory_order_acquire)) {
                atomic_fetch_add_explicit(&stk.count, 1, memory_order_relaxed);
                return stack_publish(e, hash, frames, n);
            }
        }
        if ((key & STACK_HASH_MASK) == hash) {
            uint32_t id = stack_match(e, key, frames, n);
            if (id != 0) return id;
        }
    }
    ring_degrade(MT_DEGRADED_STACK_TABLE);
    return 0;
}

uint32_t stack_intern_unwound(uint64_t *frames, int n)
{
    if (n <= 0) {
        ring_degrade(MT_DEGRADED_UNWIND);
        return 0;
    }
    uint32_t skip = 0;
    while (skip < (uint32_t)n && frames[skip] >= stk.self_lo && frames[skip] < stk.self_hi) skip++;
    uint32_t count = (uint32_t)n - skip;
    if (count > stk.depth) count = stk.depth;
    return stack_intern(frames + skip, count);
}

uint32_t stack_next_id(void)
{
    return atomic_load_explicit(&stk.next_id, memory_order_relaxed);
}

uint32_t stack_depth(void)
{
    return stk.depth;
}

void stack_fork_child(void)
{
    atomic_fetch_add_explicit(&stk.epoch, 1, memory_order_relaxed);
    /* the other threads are gone: their counts too (one left over if the
     * prepare wait gave up); then the gate opens as in the parent */
    for (uint32_t i = 0; i < STACK_GATE_STRIPES; i++)
        atomic_store_explicit(&stack_gate_busy[i].busy, 0, memory_order_relaxed);
    atomic_store_explicit(&stack_gate_closed, 0, memory_order_seq_cst);
}
