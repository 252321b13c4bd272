/*
 * analyze_int.h — state shared by the files of the analysis pass
 *
 * analyze.c drives the pass and owns struct an_state; an_map.c is the hash
 * map every table uses; an_sym.c turns raw stacks into global, symbolized
 * stacks; an_frag.c measures external fragmentation; an_out.c writes rows;
 * an_writer.c builds the allocations table's pages on a second thread and
 * an_rows.c splices them into the closed database.
 * Definitions of every figure: docs/metrics.md.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMTRACE_ANALYZE_INT_H
#define MEMTRACE_ANALYZE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "analyze/analyze.h"
#include "memtrace/error.h"
#include "memtrace/trace_format.h"

/* ------------------------------------------------------------ hash map */

/* Open addressing, linear probing, backward-shift deletion. Keys are
 * nonzero uint64 (callers add 1 or mix when 0 is possible). */
struct an_map_ent {
    uint64_t key;    /* 0 = empty slot */
    uint64_t val;
};
struct an_map {
    struct an_map_ent *e; /* owned, cap entries: key and value share a line */
    size_t cap;           /* power of two */
    size_t n;
};
int an_map_init(struct an_map *m, size_t cap_hint);
void an_map_fini(struct an_map *m);
/* 1 and *val if key is present, else 0. */
int an_map_get(const struct an_map *m, uint64_t key, uint64_t *val);
/* Inserts or replaces. 0 or -ENOMEM. */
int an_map_put(struct an_map *m, uint64_t key, uint64_t val);
/* 1 and *val (may be NULL) if removed, 0 if absent. */
int an_map_del(struct an_map *m, uint64_t key, uint64_t *val);
/* The value slot of key, or NULL (valid until the map next changes). */
uint64_t *an_map_ref(struct an_map *m, uint64_t key);
/* Inserts or replaces, in one probe: 1 and *old if key was present, 0 if
 * not, -ENOMEM. */
int an_map_swap(struct an_map *m, uint64_t key, uint64_t val, uint64_t *old);

/* ------------------------------------------------------------ entities */

#define AN_HIST_BUCKETS 48 /* log2 buckets kept per site: 2^47 bytes / 39 h */
#define AN_HIST_ALL 65     /* bit lengths 0..64, whole-process histograms */

/* One live block, or a freed one remembered at its address (AN_FREED_BIT). */
struct an_block {
    uint64_t addr;
    uint64_t size;      /* requested */
    uint64_t usable;
    uint64_t seq;
    uint64_t t_ns;      /* session-relative */
    int64_t alloc_id;   /* allocations.alloc_id */
    uint32_t site;      /* index into proc->sites */
    uint32_t tid;
    uint32_t free_stack;/* freed: global stack of the free */
    uint8_t family, api, realloc;
    uint8_t leak_class; /* enum mt_leak_class, 0 = not classified */
    uint8_t client;     /* AN_BLK_* (an_client.h), 0 for plain blocks */
    uint32_t next_free; /* pool free list */
};

struct an_site {
    uint32_t stack;     /* global stack id */
    uint64_t snap_epoch;/* peak epoch of peak_* (metrics.md, peak snapshot) */
    uint64_t n_allocs, alloc_bytes, usable_bytes, n_frees, n_temporary;
    uint64_t live_bytes, live_blocks, max_live_bytes;
    uint64_t peak_bytes, peak_blocks;
    uint64_t leak_blocks[6], leak_bytes[6]; /* by mt_leak_class; [5] = unclassified */
    uint64_t lifetime_sum_ns;
    uint32_t hist_size[AN_HIST_BUCKETS];
    uint32_t hist_life[AN_HIST_BUCKETS];
};

struct an_thread {
    uint32_t tid;
    char name[16];
    uint64_t start_ns, end_ns;
    int ended;
    int64_t last_alloc_id;  /* for temporaries: this thread's latest allocation */
    uint64_t n_allocs, alloc_bytes, n_frees;
};

struct an_module {
    uint32_t module_id;     /* global modules.module_id */
    int sym_handle;         /* -1 without symbolizer */
    uint64_t load_bias, lo, hi;
    uint64_t load_ns, unload_ns;
    int unloaded;
    int is_memtrace;
    uint32_t n_segs;
    struct mt_segment *segs;/* owned */
};

struct an_frag {
    double external, internal;
    uint64_t free_bytes, largest_gap, n_ranges, span_bytes;
};

/* One interval of the timeline being accumulated. */
struct an_tl {
    uint64_t idx;           /* interval number; row t_ns = (idx + 1) * period */
    int active;
    uint64_t max_bytes, n_allocs, n_frees, alloc_bytes;
    int64_t rss;            /* -1 none */
    struct mt_rec_mallinfo mi;
    int have_mi;
};

struct an_proc {
    int64_t proc_id;
    uint32_t pid, gen, ppid, parent_gen;
    struct an_proc *parent; /* borrowed; fork parent or exec predecessor */
    uint32_t flags, stack_watermark, module_watermark, max_depth;
    char *exe, *argv;       /* owned */
    uint64_t start_ns, start_real_ns, end_ns;
    int have_process;       /* PROCESS record seen */
    uint32_t opt_flags;     /* its MT_OPT_*: NO_ERRORS = frees not judged, no scan */
    int normal_exit, exit_status;
    int end_how, end_status, have_end;
    uint64_t dropped;
    uint32_t degraded;
    int in_scan, scan_done;
    uint64_t scan_ns;

    /* addr -> pool index of the block at that address: live, or the last
     * one freed there (index | AN_FREED_BIT), which tells a double free
     * from an invalid one. One map, so an event costs one probe, and the
     * flag in the entry lets scans skip freed blocks without reading them. */
    struct an_map blocks;
    size_t n_freed_at;      /* entries of blocks that are freed ones */
    struct an_map thr;      /* tid -> index into threads */
    struct an_map site_of;  /* global stack -> site index */
    uint32_t *stk;          /* local stack id -> global stack id + 1 (0 unknown) */
    size_t n_stk;
    struct an_module *mods; /* by local module id; owned */
    size_t n_mods;
    struct an_site *sites;  /* owned */
    size_t n_sites, cap_sites;
    struct an_thread *threads;
    size_t n_threads, cap_threads;
    uint64_t thr_last_tid;  /* an_thread_get's one-entry cache: tid + 1 (0 empty) */
    uint32_t thr_last_idx;  /* and its index into threads */

    uint64_t live_bytes, live_blocks, live_usable;
    uint64_t peak_bytes, peak_blocks, peak_seq, peak_ns, peak_epoch;
    int peak_frag_pending;  /* a new maximum was reached and not measured yet */
    int have_pfrag;
    struct an_frag pfrag;    /* measured at the peak */
    uint64_t pfrag_seq, pfrag_ns, pfrag_live, pfrag_usable;
    uint64_t events_since_pfrag;
    uint64_t peak_rss, peak_rss_ns;
    uint64_t n_allocs, alloc_bytes, n_frees, n_temporary, n_errors;
    uint64_t events_since_frag;
    uint64_t last_seq, last_ns;
    struct an_tl tl;
    struct mt_rec_mallinfo mi;
    int have_mi;
    uint64_t hist_size[AN_HIST_ALL][2], hist_life[AN_HIST_ALL][2]; /* count, bytes */
    struct an_client *client; /* owned (an_client.c): pools, checks; NULL if unused */
    struct an_hold *hold;   /* owned: records waiting for the fork parent (an_hold.c) */
};

/* Statements of the output database (an_out.c). */
enum an_stmt {
    AN_ST_ERROR, AN_ST_TIMELINE, AN_ST_FRAG, AN_ST_FRAME, AN_ST_STACK,
    AN_ST_STACK_FRAME, AN_ST_MODULE, AN_ST_PMODULE, AN_ST_SITE, AN_ST_HIST, AN_ST_THREAD,
    AN_ST_PROC, AN_ST_COUNT
};

/* A leaked block whose row waits until every process is closed, so that
 * the rows of all leaks go to the writer in alloc_id order (an_final.c). */
struct an_leak_row {
    int64_t alloc_id;
    uint32_t proc;  /* index in procs_v */
    uint32_t block; /* index in pool */
};

struct an_sym; /* an_sym.c */
struct an_writer; /* an_writer.c */
struct an_hold;   /* an_hold.c */

struct an_state {
    const struct analyze_opts *opts;
    sqlite3 *db;
    sqlite3_stmt *st[AN_ST_COUNT];
    struct an_sym *sym;
    struct an_map procs;     /* (pid << 32 | gen) -> index in procs_v */
    struct an_proc **procs_v;
    size_t n_procs, cap_procs;
    struct an_proc *recent;  /* last process found: events come in runs of one */
    struct an_block *pool;   /* live and freed blocks */
    size_t n_pool, cap_pool;
    uint32_t pool_free;      /* head of free list, UINT32_MAX = none */
    const struct mt_file_hdr *trace_hdr; /* borrowed from the reader */
    uint64_t start_mono_ns;
    uint64_t period_ns;      /* timeline interval */
    int64_t next_alloc_id;
    uint64_t n_events, unmatched_frees, max_t_ns;
    /* session record */
    char *argv;
    uint32_t max_depth, opt_flags, period_us;
    int have_session;
    struct mt_errbuf *eb;
    int rc;                  /* first error of a deferred kind */
    uint64_t *frag_buf;      /* scratch for an_frag (addr, end pairs) */
    size_t frag_cap;
    struct an_client_db *client_db; /* owned (an_client.c): its statements, NULL until used */
    struct an_writer *writer;/* owned: allocations rows (an_writer.c); NULL without rows */
    struct an_leak_row *leak_rows; /* owned: leaks whose rows wait (an_final.c) */
    size_t n_leak_rows, cap_leak_rows;
    size_t n_holding;        /* processes whose records are held (an_hold.c) */
};

/* ------------------------------------------------------------ an_sym.c */

int an_sym_create(struct an_state *st, const char *const *debug_paths);
void an_sym_destroy(struct an_state *st);
/* Registers a MODULE record for p. 0 or negative. */
int an_sym_module(struct an_state *st, struct an_proc *p, const struct mt_rec_module *rec);
/* Global stack id for raw frames as of now in p (interned, rows written). */
int an_sym_stack(struct an_state *st, struct an_proc *p, const uint64_t *pcs, uint32_t n,
                 uint32_t *out_stack);
/* The module (as of p's current map) holding addr, or NULL. */
const struct an_module *an_sym_module_at(const struct an_proc *p, uint64_t addr);

/* ------------------------------------------------------------ an_frag.c */

/* Measures p's live blocks now. 0 or -ENOMEM. */
int an_frag_measure(struct an_state *st, struct an_proc *p, struct an_frag *out);

/* ------------------------------------------------------------ an_out.c */

int an_out_prepare(struct an_state *st);
void an_out_finalize(struct an_state *st);
int an_out_alloc(struct an_state *st, struct an_proc *p, const struct an_block *b,
                 const struct mt_rec_free *fr, uint32_t free_stack, int temporary);
int an_out_timeline(struct an_state *st, struct an_proc *p);
/* Measures p now and writes a fragmentation row (at: 'peak'|'end'|'sample'). */
int an_out_frag(struct an_state *st, struct an_proc *p, const char *at, uint64_t seq,
                uint64_t t_ns);
/* Writes the remembered peak measurement of p. */
int an_out_pfrag(struct an_state *st, struct an_proc *p);
/* Measures p now into p->pfrag. */
int an_frag_snapshot_peak(struct an_state *st, struct an_proc *p);

/* ------------------------------------------------------------ an_writer.c */

/* Api codes after enum mt_api: the client API's pool operations. */
enum an_api_ext {
    AN_API_POOL_ALLOC = MT_API_COUNT,
    AN_API_POOL_FREE,
    AN_API_POOL_RESET,
    AN_API_POOL_DESTROY,
    AN_API_END
};

/* One allocations row, as queued for the writer thread (columns of
 * schema.sql's allocations; enums as codes, named when encoded). */
struct an_arow {
    int64_t alloc_id, proc_id;
    uint64_t addr, size, usable, seq, t_ns;
    uint64_t free_seq, free_ns;   /* freed only */
    const char *family_z;         /* borrowed until an_writer_stop: a pool's
                                   * "pool:<name>"; NULL = family */
    uint32_t stack, free_stack;   /* global stack ids; free_stack 0 = NULL */
    uint32_t tid, free_tid;
    uint8_t family, api, realloc, free_api; /* api, free_api: mt_api or an_api_ext */
    uint8_t freed;                /* 1: free_* are set */
    uint8_t temporary;
    uint8_t leak_class;           /* mt_leak_class, 5 unclassified, 0 NULL */
};

/* What the writer leaves for an_rows.c: the B-tree of the rows that came
 * in alloc_id order, the spill of those that did not, and the table's
 * root page. Borrowed from the writer, valid until an_writer_destroy(). */
struct db_bulk;
struct db_spill;
struct an_rows {
    struct db_bulk *bulk;
    struct db_spill *spill;
    uint32_t root;
};

/* Starts the writer (thread, queue, the B-tree's files) into st->writer.
 * 0 or negative; on failure an_writer_destroy() still cleans up. */
int an_writer_start(struct an_state *st);
/* Queues one row; waits only when the queue is full. 0 or the error of a
 * previous batch (eb says why). */
int an_writer_row(struct an_state *st, const struct an_arow *row);
/* Writes everything queued and stops the thread. 0 or negative. */
int an_writer_stop(struct an_state *st);
/* The code of an api name (enum mt_api or an_api_ext), AN_API_END if none. */
unsigned an_writer_api_code(const char *name);
/* The code of a leak class name (an_arow.leak_class); 0 for NULL. */
unsigned an_writer_leak_code(const char *name);
/* The rows after an_writer_stop(), or NULL without a writer. */
const struct an_rows *an_writer_rows(const struct an_state *st);
/* Stops (abandoning queued rows if not stopped yet) and frees, removing
 * the files. Cannot fail. */
void an_writer_destroy(struct an_state *st);

/* ------------------------------------------------------------ an_rows.c */

/* db_finish()'s hook (db.h): db_path is the closed database; splices the
 * writer's B-tree into it and inserts the late rows. ctx: the an_state. */
int an_rows_finish(const char *db_path, void *ctx, struct mt_errbuf *eb);

/* ------------------------------------------------------------ an_hold.c */

/* 1 if rec of p must wait for p's fork parent (then push it), 0 if it can
 * be analyzed now, -ENOMEM. Starts holding at a FORKED PROCESS record. */
int an_hold_check(struct an_state *st, struct an_proc *p, const struct mt_rec_hdr *rec);
/* Copies rec (of ring) to p's held records. 0 or -ENOMEM. */
int an_hold_push(struct an_state *st, struct an_proc *p, uint32_t ring,
                 const struct mt_rec_hdr *rec);
/* A holding process whose parent is ready (any holding one if force), or NULL. */
struct an_proc *an_hold_next(struct an_state *st, int force);
/* Ends p's holding; returns its records (owned by the caller, an_hold_free). */
struct an_hold *an_hold_detach(struct an_state *st, struct an_proc *p);
/* Held records in order: start with *pos = 0; NULL after the last. */
const struct mt_rec_hdr *an_hold_each(const struct an_hold *h, size_t *pos, uint32_t *ring);
void an_hold_free(struct an_hold *h);

/* ------------------------------------------------------------ an_feed.c */

struct an_feed;
struct trace_reader;
struct trace_event;
/* Starts reading r on a feed thread. OUT: *f (stop it with an_feed_stop,
 * also on failure). 0 or -ENOMEM. */
int an_feed_start(struct an_feed **f, struct trace_reader *r);
/* trace_reader_next()'s contract, records copied by the feed: ev->rec is
 * valid until the next call. */
int an_feed_next(struct an_feed *f, struct trace_event *ev, struct mt_errbuf *eb);

/* Stops and joins the feed thread; r belongs to the caller again. */
void an_feed_stop(struct an_feed *f);

/* ------------------------------------------------------------ an_final.c */

/* Ends p: live blocks become leaks per class, rows for its sites,
 * histograms, threads, modules and itself. */
int an_final_proc(struct an_state *st, struct an_proc *p);
int an_final_session(struct an_state *st, const struct analyze_result *res);
/* After every an_final_proc(): the leaked blocks' rows, in alloc_id order
 * (the writer's B-tree takes rows in that order, an_writer.c). */
int an_final_leak_rows(struct an_state *st);

/* ------------------------------------------------------------ an_events.c */

int an_block_count(struct an_state *st, struct an_proc *p, struct an_site *s,
                   const struct an_block *b);
int an_ev_alloc(struct an_state *st, struct an_proc *p, const struct mt_rec_alloc *r);
int an_ev_free(struct an_state *st, struct an_proc *p, const struct mt_rec_free *r);
int an_ev_error(struct an_state *st, struct an_proc *p, const struct mt_rec_error *r);
int an_ev_leak(struct an_state *st, struct an_proc *p, const struct mt_rec_leak *r);
/* The site of p's local stack id, created on first use; NULL on ENOMEM. */
struct an_site *an_site_get(struct an_state *st, struct an_proc *p, uint32_t local,
                            uint32_t *site_idx);
/* Global stack id of p's local stack id (0 when unknown). */
uint32_t an_stack_global(struct an_state *st, const struct an_proc *p, uint32_t local);
/* The live block at addr in p, or NULL. */
struct an_block *an_live_at(struct an_state *st, struct an_proc *p, uint64_t addr);
/* Marks a p->blocks value as a freed block's (the rest is its pool index). */
#define AN_FREED_BIT (1ull << 63)
/* Live entries of p->blocks (the map also holds freed blocks). */
static inline size_t an_live_entries(const struct an_proc *p)
{
    return p->blocks.n - p->n_freed_at;
}
/* 1 if entry i of p->blocks holds a live block (its value is then the
 * block's pool index). */
static inline int an_live_entry(const struct an_proc *p, size_t i)
{
    return p->blocks.e[i].key && !(p->blocks.e[i].val & AN_FREED_BIT);
}
struct an_thread *an_thread_get(struct an_state *st, struct an_proc *p, uint32_t tid);
/* Pool of blocks (analyze.c). */
int an_pool_get(struct an_state *st, uint32_t *idx);
void an_pool_put(struct an_state *st, uint32_t idx);
/* sqlite3_step + reset, mapping failure to MT_ESQLITE with the message. */
int an_out_step(struct an_state *st, sqlite3_stmt *s);


/* ---- shared by the malloc and the pool event handlers (an_events.c,
 * an_pool.c): one rule for a site's peak snapshot and the process peak. */
/* Before a site changes: if a new process maximum happened since its last
 * change, its live figures as they stand are its figures at that peak. */
static inline void an_site_touch(const struct an_proc *p, struct an_site *s)
{
    if (s->snap_epoch == p->peak_epoch) return;
    s->peak_bytes = s->live_bytes;
    s->peak_blocks = s->live_blocks;
    s->snap_epoch = p->peak_epoch;
}

static inline unsigned an_bitlen(uint64_t v)
{
    return v ? 64u - (unsigned)__builtin_clzll(v) : 0u;
}

/* A new process maximum of live bytes: remember where it happened and
 * open a new epoch, so sites snapshot their figures lazily. */
static inline void an_peak_check(struct an_proc *p, uint64_t seq, uint64_t t_ns)
{
    if (p->live_bytes <= p->peak_bytes) return;
    p->peak_bytes = p->live_bytes;
    p->peak_blocks = p->live_blocks;
    p->peak_seq = seq;
    p->peak_ns = t_ns;
    p->peak_epoch++;
    p->peak_frag_pending = 1;
}

#endif /* MEMTRACE_ANALYZE_INT_H */
