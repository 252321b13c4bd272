/*
 * an_client.c — client API records in the analysis: dispatch, markers, ignores, leak checks
 *
 * analyze.c calls an_client_event() for MT_REC_POOL / POOL_CHUNK / CLIENT
 * and, once a process has client state, an_client_pre() for every other
 * record of it; an_final.c calls an_client_final(). Pools go to an_pool.c.
 * This file writes markers, marks ignored blocks, and keeps each on-demand
 * leak check apart from the exit-time classification: a check's LEAK
 * records are summed into leak_checks / leak_check_sites and never touch
 * the blocks' own leak class. Tables: docs/schema.md; API:
 * docs/client-api.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include "analyze/an_client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trace/trace.h"

static const char *const an_cst_sql[AN_CST_COUNT] = {
    [AN_CST_ERROR] = "INSERT INTO errors (proc_id, tid, seq, t_ns, kind, subkind, addr, size, api,"
                     " family, alloc_family, stack_id, alloc_stack_id, free_stack_id, alloc_id,"
                     " block_addr) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [AN_CST_POOL] = "INSERT INTO pools VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
                    "?,?)",
    [AN_CST_POOL_TL] = "INSERT OR REPLACE INTO pool_timeline VALUES (?,?,?,?,?,?,?)",
    [AN_CST_MARKER] = "INSERT INTO markers (proc_id, name, seq, t_ns, tid, kind, stack_id)"
                      " VALUES (?,?,?,?,?,?,?)",
    [AN_CST_CHECK] = "INSERT INTO leak_checks (proc_id, check_no, seq, t_ns, completed,"
                     " duration_ns, scanned_blocks, scanned_bytes, definite_blocks,"
                     " definite_bytes, indirect_blocks, indirect_bytes, possible_blocks,"
                     " possible_bytes, reachable_blocks, reachable_bytes)"
                     " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [AN_CST_CHECK_SITE] = "INSERT INTO leak_check_sites VALUES (?,?,?,?,?)",
};

static const char *const an_client_cls[5] = {"?", "definite", "indirect", "possible", "reachable"};

/* The prepared statements, made on first use (most traces never need them). */
struct an_client_db {
    sqlite3_stmt *st[AN_CST_COUNT];
};

static struct an_client_db *an_client_dbs(struct an_state *st)
{
    if (!st->client_db) st->client_db = calloc(1, sizeof(struct an_client_db));
    return st->client_db;
}

sqlite3_stmt *an_client_stmt(struct an_state *st, enum an_cst which)
{
    struct an_client_db *d = an_client_dbs(st);
    if (!d) return NULL;
    if (!d->st[which] &&
        sqlite3_prepare_v3(st->db, an_cst_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
                           &d->st[which], NULL) != SQLITE_OK) {
        mt_errbuf_set(st->eb, "preparing statement: %s", sqlite3_errmsg(st->db));
        return NULL;
    }
    return d->st[which];
}

void an_client_session_free(struct an_state *st)
{
    struct an_client_db *d = st->client_db;
    if (!d) return;
    for (int i = 0; i < AN_CST_COUNT; i++) sqlite3_finalize(d->st[i]);
    free(d);
    st->client_db = NULL;
}

int an_client_alloc_row(struct an_state *st, struct an_proc *p, const struct an_block *b,
                        const char *family, const char *api, uint64_t fr_seq, uint64_t fr_ns,
                        uint32_t fr_tid, const char *free_api, uint32_t free_stack,
                        int temporary, const char *leak)
{
    if (st->opts->no_allocations) return 0;
    struct an_arow r = {.alloc_id = b->alloc_id, .proc_id = p->proc_id, .addr = b->addr,
                        .size = b->size, .usable = b->usable, .seq = b->seq, .t_ns = b->t_ns,
                        .family_z = family, .stack = p->sites[b->site].stack, .tid = b->tid,
                        .api = (uint8_t)an_writer_api_code(api), .realloc = b->realloc,
                        .temporary = (uint8_t)temporary,
                        .leak_class = (uint8_t)an_writer_leak_code(leak)};
    if (free_api) {
        r.freed = 1;
        r.free_seq = fr_seq;
        r.free_ns = fr_ns;
        r.free_tid = fr_tid;
        r.free_api = (uint8_t)an_writer_api_code(free_api);
        r.free_stack = free_stack;
    }
    return an_writer_row(st, &r);
}

/* ------------------------------------------------------------ markers */

static int an_client_marker(struct an_state *st, struct an_proc *p, const struct mt_rec_client *r)
{
    static const char *const kinds[] = {"?", "mark", "pause", "resume"};
    sqlite3_stmt *q = an_client_stmt(st, AN_CST_MARKER);
    if (!q) return MT_ESQLITE;
    const char *name = r->op == MT_CLIENT_MARK ? (r->label_len ? (const char *)(r + 1) : "")
                                               : kinds[r->op];
    sqlite3_bind_int64(q, 1, p->proc_id);
    sqlite3_bind_text(q, 2, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 3, (int64_t)r->c.seq);
    sqlite3_bind_int64(q, 4, (int64_t)(r->c.t_ns - st->start_mono_ns));
    sqlite3_bind_int64(q, 5, r->tid);
    sqlite3_bind_text(q, 6, kinds[r->op], -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 7, an_stack_global(st, p, r->stack_id));
    return an_out_step(st, q);
}

/* The block an entry or an ignore names: a live malloc block that is not a
 * superblock, else a pool chunk at that address. */
static struct an_block *an_client_block(struct an_state *st, struct an_proc *p, uint64_t addr,
                                        uint32_t pool_id)
{
    struct an_block *b;
    if (!pool_id && (b = an_live_at(st, p, addr)) && !(b->client & AN_BLK_SUPERBLOCK)) return b;
    return an_pool_chunk_at(st, p, addr, pool_id, NULL);
}

/* ------------------------------------------------------------ leak checks */

static void an_check_reset(struct an_client *c)
{
    an_map_fini(&c->check_of);
    c->n_check_sites = 0;
    c->check_scanning = c->check_scanned = 0;
    c->check_blocks = c->check_bytes = c->check_dur_ns = 0;
    memset(c->cls_blocks, 0, sizeof c->cls_blocks);
    memset(c->cls_bytes, 0, sizeof c->cls_bytes);
}

static int an_check_add(struct an_client *c, uint32_t stack, uint8_t cls, uint64_t size)
{
    uint64_t key = ((uint64_t)stack << 3 | cls) + 1, i;
    c->cls_blocks[cls]++;
    c->cls_bytes[cls] += size;
    if (!an_map_get(&c->check_of, key, &i)) {
        if (c->n_check_sites == c->cap_check_sites) {
            size_t cap = c->cap_check_sites ? c->cap_check_sites * 2 : 64;
            struct an_check_site *a = realloc(c->check_sites, cap * sizeof *a);
            if (!a) return -ENOMEM;
            c->check_sites = a;
            c->cap_check_sites = cap;
        }
        i = c->n_check_sites++;
        c->check_sites[i] = (struct an_check_site){.stack = stack, .cls = cls};
        if (an_map_put(&c->check_of, key, i)) return -ENOMEM;
    }
    c->check_sites[i].blocks++;
    c->check_sites[i].bytes += size;
    return 0;
}

/* LEAK entries of an on-demand check: summed per class and site. */
static int an_check_leak(struct an_state *st, struct an_proc *p, const struct mt_rec_leak *r)
{
    const struct mt_leak_entry *e = (const struct mt_leak_entry *)(r + 1);
    for (uint32_t i = 0; i < r->n; i++) {
        struct an_block *b = an_client_block(st, p, e[i].addr, 0);
        if (!b || (b->client & AN_BLK_IGNORED)) continue; /* freed meanwhile, or ignored */
        int rc = an_check_add(p->client, p->sites[b->site].stack, e[i].cls, b->size);
        if (rc) return rc;
    }
    return 0;
}

static int an_check_write(struct an_state *st, struct an_proc *p)
{
    struct an_client *c = p->client;
    sqlite3_stmt *q = an_client_stmt(st, AN_CST_CHECK);
    if (!q) return MT_ESQLITE;
    int64_t v[] = {p->proc_id, (int64_t)c->check_no, (int64_t)c->check_seq,
                   (int64_t)c->check_ns, c->check_scanned, (int64_t)c->check_dur_ns,
                   (int64_t)c->check_blocks, (int64_t)c->check_bytes};
    for (int i = 0; i < 8; i++) sqlite3_bind_int64(q, i + 1, v[i]);
    for (int k = 1; k <= MT_LEAK_REACHABLE && c->check_scanned; k++) {
        sqlite3_bind_int64(q, 9 + 2 * (k - 1), (int64_t)c->cls_blocks[k]);
        sqlite3_bind_int64(q, 10 + 2 * (k - 1), (int64_t)c->cls_bytes[k]);
    }
    int rc = an_out_step(st, q);
    int64_t check_id = sqlite3_last_insert_rowid(st->db);
    q = an_client_stmt(st, AN_CST_CHECK_SITE);
    if (!q) return MT_ESQLITE;
    for (size_t i = 0; i < c->n_check_sites && !rc; i++) {
        const struct an_check_site *s = &c->check_sites[i];
        sqlite3_bind_int64(q, 1, check_id);
        sqlite3_bind_int64(q, 2, s->stack);
        sqlite3_bind_text(q, 3, an_client_cls[s->cls], -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 4, (int64_t)s->blocks);
        sqlite3_bind_int64(q, 5, (int64_t)s->bytes);
        rc = an_out_step(st, q);
    }
    return rc;
}

static int an_check_event(struct an_state *st, struct an_proc *p, const struct mt_rec_client *r)
{
    struct an_client *c = p->client;
    if (!(r->c.hdr.flags & MT_CLIENT_F_DONE)) {
        an_check_reset(c);
        c->check_pending = 1;
        c->check_no = r->addr;
        c->check_seq = r->c.seq;
        c->check_ns = r->c.t_ns - st->start_mono_ns;
        return 0;
    }
    if (!c->check_pending) return 0;
    c->check_pending = 0;
    int rc = an_check_write(st, p);
    an_check_reset(c);
    return rc;
}

/* ------------------------------------------------------------ dispatch */

int an_client_event(struct an_state *st, struct an_proc *p, const struct mt_rec_hdr *h)
{
    if (!p->client && !(p->client = calloc(1, sizeof *p->client))) return -ENOMEM;
    if (h->kind == MT_REC_POOL) return an_pool_on_pool(st, p, (const void *)h);
    if (h->kind == MT_REC_POOL_CHUNK) return an_pool_on_chunk(st, p, (const void *)h);
    const struct mt_rec_client *r = (const void *)h;
    switch (r->op) {
    case MT_CLIENT_MARK:
    case MT_CLIENT_PAUSE:
    case MT_CLIENT_RESUME: return an_client_marker(st, p, r);
    case MT_CLIENT_LEAK_CHECK: return an_check_event(st, p, r);
    case MT_CLIENT_IGNORE: {
        struct an_block *b = (r->c.hdr.flags & MT_CLIENT_F_NOT_LIVE)
                                 ? NULL : an_client_block(st, p, r->addr, r->pad);
        if (b) b->client |= AN_BLK_IGNORED;
        return 0;
    }
    default: return 0;
    }
}

/* The exit scan's entries also classify pool chunks (an_ev_leak sees only p->blocks). */
static void an_client_exit_leak(struct an_state *st, struct an_proc *p, const struct mt_rec_leak *r)
{
    const struct mt_leak_entry *e = (const struct mt_leak_entry *)(r + 1);
    for (uint32_t i = 0; i < r->n; i++) {
        const struct an_block *live = an_live_at(st, p, e[i].addr);
        if (live && !(live->client & AN_BLK_SUPERBLOCK)) continue;
        struct an_block *b = an_pool_chunk_at(st, p, e[i].addr, 0, NULL);
        if (b && e[i].cls >= MT_LEAK_DEFINITE && e[i].cls <= MT_LEAK_REACHABLE)
            b->leak_class = e[i].cls;
    }
}

int an_client_pre(struct an_state *st, struct an_proc *p, const struct mt_rec_hdr *h)
{
    struct an_client *c = p->client;
    switch (h->kind) {
    case MT_REC_ALLOC:
        c->pre_peak = (struct an_peak_save){
            .for_seq = ((const struct mt_rec_common *)h)->seq, .bytes = p->peak_bytes,
            .blocks = p->peak_blocks, .seq = p->peak_seq, .ns = p->peak_ns,
            .epoch = p->peak_epoch, .frag_pending = p->peak_frag_pending};
        return AN_CLIENT_PASS;
    case MT_REC_FREE:
        an_pool_before_free(st, p, ((const struct mt_rec_free *)h)->addr);
        return AN_CLIENT_PASS;
    case MT_REC_LEAK_BEGIN:
        if (!c->check_pending) return AN_CLIENT_PASS;
        c->check_scanning = 1;
        return 0;
    case MT_REC_LEAK:
        if (c->check_scanning) return an_check_leak(st, p, (const void *)h);
        an_client_exit_leak(st, p, (const void *)h);
        return AN_CLIENT_PASS;
    case MT_REC_LEAK_END: {
        if (!c->check_scanning) return AN_CLIENT_PASS;
        const struct mt_rec_leak_mark *m = (const void *)h;
        c->check_scanning = 0;
        c->check_scanned = 1;
        c->check_blocks = m->n_blocks;
        c->check_bytes = m->n_bytes;
        c->check_dur_ns = m->duration_ns;
        return 0;
    }
    default: return AN_CLIENT_PASS;
    }
}

/* ------------------------------------------------------------ the end */

/* Superblocks and ignored blocks still live leave p->blocks before the
 * leaks are counted: neither is a leak. */
static int an_client_final_flagged(struct an_state *st, struct an_proc *p)
{
    int rc = 0;
    for (size_t i = 0; i < p->blocks.cap && !rc; i++) {
        if (!an_live_entry(p, i)) continue;
        uint32_t idx = (uint32_t)p->blocks.e[i].val;
        struct an_block *b = &st->pool[idx];
        if (!(b->client & (AN_BLK_SUPERBLOCK | AN_BLK_IGNORED))) continue;
        rc = an_client_alloc_row(st, p, b, trace_family_name(b->family), trace_api_name(b->api),
                                 0, 0, 0, NULL, 0, 0, NULL);
        an_map_del(&p->blocks, b->addr, NULL);
        an_pool_put(st, idx);
        i--; /* backward shift may have moved an entry into slot i */
    }
    return rc;
}

int an_client_final(struct an_state *st, struct an_proc *p)
{
    if (!p->client) return 0;
    int rc = an_pool_final(st, p);
    if (!rc && p->client->check_pending) { /* the program ended inside a check */
        p->client->check_pending = 0;
        rc = an_check_write(st, p);
    }
    return rc ? rc : an_client_final_flagged(st, p);
}

void an_client_free(struct an_proc *p)
{
    struct an_client *c = p->client;
    if (!c) return;
    an_pool_free_all(c);
    an_map_fini(&c->check_of);
    free(c->check_sites);
    free(c);
    p->client = NULL;
}
