/*
 * live_sym.c — symbolizes the live aggregator's stacks, for display only
 *
 * Snapshots (live_snap.c) call live_sym_fill() for the sites and errors
 * they return; Enter on a site calls live_sym_stack(). Raw return addresses
 * come from STACK records, modules from MODULE records (a forked child's
 * low ids from its parent); analyzer/sym/sym.h does the DWARF work. A
 * label is computed once per stack and cached in the aggregator.
 *
 * Design notes
 *   1. The collector must never wait on DWARF: under agg->mu we only copy
 *      the pcs and register modules (sym_module_add opens nothing), then
 *      resolve with the lock dropped, then store the labels under it again.
 *      Only one thread symbolizes at a time (callers hold snap_mu), which
 *      is also what a sym_ctx requires.
 *   2. At most LIVE_SYM_BATCH new stacks per snapshot, so the first screen
 *      of a program with thousands of sites appears at once and fills in.
 *
 * SPDX-License-Identifier: MIT
 */
#include "live/live_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sym/sym.h"

#define LIVE_SYM_BATCH 256    /* note 2: new stacks symbolized per snapshot */
#define LIVE_SYM_CHAIN 16     /* inlined frames kept per pc */
#define LIVE_SYM_MAX_FRAMES 256 /* frames per stack (run --depth maximum) */

/* One frame to resolve, copied out under the lock. */
struct live_pc {
    uint64_t pc;
    int handle;              /* sym handle, -1 if none */
    char *module;            /* owned copy: a MODULE record may replace the path */
    uint64_t bias;
};

struct live_job {
    uint32_t pid, gen, stack_id;
    struct live_pc *pcs;     /* owned */
    uint32_t n;
    char *label, *search;    /* owned until stored */
};

/* ------------------------------------------------------------ modules */

/* Module holding pc in p (or the fork parent its low ids came from);
 * registers it with the symbolizer on first use. Caller holds mu. */
static struct live_module *live_sym_module(struct live_agg *a, struct live_proc *p, uint64_t pc)
{
    for (struct live_proc *q = p; q; q = q->parent) {
        for (size_t i = 0; i < q->n_mods; i++) {
            struct live_module *m = &q->mods[i];
            if (!m->present || pc < m->lo || pc >= m->hi) continue;
            if (q != p && i >= p->module_watermark) continue;
            if (m->handle == -2)
                m->handle = a->sym ? sym_module_add(a->sym, m->path, m->build_id,
                                                    m->build_id_len, m->bias, m->segs, m->n_segs)
                                   : -1;
            if (m->handle < -1) m->handle = -1;
            return m;
        }
    }
    return NULL;
}

/* Copies the pcs of one stack, memtrace's own leading frames stripped.
 * Caller holds mu. 0, -ENOENT or -ENOMEM. */
static int live_sym_copy(struct live_agg *a, struct live_job *j)
{
    struct live_proc *p = live_proc_find(a, j->pid, j->gen), *owner;
    struct live_stack *s = p ? live_stack_find(p, j->stack_id, &owner) : NULL;
    if (!s) return -ENOENT;
    j->pcs = calloc(s->n + 1, sizeof *j->pcs);
    if (!j->pcs) return -ENOMEM;
    int leading = 1;
    for (uint32_t i = 0; i < s->n && j->n < LIVE_SYM_MAX_FRAMES; i++) {
        uint64_t pc = owner->frames[s->off + i];
        struct live_module *m = live_sym_module(a, p, pc);
        if (leading && m && m->is_memtrace) continue;
        leading = 0;
        j->pcs[j->n++] = (struct live_pc){pc, m ? m->handle : -1, m ? strdup(m->path) : NULL,
                                          m ? m->bias : 0};
    }
    return 0;
}

static void live_job_free_pcs(struct live_job *j)
{
    for (uint32_t i = 0; i < j->n; i++) free(j->pcs[i].module);
    free(j->pcs);
    j->pcs = NULL;
}

/* ------------------------------------------------------------ text */

static const char *live_base(const char *path)
{
    const char *b = path ? strrchr(path, '/') : NULL;
    return b ? b + 1 : path ? path : "?";
}

/* Resolves one pc: frames written to fr, count returned (>= 1 on success,
 * 0 when unknown). No lock held (note 1). */
static int live_sym_resolve(struct live_agg *a, const struct live_pc *pc, struct sym_frame *fr)
{
    if (!a->sym || pc->handle < 0) return 0;
    int n = sym_resolve(a->sym, pc->handle, pc->pc, 1, fr, LIVE_SYM_CHAIN);
    return n > 0 ? n : 0;
}

/* One line of text for a frame (resolved or not). */
static void live_sym_line(const struct live_pc *pc, const struct sym_frame *f, char *buf,
                          size_t len, int full)
{
    if (!f) {
        snprintf(buf, len, "%s+0x%llx", live_base(pc->module),
                 (unsigned long long)(pc->pc - pc->bias));
    } else if (f->file) {
        snprintf(buf, len, "%s %s:%u%s", f->function ? f->function : "??",
                 full ? f->file : live_base(f->file), f->line, f->inlined ? " [inlined]" : "");
    } else {
        snprintf(buf, len, "%s (%s+0x%llx)", f->function ? f->function : "??",
                 live_base(pc->module), (unsigned long long)f->module_offset);
    }
}

/* Appends s and a space to a growing string. 0 or -ENOMEM. */
static int live_sym_cat(char **dst, size_t *len, const char *s)
{
    size_t n = strlen(s);
    char *d = realloc(*dst, *len + n + 2);
    if (!d) return -ENOMEM;
    memcpy(d + *len, s, n);
    d[*len + n] = ' ';
    d[*len + n + 1] = '\0';
    *dst = d;
    *len += n + 1;
    return 0;
}

/* Label (leaf) and search text (every frame) of a job. No lock held. */
static int live_sym_job(struct live_agg *a, struct live_job *j)
{
    struct sym_frame fr[LIVE_SYM_CHAIN];
    char line[512];
    size_t slen = 0;
    for (uint32_t i = 0; i < j->n; i++) {
        int n = live_sym_resolve(a, &j->pcs[i], fr);
        if (i == 0) {
            live_sym_line(&j->pcs[i], n ? &fr[0] : NULL, line, sizeof line, 0);
            j->label = strdup(line);
            if (!j->label) return -ENOMEM;
        }
        for (int k = 0; k < n; k++) {
            const char *parts[] = {fr[k].function, fr[k].file};
            for (int q = 0; q < 2; q++)
                if (parts[q] && live_sym_cat(&j->search, &slen, parts[q])) return -ENOMEM;
        }
        if (j->pcs[i].module && live_sym_cat(&j->search, &slen, j->pcs[i].module))
            return -ENOMEM;
    }
    if (!j->label) j->label = strdup(j->stack_id ? "(no frames)" : "(no stack)");
    if (!j->search) j->search = strdup("");
    return j->label && j->search ? 0 : -ENOMEM;
}

/* ------------------------------------------------------------ jobs */

/* Cached label of a stack, or NULL. Caller holds mu. */
static struct live_stack *live_sym_cached(struct live_agg *a, uint32_t pid, uint32_t gen,
                                          uint32_t stack_id)
{
    struct live_proc *p = live_proc_find(a, pid, gen), *owner;
    struct live_stack *s = p ? live_stack_find(p, stack_id, &owner) : NULL;
    return s && s->label ? s : NULL;
}

static int live_sym_want(struct live_agg *a, struct live_job *jobs, size_t *n, uint32_t pid,
                         uint32_t gen, uint32_t stack_id)
{
    if (*n >= LIVE_SYM_BATCH || live_sym_cached(a, pid, gen, stack_id)) return 0;
    for (size_t i = 0; i < *n; i++)
        if (jobs[i].pid == pid && jobs[i].gen == gen && jobs[i].stack_id == stack_id) return 0;
    jobs[*n] = (struct live_job){.pid = pid, .gen = gen, .stack_id = stack_id};
    if (live_sym_copy(a, &jobs[*n]) == 0) (*n)++;
    return 0;
}

/* Stores the jobs' texts in the cache. Caller holds mu. */
static void live_sym_store(struct live_agg *a, struct live_job *jobs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct live_proc *p = live_proc_find(a, jobs[i].pid, jobs[i].gen), *owner;
        struct live_stack *s = p ? live_stack_find(p, jobs[i].stack_id, &owner) : NULL;
        if (s && !s->label && jobs[i].label && jobs[i].search) {
            s->label = jobs[i].label;
            s->search = jobs[i].search;
            jobs[i].label = jobs[i].search = NULL;
        }
        free(jobs[i].label);
        free(jobs[i].search);
        live_job_free_pcs(&jobs[i]);
    }
}

/* The label of a site of pool chunks: "[pool:<name>] " first, as the
 * database's view has it (the filter then finds them by "pool:"). */
static char *live_sym_pool_label(struct live_agg *a, const struct live_site_row *r,
                                 const char *label)
{
    const struct live_proc *p = live_proc_find(a, r->pid, r->gen);
    char *out;
    if (!p || r->pool_id > p->n_pools || !p->pools[r->pool_id - 1].pool_id) return strdup(label);
    return asprintf(&out, "[pool:%s] %s", p->pools[r->pool_id - 1].name, label) < 0 ? NULL : out;
}

/* Copies cached labels into the snapshot's rows. Caller holds mu. */
static void live_sym_copy_out(struct live_agg *a, struct live_snap *s)
{
    for (size_t i = 0; i < s->n_sites; i++) {
        struct live_site_row *r = &s->sites[i];
        struct live_stack *c = live_sym_cached(a, r->pid, r->gen, r->stack_id);
        if (r->label || !c) continue;
        r->label = r->pool_id ? live_sym_pool_label(a, r, c->label) : strdup(c->label);
        r->search = strdup(c->search);
    }
    for (size_t i = 0; i < s->n_errors_shown; i++) {
        struct live_error_row *e = &s->errors[i];
        struct live_stack *c = live_sym_cached(a, e->pid, e->gen, e->stack_id);
        if (!e->at && c) e->at = strdup(c->label);
    }
}

void live_sym_fill(struct live_agg *a, struct live_snap *s)
{
    struct live_job *jobs = calloc(LIVE_SYM_BATCH, sizeof *jobs);
    if (!jobs) return;
    size_t n = 0;
    pthread_mutex_lock(&a->mu);
    if (!a->sym && sym_ctx_create(NULL, &a->sym)) a->sym = NULL;
    for (size_t i = 0; i < s->n_errors_shown; i++)
        live_sym_want(a, jobs, &n, s->errors[i].pid, s->errors[i].gen, s->errors[i].stack_id);
    for (size_t i = 0; i < s->n_sites; i++)
        live_sym_want(a, jobs, &n, s->sites[i].pid, s->sites[i].gen, s->sites[i].stack_id);
    pthread_mutex_unlock(&a->mu);
    for (size_t i = 0; i < n; i++) live_sym_job(a, &jobs[i]); /* note 1: unlocked */
    pthread_mutex_lock(&a->mu);
    live_sym_store(a, jobs, n);
    live_sym_copy_out(a, s);
    pthread_mutex_unlock(&a->mu);
    free(jobs);
}

int live_sym_stack(struct live_agg *a, uint32_t pid, uint32_t gen, uint32_t stack_id,
                   struct live_lines *out)
{
    struct live_job j = {.pid = pid, .gen = gen, .stack_id = stack_id};
    pthread_mutex_lock(&a->mu);
    if (!a->sym && sym_ctx_create(NULL, &a->sym)) a->sym = NULL;
    int rc = live_sym_copy(a, &j);
    pthread_mutex_unlock(&a->mu);
    if (rc) return rc;
    struct sym_frame fr[LIVE_SYM_CHAIN];
    char line[1024], text[1100];
    unsigned depth = 0;
    for (uint32_t i = 0; i < j.n && !rc; i++) {
        int n = live_sym_resolve(a, &j.pcs[i], fr);
        for (int k = 0; k < (n ? n : 1) && !rc; k++) {
            live_sym_line(&j.pcs[i], n ? &fr[k] : NULL, line, sizeof line, 1);
            snprintf(text, sizeof text, "#%-2u %s  (%s)", depth++, line,
                     live_base(j.pcs[i].module));
            rc = live_lines_add(out, text);
        }
    }
    if (!rc && j.n == 0) rc = live_lines_add(out, "(no frames)");
    live_job_free_pcs(&j);
    return rc;
}

void live_sym_free(struct live_agg *a)
{
    sym_ctx_destroy(a->sym);
    a->sym = NULL;
}
