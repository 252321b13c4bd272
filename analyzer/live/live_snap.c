/*
 * live_snap.c — snapshots of the live aggregator, and their wire encoding
 *
 * live_agg_snapshot() copies what one screen needs out of the aggregator
 * (cells summed per site under the view's process/thread scope), then
 * symbolizes the rows (live_sym.c). live_snap_encode()/decode() carry a
 * snapshot over the session socket (live_sock.c) for `memtrace top`: a flat
 * little-endian stream of u64s and length-prefixed strings, private to one
 * memtrace build (both ends are the same binary). Docs: docs/tui.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include "live/live_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtrace/error.h"

#define LIVE_RATE_WINDOW_NS 1000000000ull /* allocations/s over the last second */
#define LIVE_SNAP_MAX_THREADS 1000u       /* thread rows sent; a list, not a table */
#define LIVE_WIRE_MAX_STR (1u << 20)      /* longest string accepted from the socket */

/* ------------------------------------------------------------ free */

void live_snap_free(struct live_snap *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n_sites; i++) {
        free(s->sites[i].label);
        free(s->sites[i].search);
    }
    for (size_t i = 0; i < s->n_procs; i++) free(s->procs[i].exe);
    for (size_t i = 0; i < s->n_errors_shown; i++) free(s->errors[i].at);
    free(s->sites);
    free(s->procs);
    free(s->threads);
    free(s->errors);
    free(s->hist);
    free(s->pools);
    free(s->markers);
    memset(s, 0, sizeof *s);
}

void live_lines_free(struct live_lines *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->lines[i]);
    free(l->lines);
    l->lines = NULL;
    l->n = 0;
}

int live_lines_add(struct live_lines *l, const char *text)
{
    char **n = realloc(l->lines, (l->n + 1) * sizeof *n);
    if (!n) return -ENOMEM;
    l->lines = n;
    if (!(l->lines[l->n] = strdup(text))) return -ENOMEM;
    l->n++;
    return 0;
}

/* ------------------------------------------------------------ build */

static int live_in_scope(const struct live_req *q, const struct live_proc *p)
{
    return !q->pid || (q->pid == p->pid && q->gen == p->gen);
}

/* Sums p's cells per site into s->sites (thread filter q->tid). */
static int live_snap_sites(struct live_proc *p, const struct live_req *q, struct live_snap *s,
                           size_t *cap)
{
    struct live_map row_of = {0};
    int rc = 0;
    for (size_t i = 0; i < p->n_cells && !rc; i++) {
        const struct live_cell *c = &p->cells[i];
        if (q->tid && c->tid != q->tid) continue;
        uint64_t idx;
        if (!live_map_get(&row_of, c->stack_id, &idx, NULL)) {
            rc = live_reserve((void **)&s->sites, cap, s->n_sites + 1, sizeof *s->sites);
            if (!rc) rc = live_map_put(&row_of, c->stack_id, s->n_sites, 0);
            if (rc) break;
            idx = s->n_sites++;
            s->sites[idx] = (struct live_site_row){
                .pid = p->pid, .gen = p->gen, .stack_id = c->stack_id, .pool_id = c->pool_id};
        }
        struct live_site_row *r = &s->sites[idx];
        r->live_bytes += c->live_bytes, r->live_blocks += c->live_blocks;
        r->alloc_bytes += c->alloc_bytes, r->n_allocs += c->n_allocs, r->n_frees += c->n_frees;
        r->leak_bytes += c->leak_bytes, r->leak_blocks += c->leak_blocks;
    }
    live_map_fini(&row_of);
    return rc;
}

static int live_site_cmp(const void *x, const void *y)
{
    const struct live_site_row *a = x, *b = y;
    if (a->live_bytes != b->live_bytes) return a->live_bytes < b->live_bytes ? 1 : -1;
    if (a->alloc_bytes != b->alloc_bytes) return a->alloc_bytes < b->alloc_bytes ? 1 : -1;
    return a->stack_id < b->stack_id ? -1 : a->stack_id > b->stack_id;
}

/* Appends p's pools to s->pools (*cap: its room). */
static int live_snap_pools(const struct live_proc *p, struct live_snap *s, size_t *cap)
{
    for (size_t i = 0; i < p->n_pools && s->n_pools < LIVE_SNAP_MAX_POOLS; i++) {
        const struct live_pool *pl = &p->pools[i];
        if (!pl->pool_id) continue;
        if (live_reserve((void **)&s->pools, cap, s->n_pools + 1, sizeof *s->pools)) return -ENOMEM;
        struct live_pool_row *r = &s->pools[s->n_pools++];
        *r = (struct live_pool_row){
            .pid = p->pid,
            .gen = p->gen,
            .pool_id = pl->pool_id,
            .destroyed = pl->destroyed,
            .live_bytes = pl->live_bytes,
            .live_chunks = pl->live_chunks,
            .held_bytes = pl->held_bytes,
            .peak_live_bytes = pl->peak_live,
            .peak_held_bytes = pl->peak_held,
            .max_held_bytes = pl->max_held,
            .n_allocs = pl->n_allocs,
            .n_frees = pl->n_frees,
            .n_resets = pl->n_resets,
            .n_errors = pl->n_errors,
            .leak_bytes = pl->leak_bytes,
            .leak_chunks = pl->leak_chunks,
        };
        memcpy(r->name, pl->name, sizeof r->name);
    }
    return 0;
}

static int live_snap_procs(struct live_agg *a, const struct live_req *q, struct live_snap *s)
{
    s->procs = calloc(a->n_procs + 1, sizeof *s->procs);
    if (!s->procs) return -ENOMEM;
    size_t cap_sites = 0, cap_thr = 0, cap_pools = 0;
    for (struct live_proc *p = a->procs; p; p = p->next) {
        s->procs[s->n_procs++] = (struct live_proc_row){
            .pid = p->pid,
            .gen = p->gen,
            .ppid = p->ppid,
            .ended = p->ended,
            .live_bytes = p->live_bytes,
            .peak_bytes = p->peak_bytes,
            .rss = p->rss,
            .n_allocs = p->n_allocs,
            .n_frees = p->n_frees,
            .n_errors = p->n_errors,
            .errors_checked = p->errors_checked,
            .exe = strdup(p->exe ? p->exe : "?"),
        };
        if (!p->ended) s->n_procs_running++;
        if (!live_in_scope(q, p)) continue;
        s->n_scope_procs++;
        s->n_unchecked += p->errors_checked == 0;
        if (live_snap_sites(p, q, s, &cap_sites) || live_snap_pools(p, s, &cap_pools))
            return -ENOMEM;
        for (size_t i = 0; i < p->n_threads && s->n_threads < LIVE_SNAP_MAX_THREADS; i++) {
            if (live_reserve((void **)&s->threads, &cap_thr, s->n_threads + 1,
                             sizeof *s->threads))
                return -ENOMEM;
            const struct live_thread *t = &p->threads[i];
            struct live_thread_row *r = &s->threads[s->n_threads++];
            *r = (struct live_thread_row){.pid = p->pid, .gen = p->gen, .tid = t->tid,
                                          .n_allocs = t->n_allocs, .alloc_bytes = t->alloc_bytes,
                                          .n_frees = t->n_frees, .live_bytes = t->live_bytes};
            memcpy(r->name, t->name, sizeof r->name);
        }
    }
    if (s->n_sites) /* else sites may be NULL, which qsort must not see */
        qsort(s->sites, s->n_sites, sizeof *s->sites, live_site_cmp);
    if (s->n_sites > LIVE_SNAP_MAX_SITES) s->n_sites = LIVE_SNAP_MAX_SITES;
    return 0;
}

static int live_snap_errors(struct live_agg *a, const struct live_req *q, struct live_snap *s)
{
    s->errors = calloc(a->n_errs + 1, sizeof *s->errors);
    if (!s->errors) return -ENOMEM;
    for (size_t i = 0; i < a->n_errs; i++) {
        const struct live_err *e = &a->errs[(a->err_head + i) % LIVE_SNAP_MAX_ERRORS];
        if (q->pid && (e->pid != q->pid || e->gen != q->gen)) continue;
        if (q->tid && e->tid != q->tid) continue;
        struct live_error_row *r = &s->errors[s->n_errors_shown++];
        *r = (struct live_error_row){.t_ns = e->t_ns, .pid = e->pid, .gen = e->gen,
                                     .tid = e->tid, .stack_id = e->stack_id, .addr = e->addr,
                                     .size = e->size};
        snprintf(r->kind, sizeof r->kind, "%s", e->kind);
        snprintf(r->api, sizeof r->api, "%s", e->api);
    }
    return 0;
}

/* The markers of the scope in time order: the ring is in the order records
 * were applied, seq order per image, images interleaved; an insertion
 * sort keeps equal times in that order. */
static int live_snap_markers(struct live_agg *a, const struct live_req *q, struct live_snap *s)
{
    s->markers = calloc(a->n_marks + 1, sizeof *s->markers);
    if (!s->markers) return -ENOMEM;
    for (size_t i = 0; i < a->n_marks; i++) {
        const struct live_marker *m = &a->marks[(a->mark_head + i) % LIVE_SNAP_MAX_MARKERS];
        if (q->pid && (m->pid != q->pid || m->gen != q->gen)) continue;
        size_t j = s->n_markers++;
        for (; j > 0 && s->markers[j - 1].t_ns > m->t_ns; j--) s->markers[j] = s->markers[j - 1];
        s->markers[j] = *m;
    }
    return 0;
}

/* Rates over the last LIVE_RATE_WINDOW_NS of history. */
static void live_snap_rates(const struct live_agg *a, struct live_snap *s)
{
    if (a->n_hist < 2) return;
    size_t i = a->n_hist - 1;
    uint64_t end = a->hist[i].t_ns;
    while (i > 0 && end - a->hist[i].t_ns < LIVE_RATE_WINDOW_NS) i--;
    double dt = (double)(end - a->hist[i].t_ns) / 1e9;
    if (dt <= 0) return;
    s->allocs_per_s = (double)(a->hist_n_allocs[a->n_hist - 1] - a->hist_n_allocs[i]) / dt;
    s->frees_per_s = (double)(a->hist_n_frees[a->n_hist - 1] - a->hist_n_frees[i]) / dt;
}

static int live_snap_copy(struct live_agg *a, const struct live_req *q, uint64_t now,
                          struct live_snap *s)
{
    snprintf(s->command, sizeof s->command, "%s", a->command);
    s->finished = a->finished;
    uint64_t now_rel = now > a->start_ns ? now - a->start_ns : 0;
    s->elapsed_ns = !a->finished && now && now_rel > a->last_ns ? now_rel : a->last_ns;
    s->peak_ns = a->peak_ns;
    s->live_bytes = a->live_bytes, s->live_blocks = a->live_blocks;
    s->peak_bytes = a->peak_bytes, s->rss_bytes = live_agg_rss_total(a);
    s->n_allocs = a->n_allocs, s->n_frees = a->n_frees;
    s->alloc_bytes = a->alloc_bytes, s->n_errors = a->n_errors;
    s->replayed_records = a->n_replayed;
    live_snap_rates(a, s);
    s->hist = calloc(a->n_hist + 1, sizeof *s->hist);
    if (!s->hist) return -ENOMEM;
    if (a->n_hist) /* else a->hist may be NULL */
        memcpy(s->hist, a->hist, a->n_hist * sizeof *s->hist);
    s->n_hist = a->n_hist;
    int rc = live_snap_procs(a, q, s);
    if (!rc) rc = live_snap_markers(a, q, s);
    return rc ? rc : live_snap_errors(a, q, s);
}

int live_agg_snapshot(struct live_agg *a, const struct live_req *req, uint64_t now_mono_ns,
                      struct live_snap *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&a->snap_mu);
    pthread_mutex_lock(&a->mu);
    int rc = live_snap_copy(a, req, now_mono_ns, out);
    pthread_mutex_unlock(&a->mu);
    if (!rc) live_sym_fill(a, out);
    pthread_mutex_unlock(&a->snap_mu);
    if (rc) live_snap_free(out);
    return rc;
}

int live_agg_stack(struct live_agg *a, uint32_t pid, uint32_t gen, uint32_t stack_id,
                   struct live_lines *out)
{
    pthread_mutex_lock(&a->snap_mu);
    int rc = live_sym_stack(a, pid, gen, stack_id, out);
    pthread_mutex_unlock(&a->snap_mu);
    return rc;
}

/* ------------------------------------------------------------ wire */

struct live_wbuf {
    char *p;
    size_t len, cap;
    int err;
};

static void live_w(struct live_wbuf *w, const void *src, size_t n)
{
    if (w->err || n == 0) return; /* memcpy must not see a NULL buffer */
    if (live_reserve((void **)&w->p, &w->cap, w->len + n, 1)) {
        w->err = -ENOMEM;
        return;
    }
    memcpy(w->p + w->len, src, n);
    w->len += n;
}

static void live_w64(struct live_wbuf *w, uint64_t v)
{
    live_w(w, &v, sizeof v);
}

static void live_wstr(struct live_wbuf *w, const char *s)
{
    uint64_t n = s ? strlen(s) : UINT64_MAX; /* UINT64_MAX: NULL */
    live_w64(w, n);
    if (s) live_w(w, s, n);
}

struct live_rbuf {
    const char *p;
    size_t len, off;
    int err;
};

static void live_r(struct live_rbuf *r, void *dst, size_t n)
{
    if (n == 0) return; /* dst may be NULL: an empty array */
    if (r->err || r->len - r->off < n) {
        r->err = MT_ECORRUPT;
        memset(dst, 0, n);
        return;
    }
    memcpy(dst, r->p + r->off, n);
    r->off += n;
}

static uint64_t live_r64(struct live_rbuf *r)
{
    uint64_t v;
    live_r(r, &v, sizeof v);
    return v;
}

static char *live_rstr(struct live_rbuf *r)
{
    uint64_t n = live_r64(r);
    if (n == UINT64_MAX || r->err) return NULL;
    if (n > LIVE_WIRE_MAX_STR || r->len - r->off < n) {
        r->err = MT_ECORRUPT;
        return NULL;
    }
    char *s = strndup(r->p + r->off, n);
    if (!s) r->err = -ENOMEM;
    r->off += n;
    return s;
}

/* Reads a count and allocates that many elements (bounded by the bytes left). */
static void *live_rarr(struct live_rbuf *r, size_t *n, size_t elem)
{
    uint64_t cnt = live_r64(r);
    if (r->err || cnt > r->len - r->off) { /* every element takes >= 1 byte */
        r->err = MT_ECORRUPT;
        *n = 0;
        return NULL;
    }
    void *a = calloc(cnt + 1, elem);
    if (!a) r->err = -ENOMEM;
    *n = a ? (size_t)cnt : 0;
    return a;
}

int live_snap_encode(const struct live_snap *s, const struct live_req *req, char **out,
                     size_t *len)
{
    (void)req;
    struct live_wbuf w = {0};
    live_w(&w, s->command, sizeof s->command);
    const uint64_t head[] = {
        (uint64_t)s->finished, s->elapsed_ns,      s->duration_ns,
        s->cursor_ns,          s->peak_ns,         s->live_bytes,
        s->live_blocks,        s->peak_bytes,      s->rss_bytes,
        s->n_allocs,           s->n_frees,         s->alloc_bytes,
        s->n_errors,           s->n_procs_running, s->replayed_records,
        s->n_scope_procs,      s->n_unchecked,
    };
    live_w(&w, head, sizeof head);
    live_w(&w, &s->allocs_per_s, sizeof(double));
    live_w(&w, &s->frees_per_s, sizeof(double));
    live_w64(&w, s->n_procs);
    for (size_t i = 0; i < s->n_procs; i++) {
        struct live_proc_row r = s->procs[i];
        r.exe = NULL;
        live_w(&w, &r, sizeof r);
        live_wstr(&w, s->procs[i].exe);
    }
    live_w64(&w, s->n_threads);
    live_w(&w, s->threads, s->n_threads * sizeof *s->threads);
    live_w64(&w, s->n_sites);
    for (size_t i = 0; i < s->n_sites; i++) {
        struct live_site_row r = s->sites[i];
        r.label = r.search = NULL;
        live_w(&w, &r, sizeof r);
        live_wstr(&w, s->sites[i].label);
        live_wstr(&w, s->sites[i].search);
    }
    live_w64(&w, s->n_errors_shown);
    for (size_t i = 0; i < s->n_errors_shown; i++) {
        struct live_error_row r = s->errors[i];
        r.at = NULL;
        live_w(&w, &r, sizeof r);
        live_wstr(&w, s->errors[i].at);
    }
    live_w64(&w, s->n_hist);
    live_w(&w, s->hist, s->n_hist * sizeof *s->hist);
    live_w64(&w, s->n_pools);
    live_w(&w, s->pools, s->n_pools * sizeof *s->pools);
    live_w64(&w, s->n_markers);
    live_w(&w, s->markers, s->n_markers * sizeof *s->markers);
    if (w.err) {
        free(w.p);
        return w.err;
    }
    *out = w.p;
    *len = w.len;
    return 0;
}

int live_snap_decode(const char *buf, size_t len, struct live_snap *s)
{
    struct live_rbuf r = {buf, len, 0, 0};
    memset(s, 0, sizeof *s);
    live_r(&r, s->command, sizeof s->command);
    s->command[sizeof s->command - 1] = '\0';
    uint64_t head[17];
    live_r(&r, head, sizeof head);
    s->finished = (int)head[0], s->elapsed_ns = head[1], s->duration_ns = head[2];
    s->cursor_ns = head[3], s->peak_ns = head[4], s->live_bytes = head[5];
    s->live_blocks = head[6], s->peak_bytes = head[7], s->rss_bytes = head[8];
    s->n_allocs = head[9], s->n_frees = head[10], s->alloc_bytes = head[11];
    s->n_errors = head[12], s->n_procs_running = (uint32_t)head[13];
    s->replayed_records = head[14];
    s->n_scope_procs = (uint32_t)head[15], s->n_unchecked = (uint32_t)head[16];
    live_r(&r, &s->allocs_per_s, sizeof(double));
    live_r(&r, &s->frees_per_s, sizeof(double));
    s->procs = live_rarr(&r, &s->n_procs, sizeof *s->procs);
    for (size_t i = 0; i < s->n_procs && !r.err; i++) {
        live_r(&r, &s->procs[i], sizeof s->procs[i]);
        s->procs[i].exe = live_rstr(&r);
    }
    s->threads = live_rarr(&r, &s->n_threads, sizeof *s->threads);
    live_r(&r, s->threads, s->n_threads * sizeof *s->threads);
    s->sites = live_rarr(&r, &s->n_sites, sizeof *s->sites);
    for (size_t i = 0; i < s->n_sites && !r.err; i++) {
        live_r(&r, &s->sites[i], sizeof s->sites[i]);
        s->sites[i].label = live_rstr(&r);
        s->sites[i].search = live_rstr(&r);
    }
    s->errors = live_rarr(&r, &s->n_errors_shown, sizeof *s->errors);
    for (size_t i = 0; i < s->n_errors_shown && !r.err; i++) {
        live_r(&r, &s->errors[i], sizeof s->errors[i]);
        s->errors[i].at = live_rstr(&r);
        s->errors[i].kind[sizeof s->errors[i].kind - 1] = '\0';
        s->errors[i].api[sizeof s->errors[i].api - 1] = '\0';
    }
    s->hist = live_rarr(&r, &s->n_hist, sizeof *s->hist);
    live_r(&r, s->hist, s->n_hist * sizeof *s->hist);
    s->pools = live_rarr(&r, &s->n_pools, sizeof *s->pools);
    live_r(&r, s->pools, s->n_pools * sizeof *s->pools);
    s->markers = live_rarr(&r, &s->n_markers, sizeof *s->markers);
    live_r(&r, s->markers, s->n_markers * sizeof *s->markers);
    for (size_t i = 0; i < s->n_threads; i++) s->threads[i].name[15] = '\0';
    for (size_t i = 0; i < s->n_pools; i++) s->pools[i].name[sizeof s->pools[i].name - 1] = '\0';
    for (size_t i = 0; i < s->n_markers; i++) {
        s->markers[i].kind[sizeof s->markers[i].kind - 1] = '\0';
        s->markers[i].name[sizeof s->markers[i].name - 1] = '\0';
    }
    if (r.err) live_snap_free(s);
    return r.err;
}

int live_lines_encode(const struct live_lines *l, char **out, size_t *len)
{
    struct live_wbuf w = {0};
    live_w64(&w, l->n);
    for (size_t i = 0; i < l->n; i++) live_wstr(&w, l->lines[i]);
    if (w.err) {
        free(w.p);
        return w.err;
    }
    *out = w.p;
    *len = w.len;
    return 0;
}

int live_lines_decode(const char *buf, size_t len, struct live_lines *l)
{
    struct live_rbuf r = {buf, len, 0, 0};
    memset(l, 0, sizeof *l);
    size_t n;
    char **lines = live_rarr(&r, &n, sizeof *lines);
    l->lines = lines;
    for (size_t i = 0; i < n && !r.err; i++) {
        lines[i] = live_rstr(&r);
        if (!r.err) l->n = i + 1;
    }
    if (r.err) live_lines_free(l);
    return r.err;
}
