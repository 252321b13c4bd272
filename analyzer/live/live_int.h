/*
 * live_int.h — the aggregator's tables (private to analyzer/live)
 *
 * live_agg.c fills them from records (collector thread, under agg->mu);
 * live_sym.c symbolizes stacks for display (snapshot thread, under
 * agg->snap_mu, taking agg->mu only to copy); live_snap.c copies them into
 * a struct live_snap; live_map.c is the hash map they all use;
 * live_order.c restores seq order; live_lazy.c catches an idle aggregator
 * up from the trace; live_pool.c follows client-API pools and markers.
 * Docs: docs/tui.md ("Live aggregation").
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMTRACE_LIVE_INT_H
#define MEMTRACE_LIVE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "live/live.h"
#include "memtrace/trace_format.h"

/* ------------------------------------------------------------ map */

/* Open addressing, linear probing, backward-shift deletion. A key is any
 * uint64 except UINT64_MAX (the empty mark); each key holds two values. */
struct live_map {
    uint64_t *keys; /* owned */
    uint64_t *vals; /* owned, 2 per slot */
    size_t cap;     /* 0 or a power of two */
    size_t n;
};
void live_map_fini(struct live_map *m);
/* 1 and the values (pointers may be NULL) if present, else 0. */
int live_map_get(const struct live_map *m, uint64_t key, uint64_t *v0, uint64_t *v1);
/* Inserts or replaces. 0 or -ENOMEM. */
int live_map_put(struct live_map *m, uint64_t key, uint64_t v0, uint64_t v1);
/* 1 and the values (pointers may be NULL) if removed, else 0. */
int live_map_del(struct live_map *m, uint64_t key, uint64_t *v0, uint64_t *v1);
/* The two values of key, to read or update in place, or NULL if absent.
 * Valid until the next put/upsert/del. */
uint64_t *live_map_ref(const struct live_map *m, uint64_t key);
/* The two values of key, inserted (zeroed, *created = 1) if absent: one
 * probe sequence instead of get + put. NULL when out of memory. */
uint64_t *live_map_upsert(struct live_map *m, uint64_t key, int *created);
/* Calls fn(ctx, key, values) for every entry until fn returns nonzero,
 * which is returned; fn may change the values, never put or delete. */
int live_map_each(struct live_map *m, int (*fn)(void *ctx, uint64_t key, uint64_t *v), void *ctx);

/* Grows *arr (elements of elem bytes) to hold need. 0 or -ENOMEM. */
int live_reserve(void **arr, size_t *cap, size_t need, size_t elem);

/* ------------------------------------------------------------ order */

#define LIVE_SLOT_BYTES 64u /* sizeof(struct mt_rec_alloc): ALLOC, FREE, ERROR fit */

/* One record held back by the reorder window (live_order.c). */
struct live_slot {
    struct mt_rec_hdr *rec; /* NULL: empty; else inl, or an owned copy if larger */
    uint32_t ring;          /* ring of the block it came in */
    uint64_t inl[LIVE_SLOT_BYTES / 8];
};

/* A process image's reorder window: records wait here for earlier seqs. */
struct live_order {
    uint64_t next_seq;      /* seq to apply next */
    struct live_slot *win;  /* owned, cap slots, indexed seq & (cap - 1) */
    uint64_t cap;           /* 0 or a power of two */
    uint64_t n_held;        /* occupied slots */
};

/* ------------------------------------------------------------ tables */

/* Flags in the second value of blocks (and of a pool's chunks); the rest
 * is the cell index. */
#define LIVE_BLOCK_FREED (1ull << 63) /* freed since (kept for error kinds) */
#define LIVE_BLOCK_SB (1ull << 62)    /* a pool's superblock: out of the heap figures */
#define LIVE_BLOCK_CELL (LIVE_BLOCK_SB - 1)

/* Figures of one (site, allocating thread) of one process: the unit that
 * snapshots sum per site, filtered by thread. */
struct live_cell {
    uint32_t stack_id, tid;
    uint32_t thread_idx; /* index of tid in proc->threads */
    uint32_t pool_id;    /* the pool whose chunk made the cell, 0: malloc */
    uint64_t n_allocs, alloc_bytes, n_frees;
    uint64_t live_bytes, live_blocks;
    uint64_t leak_bytes, leak_blocks;
};

struct live_thread {
    uint32_t tid;
    char name[16];
    uint64_t n_allocs, alloc_bytes, n_frees, live_bytes;
};

struct live_stack {
    uint32_t off, n;  /* frames in proc->frames[off .. off+n) */
    int defined;      /* STACK record seen */
    char *label;      /* owned, set by live_sym.c; NULL until symbolized */
    char *search;     /* owned, likewise */
};

struct live_module {
    int present;
    int handle;       /* sym handle, -2 until registered, -1 if none */
    int is_memtrace;
    uint64_t bias, lo, hi;
    uint8_t build_id[40];
    uint32_t build_id_len;
    char *path;       /* owned */
    struct mt_segment *segs; /* owned */
    uint32_t n_segs;
};

/* A client pool of one process image (live_pool.c), figures as the
 * database's pools table has them. */
struct live_pool {
    uint32_t pool_id; /* 0: an unused slot */
    int destroyed;
    char name[64];
    struct live_map chunks; /* addr -> (size, cell | LIVE_BLOCK_FREED once given back) */
    struct live_map sbs;    /* superblock addr -> (size, -) */
    uint64_t live_bytes, live_chunks, held_bytes;
    uint64_t peak_live, peak_held, max_held;
    uint64_t n_allocs, n_frees, n_resets, n_errors;
    uint64_t leak_bytes, leak_chunks;
};

/* The peaks before the last allocation, while it may still turn out to be
 * a superblock counted for one event (live_pool.c, note 2). */
struct live_peak_save {
    uint64_t addr;                /* the allocation's; 0: nothing to undo */
    uint64_t p_peak;              /* the image's peak before it */
    uint64_t a_peak, a_peak_ns;   /* the session's before it */
    uint64_t a_after, a_after_ns; /* and after it */
};

struct live_proc {
    uint32_t pid, gen, ppid, parent_gen;
    uint32_t stack_watermark, module_watermark;
    struct live_proc *parent; /* borrowed: fork parent, NULL if unknown */
    char *exe;                /* owned */
    int ended;
    int errors_checked; /* 1, 0 (MT_OPT_NO_ERRORS), -1 before PROCESS */
    int in_check;       /* inside memtrace_leak_check(): its LEAKs are not the exit's */
    uint64_t live_bytes, live_blocks, peak_bytes, rss;
    uint64_t n_allocs, n_frees, alloc_bytes, n_errors;
    struct live_order ord;    /* reorder window (live_order.c) */
    struct live_map blocks;   /* addr -> (size, cell | LIVE_BLOCK_FREED once freed:
                                 error kinds) */
    uint32_t last_tid;        /* thread lookup cache: a block is one thread's */
    size_t last_thread;       /* index of last_tid in threads, if n_threads */
    struct live_map cell_of;  /* stack_id << 32 | tid -> (cell index, -) */
    struct live_cell *cells;  size_t n_cells, cap_cells;
    struct live_thread *threads; size_t n_threads, cap_threads;
    struct live_map thr_of;   /* tid -> (index in threads, -) */
    struct live_stack *stacks; size_t n_stacks;  /* by local stack id */
    uint64_t *frames;         size_t n_frames, cap_frames; /* owned pcs */
    struct live_module *mods; size_t n_mods;    /* by local module id */
    struct live_pool *pools;
    size_t n_pools;                 /* by pool id - 1 */
    struct live_peak_save pre_peak; /* only once the image has a pool */
    struct live_proc *next;   /* creation order */
};

struct live_err {
    uint64_t t_ns;
    uint32_t pid, gen, tid, stack_id;
    uint64_t addr, size;
    const char *kind;  /* static string */
    const char *api;   /* static string */
    char *at;          /* owned, symbolized lazily */
};

struct sym_ctx;

/* Lazy mode (live_lazy.c). Only the collector thread moves IDLE ->
 * WANTED's successor; see live_lazy.c's design notes. */
enum live_state {
    LIVE_ST_ACTIVE = 0, /* every block is fed (run --live, replay, woken) */
    LIVE_ST_IDLE,       /* blocks are only counted: nobody watches */
    LIVE_ST_WANTED,     /* a viewer arrived: the next block catches up */
};

struct live_agg {
    atomic_int state;          /* enum live_state; relaxed on the hot path */
    uint64_t n_idle_blocks;    /* blocks seen while idle (collector thread) */
    struct trace_writer *w;    /* borrowed: lazy mode's trace, until finish */
    char *trace_path;          /* owned: lazy mode's trace file */
    int catch_up_rc;           /* first error of the catch-up, 0 if none */
    uint64_t n_replayed;       /* records the catch-up fed (under mu) */
    pthread_cond_t ready_cv;   /* broadcast when ACTIVE or finished (mu) */
    pthread_mutex_t mu;        /* guards everything below but snap_mu's */
    pthread_mutex_t snap_mu;   /* one snapshot builder at a time: sym */
    int status;                /* first fatal error */
    uint64_t n_bad_blocks;     /* records or blocks skipped as corrupt */
    uint64_t n_holes;          /* seqs never seen at an image's end */
    uint64_t start_ns, last_ns;
    int have_start, finished;
    char command[256];
    struct live_proc *procs, *procs_last;
    size_t n_procs;
    uint64_t live_bytes, live_blocks, peak_bytes, peak_ns;
    uint64_t n_allocs, n_frees, alloc_bytes, n_errors;
    struct live_err errs[LIVE_SNAP_MAX_ERRORS]; /* ring */
    size_t err_head, n_errs;
    struct live_marker marks[LIVE_SNAP_MAX_MARKERS]; /* ring, newest kept */
    size_t mark_head, n_marks;
    struct live_hist_point hist[LIVE_HIST_POINTS];
    uint64_t hist_n_allocs[LIVE_HIST_POINTS], hist_n_frees[LIVE_HIST_POINTS];
    size_t n_hist;
    uint64_t hist_step_ns;     /* interval of one point; doubles when full */
    struct sym_ctx *sym;       /* owned, used under snap_mu only */
};

/* live_agg.c */
/* live_agg_feed without taking mu (the caller holds it). Returns the
 * number of records taken from the block. */
size_t live_agg_feed_locked(struct live_agg *a, uint32_t pid, uint32_t gen, uint32_t ring,
                            const void *records, size_t len);

/* Applies one ring record of p in seq order (a dispatch on its kind). 0,
 * -ENOMEM. */
int live_apply_rec(struct live_agg *a, struct live_proc *p, uint32_t ring,
                   const struct mt_rec_hdr *h);

/* For live_pool.c (live_agg.c keeps the hot paths' versions static). */
/* Counts a chunk of size bytes as an allocation of its (stack, tid) cell,
 * created on first use. The cell, or NULL when out of memory. */
struct live_cell *live_count_chunk(struct live_agg *a, struct live_proc *p, uint32_t stack_id,
                                   uint32_t tid, uint64_t size, uint64_t t_ns);
/* Counts the free of the live block or chunk whose values v hold (by
 * thread tid) and flags it freed. 0 or -ENOMEM. */
int live_count_release(struct live_agg *a, struct live_proc *p, uint64_t *v, uint32_t tid);
/* Moves a block of size bytes of cell out of (sign < 0) or back into
 * (sign > 0) the live figures of its cell, thread, process and the
 * session: a superblock leaving the heap, or rejoining it. */
void live_count_move(struct live_agg *a, struct live_proc *p, uint64_t size, uint64_t cell,
                     int sign);
/* Session-relative time of a record's t_ns (advances the session's end). */
uint64_t live_rel(struct live_agg *a, uint64_t t_ns);
/* Counts an error of p at t_ns (a record's) and keeps e, its time and
 * process filled in, in the ring of the newest. */
void live_err_add(struct live_agg *a, struct live_proc *p, uint64_t t_ns, struct live_err e);

/* live_pool.c — caller holds mu. */
/* MT_REC_POOL, MT_REC_POOL_CHUNK, MT_REC_CLIENT of p, in order. 0 or -ENOMEM. */
int live_pool_rec(struct live_agg *a, struct live_proc *p, const struct mt_rec_hdr *h);
/* A FREE of a block flagged LIVE_BLOCK_SB: it rejoins the heap and leaves
 * every pool that held it, before the free is counted. blk: its values. */
void live_pool_sb_freed(struct live_agg *a, struct live_proc *p, uint64_t addr, uint64_t *blk);
/* The live chunk at addr of any pool of p: its values (and its pool in
 * *pool), or NULL. */
uint64_t *live_pool_chunk_at(struct live_proc *p, uint64_t addr, struct live_pool **pool);
void live_pool_free_all(struct live_proc *p);

/* live_order.c — caller holds mu. */
/* Takes one ring record of p: applies it and the held run after it when
 * its seq is next, else holds a copy. 0, -ENOMEM or MT_ECORRUPT (record
 * skipped). */
int live_order_push(struct live_agg *a, struct live_proc *p, uint32_t ring,
                    const struct mt_rec_hdr *h);
/* p's image ended: applies everything held, in seq order, over holes. */
int live_order_flush(struct live_agg *a, struct live_proc *p);
void live_order_fini(struct live_order *o);

/* live_lazy.c — collector thread (or finish), mu NOT held. Brings an
 * aggregator in LIVE_ST_WANTED up to date from the trace and makes it
 * ACTIVE. Returns 1 if the block the caller is handling was already in
 * the trace (so it must not be fed again), else 0. */
int live_lazy_catch_up(struct live_agg *a);
/* RSS of the processes still running, summed. Caller holds mu. */
uint64_t live_agg_rss_total(const struct live_agg *a);
struct live_proc *live_proc_find(struct live_agg *a, uint32_t pid, uint32_t gen);
/* Stack entry of local id in p or the fork parent it came from; the
 * process that owns it in *owner. NULL if unknown. */
struct live_stack *live_stack_find(struct live_proc *p, uint32_t id, struct live_proc **owner);

/* live_sym.c — callers hold snap_mu. */
/* Gives every site and error of s that has no label yet its label (and
 * search text), symbolizing at most a bounded number of new stacks per
 * call (the rest show addresses until the next snapshot). Takes and drops
 * a->mu itself. */
void live_sym_fill(struct live_agg *a, struct live_snap *s);
/* Every frame of one stack. 0, -ENOENT or -ENOMEM. */
int live_sym_stack(struct live_agg *a, uint32_t pid, uint32_t gen, uint32_t stack_id,
                   struct live_lines *out);
void live_sym_free(struct live_agg *a);

#endif /* MEMTRACE_LIVE_INT_H */
