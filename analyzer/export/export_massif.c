/*
 * export_massif.c — valgrind massif's out file, for ms_print and massif-visualizer
 *
 * Massif describes one process: the image chosen with --pid (default: the
 * first, the program memtrace started). Snapshots: time 0, one per row of
 * its timeline (live requested bytes at each interval's end), a "peak"
 * snapshot with the heap tree at the exact peak (sites.peak_bytes, so the
 * tree adds up to processes.peak_heap_bytes), and a last "detailed" one
 * with the tree of what was still live at the end (the leaks). The tree is
 * massif's: the root is the allocation functions, each level below is the
 * callers of the level above. time_unit is ms, with fractions.
 * docs/reports.md, "massif".
 *
 * SPDX-License-Identifier: MIT
 */
#include "export/export.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "memtrace/error.h"

struct massif_node {
    const struct export_frame *frame; /* borrowed from export_data; NULL at the root */
    int64_t bytes;
    struct massif_node *kids;         /* owned, n_kids of them */
    size_t n_kids, cap;
};

struct massif_proc {
    int64_t proc_id, pid;
    int64_t peak_bytes, peak_ns, end_ns, end_bytes;
};

/* ------------------------------------------------------------ tree */

static void massif_tree_free(struct massif_node *n)
{
    for (size_t i = 0; i < n->n_kids; i++) massif_tree_free(&n->kids[i]);
    free(n->kids);
}

/* The child of n for frame f, created if missing. NULL when out of memory. */
static struct massif_node *massif_child(struct massif_node *n, const struct export_frame *f)
{
    for (size_t i = 0; i < n->n_kids; i++)
        if (n->kids[i].frame == f) return &n->kids[i];
    if (n->n_kids == n->cap) {
        size_t cap = n->cap ? n->cap * 2 : 4;
        struct massif_node *k = realloc(n->kids, cap * sizeof *k);
        if (!k) return NULL;
        n->kids = k;
        n->cap = cap;
    }
    memset(&n->kids[n->n_kids], 0, sizeof n->kids[0]);
    n->kids[n->n_kids].frame = f;
    return &n->kids[n->n_kids++];
}

/* Builds the tree of one process's sites; peak: peak_bytes, else end_bytes. */
static int massif_tree(const struct export_data *d, int64_t proc_id, int peak,
                       struct massif_node *root)
{
    memset(root, 0, sizeof *root);
    for (size_t i = 0; i < d->n_sites; i++) {
        const struct export_site *s = &d->sites[i];
        int64_t v = peak ? s->peak_bytes : s->end_bytes;
        struct massif_node *n = root;
        if (s->proc_id != proc_id || v <= 0) continue;
        root->bytes += v;
        for (int k = 0; k < s->n_frames; k++) {
            if (!(n = massif_child(n, s->frames[k]))) return -ENOMEM;
            n->bytes += v;
        }
    }
    return 0;
}

static int massif_node_cmp(const void *a, const void *b)
{
    const struct massif_node *x = a, *y = b;
    return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

static void massif_tree_write(FILE *out, struct massif_node *n, int depth)
{
    char name[1024];
    if (n->n_kids > 1) qsort(n->kids, n->n_kids, sizeof n->kids[0], massif_node_cmp);
    fprintf(out, "%*sn%zu: %" PRId64 " ", depth, "", n->n_kids, n->bytes);
    if (!n->frame) {
        fputs("(heap allocation functions) malloc/new/new[], --alloc-fns, etc.\n", out);
    } else {
        const struct export_frame *f = n->frame;
        /* '#' starts a comment for ms_print: keep names clear of it */
        for (char *p = (char *)export_frame_name(f, name, sizeof name); *p; p++)
            if (*p == '#' || *p == '\n') *p = '_';
        fprintf(out, "0x%" PRIX64 ": %s ", (uint64_t)f->offset, name);
        if (f->file) fprintf(out, "(%s:%" PRId64 ")\n", f->file, f->line);
        else fprintf(out, "(in %s)\n", f->module ? f->module : "???");
    }
    for (size_t i = 0; i < n->n_kids; i++) massif_tree_write(out, &n->kids[i], depth + 1);
}

/* ------------------------------------------------------------ snapshots */

static void massif_snapshot(FILE *out, int *idx, int64_t t_ns, int64_t heap, const char *tree)
{
    fprintf(out, "#-----------\nsnapshot=%d\n#-----------\n", (*idx)++);
    fprintf(out, "time=%.3f\nmem_heap_B=%" PRId64 "\nmem_heap_extra_B=0\nmem_stacks_B=0\n",
            (double)t_ns / 1e6, heap);
    fprintf(out, "heap_tree=%s\n", tree);
}

static int massif_proc_find(sqlite3 *db, int64_t pid, struct massif_proc *p, struct mt_errbuf *eb)
{
    sqlite3_stmt *q;
    int step;
    if (sqlite3_prepare_v2(db,
                           "SELECT proc_id, pid, coalesce(peak_heap_bytes, 0), "
                           "coalesce(peak_heap_ns, 0), coalesce(end_ns, 0), "
                           "coalesce(end_live_bytes, 0) FROM processes "
                           "WHERE ?1 = 0 OR pid = ?1 ORDER BY proc_id LIMIT 1",
                           -1, &q, NULL) != SQLITE_OK) {
        mt_errbuf_set(eb, "reading the database: %s", sqlite3_errmsg(db));
        return MT_ESQLITE;
    }
    sqlite3_bind_int64(q, 1, pid);
    step = sqlite3_step(q);
    if (step == SQLITE_ROW) {
        p->proc_id = sqlite3_column_int64(q, 0);
        p->pid = sqlite3_column_int64(q, 1);
        p->peak_bytes = sqlite3_column_int64(q, 2);
        p->peak_ns = sqlite3_column_int64(q, 3);
        p->end_ns = sqlite3_column_int64(q, 4);
        p->end_bytes = sqlite3_column_int64(q, 5);
    }
    sqlite3_finalize(q);
    if (step == SQLITE_ROW) return 0;
    if (step == SQLITE_DONE) mt_errbuf_set(eb, "no process with pid %lld", (long long)pid);
    else mt_errbuf_set(eb, "reading the database: %s", sqlite3_errmsg(db));
    return step == SQLITE_DONE ? MT_ENOTFOUND : MT_ESQLITE;
}

/* Timeline snapshots, with the peak's detailed one at its place in time. */
static int massif_timeline(sqlite3 *db, FILE *out, const struct massif_proc *p,
                           struct massif_node *peak, int *idx, int64_t *last_t)
{
    sqlite3_stmt *q;
    int step, peak_done = 0;
    if (sqlite3_prepare_v2(db, "SELECT t_ns, coalesce(heap_bytes, 0) FROM timeline "
                           "WHERE proc_id = ?1 ORDER BY t_ns", -1, &q, NULL) != SQLITE_OK)
        return MT_ESQLITE;
    sqlite3_bind_int64(q, 1, p->proc_id);
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t t = sqlite3_column_int64(q, 0);
        if (!peak_done && p->peak_ns <= t) {
            massif_snapshot(out, idx, p->peak_ns, peak->bytes, "peak");
            massif_tree_write(out, peak, 0);
            peak_done = 1;
        }
        massif_snapshot(out, idx, t, sqlite3_column_int64(q, 1), "empty");
        *last_t = t;
    }
    sqlite3_finalize(q);
    if (!peak_done) {
        massif_snapshot(out, idx, p->peak_ns, peak->bytes, "peak");
        massif_tree_write(out, peak, 0);
        if (p->peak_ns > *last_t) *last_t = p->peak_ns;
    }
    return step == SQLITE_DONE ? 0 : MT_ESQLITE;
}

/* ------------------------------------------------------------ exported */

int export_massif(sqlite3 *db, const struct export_data *d, FILE *out, int64_t pid,
                  struct mt_errbuf *eb)
{
    struct massif_proc p;
    struct massif_node peak = {0}, end = {0};
    int idx = 0, rc;
    int64_t last_t = 0;
    if ((rc = massif_proc_find(db, pid, &p, eb))) return rc;
    rc = massif_tree(d, p.proc_id, 1, &peak);
    if (!rc) rc = massif_tree(d, p.proc_id, 0, &end);
    if (!rc) {
        fprintf(out, "desc: memtrace export of pid %lld (requested bytes; peak tree exact)\n",
                (long long)p.pid);
        fprintf(out, "cmd: %s\ntime_unit: ms\n", d->argv ? d->argv : "?");
        massif_snapshot(out, &idx, 0, 0, "empty");
        rc = massif_timeline(db, out, &p, &peak, &idx, &last_t);
        if (rc) mt_errbuf_set(eb, "reading the database: %s", sqlite3_errmsg(db));
    }
    if (!rc) {
        massif_snapshot(out, &idx, p.end_ns > last_t ? p.end_ns : last_t, end.bytes, "detailed");
        massif_tree_write(out, &end, 0);
    }
    if (rc == -ENOMEM) mt_errbuf_set(eb, "out of memory building the heap tree");
    massif_tree_free(&peak);
    massif_tree_free(&end);
    if (!rc && ferror(out)) {
        mt_errbuf_set(eb, "writing the massif file failed");
        rc = -EIO;
    }
    return rc;
}
