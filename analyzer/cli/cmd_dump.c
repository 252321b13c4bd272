/*
 * cmd_dump.c — `memtrace dump TRACE`: every record of a trace as one line of text
 *
 * Prints records in the reader's order (each process image in seq order,
 * collector records where they are in the file) in the format tests rely
 * on: "<kind> pid= gen= seq= t= <key>=<value>...". A truncated trace is
 * data: what it holds is printed, one note goes to stderr, exit 0. A
 * foreign or corrupt file is an error: one line, exit 125. --stats prints
 * record counts per kind per process instead. Reference: docs/cli.md
 * ("dump"); record fields: include/memtrace/trace_format.h.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli/cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtrace/error.h"
#include "trace/trace.h"

/* Big stdout buffer: dump output is large and write(2) per line is slow. */
#define DUMP_STDOUT_BUF (1u << 20)

/* ------------------------------------------------------------ one record */

/* Prints an argv block (NUL-separated) with spaces between the args. */
static void dump_argv(FILE *f, const char *argv, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++) {
        if (argv[i]) fputc(argv[i], f);
        else if (i + 1 < len) fputc(' ', f);
    }
}

static void dump_process(FILE *f, const struct mt_rec_process *p)
{
    const char *exe = (const char *)(p + 1);
    fprintf(f,
            " ppid=%u parent_gen=%u forked=%d stack_watermark=%u module_watermark=%u depth=%u "
            "opts=%u exe=%s argv=",
            p->ppid, p->parent_gen, (p->c.hdr.flags & MT_PROC_F_FORKED) ? 1 : 0, p->stack_watermark,
            p->module_watermark, p->max_depth, p->opt_flags, exe);
    dump_argv(f, exe + p->exe_len, p->argv_len);
}

static void dump_module(FILE *f, const struct mt_rec_module *m)
{
    fprintf(f, " id=%u bias=0x%" PRIx64 " build_id=", m->module_id, m->load_bias);
    for (uint32_t i = 0; i < m->build_id_len; i++) fprintf(f, "%02x", m->build_id[i]);
    if (m->build_id_len == 0) fputc('-', f);
    const struct mt_segment *seg = (const void *)(m + 1);
    fputs(" segs=", f);
    for (uint32_t i = 0; i < m->n_segments; i++)
        fprintf(f, "%s0x%" PRIx64 ":%" PRIu64 ":%u", i ? "," : "", seg[i].vaddr, seg[i].memsz,
                seg[i].flags);
    if (m->n_segments == 0) fputc('-', f);
    fprintf(f, " path=%s", (const char *)(seg + m->n_segments));
}

static void dump_stack(FILE *f, const struct mt_rec_stack *s)
{
    const uint64_t *fr = (const void *)(s + 1);
    fprintf(f, " id=%u n=%u frames=", s->stack_id, s->n_frames);
    for (uint32_t i = 0; i < s->n_frames; i++) fprintf(f, "%s0x%" PRIx64, i ? "," : "", fr[i]);
    if (s->n_frames == 0) fputc('-', f);
}

static const char *dump_error_kind(unsigned kind)
{
    switch (kind) {
    case MT_ERR_NOT_LIVE: return "not_live";
    case MT_ERR_MISMATCH: return "mismatch";
    case MT_ERR_REALLOC_NOT_LIVE: return "realloc_not_live";
    default: return "?";
    }
}

static const char *dump_leak_class(unsigned cls)
{
    static const char *const names[] = {"?", "definite", "indirect", "possible", "reachable"};
    return cls <= MT_LEAK_REACHABLE ? names[cls] : "?";
}

static const char *dump_end_how(unsigned how)
{
    static const char *const names[] = {"?", "exited", "signaled", "exec", "vanished"};
    return how <= MT_END_VANISHED ? names[how] : "?";
}

static const char *dump_thread_event(unsigned flags)
{
    if (flags & MT_THREAD_F_START) return "start";
    if (flags & MT_THREAD_F_END) return "end";
    return "rename"; /* neither flag: the thread's name changed */
}

/* Client API records (memtrace.h); names and labels go last. */
static void dump_pool(FILE *f, const struct mt_rec_pool *p)
{
    static const char *const ev[] = {"?", "create", "reset", "destroy"};
    fprintf(f, " pool_id=%u event=%s tid=%u stack=%u name=%s", p->pool_id,
            p->event <= MT_POOL_DESTROY ? ev[p->event] : "?", p->tid, p->stack_id,
            p->name_len ? (const char *)(p + 1) : "");
}

static void dump_pool_chunk(FILE *f, const struct mt_rec_pool_chunk *c)
{
    static const char *const ops[] = {"?", "alloc", "free", "sb_add", "sb_release"};
    fprintf(f, " pool_id=%u op=%s tid=%u addr=0x%" PRIx64 " size=%" PRIu64
               " stack=%u alloc_stack=%u not_live=%d malloc_sb=%d",
            c->pool_id, c->op <= MT_CHUNK_SB_RELEASE ? ops[c->op] : "?", c->tid, c->addr, c->size,
            c->stack_id, c->alloc_stack_id, (c->c.hdr.flags & MT_CHUNK_F_NOT_LIVE) ? 1 : 0,
            (c->c.hdr.flags & MT_CHUNK_F_MALLOC_SB) ? 1 : 0);
}

static void dump_client(FILE *f, const struct mt_rec_client *c)
{
    static const char *const ops[] = {"?", "mark", "pause", "resume", "leak_check", "ignore"};
    fprintf(f, " op=%s tid=%u addr=0x%" PRIx64 " pool_id=%u stack=%u done=%d not_live=%d label=%s",
            c->op <= MT_CLIENT_IGNORE ? ops[c->op] : "?", c->tid, c->addr, c->pad, c->stack_id,
            (c->c.hdr.flags & MT_CLIENT_F_DONE) ? 1 : 0,
            (c->c.hdr.flags & MT_CLIENT_F_NOT_LIVE) ? 1 : 0,
            c->label_len ? (const char *)(c + 1) : "");
}

/* Prints "<kind> pid= gen= seq= t=" for a seq-carrying record. */
static void dump_prefix(FILE *f, const char *kind, const struct trace_event *ev)
{
    const struct mt_rec_common *c = (const void *)ev->rec;
    fprintf(f, "%s pid=%u gen=%u seq=%" PRIu64 " t=%" PRIu64, kind, ev->pid, ev->gen, c->seq,
            c->t_ns);
}

/* One line per classified block. */
static void dump_leak(FILE *f, const struct trace_event *ev)
{
    const struct mt_rec_leak *l = (const void *)ev->rec;
    const struct mt_leak_entry *e = (const void *)(l + 1);
    for (uint32_t i = 0; i < l->n; i++) {
        dump_prefix(f, "leak", ev);
        fprintf(f, " addr=0x%" PRIx64 " class=%s\n", e[i].addr, dump_leak_class(e[i].cls));
    }
}

/* Records the preload writes (all carry seq). */
static void dump_seq_record(FILE *f, const struct trace_event *ev)
{
    const void *r = ev->rec;
    unsigned kind = ev->rec->kind;
    if (kind == MT_REC_LEAK) return dump_leak(f, ev);
    dump_prefix(f, trace_kind_name(kind), ev);
    switch (kind) {
    case MT_REC_PROCESS: dump_process(f, r); break;
    case MT_REC_EXIT: fprintf(f, " status=%d", ((const struct mt_rec_exit *)r)->status); break;
    case MT_REC_THREAD: {
        const struct mt_rec_thread *t = r;
        fprintf(f, " tid=%u event=%s name=%.16s", t->tid, dump_thread_event(t->c.hdr.flags),
                t->name);
        break;
    }
    case MT_REC_MODULE: dump_module(f, r); break;
    case MT_REC_MODULE_UNLOAD:
        fprintf(f, " id=%u", ((const struct mt_rec_module_unload *)r)->module_id);
        break;
    case MT_REC_STACK: dump_stack(f, r); break;
    case MT_REC_ALLOC: {
        const struct mt_rec_alloc *a = r;
        fprintf(f, " tid=%u addr=0x%" PRIx64 " size=%" PRIu64 " usable=%" PRIu64
                   " family=%s api=%s stack=%u realloc=%d",
                a->tid, a->addr, a->size, a->usable, trace_family_name(a->family),
                trace_api_name(a->api), a->stack_id, (a->c.hdr.flags & MT_ALLOC_F_REALLOC) ? 1 : 0);
        break;
    }
    case MT_REC_FREE: {
        const struct mt_rec_free *fr = r;
        fprintf(f, " tid=%u addr=0x%" PRIx64 " family=%s api=%s stack=%u realloc=%d", fr->tid,
                fr->addr, trace_family_name(fr->family), trace_api_name(fr->api), fr->stack_id,
                (fr->c.hdr.flags & MT_FREE_F_REALLOC) ? 1 : 0);
        break;
    }
    case MT_REC_ERROR: {
        const struct mt_rec_error *e = r;
        fprintf(f, " tid=%u kind=%s addr=0x%" PRIx64 " family=%s api=%s stack=%u alloc_stack=%u"
                   " alloc_family=%s alloc_size=%" PRIu64,
                e->tid, dump_error_kind(e->kind), e->addr, trace_family_name(e->family),
                trace_api_name(e->api), e->stack_id, e->alloc_stack_id,
                trace_family_name(e->alloc_family), e->alloc_size);
        break;
    }
    case MT_REC_MALLINFO: {
        const struct mt_rec_mallinfo *m = r;
        fprintf(f, " arena=%" PRIu64 " ordblks=%" PRIu64 " hblks=%" PRIu64 " hblkhd=%" PRIu64
                   " uordblks=%" PRIu64 " fordblks=%" PRIu64 " keepcost=%" PRIu64,
                m->arena, m->ordblks, m->hblks, m->hblkhd, m->uordblks, m->fordblks, m->keepcost);
        break;
    }
    case MT_REC_LEAK_BEGIN:
    case MT_REC_LEAK_END: {
        const struct mt_rec_leak_mark *m = r;
        fprintf(f, " blocks=%" PRIu64 " bytes=%" PRIu64, m->n_blocks, m->n_bytes);
        if (kind == MT_REC_LEAK_END) fprintf(f, " duration_ns=%" PRIu64, m->duration_ns);
        break;
    }
    case MT_REC_POOL: dump_pool(f, r); break;
    case MT_REC_POOL_CHUNK: dump_pool_chunk(f, r); break;
    case MT_REC_CLIENT: dump_client(f, r); break;
    default: break; /* seq_skip: nothing more */
    }
    fputc('\n', f);
}

/* Records the collector writes (no seq). */
static void dump_collector_record(FILE *f, const struct trace_event *ev)
{
    const void *r = ev->rec;
    switch (ev->rec->kind) {
    case MT_REC_SESSION: {
        const struct mt_rec_session *s = r;
        fprintf(f, "session pid=%u gen=%u seq=- t=%" PRIu64 " depth=%u opts=%u period_us=%u argv=",
                ev->pid, ev->gen, s->t_ns, s->max_depth, s->opt_flags, s->sample_period_us);
        dump_argv(f, (const char *)(s + 1), s->argv_len);
        break;
    }
    case MT_REC_RSS: {
        const struct mt_rec_rss *s = r;
        fprintf(f, "rss pid=%u gen=%u seq=- t=%" PRIu64 " rss=%" PRIu64, s->pid, s->gen, s->t_ns,
                s->rss);
        break;
    }
    case MT_REC_PROC_END: {
        const struct mt_rec_proc_end *e = r;
        fprintf(f, "proc_end pid=%u gen=%u seq=- t=%" PRIu64 " how=%s status=%d dropped=%" PRIu64
                   " degraded=%u",
                e->pid, e->gen, e->t_ns, dump_end_how(e->how), e->status, e->dropped, e->degraded);
        break;
    }
    case MT_REC_STATS: {
        const struct mt_rec_stats *s = r;
        fprintf(f, "stats pid=%u gen=%u seq=- t=%" PRIu64 " bytes=%" PRIu64 " processes=%" PRIu64,
                ev->pid, ev->gen, s->t_ns, s->bytes_drained, s->n_processes);
        break;
    }
    default: return;
    }
    fputc('\n', f);
}

/* ------------------------------------------------------------ --stats */

struct dump_count {
    uint32_t pid, gen;
    uint64_t n[MT_REC_KIND_MAX];
};

struct dump_stats {
    struct dump_count *a; /* owned, in first-seen order */
    size_t len, cap;
    size_t last;          /* index of the last hit: records come in runs */
};

/* Counts one record (leak entries count one each, as dump prints them). */
static int dump_stats_add(struct dump_stats *st, const struct trace_event *ev)
{
    uint32_t pid = ev->pid, gen = ev->gen;
    if (ev->rec->kind == MT_REC_RSS || ev->rec->kind == MT_REC_PROC_END) {
        const struct mt_rec_rss *r = (const void *)ev->rec; /* same pid/gen offsets */
        pid = r->pid;
        gen = r->gen;
    }
    size_t i = st->last;
    if (i >= st->len || st->a[i].pid != pid || st->a[i].gen != gen)
        for (i = 0; i < st->len && (st->a[i].pid != pid || st->a[i].gen != gen); i++) {}
    if (i == st->len) {
        if (st->len == st->cap) {
            size_t n = st->cap ? st->cap * 2 : 16;
            struct dump_count *a = realloc(st->a, n * sizeof *a);
            if (!a) return -ENOMEM;
            st->a = a;
            st->cap = n;
        }
        memset(&st->a[i], 0, sizeof st->a[i]);
        st->a[i].pid = pid;
        st->a[i].gen = gen;
        st->len++;
    }
    st->last = i;
    unsigned kind = ev->rec->kind;
    st->a[i].n[kind] += kind == MT_REC_LEAK ? ((const struct mt_rec_leak *)ev->rec)->n : 1;
    return 0;
}

static void dump_stats_print(FILE *f, const struct dump_stats *st)
{
    uint64_t total[MT_REC_KIND_MAX] = {0};
    for (size_t i = 0; i < st->len; i++) {
        fprintf(f, "pid=%u gen=%u", st->a[i].pid, st->a[i].gen);
        for (unsigned k = 0; k < MT_REC_KIND_MAX; k++) {
            if (!st->a[i].n[k]) continue;
            fprintf(f, " %s=%" PRIu64, trace_kind_name(k), st->a[i].n[k]);
            total[k] += st->a[i].n[k];
        }
        fputc('\n', f);
    }
    fputs("total", f);
    for (unsigned k = 0; k < MT_REC_KIND_MAX; k++)
        if (total[k]) fprintf(f, " %s=%" PRIu64, trace_kind_name(k), total[k]);
    fputc('\n', f);
}

/* ------------------------------------------------------------ the verb */

static void dump_usage(FILE *f)
{
    fprintf(f, "usage: memtrace dump [--stats] TRACE\n"
               "  prints every record of TRACE, one line each (docs/cli.md)\n"
               "  --stats   print record counts per kind per process instead\n");
}

/* Reads the whole trace, printing or counting. Returns the exit code. */
static int dump_file(const char *path, int stats_only)
{
    struct trace_reader *r = NULL;
    struct mt_errbuf eb = {{0}};
    int rc = trace_reader_open(path, &r, &eb);
    if (rc) return cli_error(CLI_EXIT_ERROR, "dump", "%s: %s", path, eb.msg);
    static char buf[DUMP_STDOUT_BUF];
    setvbuf(stdout, buf, _IOFBF, sizeof buf);
    struct dump_stats st = {0};
    struct trace_event ev;
    while ((rc = trace_reader_next(r, &ev, &eb)) == 1) {
        if (stats_only) rc = dump_stats_add(&st, &ev);
        else if (ev.ring == MT_RING_COLLECTOR) dump_collector_record(stdout, &ev);
        else dump_seq_record(stdout, &ev);
        if (rc < 0) break;
    }
    if (rc == 0 && stats_only) dump_stats_print(stdout, &st);
    free(st.a);
    uint64_t off = 0;
    int truncated = rc == 0 && trace_reader_truncated(r, &off);
    trace_reader_close(r);
    int werr = fflush(stdout) != 0 || ferror(stdout); /* buf is static: stays valid */
    if (rc < 0)
        return cli_error(CLI_EXIT_ERROR, "dump", "%s: %s", path,
                         eb.msg[0] ? eb.msg : mt_strerror(rc));
    if (werr) return cli_error(CLI_EXIT_ERROR, "dump", "writing output: %s", strerror(errno));
    if (truncated)
        cli_error(CLI_EXIT_OK, "dump", "%s: truncated at byte %" PRIu64
                  "; records up to there were printed", path, off);
    return CLI_EXIT_OK;
}

int cli_cmd_dump(int argc, char **argv)
{
    int stats_only = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            dump_usage(stdout);
            return CLI_EXIT_OK;
        }
        if (!strcmp(argv[i], "--stats")) stats_only = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return cli_error(CLI_EXIT_USAGE, "dump", "unknown option '%s'", argv[i]);
        else if (path)
            return cli_error(CLI_EXIT_USAGE, "dump", "one trace file expected, got '%s' too",
                             argv[i]);
        else path = argv[i];
    }
    if (!path) return cli_error(CLI_EXIT_USAGE, "dump", "no trace file given (memtrace dump TRACE)");
    return dump_file(path, stats_only);
}
