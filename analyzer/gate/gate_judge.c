/*
 * gate_judge.c — baseline comparison, the session's figures and the verdict
 *
 * gate_baseline_apply() marks what a baseline database already had;
 * gate_judge() applies --fail-on, --max-leaked-bytes and --max-peak in the
 * order of gate.h's design note 2, and fails what a --no-errors recording
 * could not check (note 3). Semantics: docs/ci.md ("Baselines", "What
 * fails", "Recordings without error checking").
 *
 * SPDX-License-Identifier: MIT
 */
#include "gate/gate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memtrace/error.h"

/* ------------------------------------------------------------ baseline */

/* The totals of one (rule, key): every finding carries its key's. */
struct gate_keytot {
    unsigned rule;
    uint64_t key, count, bytes;
    int claimed; /* growth already counted in new_bytes */
};

static int gate_cmp_keytot(const void *a, const void *b)
{
    const struct gate_keytot *x = a, *y = b;
    if (x->rule != y->rule) return x->rule < y->rule ? -1 : 1;
    return x->key < y->key ? -1 : x->key > y->key;
}

/* One entry per (rule, key) of f, sorted for bsearch. Owned by the
 * caller; NULL when out of memory (or f is empty: *n = 0). */
static struct gate_keytot *gate_keytots(const struct gate_findings *f, size_t *n)
{
    *n = 0;
    struct gate_keytot *t = f->n ? malloc(f->n * sizeof *t) : NULL;
    if (!t) return NULL;
    for (size_t i = 0; i < f->n; i++)
        t[i] = (struct gate_keytot){f->v[i].rule, f->v[i].key, f->v[i].key_count, f->v[i].key_bytes,
                                    0};
    qsort(t, f->n, sizeof *t, gate_cmp_keytot);
    size_t w = 0;
    for (size_t i = 0; i < f->n; i++)
        if (!w || gate_cmp_keytot(&t[w - 1], &t[i])) t[w++] = t[i];
    *n = w;
    return t;
}

static struct gate_keytot *gate_keytot_find(struct gate_keytot *t, size_t n,
                                            const struct gate_finding *f)
{
    struct gate_keytot k = {.rule = f->rule, .key = f->key};
    return n ? bsearch(&k, t, n, sizeof *t, gate_cmp_keytot) : NULL;
}

int gate_baseline_apply(struct gate_findings *cur, const struct gate_findings *base)
{
    size_t nb, nc;
    struct gate_keytot *bt = gate_keytots(base, &nb), *ct = gate_keytots(cur, &nc);
    if ((base->n && !bt) || (cur->n && !ct)) {
        free(bt), free(ct);
        return -ENOMEM;
    }
    for (size_t i = 0; i < cur->n; i++) {
        struct gate_finding *f = &cur->v[i];
        const struct gate_keytot *b = gate_keytot_find(bt, nb, f);
        if (!b) {
            f->base = GATE_BASE_NEW;
            continue;
        }
        f->base_count = b->count;
        f->base_bytes = b->bytes;
        int grown = f->key_count > b->count || f->key_bytes > b->bytes;
        f->base = grown ? GATE_BASE_GROWN : GATE_BASE_OLD;
        f->new_bytes = 0;
        struct gate_keytot *c = gate_keytot_find(ct, nc, f);
        if (grown && gate_rule_is_leak(f->rule) && c && !c->claimed) {
            f->new_bytes = f->key_bytes > b->bytes ? f->key_bytes - b->bytes : 0;
            c->claimed = 1; /* the growth counts once per key */
        }
    }
    free(bt);
    free(ct);
    return 0;
}

/* ------------------------------------------------------------ session */

int gate_session_read(sqlite3 *db, struct gate_session *s, struct mt_errbuf *eb)
{
    static const char q[] =
        "SELECT coalesce(p.argv, s.argv, s.command, p.exe, '?'),"
        " coalesce(s.peak_heap_bytes, -1), p.end_how, coalesce(p.exit_status, 0),"
        " coalesce(p.exit_signal, 0), coalesce(s.n_processes, 0),"
        " (SELECT count(*) = coalesce(sum(coalesce(leak_scan, 0)), 0) FROM processes"
        "  WHERE coalesce(end_how, '') != 'exec' AND coalesce(errors_checked, 1) != 0),"
        " coalesce(s.truncated, 0), coalesce(s.dropped, 0), coalesce(p.exe, ''),"
        " coalesce(s.duration_ns, 0),"
        " (SELECT count(*) FROM processes WHERE errors_checked = 0)"
        " FROM session s LEFT JOIN processes p"
        "  ON p.pid = s.root_pid OR (s.root_pid IS NULL AND p.parent_proc_id IS NULL)"
        " ORDER BY p.gen DESC, p.proc_id LIMIT 1";
    sqlite3_stmt *st;
    *s = (struct gate_session){.peak_heap = -1, .exited = 1};
    if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK) goto fail;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        snprintf(s->program, sizeof s->program, "%s", (const char *)sqlite3_column_text(st, 0));
        s->peak_heap = sqlite3_column_int64(st, 1);
        const unsigned char *how = sqlite3_column_text(st, 2);
        s->exit_status = sqlite3_column_int(st, 3);
        s->signal = sqlite3_column_int(st, 4);
        s->n_processes = sqlite3_column_int(st, 5);
        s->leak_scan = sqlite3_column_int(st, 6);
        s->truncated = sqlite3_column_int(st, 7);
        s->dropped = sqlite3_column_int64(st, 8);
        snprintf(s->exe, sizeof s->exe, "%s", (const char *)sqlite3_column_text(st, 9));
        s->seconds = (double)sqlite3_column_int64(st, 10) / 1e9;
        s->n_unchecked = sqlite3_column_int(st, 11);
        s->exited = !how || strcmp((const char *)how, "signaled");
        s->program_failed = !s->exited || s->exit_status != 0;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE) return 0;
fail:
    mt_errbuf_set(eb, "reading the session: %s", sqlite3_errmsg(db));
    return MT_ESQLITE;
}

/* ------------------------------------------------------------ verdict */

void gate_judge(struct gate_findings *f, const struct gate_policy *p, const struct gate_session *s,
                struct gate_verdict *v)
{
    *v = (struct gate_verdict){0};
    size_t n_leak_candidates = 0;
    for (size_t i = 0; i < f->n; i++) {
        struct gate_finding *x = &f->v[i];
        x->judged = !!(p->fail_mask & GATE_MASK(x->rule));
        x->fails = 0;
        if (x->supp_idx >= 0) {
            v->n_suppressed++;
        } else if (x->base == GATE_BASE_OLD) {
            v->n_old++;
        } else if (!x->judged) {
            v->n_info++;
        } else if (gate_rule_is_leak(x->rule)) {
            x->fails = 1; /* provisional: the limit decides below */
            v->fail_leak_bytes += x->new_bytes;
            n_leak_candidates++;
        } else {
            x->fails = 1;
            v->n_fail++;
        }
    }
    int leaks_fail = p->max_leaked_bytes < 0 ? n_leak_candidates > 0
                                             : v->fail_leak_bytes > (uint64_t)p->max_leaked_bytes;
    v->leak_over = p->max_leaked_bytes >= 0 && leaks_fail;
    for (size_t i = 0; i < f->n; i++) {
        struct gate_finding *x = &f->v[i];
        if (!x->fails || !gate_rule_is_leak(x->rule)) continue;
        if (leaks_fail) {
            v->n_fail++;
        } else {
            x->fails = 0; /* within --max-leaked-bytes */
            v->n_info++;
        }
    }
    v->peak_over = p->max_peak >= 0 && s->peak_heap > p->max_peak;
    v->not_checked = s->n_unchecked ? p->fail_mask & GATE_MASK_NEEDS_TABLE : 0; /* note 3 */
    v->failed = v->n_fail > 0 || v->peak_over || v->not_checked;
}
