/*
 * test_analyze.c — the analysis pass on synthetic traces with known truth
 *
 * Each case writes a small trace with trace_writer_* (records built by hand,
 * dense seq per process as the preload writes them), runs analyze_trace()
 * and checks the database with SQL: peak to the byte with the sites at the
 * peak, leak classes, temporaries, error refinement, external
 * fragmentation, a fork child's own leaks. Metrics: docs/metrics.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/resource.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "analyze/analyze.h"
#include "trace/trace.h"

#define T0 1000000000ull /* session start, monotonic ns */

struct tb {
    uint8_t buf[1 << 16];
    size_t len;
    uint64_t seq;
    uint32_t pid;
};

static void *tb_rec(struct tb *b, uint16_t kind, size_t size, uint64_t t_ms)
{
    size = (size + 7) & ~(size_t)7;
    struct mt_rec_common *c = (void *)(b->buf + b->len);
    memset(c, 0, size);
    c->hdr.kind = kind;
    c->hdr.len = (uint32_t)size;
    c->seq = b->seq++;
    c->t_ns = T0 + t_ms * 1000000ull;
    b->len += size;
    return c;
}

static void tb_process(struct tb *b, uint32_t ppid, int forked, uint32_t watermark)
{
    struct mt_rec_process *p = tb_rec(b, MT_REC_PROCESS, sizeof *p + 16, 0);
    p->pid = b->pid;
    p->ppid = ppid;
    p->stack_watermark = watermark;
    p->exe_len = 5;
    p->argv_len = 5;
    p->c.hdr.flags = forked ? MT_PROC_F_FORKED : 0;
    memcpy(p + 1, "prog\0prog\0", 10);
}

static void tb_stack(struct tb *b, uint32_t id, uint64_t pc)
{
    struct mt_rec_stack *s = tb_rec(b, MT_REC_STACK, sizeof *s + 16, 0);
    s->stack_id = id;
    s->n_frames = 2;
    uint64_t pcs[2] = {pc, 0x401000};
    memcpy(s + 1, pcs, sizeof pcs);
}

static void tb_alloc(struct tb *b, uint64_t t, uint32_t tid, uint64_t addr, uint64_t size,
                     uint32_t stack)
{
    struct mt_rec_alloc *a = tb_rec(b, MT_REC_ALLOC, sizeof *a, t);
    a->addr = addr;
    a->size = size;
    a->usable = (size + 8 + 15) / 16 * 16 - 8 < 24 ? 24 : (size + 8 + 15) / 16 * 16 - 8;
    a->stack_id = stack;
    a->tid = tid;
}

static void tb_free(struct tb *b, uint64_t t, uint32_t tid, uint64_t addr)
{
    struct mt_rec_free *f = tb_rec(b, MT_REC_FREE, sizeof *f, t);
    f->addr = addr;
    f->tid = tid;
    f->api = MT_API_FREE;
}

static void tb_error(struct tb *b, uint64_t t, uint64_t addr, uint8_t kind)
{
    struct mt_rec_error *e = tb_rec(b, MT_REC_ERROR, sizeof *e, t);
    e->addr = addr;
    e->tid = b->pid;
    e->kind = kind;
    e->stack_id = 1;
    e->api = MT_API_FREE;
}

static void tb_leaks(struct tb *b, uint64_t t, const uint64_t *addr, const uint8_t *cls, int n)
{
    struct mt_rec_leak_mark *m = tb_rec(b, MT_REC_LEAK_BEGIN, sizeof *m, t);
    m->n_blocks = (uint64_t)n;
    struct mt_rec_leak *l = tb_rec(b, MT_REC_LEAK, sizeof *l + 16 * (size_t)n, t);
    l->n = (uint32_t)n;
    struct mt_leak_entry *e = (void *)(l + 1);
    for (int i = 0; i < n; i++) e[i] = (struct mt_leak_entry){.addr = addr[i], .cls = cls[i]};
    tb_rec(b, MT_REC_LEAK_END, sizeof *m, t);
}

static void tb_exit(struct tb *b, uint64_t t)
{
    tb_rec(b, MT_REC_EXIT, sizeof(struct mt_rec_exit), t);
}

static char trace_path[64], db_path[64];

/* Opens trace_path for a new trace whose root process is root_pid. */
static struct trace_writer *trace_begin(uint32_t root_pid)
{
    struct mt_file_hdr h = {.version = MT_TRACE_VERSION, .hdr_size = sizeof h,
                            .start_mono_ns = T0, .root_pid = root_pid};
    memcpy(h.magic, MT_FILE_MAGIC, 8);
    snprintf(trace_path, sizeof trace_path, "/tmp/test_analyze.%d.mtrace", (int)getpid());
    snprintf(db_path, sizeof db_path, "/tmp/test_analyze.%d.db", (int)getpid());
    struct trace_writer *w;
    assert_int_equal(trace_writer_open(trace_path, &h, &w), 0);
    return w;
}

/* Closes w, analyzes the trace into db_path, removes the trace; the
 * database, open. */
static sqlite3 *trace_analyze(struct trace_writer *w, int no_allocations)
{
    assert_int_equal(trace_writer_close(w), 0);
    struct analyze_opts o = {.trace_path = trace_path, .db_path = db_path,
                             .no_allocations = no_allocations};
    struct analyze_result res;
    struct mt_errbuf eb = {""};
    int rc = analyze_trace(&o, &res, &eb);
    if (rc) fprintf(stderr, "analyze: %s\n", eb.msg);
    assert_int_equal(rc, 0);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    unlink(trace_path);
    return db;
}

static sqlite3 *run_analysis(struct tb *const *procs, int n)
{
    struct trace_writer *w = trace_begin(procs[0]->pid);
    for (int i = 0; i < n; i++)
        assert_int_equal(trace_writer_block(w, procs[i]->pid, 0, 0, procs[i]->buf, procs[i]->len), 0);
    return trace_analyze(w, 0);
}

static int64_t q1(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
        fail();
    }
    int64_t v = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
    sqlite3_finalize(q);
    return v;
}

static double qd(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    double v = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_double(q, 0) : -1;
    sqlite3_finalize(q);
    return v;
}

static void close_db(sqlite3 *db)
{
    sqlite3_close(db);
    unlink(db_path);
}

/* Peak reached in the middle: A 1000 + B 500 live, then A freed, B grows. */
static void test_analyze_peak_exact_with_sites(void **state)
{
    static struct tb b = {.pid = 100};
    tb_process(&b, 1, 0, 0);
    tb_stack(&b, 1, 0x1111);
    tb_stack(&b, 2, 0x2222);
    tb_alloc(&b, 1, 100, 0x10000, 1000, 1);
    tb_alloc(&b, 2, 100, 0x20000, 500, 2);
    tb_free(&b, 3, 100, 0x10000);         /* peak was 1500 before this */
    tb_alloc(&b, 4, 100, 0x30000, 700, 2); /* 1200 < 1500 */
    tb_free(&b, 5, 100, 0x20000);
    tb_free(&b, 6, 100, 0x30000);
    tb_exit(&b, 7);
    struct tb *v[] = {&b};
    sqlite3 *db = run_analysis(v, 1);
    assert_int_equal(q1(db, "SELECT peak_heap_bytes FROM processes"), 1500);
    assert_int_equal(q1(db, "SELECT peak_heap_blocks FROM processes"), 2);
    assert_int_equal(q1(db, "SELECT peak_heap_ns FROM processes"), 2000000);
    assert_int_equal(q1(db, "SELECT count(*) FROM sites"), 2);
    assert_int_equal(q1(db, "SELECT sum(peak_bytes) FROM sites"), 1500);
    assert_int_equal(q1(db, "SELECT max_live_bytes FROM sites s JOIN stack_frames f"
                            " ON f.stack_id = s.stack_id AND f.depth = 0 JOIN frames USING (frame_id)"
                            " WHERE module_offset = 0x2222"), 1200);
    assert_int_equal(q1(db, "SELECT peak_bytes FROM top_sites_at_peak LIMIT 1"), 1000);
    assert_int_equal(q1(db, "SELECT count(*) FROM allocations WHERE free_seq IS NOT NULL"), 3);
    assert_int_equal(q1(db, "SELECT count(*) FROM leaks_by_site"), 0);
    assert_int_equal(q1(db, "SELECT n_allocs FROM session"), 3);
    close_db(db);
}

/* Two leaks classified by the scan, one allocated after it (unclassified). */
static void test_analyze_leak_classes(void **state)
{
    static struct tb b = {.pid = 200};
    tb_process(&b, 1, 0, 0);
    tb_stack(&b, 1, 0x1111);
    tb_stack(&b, 2, 0x2222);
    tb_alloc(&b, 1, 200, 0x10000, 100, 1);
    tb_alloc(&b, 1, 200, 0x10100, 40, 1);
    tb_alloc(&b, 1, 200, 0x10200, 64, 2);
    uint64_t addr[] = {0x10000, 0x10100, 0x10200};
    uint8_t cls[] = {MT_LEAK_DEFINITE, MT_LEAK_INDIRECT, MT_LEAK_REACHABLE};
    tb_exit(&b, 2);
    tb_leaks(&b, 3, addr, cls, 3);
    tb_alloc(&b, 4, 200, 0x10300, 8, 2);
    struct tb *v[] = {&b};
    sqlite3 *db = run_analysis(v, 1);
    assert_int_equal(q1(db, "SELECT leak_scan FROM processes"), 1);
    assert_int_equal(q1(db, "SELECT bytes FROM leak_totals WHERE class = 'definite'"), 100);
    assert_int_equal(q1(db, "SELECT bytes FROM leak_totals WHERE class = 'indirect'"), 40);
    assert_int_equal(q1(db, "SELECT bytes FROM leak_totals WHERE class = 'reachable'"), 64);
    assert_int_equal(q1(db, "SELECT bytes FROM leak_totals WHERE class = 'unclassified'"), 8);
    assert_int_equal(q1(db, "SELECT count(*) FROM allocations WHERE leak_class = 'definite'"), 1);
    close_db(db);
}

/* Temporaries: freed by the allocating thread before it allocated again. */
static void test_analyze_temporaries(void **state)
{
    static struct tb b = {.pid = 300};
    tb_process(&b, 1, 0, 0);
    tb_stack(&b, 1, 0x1111);
    tb_alloc(&b, 1, 300, 0x10000, 16, 1);
    tb_free(&b, 1, 300, 0x10000);          /* temporary */
    tb_alloc(&b, 1, 300, 0x10000, 16, 1);
    tb_alloc(&b, 1, 300, 0x20000, 16, 1);
    tb_free(&b, 1, 300, 0x10000);          /* not: allocated 0x20000 since */
    tb_alloc(&b, 1, 300, 0x30000, 16, 1);
    tb_free(&b, 1, 301, 0x30000);          /* not: another thread */
    tb_alloc(&b, 1, 300, 0x40000, 16, 1);
    tb_free(&b, 1, 300, 0x40000);          /* temporary */
    tb_exit(&b, 2);
    struct tb *v[] = {&b};
    sqlite3 *db = run_analysis(v, 1);
    assert_int_equal(q1(db, "SELECT n_temporary FROM processes"), 2);
    assert_int_equal(q1(db, "SELECT sum(n_temporary) FROM sites"), 2);
    assert_int_equal(q1(db, "SELECT count(*) FROM allocations WHERE temporary = 1"), 2);
    /* no scan: the live block is unclassified */
    assert_int_equal(q1(db, "SELECT blocks FROM leak_totals WHERE class = 'unclassified'"), 1);
    close_db(db);
}

/* Errors: double free, interior pointer, unknown address. */
static void test_analyze_error_refinement(void **state)
{
    static struct tb b = {.pid = 400};
    tb_process(&b, 1, 0, 0);
    tb_stack(&b, 1, 0x1111);
    tb_alloc(&b, 1, 400, 0x10000, 100, 1);
    tb_free(&b, 1, 400, 0x10000);
    tb_error(&b, 2, 0x10000, MT_ERR_NOT_LIVE);
    tb_alloc(&b, 3, 400, 0x20000, 100, 1);
    tb_error(&b, 3, 0x20010, MT_ERR_NOT_LIVE);
    tb_error(&b, 3, 0x999990, MT_ERR_NOT_LIVE);
    tb_error(&b, 3, 0x10000, MT_ERR_REALLOC_NOT_LIVE);
    tb_free(&b, 4, 400, 0x20000);
    tb_exit(&b, 5);
    struct tb *v[] = {&b};
    sqlite3 *db = run_analysis(v, 1);
    assert_int_equal(q1(db, "SELECT count(*) FROM errors"), 4);
    assert_int_equal(q1(db, "SELECT size FROM errors WHERE kind = 'double_free'"), 100);
    assert_int_equal(q1(db, "SELECT block_addr FROM errors WHERE subkind = 'interior'"), 0x20000);
    assert_int_equal(q1(db, "SELECT count(*) FROM errors WHERE kind = 'invalid_free'"
                            " AND subkind = 'unknown'"), 1);
    assert_int_equal(q1(db, "SELECT count(*) FROM errors WHERE kind = 'realloc_of_freed'"), 1);
    assert_int_equal(q1(db, "SELECT alloc_stack_id = stack_id FROM errors"
                            " WHERE kind = 'double_free'"), 1);
    close_db(db);
}

/* A forged trace with records at address 0, which the analysis's maps use
 * as their empty key: frees of 0 match nothing, an allocation at 0 is not
 * counted, and the real block at 0x1000 is freed once, by its own free. */
static void test_analyze_address_zero(void **state)
{
    static struct tb b = {.pid = 450};
    tb_process(&b, 1, 0, 0);
    tb_stack(&b, 1, 0x1111);
    tb_alloc(&b, 1, 450, 0x1000, 100, 1);
    tb_free(&b, 2, 450, 0);
    tb_free(&b, 2, 450, 0);
    tb_alloc(&b, 3, 450, 0, 50, 1);
    tb_free(&b, 4, 450, 0x1000);
    tb_exit(&b, 5);
    struct tb *v[] = {&b};
    sqlite3 *db = run_analysis(v, 1);
    assert_int_equal(q1(db, "SELECT count(*) FROM allocations"), 1);
    assert_int_equal(q1(db, "SELECT free_seq IS NOT NULL FROM allocations WHERE addr = 4096"), 1);
    assert_int_equal(q1(db, "SELECT n_frees FROM processes"), 1);
    assert_int_equal(q1(db, "SELECT unmatched_frees FROM session"), 2);
    assert_int_equal(q1(db, "SELECT end_live_blocks FROM processes"), 0);
    close_db(db);
}

/* Allocations at a live address (the free before each was lost: a hole or
 * --lossy) end the block they replace. Memory must stay flat: 1M of them
 * in a row may not keep 1M blocks (~80 MB) until the end. */
static void test_analyze_alloc_at_live_address_bounded(void **state)
{
    enum { N = 1000000, PER_BLOCK = 1000 };
    static struct tb b = {.pid = 470};
    struct trace_writer *w = trace_begin(b.pid);
    tb_process(&b, 1, 0, 0);
    tb_stack(&b, 1, 0x1111);
    for (int i = 0; i < N; i++) {
        tb_alloc(&b, 1 + (uint64_t)i / 100000, 470, 0x1000, 64, 1);
        if (b.len + 2 * sizeof(struct mt_rec_alloc) > sizeof b.buf || i % PER_BLOCK == 0) {
            assert_int_equal(trace_writer_block(w, b.pid, 0, 0, b.buf, b.len), 0);
            b.len = 0;
        }
    }
    tb_exit(&b, 20);
    assert_int_equal(trace_writer_block(w, b.pid, 0, 0, b.buf, b.len), 0);
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    sqlite3 *db = trace_analyze(w, 1);
    getrusage(RUSAGE_SELF, &ru1);
    assert_int_equal(q1(db, "SELECT n_allocs FROM processes"), N);
    assert_int_equal(q1(db, "SELECT n_frees FROM processes"), N - 1);
    assert_int_equal(q1(db, "SELECT end_live_blocks FROM processes"), 1);
    close_db(db);
    long grew_kib = ru1.ru_maxrss - ru0.ru_maxrss;
    if (grew_kib >= 40 * 1024) fprintf(stderr, "max RSS grew by %ld KiB\n", grew_kib);
    assert_true(grew_kib < 40 * 1024);
}

/* 20 adjacent blocks (chunk 64, usable 56), every other one freed: the 10
 * gaps are 64 bytes each, largest 64 of 640 -> external 0.9. */
static void test_analyze_external_fragmentation(void **state)
{
    static struct tb b = {.pid = 500};
    tb_process(&b, 1, 0, 0);
    tb_stack(&b, 1, 0x1111);
    for (int i = 0; i < 21; i++) tb_alloc(&b, 1, 500, 0x100000 + 64u * (unsigned)i, 56, 1);
    for (int i = 1; i < 21; i += 2) tb_free(&b, 2, 500, 0x100000 + 64u * (unsigned)i);
    tb_exit(&b, 3);
    struct tb *v[] = {&b};
    sqlite3 *db = run_analysis(v, 1);
    assert_int_equal(q1(db, "SELECT free_bytes FROM fragmentation WHERE at = 'end'"), 640);
    assert_int_equal(q1(db, "SELECT largest_gap FROM fragmentation WHERE at = 'end'"), 64);
    assert_true(qd(db, "SELECT abs(external - 0.9) FROM fragmentation WHERE at = 'end'") < 1e-9);
    assert_true(qd(db, "SELECT external FROM fragmentation WHERE at = 'peak'") == 0.0);
    assert_int_equal(q1(db, "SELECT live_bytes FROM fragmentation WHERE at = 'peak'"), 21 * 56);
    close_db(db);
}

/* A forked child's leak is the child's; the parent's stack ids resolve. */
static void test_analyze_fork_child_leaks(void **state)
{
    static struct tb par = {.pid = 600}, ch = {.pid = 601};
    tb_process(&par, 1, 0, 0);
    tb_stack(&par, 1, 0x1111);
    tb_alloc(&par, 1, 600, 0x10000, 10, 1);
    tb_process(&ch, 600, 1, 2);
    tb_alloc(&ch, 2, 601, 0x20000, 33, 1); /* stack 1 is the parent's */
    tb_exit(&ch, 3);
    tb_free(&par, 4, 600, 0x10000);
    tb_exit(&par, 5);
    struct tb *v[] = {&par, &ch};
    sqlite3 *db = run_analysis(v, 2);
    assert_int_equal(q1(db, "SELECT count(*) FROM processes"), 2);
    assert_int_equal(q1(db, "SELECT pid FROM leak_totals"), 601);
    assert_int_equal(q1(db, "SELECT bytes FROM leak_totals WHERE pid = 601"), 33);
    assert_int_equal(q1(db, "SELECT count(DISTINCT stack_id) FROM sites"), 1);
    assert_int_equal(q1(db, "SELECT parent_proc_id FROM processes WHERE pid = 601"),
                     q1(db, "SELECT proc_id FROM processes WHERE pid = 600"));
    close_db(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_analyze_peak_exact_with_sites),
        cmocka_unit_test(test_analyze_leak_classes),
        cmocka_unit_test(test_analyze_temporaries),
        cmocka_unit_test(test_analyze_error_refinement),
        cmocka_unit_test(test_analyze_address_zero),
        cmocka_unit_test(test_analyze_alloc_at_live_address_bounded),
        cmocka_unit_test(test_analyze_external_fragmentation),
        cmocka_unit_test(test_analyze_fork_child_leaks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
