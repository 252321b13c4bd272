/*
 * an_client.h — the analysis of client API records: pools, markers, leak checks
 *
 * analyze.c hands every MT_REC_POOL, MT_REC_POOL_CHUNK and MT_REC_CLIENT
 * record to an_client_event(), and, once a process used the client API,
 * every other record first to an_client_pre() (a FREE of a superblock, the
 * LEAK records of an on-demand check). an_final.c calls an_client_final()
 * before it turns live blocks into leaks. an_pool.c keeps the pools and
 * their chunks, an_client.c the rest. Tables: docs/schema.md ("pools",
 * "pool_timeline", "markers", "leak_checks"); API: docs/client-api.md.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMTRACE_AN_CLIENT_H
#define MEMTRACE_AN_CLIENT_H

#include <stdint.h>

#include "analyze/analyze_int.h"

#define AN_BLK_SUPERBLOCK 0x1u /* an_block.client: a pool's superblock, out of the heap figures */
#define AN_BLK_IGNORED 0x2u    /* an_block.client: memtrace_ignore_object, never a leak */
#define AN_CLIENT_PASS 1       /* an_client_pre: analyze the record as usual */

/* Statements of the client tables (an_client.c). */
enum an_cst {
    AN_CST_ERROR, AN_CST_POOL, AN_CST_POOL_TL, AN_CST_MARKER, AN_CST_CHECK,
    AN_CST_CHECK_SITE, AN_CST_COUNT
};

/* One pool of one process image (an_pool.c). */
struct an_cpool {
    uint32_t pool_id;        /* handle in the trace; 0 = slot unused */
    char *name, *family;     /* owned; family = "pool:<name>" */
    uint32_t create_stack;   /* global stack id */
    uint64_t create_seq, create_ns, destroy_seq, destroy_ns;
    int destroyed;
    struct an_map chunks;    /* addr -> st->pool index: live chunks */
    struct an_map freed;     /* addr -> st->pool index: freed chunks (double frees) */
    struct an_map sbs;       /* addr -> bytes: superblocks held */
    uint64_t live_bytes, live_chunks, held_bytes, n_sbs;
    uint64_t n_allocs, alloc_bytes, n_frees, n_resets, n_errors;
    uint64_t peak_live, peak_chunks, peak_ns, peak_seq, peak_held;
    uint64_t max_held, max_held_ns;
    uint64_t end_live, end_chunks, end_held;
    uint64_t leak_chunks, leak_bytes;
    uint64_t tl_idx, tl_max_live;
    int tl_active, tl_dirty;
};

/* An on-demand check's per (site, class) figures. */
struct an_check_site {
    uint32_t stack;
    uint8_t cls;
    uint64_t blocks, bytes;
};

/* The process's peak as it was before an ALLOC (an_client_pre), so that a
 * superblock that made a peak for the one event before its declaration
 * can take that peak back (an_pool.c, design note 1). */
struct an_peak_save {
    uint64_t for_seq;        /* seq of the ALLOC these figures preceded */
    uint64_t bytes, blocks, seq, ns, epoch;
    int frag_pending;
};

struct an_client {
    struct an_cpool *pools;  /* owned, by pool_id - 1 */
    size_t n_pools;
    struct an_peak_save pre_peak;
    int check_pending;       /* LEAK_CHECK seen, LEAK_CHECK|DONE not yet */
    int check_scanning;      /* between the check's LEAK_BEGIN and LEAK_END */
    int check_scanned;       /* its LEAK_END was seen */
    uint64_t check_no, check_seq, check_ns, check_dur_ns, check_blocks, check_bytes;
    uint64_t cls_blocks[5], cls_bytes[5]; /* by enum mt_leak_class */
    struct an_map check_of;  /* (stack << 3 | class) + 1 -> index into check_sites */
    struct an_check_site *check_sites; /* owned */
    size_t n_check_sites, cap_check_sites;
};

/* an_client.c */
int an_client_event(struct an_state *st, struct an_proc *p, const struct mt_rec_hdr *h);
int an_client_pre(struct an_state *st, struct an_proc *p, const struct mt_rec_hdr *h);
int an_client_final(struct an_state *st, struct an_proc *p);
void an_client_free(struct an_proc *p);
void an_client_session_free(struct an_state *st);
sqlite3_stmt *an_client_stmt(struct an_state *st, enum an_cst which);
/* Queues the allocations row of block b (an_writer.c). family: text,
 * borrowed until an_writer_stop (a pool's family lives as long as its
 * process); api and free_api: names (an_writer_api_code), free_api NULL =
 * not freed; leak: leak_class name or NULL. */
int an_client_alloc_row(struct an_state *st, struct an_proc *p, const struct an_block *b,
                        const char *family, const char *api, uint64_t fr_seq, uint64_t fr_ns,
                        uint32_t fr_tid, const char *free_api, uint32_t free_stack,
                        int temporary, const char *leak);

/* an_pool.c */
int an_pool_on_pool(struct an_state *st, struct an_proc *p, const struct mt_rec_pool *r);
int an_pool_on_chunk(struct an_state *st, struct an_proc *p, const struct mt_rec_pool_chunk *r);
/* A FREE of addr: a superblock goes back into the heap figures first. */
void an_pool_before_free(struct an_state *st, struct an_proc *p, uint64_t addr);
/* The live chunk at addr (any pool, or pool_id's), or NULL; *pool set. */
struct an_block *an_pool_chunk_at(struct an_state *st, struct an_proc *p, uint64_t addr,
                                  uint32_t pool_id, struct an_cpool **pool);
int an_pool_final(struct an_state *st, struct an_proc *p);
void an_pool_free_all(struct an_client *c);

#endif /* MEMTRACE_AN_CLIENT_H */
