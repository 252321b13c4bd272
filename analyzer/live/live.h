/*
 * live.h — live aggregation of a running session, its snapshots and their socket
 *
 * The collector hands every drained block of records to live_agg_feed()
 * (the same bytes it writes to the trace); the aggregator restores each
 * process image's seq order and keeps per-site, per-process and per-thread
 * figures, the memory errors so far, a heap/RSS history, and the client
 * API's pools and markers (include/memtrace/memtrace.h). Views never
 * touch the aggregator's tables: they ask for a struct live_snap (a copy,
 * symbolized lazily with analyzer/sym), in the same process (run --live)
 * or through the session's unix socket (memtrace top). The post-mortem
 * view (tui/tui_db.c) fills the same struct from a database.
 * Contract: docs/tui.md ("Live aggregation", "Snapshot socket").
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMTRACE_LIVE_H
#define MEMTRACE_LIVE_H

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ snapshots */

#define LIVE_SNAP_MAX_SITES 4000u  /* rows sent per snapshot: a screen shows ~40 */
#define LIVE_SNAP_MAX_ERRORS 200u  /* most recent errors kept and sent */
#define LIVE_HIST_POINTS 512u      /* heap/RSS history points (chart width x 6) */
#define LIVE_SNAP_MAX_POOLS 1000u  /* pool rows sent: a list, not a table */
#define LIVE_SNAP_MAX_MARKERS 512u /* newest markers kept and sent (chart width x 6) */

/* What a view asks for. pid = 0: every process; tid = 0: every thread. */
struct live_req {
    uint32_t pid, gen, tid;
    uint32_t flags;      /* LIVE_REQ_F_* */
    uint64_t cursor_ns;  /* post-mortem only: the moment to show */
};
#define LIVE_REQ_F_CURSOR 0x1u /* cursor_ns is set (else: the end / now) */

struct live_site_row {
    uint32_t pid, gen, stack_id;   /* stack_id: the trace's (live) or the database's */
    uint32_t pool_id;              /* live: the client pool whose chunks these are, 0 for
                                      malloc; the label then starts "[pool:<name>] " */
    uint64_t live_bytes, live_blocks;
    uint64_t alloc_bytes, n_allocs, n_frees;
    uint64_t leak_bytes, leak_blocks; /* definite + indirect, once the exit scan ran */
    char *label;                   /* owned: "function file:line" of the leaf */
    char *search;                  /* owned: every frame's function, file, module */
};

struct live_proc_row {
    uint32_t pid, gen, ppid;
    int ended;
    int errors_checked; /* 1, 0 (recorded with --no-errors: frees not judged, no
                           leak scan), -1 unknown (no PROCESS record seen) */
    uint64_t live_bytes, peak_bytes, rss, n_allocs, n_frees, n_errors;
    char *exe; /* owned */
};

struct live_thread_row {
    uint32_t pid, gen, tid;
    char name[16];
    uint64_t n_allocs, alloc_bytes, n_frees, live_bytes;
};

struct live_error_row {
    uint64_t t_ns;         /* since the session start */
    uint32_t pid, gen, tid, stack_id;
    uint64_t addr, size;
    char kind[24];         /* double_free, invalid_free, mismatched_free, ... */
    char api[32];          /* the erroneous call */
    char *at;              /* owned: leaf of the erroneous call's stack */
};

/* A client-API pool (include/memtrace/memtrace.h) as of now, or at the
 * cursor post-mortem. waste = held - live. */
struct live_pool_row {
    uint32_t pid, gen, pool_id;
    int destroyed;
    uint64_t live_bytes, live_chunks, held_bytes;
    uint64_t peak_live_bytes, peak_held_bytes; /* the pool's peak of live bytes, held then */
    uint64_t max_held_bytes;
    uint64_t n_allocs, n_frees, n_resets, n_errors;
    uint64_t leak_bytes, leak_chunks; /* lost at destroy, and definite + indirect at exit */
    char name[64];                    /* cut to fit */
};

/* A point a program put on its timeline (memtrace_mark, pause, resume). */
struct live_marker {
    uint64_t t_ns; /* since the session start */
    uint32_t pid, gen;
    char kind[8];  /* mark, pause, resume */
    char name[64]; /* the label (pause/resume: the kind), cut to fit */
};

struct live_hist_point {
    uint64_t t_ns;         /* since the session start */
    uint64_t heap_bytes;   /* largest live heap inside the point's interval */
    uint64_t rss_bytes;
};

/* Everything one screen shows. Owned by whoever filled it; release with
 * live_snap_free(). */
struct live_snap {
    char command[256];
    int finished;          /* every process is gone (or a database) */
    uint64_t elapsed_ns, duration_ns; /* duration: post-mortem only */
    uint64_t cursor_ns;    /* post-mortem: the moment shown */
    uint64_t peak_ns;      /* when the session peak happened */
    uint64_t live_bytes, live_blocks, peak_bytes, rss_bytes;
    uint64_t n_allocs, n_frees, alloc_bytes, n_errors;
    double allocs_per_s, frees_per_s;
    uint32_t n_procs_running;
    uint32_t n_scope_procs;    /* process images in the view's scope */
    uint32_t n_unchecked;      /* of those, recorded with --no-errors: n_errors then
                                  counts only client pools' errors, leaks unclassified */
    uint64_t replayed_records; /* records a lazy catch-up read from the trace;
                                  0 when aggregated from the start */
    struct live_proc_row *procs;     size_t n_procs;
    struct live_thread_row *threads; size_t n_threads;
    struct live_site_row *sites;     size_t n_sites;
    struct live_error_row *errors;   size_t n_errors_shown; /* oldest first */
    struct live_hist_point *hist;    size_t n_hist;
    struct live_pool_row *pools;
    size_t n_pools; /* of the scope, creation order */
    struct live_marker *markers;
    size_t n_markers; /* of the scope, time order */
};

/* Frees what s holds and zeroes it. NULL and a zeroed s are fine. */
void live_snap_free(struct live_snap *s);

/* Lines of one symbolized stack (Enter in the site table). */
struct live_lines {
    char **lines; /* owned, each owned */
    size_t n;
};
void live_lines_free(struct live_lines *l);
/* Appends a copy of text. 0 or -ENOMEM. */
int live_lines_add(struct live_lines *l, const char *text);

/* Serializes s into a new buffer owned by the caller (free()). 0 or
 * -ENOMEM. The format is private to one memtrace build (docs/tui.md). */
int live_snap_encode(const struct live_snap *s, const struct live_req *req, char **out,
                     size_t *len);
/* Fills s from buf. 0 or MT_ECORRUPT. */
int live_snap_decode(const char *buf, size_t len, struct live_snap *s);
int live_lines_encode(const struct live_lines *l, char **out, size_t *len);
int live_lines_decode(const char *buf, size_t len, struct live_lines *l);

/* Prints s as one JSON object (memtrace top --json, tui --json). Fields:
 * docs/tui.md ("Machine output"). Returns 0 or -EIO. */
#include <stdio.h>
int live_snap_json(const struct live_snap *s, FILE *f);

/* ------------------------------------------------------------ aggregator */

struct live_agg;

/* Returns a new aggregator owned by the caller (live_agg_destroy), or
 * NULL when out of memory. start_mono_ns: the session's origin
 * (trace header), 0 to take the first record's time. */
struct live_agg *live_agg_create(uint64_t start_mono_ns);
void live_agg_destroy(struct live_agg *a);

/* Consumes one drained block: whole records of ring `ring` of process
 * image (pid, gen), or collector records (ring == MT_RING_COLLECTOR).
 * Called by the collector thread with each block it writes to the trace;
 * records may arrive out of seq order across rings. Never fails: a
 * malformed block is counted and skipped, memory exhaustion stops the
 * aggregation (live_agg_status says so). Locks a's mutex briefly. */
void live_agg_feed(struct live_agg *a, uint32_t pid, uint32_t gen, uint32_t ring,
                   const void *records, size_t len);

/* live_agg_feed with the signature of collect_opts.on_block: the
 * collector's hook takes (ctx = the aggregator, ...). */
void live_agg_on_block(void *agg, uint32_t pid, uint32_t gen, uint32_t ring, const void *records,
                       size_t len);

/* The session is over (every process gone): releases whatever the
 * reorder window still holds and marks the snapshot finished. In lazy
 * mode a pending catch-up is done first (the collector has stopped, so
 * the writer is free); an aggregator nobody woke stays empty. Call it
 * after collect_finish() and before the trace writer is closed. */
void live_agg_finish(struct live_agg *a);

/* ------------------------------------------------------------ lazy mode */

/* Attach-on-demand (docs/tui.md, "Attaching to a session"): after this
 * call the aggregator is idle — live_agg_on_block() only counts blocks —
 * until live_agg_want() asks for it. The next live_agg_on_block() call
 * (collector thread) then flushes w, replays trace_path from its start
 * into the aggregator and feeds live from that block on. Requires: every
 * block written to w passes through live_agg_on_block() exactly once,
 * just before or just after it is written (both orders are handled), and
 * w is used by the calling thread only. w is borrowed until
 * live_agg_finish(); trace_path is copied. Call before the first block.
 * 0 or -ENOMEM. */
struct trace_writer;
int live_agg_set_lazy(struct live_agg *a, struct trace_writer *w, const char *trace_path);

/* A viewer arrived: wake an idle aggregator (no-op otherwise). Any
 * thread, lock-free. */
void live_agg_want(struct live_agg *a);

/* Waits (up to timeout_ms) until the aggregator is up to date. 0 when
 * it is; -ETIMEDOUT if no block came by (a target between fork and
 * exec); -ESRCH if the session ended before anyone woke it; or the
 * error that stopped the catch-up. Any thread. */
int live_agg_wait_ready(struct live_agg *a, unsigned timeout_ms);

/* 0 while healthy, else the first error that stopped the aggregation. */
int live_agg_status(const struct live_agg *a);

/* Fills out with what req asks for, as of now (now_mono_ns, 0 = the last
 * record seen). Symbolizes the sites it returns (cached). Any thread; the
 * collector is held up only while figures are copied. 0 or -ENOMEM. */
int live_agg_snapshot(struct live_agg *a, const struct live_req *req, uint64_t now_mono_ns,
                      struct live_snap *out);

/* The full symbolized stack of a site, one line per frame. 0, -ENOENT
 * (unknown stack) or -ENOMEM. */
int live_agg_stack(struct live_agg *a, uint32_t pid, uint32_t gen, uint32_t stack_id,
                   struct live_lines *out);

/* ------------------------------------------------------------ socket */

#define LIVE_SOCK_NAME "live.sock" /* inside the session directory */

struct live_server;

/* Listens on <session_dir>/live.sock (mode 0600) and serves snapshots of a
 * from a thread of its own. OUT: *out, free with live_server_stop().
 * 0 or -errno. */
int live_server_start(const char *session_dir, struct live_agg *a, struct live_server **out);
/* Stops the thread, removes the socket, frees s. NULL is fine. */
void live_server_stop(struct live_server *s);

struct live_client;

/* Connects to a session's socket. 0 or -errno. */
int live_client_open(const char *sock_path, struct live_client **out);
void live_client_close(struct live_client *c);
/* One snapshot / one stack from the server. 0, -errno or MT_ECORRUPT. */
int live_client_snapshot(struct live_client *c, const struct live_req *req,
                         struct live_snap *out);
int live_client_stack(struct live_client *c, uint32_t pid, uint32_t gen, uint32_t stack_id,
                      struct live_lines *out);

/* Finds a running session: target NULL (the only one), a session
 * directory, a socket path, or a pid of any traced process of it. Fills
 * out with the socket path. 0, -ENOENT (none), -EEXIST (several; eb lists
 * them) or -errno. */
struct mt_errbuf;
int live_find_session(const char *target, char *out, size_t len, struct mt_errbuf *eb);

#endif /* MEMTRACE_LIVE_H */
