/*
 * ring.c — producer side of the shared-memory rings (runs in the target)
 *
 * Every record the preload writes goes through ring_reserve()/ring_commit()
 * here: the thread's exclusive ring (claimed by CAS on owner_tid), or the
 * shared overflow ring under its spin flag. The collector drains the other
 * end (analyzer/collect/). Also holds the per-thread TLS state and the
 * recursion guard. Contract: include/memtrace/ring.h, docs/preload.md.
 *
 * Design notes
 *   1. Sequence numbers are taken only once the space is secured, so a
 *      record that lossy mode drops takes none and seqs stay dense.
 *   2. A record never straddles the end of a ring: the producer first pads
 *      to the end with MT_REC_PAD (no seq), then writes at offset 0. Pad and
 *      record are published by one release store of head.
 *   3. A full ring: lossy mode drops at once (counted in `dropped`); else the
 *      producer sleeps on a futex the collector wakes when it frees space
 *      (ring.h note 3), with a timeout doubling 20 us -> 1 ms; after MT_RING_DETACH_NS with no progress it
 *      checks the collector and, if gone, detaches (state DETACHED, tracing
 *      off for good) so the program never hangs.
 *   4. A thread releases its ring in a pthread key destructor, after writing
 *      THREAD end; allocations by later destructors of that thread go to the
 *      overflow ring (TLS_F_EXITING), so a ring is never claimed twice.
 *   5. ring_proc.epoch changes on every attach (fork child, tests), which
 *      makes every TLS claim stale without touching other threads' TLS.
 *
 * SPDX-License-Identifier: MIT
 */
#include "preload_int.h"

#include <cpuid.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- state */

#define RING_SLEEP_MIN_NS 20000ull    /* first wait on a full ring: 20 us */
#define RING_SLEEP_MAX_NS 1000000ull  /* back off to 1 ms, the collector's period order */
#define RING_SPIN_YIELDS 64u          /* overflow spin: yields between sleeps */

__thread struct tls_state tls_state MT_TLS = {.ring_idx = -1};
struct ring_proc ring_proc;
int ring_prefetchw_ok;

static struct {
    pthread_key_t key;          /* destructor releases the ring at thread exit */
    _Atomic int key_state;      /* 0 none, 1 creating, 2 ready */
    _Atomic uint32_t claim_hint; /* where the next claim starts probing */
    _Atomic uint32_t reported;  /* MT_DEGRADED_* bits already written to stderr */
} ring_g;

/* --------------------------------------------------------- TLS helpers */

void tls_guard_enter(void)
{
    tls_state.guard++;
}

void tls_guard_leave(void)
{
    tls_state.guard--;
}

uint32_t tls_tid(void)
{
    if (MT_UNLIKELY(tls_state.tid == 0)) tls_state.tid = (uint32_t)gettid();
    return tls_state.tid;
}

uint64_t ring_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------- static helpers */

static void ring_key_dtor(void *unused)
{
    (void)unused;
    ring_thread_exit();
}

static void ring_key_create(void)
{
    int expect = 0;
    if (!atomic_compare_exchange_strong(&ring_g.key_state, &expect, 1)) return;
    if (pthread_key_create(&ring_g.key, ring_key_dtor) == 0)
        atomic_store_explicit(&ring_g.key_state, 2, memory_order_release);
}

static int ring_is_overflow(int32_t idx)
{
    return (uint32_t)idx == ring_proc.n_rings - 1;
}

/* Claims an exclusive ring for the calling thread, or falls back to the
 * overflow ring. Writes THREAD start when announcing is on. */
static MT_COLD void ring_claim(struct tls_state *t)
{
    uint32_t tid = tls_tid();
    uint32_t n_excl = ring_proc.n_rings - 1;
    uint64_t epoch = atomic_load_explicit(&ring_proc.epoch, memory_order_acquire);

    if (t->epoch != epoch) t->flags &= ~TLS_F_ANNOUNCED;
    t->ring_idx = (int32_t)n_excl;
    if (!(t->flags & TLS_F_EXITING) && n_excl > 0) {
        uint32_t start = atomic_fetch_add_explicit(&ring_g.claim_hint, 1, memory_order_relaxed);
        for (uint32_t i = 0; i < n_excl; i++) {
            uint32_t idx = (start + i) % n_excl;
            uint32_t expect = 0;
            if (atomic_compare_exchange_strong_explicit(&ring_proc.ctl[idx].owner_tid, &expect,
                                                        tid, memory_order_acquire,
                                                        memory_order_relaxed)) {
                t->ring_idx = (int32_t)idx;
                break;
            }
        }
    }
    t->epoch = epoch;
    t->tail_cache =
        atomic_load_explicit(&ring_proc.ctl[t->ring_idx].tail, memory_order_acquire);
    /* every thread gets the destructor: THREAD end, and the ring released */
    if (!(t->flags & (TLS_F_KEYED | TLS_F_EXITING)) &&
        atomic_load_explicit(&ring_g.key_state, memory_order_acquire) == 2) {
        pthread_setspecific(ring_g.key, (void *)1);
        t->flags |= TLS_F_KEYED;
    }
    if (ring_proc.announce) ring_announce_thread();
}

/* Takes the overflow ring's spin flag; 0, or -1 when tracing stopped. */
static int ring_spin_lock(struct mt_ring_ctl *ctl)
{
    for (uint32_t n = 0;; n++) {
        uint32_t expect = 0;
        if (atomic_compare_exchange_weak_explicit(&ctl->spin, &expect, 1, memory_order_acquire,
                                                  memory_order_relaxed))
            return 0;
        if (!atomic_load_explicit(&ring_proc.tracing, memory_order_relaxed)) return -1;
        if (n % RING_SPIN_YIELDS == RING_SPIN_YIELDS - 1) {
            struct timespec ts = {0, (long)RING_SLEEP_MIN_NS};
            nanosleep(&ts, NULL);
        } else {
            sched_yield();
        }
    }
}

static int ring_collector_gone(void)
{
    int saved = errno;
    int gone = ring_proc.collector_pid == 0 ||
               (kill((pid_t)ring_proc.collector_pid, 0) == -1 && errno == ESRCH);
    errno = saved;
    return gone;
}

static MT_COLD void ring_detach_dead(void)
{
    struct mt_ring_file *f = ring_proc.file;
    uint32_t st = atomic_load(&f->state);
    while (st != MT_STATE_DETACHED && st != MT_STATE_DONE &&
           !atomic_compare_exchange_weak(&f->state, &st, MT_STATE_DETACHED)) {
    }
    atomic_store(&ring_proc.tracing, 0);
}

/* Sleeps until the collector moves tail off seen (it wakes the futex on
 * tail's low word, ring.h note 3) or timeout_ns passed. A kernel without
 * futexes (seccomp) makes this a plain sleep. Keeps errno. */
static void ring_sleep_on_tail(struct mt_ring_ctl *ctl, uint64_t seen, uint64_t timeout_ns)
{
    int saved = errno;
    struct timespec ts = {0, (long)timeout_ns};
    /* x86_64 is little-endian: the first 4 bytes of tail are its low word */
    if (syscall(SYS_futex, (uint32_t *)&ctl->tail, FUTEX_WAIT, (uint32_t)seen, &ts, NULL, 0) ==
            -1 &&
        errno == ENOSYS)
        nanosleep(&ts, NULL);
    errno = saved;
}

/* The ring lacks need bytes at head: drop (lossy) or wait. 0 with *tail
 * updated when there is room now, -1 when the record must not be written. */
static MT_COLD int ring_wait(struct mt_ring_ctl *ctl, uint64_t head, uint64_t need, int may_drop,
                             uint64_t *tail)
{
    struct mt_ring_file *f = ring_proc.file;
    uint64_t sleep_ns = RING_SLEEP_MIN_NS;

    *tail = atomic_load_explicit(&ctl->tail, memory_order_acquire);
    if (head + need - *tail <= ring_proc.ring_bytes) return 0; /* cached tail was stale */
    atomic_fetch_add_explicit(&f->waits, 1, memory_order_relaxed);
    if (ring_proc.lossy && may_drop) {
        atomic_fetch_add_explicit(&f->dropped, 1, memory_order_relaxed);
        ring_degrade(MT_DEGRADED_RING_FULL_DROP);
        return -1;
    }
    uint64_t start = ring_now_ns();
    int rc;
    for (;;) {
        /* ring.h note 3: announce the sleep before the last look at tail */
        atomic_store_explicit(&ctl->waiting, 1, memory_order_seq_cst);
        *tail = atomic_load_explicit(&ctl->tail, memory_order_seq_cst);
        if (head + need - *tail <= ring_proc.ring_bytes) {
            rc = 0;
            break;
        }
        if (!atomic_load_explicit(&ring_proc.tracing, memory_order_relaxed)) {
            rc = -1;
            break;
        }
        ring_sleep_on_tail(ctl, *tail, sleep_ns);
        if (sleep_ns < RING_SLEEP_MAX_NS) sleep_ns *= 2;
        uint64_t now = ring_now_ns();
        if (now - start >= MT_RING_DETACH_NS) {
            if (ring_collector_gone()) {
                ring_detach_dead();
                rc = -1;
                break;
            }
            start = now;
        }
    }
    atomic_store_explicit(&ctl->waiting, 0, memory_order_relaxed);
    return rc;
}

/* ------------------------------------------------------------ exported */

void ring_file_init(void *base, uint32_t pid, uint32_t gen, uint32_t n_rings,
                    uint32_t ring_bytes, uint32_t collector_pid)
{
    struct mt_ring_file *f = base;
    uint64_t size = mt_ring_file_size(n_rings, ring_bytes);

    f->version = MT_RING_VERSION;
    f->hdr_bytes = sizeof(*f);
    f->pid = pid;
    f->gen = gen;
    f->n_rings = n_rings;
    f->ring_bytes = ring_bytes;
    f->data_offset = size - (uint64_t)n_rings * ring_bytes;
    f->collector_pid = collector_pid;
    atomic_store(&f->seq_next, 0);
    atomic_store(&f->state, MT_STATE_RUNNING);
    /* magic last: a collector mapping the file early sees it incomplete */
    __atomic_store_n(&f->magic, MT_RING_MAGIC, __ATOMIC_RELEASE);
}

void ring_attach(void *base, uint64_t size, int lossy)
{
    struct mt_ring_file *f = base;

    ring_key_create();
    ring_proc.file = f;
    ring_proc.ctl = (struct mt_ring_ctl *)((uint8_t *)base + f->hdr_bytes);
    ring_proc.data = (uint8_t *)base + f->data_offset;
    ring_proc.file_size = size;
    ring_proc.n_rings = f->n_rings;
    ring_proc.ring_bytes = f->ring_bytes;
    ring_proc.collector_pid = f->collector_pid;
    ring_proc.lossy = lossy;
    unsigned eax, ebx, ecx = 0, edx;
    /* CPUID 0x80000001 ECX bit 8: PRFCHW (ring_seq_prefetch) */
    if (__get_cpuid(0x80000001u, &eax, &ebx, &ecx, &edx)) ring_prefetchw_ok = (ecx >> 8) & 1;
    atomic_fetch_add_explicit(&ring_proc.epoch, 1, memory_order_release);
    atomic_store_explicit(&ring_proc.tracing, 1, memory_order_release);
}

void ring_detach(void)
{
    atomic_store_explicit(&ring_proc.tracing, 0, memory_order_release);
    atomic_fetch_add_explicit(&ring_proc.epoch, 1, memory_order_release);
    ring_proc.file = NULL;
}

uint32_t ring_max_record(void)
{
    return ring_proc.ring_bytes / 2;
}

void ring_degrade(uint32_t bit)
{
    static const char *const why[] = {"lossy mode dropped events", "arena mmap failed",
                                      "stack table full", "live table could not grow",
                                      "unwinding failed"};
    if (ring_proc.file != NULL)
        atomic_fetch_or_explicit(&ring_proc.file->degraded, bit, memory_order_relaxed);
    if (atomic_fetch_or(&ring_g.reported, bit) & bit) return;
    for (unsigned i = 0; i < sizeof(why) / sizeof(why[0]); i++) {
        if (bit != (1u << i)) continue;
        int saved = errno;
        char line[96] = "memtrace: degraded: ";
        size_t len = strlen(line);
        size_t wlen = strlen(why[i]);
        memcpy(line + len, why[i], wlen);
        line[len + wlen] = '\n';
        ssize_t rc = write(2, line, len + wlen + 1);
        (void)rc;
        errno = saved;
    }
}

struct mt_rec_common *ring_reserve(uint16_t kind, uint32_t len, int may_drop)
{
    struct tls_state *t = &tls_state;
    if (!atomic_load_explicit(&ring_proc.tracing, memory_order_acquire)) return NULL;
    if (MT_UNLIKELY(t->ring_idx < 0 ||
                    t->epoch != atomic_load_explicit(&ring_proc.epoch, memory_order_relaxed)))
        ring_claim(t);
    if (MT_NEVER(len > ring_max_record() || len % MT_REC_ALIGN != 0)) return NULL;

    int32_t idx = t->ring_idx;
    struct mt_ring_ctl *ctl = &ring_proc.ctl[idx];
    int overflow = ring_is_overflow(idx);
    if (overflow && ring_spin_lock(ctl) < 0) return NULL;

    uint64_t head = atomic_load_explicit(&ctl->head, memory_order_relaxed);
    uint32_t mask = ring_proc.ring_bytes - 1;
    uint64_t pad = ((head & mask) + len > ring_proc.ring_bytes) ? ring_proc.ring_bytes - (head & mask) : 0;
    uint64_t tail = overflow ? atomic_load_explicit(&ctl->tail, memory_order_acquire) : t->tail_cache;
    if (head + pad + len - tail > ring_proc.ring_bytes) {
        if (ring_wait(ctl, head, pad + len, may_drop, &tail) < 0) {
            if (overflow) atomic_store_explicit(&ctl->spin, 0, memory_order_release);
            return NULL;
        }
        t->tail_cache = tail;
    }
    uint8_t *ring = ring_proc.data + (uint64_t)idx * ring_proc.ring_bytes;
    if (pad != 0) {
        struct mt_rec_hdr *ph = (struct mt_rec_hdr *)(ring + (head & mask));
        *ph = (struct mt_rec_hdr){.kind = MT_REC_PAD, .flags = 0, .len = (uint32_t)pad};
        head += pad;
    }
    struct mt_rec_common *rec = (struct mt_rec_common *)(ring + (head & mask));
    rec->hdr = (struct mt_rec_hdr){.kind = kind, .flags = 0, .len = len};
    /* the clock first: its RDTSCP then runs while the seq line is still on
     * its way (ring_seq_prefetch), not after the RMW got it */
    rec->t_ns = ring_now_ns();
    rec->seq = atomic_fetch_add_explicit(&ring_proc.file->seq_next, 1, memory_order_relaxed);
    t->pend_head = head + len;
    return rec;
}

void ring_commit(struct mt_rec_common *rec)
{
    struct tls_state *t = &tls_state;
    struct mt_ring_ctl *ctl = &ring_proc.ctl[t->ring_idx];
    (void)rec;
    atomic_store_explicit(&ctl->head, t->pend_head, memory_order_release);
    if (ring_is_overflow(t->ring_idx)) atomic_store_explicit(&ctl->spin, 0, memory_order_release);
}

int rec_emit(struct mt_rec_common *rec)
{
    uint32_t len = rec->hdr.len;
    if (len < sizeof(*rec) || len % MT_REC_ALIGN != 0) return -1;
    struct mt_rec_common *dst = ring_reserve(rec->hdr.kind, len, 0);
    if (dst == NULL) return -1;
    rec->seq = dst->seq;
    rec->t_ns = dst->t_ns;
    dst->hdr.flags = rec->hdr.flags;
    memcpy(dst + 1, rec + 1, len - sizeof(*rec));
    ring_commit(dst);
    return 0;
}

/* One THREAD record for the calling thread: start (flags START) or end. */
static void ring_thread_record(uint16_t flags)
{
    struct mt_rec_thread *r =
        (struct mt_rec_thread *)ring_reserve(MT_REC_THREAD, sizeof(struct mt_rec_thread), 0);
    if (r == NULL) return;
    r->c.hdr.flags = flags;
    r->tid = tls_tid();
    r->pad = 0;
    memset(r->name, 0, sizeof(r->name));
    prctl(PR_GET_NAME, r->name, 0, 0, 0);
    r->name[sizeof(r->name) - 1] = '\0';
    ring_commit(&r->c);
}

void ring_announce_thread(void)
{
    struct tls_state *t = &tls_state;
    if (t->flags & TLS_F_ANNOUNCED) return;
    t->flags |= TLS_F_ANNOUNCED;
    ring_thread_record(MT_THREAD_F_START);
}

void ring_thread_exit(void)
{
    struct tls_state *t = &tls_state;
    uint64_t epoch = atomic_load_explicit(&ring_proc.epoch, memory_order_acquire);

    t->guard++;
    if (t->ring_idx >= 0 && t->epoch == epoch &&
        atomic_load_explicit(&ring_proc.tracing, memory_order_acquire)) {
        if (t->flags & TLS_F_ANNOUNCED) ring_thread_record(MT_THREAD_F_END);
        if (!ring_is_overflow(t->ring_idx))
            atomic_store_explicit(&ring_proc.ctl[t->ring_idx].owner_tid, 0, memory_order_release);
    }
    t->flags |= TLS_F_EXITING;
    t->ring_idx = -1;
    t->guard--;
}
