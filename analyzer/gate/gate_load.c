/*
 * gate_load.c — reading a database's leaks and memory errors as gate findings
 *
 * Reads `sites` (leak blocks and bytes per class) and `errors`, loads each
 * stack's symbolized frames from the `stack_trace` view, computes the site
 * key and merges rows with equal (rule, key) into one finding (gate.h,
 * design note 1). Schema: docs/schema.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include "gate/gate.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "memtrace/error.h"

#define GATE_KEY_FRAMES 12 /* frames in a site key: valgrind's default --num-callers */

struct gate_loader {
    sqlite3 *db;
    sqlite3_stmt *frames; /* owned: one stack's frames */
    struct gate_findings *out;
    struct mt_errbuf *eb;
};

/* ------------------------------------------------------------ helpers */

static int gate_sql_err(struct gate_loader *l, const char *what)
{
    mt_errbuf_set(l->eb, "%s: %s", what, sqlite3_errmsg(l->db));
    return MT_ESQLITE;
}

static char *gate_col_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? strdup((const char *)t) : NULL;
}

void gate_stack_free(struct gate_stack *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->frames[i].function);
        free(s->frames[i].file);
        free(s->frames[i].module);
    }
    free(s->frames);
    *s = (struct gate_stack){0};
}

void gate_findings_free(struct gate_findings *f)
{
    for (size_t i = 0; i < f->n; i++) {
        gate_stack_free(&f->v[i].stack);
        gate_stack_free(&f->v[i].alloc_stack);
        gate_stack_free(&f->v[i].free_stack);
    }
    free(f->v);
    *f = (struct gate_findings){0};
}

/* Appends a zeroed finding. NULL when out of memory. */
static struct gate_finding *gate_findings_push(struct gate_findings *f)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 64;
        void *v = realloc(f->v, cap * sizeof *f->v);
        if (!v) return NULL;
        f->v = v;
        f->cap = cap;
    }
    struct gate_finding *x = &f->v[f->n++];
    *x = (struct gate_finding){.supp_idx = -1, .n_procs = 1};
    return x;
}

static const char *gate_basename(const char *p)
{
    const char *s = p ? strrchr(p, '/') : NULL;
    return s ? s + 1 : p;
}

static void gate_fnv(uint64_t *h, const char *s)
{
    for (; s && *s; s++) {
        *h ^= (unsigned char)*s;
        *h *= 0x100000001b3ull; /* FNV-1a 64-bit prime */
    }
}

uint64_t gate_site_key(enum gate_rule r, const struct gate_stack *s)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a 64-bit offset basis */
    gate_fnv(&h, gate_rule(r)->id);
    for (size_t i = 0; i < s->n && i < GATE_KEY_FRAMES; i++) {
        const struct gate_frame *fr = &s->frames[i];
        char off[32];
        gate_fnv(&h, "\n");
        if (fr->function) {
            gate_fnv(&h, fr->function);
        } else { /* unsymbolized: the offset is stable for one build */
            snprintf(off, sizeof off, "+0x%" PRIx64, fr->offset);
            gate_fnv(&h, gate_basename(fr->module));
            gate_fnv(&h, off);
        }
        gate_fnv(&h, "\t");
        gate_fnv(&h, fr->file ? gate_basename(fr->file) : gate_basename(fr->module));
    }
    return h;
}

/* ------------------------------------------------------------ stacks */

/* Loads stack_id's frames into *s. 0, -ENOMEM or MT_ESQLITE. */
static int gate_stack_load(struct gate_loader *l, int64_t stack_id, struct gate_stack *s)
{
    *s = (struct gate_stack){0};
    if (stack_id <= 0) return 0;
    sqlite3_reset(l->frames);
    sqlite3_bind_int64(l->frames, 1, stack_id);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(l->frames)) == SQLITE_ROW) {
        if (s->n == cap) {
            cap = cap ? cap * 2 : 16;
            void *v = realloc(s->frames, cap * sizeof *s->frames);
            if (!v) return -ENOMEM;
            s->frames = v;
        }
        struct gate_frame *fr = &s->frames[s->n++];
        *fr = (struct gate_frame){
            .function = gate_col_dup(l->frames, 0),
            .file = gate_col_dup(l->frames, 1),
            .line = sqlite3_column_int64(l->frames, 2),
            .inlined = sqlite3_column_int(l->frames, 3),
            .module = gate_col_dup(l->frames, 4),
            .offset = (uint64_t)sqlite3_column_int64(l->frames, 5),
        };
    }
    return rc == SQLITE_DONE ? 0 : gate_sql_err(l, "reading a stack");
}

/* ------------------------------------------------------------ leaks */

/* One row of sites: a finding per class with blocks. */
static int gate_leak_row(struct gate_loader *l, sqlite3_stmt *st)
{
    int64_t stack_id = sqlite3_column_int64(st, 1);
    for (int c = 0; c <= GATE_R_LEAK_UNCLASSIFIED; c++) {
        int64_t blocks = sqlite3_column_int64(st, 2 + 2 * c);
        if (blocks <= 0) continue;
        struct gate_finding *f = gate_findings_push(l->out);
        if (!f) return -ENOMEM;
        f->rule = (enum gate_rule)c;
        f->pid = sqlite3_column_int(st, 0);
        f->count = (uint64_t)blocks;
        f->bytes = (uint64_t)sqlite3_column_int64(st, 3 + 2 * c);
        f->new_bytes = f->bytes;
        f->order = l->out->n;
        f->stack_id = stack_id;
        int rc = gate_stack_load(l, stack_id, &f->stack);
        if (rc) return rc;
        f->key = gate_site_key(f->rule, &f->stack);
    }
    return 0;
}

static int gate_load_leaks(struct gate_loader *l)
{
    static const char q[] =
        "SELECT p.pid, s.stack_id,"
        " coalesce(leak_definite_blocks,0), coalesce(leak_definite_bytes,0),"
        " coalesce(leak_indirect_blocks,0), coalesce(leak_indirect_bytes,0),"
        " coalesce(leak_possible_blocks,0), coalesce(leak_possible_bytes,0),"
        " coalesce(leak_reachable_blocks,0), coalesce(leak_reachable_bytes,0),"
        " coalesce(leak_unclassified_blocks,0), coalesce(leak_unclassified_bytes,0)"
        " FROM sites s JOIN processes p ON p.proc_id = s.proc_id"
        " WHERE coalesce(s.end_live_blocks,0) > 0 ORDER BY s.proc_id, s.stack_id";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(l->db, q, -1, &st, NULL) != SQLITE_OK)
        return gate_sql_err(l, "reading leaks");
    int rc = 0, src;
    while (!rc && (src = sqlite3_step(st)) == SQLITE_ROW) rc = gate_leak_row(l, st);
    if (!rc && src != SQLITE_DONE) rc = gate_sql_err(l, "reading leaks");
    sqlite3_finalize(st);
    return rc;
}

/* ------------------------------------------------------------ errors */

static enum gate_rule gate_error_rule(const char *kind)
{
    for (int r = GATE_R_DOUBLE_FREE; r < GATE_R_COUNT; r++)
        if (kind && !strcmp(kind, gate_rule(r)->db_name)) return (enum gate_rule)r;
    return GATE_R_INVALID_FREE; /* a kind added later is at least an invalid free */
}

static const char *gate_txt(sqlite3_stmt *st, int col, const char *dflt)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? (const char *)t : dflt;
}

/* The detail sentence of an error row. */
static void gate_error_detail(struct gate_finding *f, sqlite3_stmt *st)
{
    const char *sub = gate_txt(st, 3, NULL), *api = gate_txt(st, 4, "free");
    const char *afam = gate_txt(st, 5, NULL);
    switch (f->rule) {
    case GATE_R_MISMATCHED_FREE:
        snprintf(f->detail, sizeof f->detail, "%s of a block allocated by %s", api,
                 afam ? afam : "another family");
        break;
    case GATE_R_INVALID_FREE:
    case GATE_R_INVALID_REALLOC:
        if (sub && !strcmp(sub, "interior"))
            snprintf(f->detail, sizeof f->detail, "%s of a pointer inside a live block", api);
        else if (sub && (!strcmp(sub, "stack") || !strcmp(sub, "global")))
            snprintf(f->detail, sizeof f->detail, "%s of a %s address, not a heap block", api, sub);
        else
            snprintf(f->detail, sizeof f->detail, "%s of a pointer that is not a heap block", api);
        break;
    default:
        snprintf(f->detail, sizeof f->detail, "%s of a block already freed", api);
    }
}

static int gate_error_row(struct gate_loader *l, sqlite3_stmt *st)
{
    struct gate_finding *f = gate_findings_push(l->out);
    if (!f) return -ENOMEM;
    f->rule = gate_error_rule(gate_txt(st, 1, NULL));
    f->pid = sqlite3_column_int(st, 0);
    f->count = 1;
    f->addr = (uint64_t)sqlite3_column_int64(st, 2);
    f->bytes = (uint64_t)sqlite3_column_int64(st, 6);
    f->order = l->out->n;
    gate_error_detail(f, st);
    f->stack_id = sqlite3_column_int64(st, 7);
    int rc = gate_stack_load(l, f->stack_id, &f->stack);
    if (!rc) rc = gate_stack_load(l, sqlite3_column_int64(st, 8), &f->alloc_stack);
    if (!rc) rc = gate_stack_load(l, sqlite3_column_int64(st, 9), &f->free_stack);
    f->key = gate_site_key(f->rule, &f->stack);
    return rc;
}

static int gate_load_errors(struct gate_loader *l)
{
    static const char q[] =
        "SELECT p.pid, e.kind, e.addr, e.subkind, e.api, e.alloc_family, coalesce(e.size,0),"
        " coalesce(e.stack_id,0), coalesce(e.alloc_stack_id,0), coalesce(e.free_stack_id,0)"
        " FROM errors e JOIN processes p ON p.proc_id = e.proc_id ORDER BY e.seq, e.error_id";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(l->db, q, -1, &st, NULL) != SQLITE_OK)
        return gate_sql_err(l, "reading errors");
    int rc = 0, src;
    while (!rc && (src = sqlite3_step(st)) == SQLITE_ROW) rc = gate_error_row(l, st);
    if (!rc && src != SQLITE_DONE) rc = gate_sql_err(l, "reading errors");
    sqlite3_finalize(st);
    return rc;
}

/* ------------------------------------------------------------ merging */

static int gate_cmp_stack(const void *a, const void *b)
{
    const struct gate_finding *x = a, *y = b;
    if (x->rule != y->rule) return x->rule < y->rule ? -1 : 1;
    if (x->stack_id != y->stack_id) return x->stack_id < y->stack_id ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int64_t gate_leaf_line(const struct gate_finding *f)
{
    return f->stack.n ? f->stack.frames[0].line : 0;
}

/* Findings of one key in a stable order: by the leaf's line, then load
 * order (errors: time order). */
static int gate_cmp_key(const void *a, const void *b)
{
    const struct gate_finding *x = a, *y = b;
    if (x->rule != y->rule) return x->rule < y->rule ? -1 : 1;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    if (gate_leaf_line(x) != gate_leaf_line(y))
        return gate_leaf_line(x) < gate_leaf_line(y) ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Report order: errors in time order, then leaks by class, biggest first. */
static int gate_cmp_report(const void *a, const void *b)
{
    const struct gate_finding *x = a, *y = b;
    int ex = !gate_rule_is_leak(x->rule), ey = !gate_rule_is_leak(y->rule);
    if (ex != ey) return ey - ex;
    if (ex) return x->order < y->order ? -1 : x->order > y->order;
    if (x->rule != y->rule) return x->rule < y->rule ? -1 : 1;
    if (x->bytes != y->bytes) return x->bytes > y->bytes ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Merges findings of v[0..n) with equal rule and stack (design note 1).
 * Returns the new count. */
static size_t gate_merge(struct gate_finding *v, size_t n)
{
    size_t w = 0;
    qsort(v, n, sizeof *v, gate_cmp_stack);
    for (size_t i = 0; i < n; i++) {
        if (w && v[w - 1].rule == v[i].rule && v[w - 1].stack_id == v[i].stack_id) {
            struct gate_finding *d = &v[w - 1];
            d->count += v[i].count;
            if (gate_rule_is_leak(d->rule)) d->bytes += v[i].bytes;
            if (v[i].pid != d->pid) d->n_procs++;
            gate_stack_free(&v[i].stack);
            gate_stack_free(&v[i].alloc_stack);
            gate_stack_free(&v[i].free_stack);
            continue;
        }
        v[w++] = v[i];
    }
    return w;
}

/* Key totals and fingerprints of v[0..n) (design note 1). */
static void gate_key_totals(struct gate_finding *v, size_t n)
{
    qsort(v, n, sizeof *v, gate_cmp_key);
    for (size_t i = 0, j; i < n; i = j) {
        uint64_t count = 0, bytes = 0;
        for (j = i; j < n && v[j].rule == v[i].rule && v[j].key == v[i].key; j++) {
            count += v[j].count;
            bytes += gate_rule_is_leak(v[j].rule) ? v[j].bytes : 0;
        }
        for (size_t k = i; k < j; k++) {
            char rank[24];
            v[k].key_count = count;
            v[k].key_bytes = bytes;
            v[k].fingerprint = v[k].key;
            snprintf(rank, sizeof rank, "#%zu", k - i);
            gate_fnv(&v[k].fingerprint, rank);
        }
    }
}

int gate_load(sqlite3 *db, struct gate_findings *out, struct mt_errbuf *eb)
{
    struct gate_loader l = {.db = db, .out = out, .eb = eb};
    size_t from = out->n;
    static const char qf[] = "SELECT function, file, coalesce(line,0), coalesce(inlined,0),"
                             " module, coalesce(module_offset,0) FROM stack_trace"
                             " WHERE stack_id = ? ORDER BY depth";
    if (sqlite3_prepare_v2(db, qf, -1, &l.frames, NULL) != SQLITE_OK)
        return gate_sql_err(&l, "reading stacks");
    int rc = gate_load_errors(&l);
    if (!rc) rc = gate_load_leaks(&l);
    sqlite3_finalize(l.frames);
    if (rc == -ENOMEM) mt_errbuf_set(eb, "out of memory");
    if (!rc && out->n > from) { /* qsort must not see the NULL of an empty list */
        struct gate_finding *v = out->v + from;
        size_t n = gate_merge(v, out->n - from);
        out->n = from + n;
        gate_key_totals(v, n);
        qsort(v, n, sizeof *v, gate_cmp_report);
    }
    return rc;
}
