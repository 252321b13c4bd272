/*
 * ring.h — the shared-memory layout between a traced process and the collector
 *
 * Each traced process image creates one file in the session directory,
 * "<pid>.<gen>.ring" (gen = exec generation, 0 for the first image of a pid,
 * found with O_CREAT|O_EXCL), sizes it, and maps it MAP_SHARED. The collector
 * (analyzer/collect/) maps the same file and drains it. Because the bytes live
 * in a file both map, a target that dies loses nothing it had committed.
 *
 * Design notes
 *   1. The file is struct mt_ring_file, then n_rings struct mt_ring_ctl, then
 *      n_rings data areas of ring_bytes each (ring_bytes a power of two).
 *   2. Rings 0 .. n_rings-2 are single-producer: a thread claims one by
 *      CAS on owner_tid (0 -> tid) and releases it at thread exit. The last
 *      ring is the overflow ring shared by threads that found none free; its
 *      producers serialise on the ring's spin flag (rare path).
 *   3. Producer protocol (one producer at a time per ring):
 *        t = load(tail, acquire); need space (head - t + len <= ring_bytes);
 *        write the record at head % ring_bytes (contiguous; if it would cross
 *        the end, first write an MT_REC_PAD up to the end);
 *        store(head, head + len, release).
 *      A full ring makes the producer wait, never drop, unless
 *      MEMTRACE_LOSSY is set: then it drops and counts in `dropped`.
 *      Waiting: store(waiting, 1, seq_cst); re-load tail; if still full,
 *      FUTEX_WAIT (shared) on tail's low 32 bits with that value and a
 *      timeout; store(waiting, 0) once there is room. The consumer, after
 *      storing tail, does a seq_cst fence and FUTEX_WAKEs the tail word when
 *      waiting is set. A consumer that never wakes only costs the timeout.
 *   4. Consumer protocol: h = load(head, acquire); copy [tail, h); store(tail,
 *      h, release). head and tail are byte counts that only grow.
 *   5. Liveness: the collector stores its pid in collector_pid and bumps
 *      heartbeat_ns on every poll. A producer that has waited on a full ring
 *      for MT_RING_DETACH_NS and finds the collector gone (kill(pid,0) ==
 *      ESRCH) sets state = MT_STATE_DETACHED and stops tracing: the program
 *      continues, untraced, never hangs.
 *   6. mallinfo2: the collector increments mallinfo_req; the first hook in
 *      the target that sees mallinfo_req != mallinfo_done calls mallinfo2()
 *      (outside the real allocator), writes MT_REC_MALLINFO and stores done.
 *
 * Contract page: docs/trace-format.md (section "Rings").
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMTRACE_RING_H
#define MEMTRACE_RING_H

#include <stdint.h>

#define MT_RING_MAGIC 0x474e4952544d454dull /* "MEMTRING" little-endian */
#define MT_RING_VERSION 1u
#define MT_CACHELINE 64u /* x86_64 line; head and tail live on separate lines */

#define MT_RING_DEFAULT_RINGS 64u          /* 63 exclusive + 1 overflow */
#define MT_RING_DEFAULT_BYTES (1u << 20)   /* 1 MiB per ring: ~15k allocs */
#define MT_RING_DETACH_NS 2000000000ull    /* 2 s of full ring + dead collector */

enum mt_proc_state {
    MT_STATE_RUNNING = 0,
    MT_STATE_EXITED = 1,   /* MT_REC_EXIT written; no more records but frees
                              from late destructors may still follow */
    MT_STATE_DETACHED = 2, /* collector gone; producer stopped tracing */
    MT_STATE_DONE = 3,     /* last record written (after library fini) */
};

#define MT_DEGRADED_RING_FULL_DROP 0x1u  /* lossy mode dropped events */
#define MT_DEGRADED_ARENA 0x2u           /* preload arena mmap failed */
#define MT_DEGRADED_STACK_TABLE 0x4u     /* stack table full; stack id 0 used */
#define MT_DEGRADED_LIVE_TABLE 0x8u      /* live table could not grow */
#define MT_DEGRADED_UNWIND 0x10u         /* unwinding failed at least once */

struct mt_ring_file {
    uint64_t magic;       /* MT_RING_MAGIC */
    uint32_t version;     /* MT_RING_VERSION */
    uint32_t hdr_bytes;   /* offset of the first struct mt_ring_ctl */
    uint32_t pid;
    uint32_t gen;
    uint32_t n_rings;
    uint32_t ring_bytes;  /* power of two */
    uint64_t data_offset; /* offset of ring 0's data area */
    uint32_t collector_pid;  /* written by the preload from MEMTRACE_COLLECTOR_PID */
    uint32_t pad0;
    uint8_t pad1[MT_CACHELINE - 48];

    /* line 1: written by the target */
    _Atomic uint64_t seq_next; /* next sequence number to hand out */
    uint8_t pad2[MT_CACHELINE - 8];

    /* line 2: state, written rarely */
    _Atomic uint32_t state;       /* enum mt_proc_state */
    _Atomic uint32_t degraded;    /* MT_DEGRADED_* */
    _Atomic uint64_t dropped;     /* records dropped in lossy mode */
    _Atomic uint64_t waits;       /* times a producer found its ring full */
    _Atomic int32_t exit_status;  /* valid once state >= MT_STATE_EXITED */
    uint32_t pad3;
    uint8_t pad4[MT_CACHELINE - 32];

    /* line 3: written by the collector */
    _Atomic uint64_t heartbeat_ns;  /* CLOCK_MONOTONIC of the last poll */
    _Atomic uint32_t mallinfo_req;  /* collector bumps to ask for a sample */
    _Atomic uint32_t mallinfo_done; /* target copies req here when sampled */
    uint8_t pad5[MT_CACHELINE - 16];
};
_Static_assert(sizeof(struct mt_ring_file) == 4 * MT_CACHELINE, "mt_ring_file layout");

struct mt_ring_ctl {
    _Atomic uint32_t owner_tid; /* 0 = free; overflow ring: unused */
    _Atomic uint32_t spin;      /* overflow ring: producer lock flag */
    uint8_t pad0[MT_CACHELINE - 8];
    _Atomic uint64_t head;      /* bytes committed by the producer */
    uint8_t pad1[MT_CACHELINE - 8];
    _Atomic uint64_t tail;      /* bytes consumed by the collector */
    _Atomic uint32_t waiting;   /* producer sleeps on tail's low word (note 3) */
    uint8_t pad2[MT_CACHELINE - 12];
};
_Static_assert(sizeof(struct mt_ring_ctl) == 3 * MT_CACHELINE, "mt_ring_ctl layout");

/* Total file size for a given geometry. */
static inline uint64_t mt_ring_file_size(uint32_t n_rings, uint32_t ring_bytes)
{
    uint64_t hdr = sizeof(struct mt_ring_file) + (uint64_t)n_rings * sizeof(struct mt_ring_ctl);
    hdr = (hdr + 4095u) & ~(uint64_t)4095u; /* data starts on a page */
    return hdr + (uint64_t)n_rings * ring_bytes;
}

/* Environment the session passes to the target (set by `memtrace run`). */
#define MT_ENV_SESSION "MEMTRACE_SESSION"           /* session directory */
#define MT_ENV_COLLECTOR_PID "MEMTRACE_COLLECTOR_PID"
#define MT_ENV_DEPTH "MEMTRACE_DEPTH"               /* unwind depth, default 64 */
#define MT_ENV_LOSSY "MEMTRACE_LOSSY"               /* "1": drop on full ring */
#define MT_ENV_FREE_STACKS "MEMTRACE_FREE_STACKS"   /* "1": stacks on frees */
#define MT_ENV_NO_FOLLOW "MEMTRACE_NO_FOLLOW_FORK"  /* "1": only the root pid */
#define MT_ENV_ROOT_PID "MEMTRACE_ROOT_PID"         /* with NO_FOLLOW */
#define MT_ENV_RINGS "MEMTRACE_RINGS"               /* ring count override */
#define MT_ENV_RING_BYTES "MEMTRACE_RING_BYTES"     /* ring size override */
#define MT_ENV_NO_LEAK_SCAN "MEMTRACE_NO_LEAK_SCAN" /* "1": skip the exit scan */
#define MT_ENV_NO_ERRORS "MEMTRACE_NO_ERRORS"       /* "1": no live table, no scan */

#endif /* MEMTRACE_RING_H */
