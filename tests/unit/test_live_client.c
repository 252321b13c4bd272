/*
 * test_live_client.c — the live aggregator on real client-API and --no-errors recordings
 *
 * Records tests/targets/client_slab, client_arena, tui_phases and
 * err_double_free_leak (checked, and with --no-errors) through the build's
 * `memtrace run`, feeds each trace through the aggregator the way
 * `memtrace tui --replay` does, and checks its final snapshot against the
 * database the same run wrote: every pool's figures, the markers, whether
 * errors were checked, the process figures (the live view's final screen
 * equals the database). The targets' documented ground truth is asserted
 * as well, so an aggregator and an analysis wrong in the same way still
 * fail. Code: analyzer/live/live_pool.c; docs/tui.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "live/live.h"
#include "memtrace/error.h"
#include "trace/trace.h"

/* One recording: its trace, its database, the aggregator's final snapshot. */
struct lc_run {
    char dir[64];
    char trace[128], db[128];
    struct live_snap snap;
    sqlite3 *sql;
};

/* ------------------------------------------------------------ helpers */

static const char *lc_env(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

/* memtrace run [--no-errors] -o DIR/t.mtrace -- TARGET [arg]; skips the
 * test when the binary or the target is not built. The program's status
 * is not judged (err_double_free_leak aborts under --no-errors). */
static void lc_record(struct lc_run *r, const char *target, const char *arg, int no_errors)
{
    char bin[4096], prog[4096], out[200];
    snprintf(bin, sizeof bin, "%s/bin/memtrace", lc_env("MT_BUILD_DIR", "."));
    snprintf(prog, sizeof prog, "%s/%s", lc_env("MT_TARGET_DIR", "targets"), target);
    if (access(bin, X_OK) || access(prog, X_OK)) {
        fprintf(stderr, "skip: %s or %s not built\n", bin, prog);
        skip();
    }
    snprintf(r->dir, sizeof r->dir, "/tmp/test_live_client.XXXXXX");
    assert_non_null(mkdtemp(r->dir));
    snprintf(r->trace, sizeof r->trace, "%s/t.mtrace", r->dir);
    snprintf(r->db, sizeof r->db, "%s/t.db", r->dir);
    snprintf(out, sizeof out, "%s/prog.out", r->dir);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char log[200];
        snprintf(log, sizeof log, "%s/run.out", r->dir);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) dup2(fd, 1), dup2(fd, 2);
        const char *argv[12];
        int n = 0;
        argv[n++] = bin, argv[n++] = "run", argv[n++] = "-o", argv[n++] = r->trace;
        argv[n++] = "--program-output", argv[n++] = out;
        if (no_errors) argv[n++] = "--no-errors";
        argv[n++] = "--", argv[n++] = prog;
        if (arg) argv[n++] = arg;
        argv[n] = NULL;
        execv(bin, (char **)argv);
        _exit(127);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (access(r->db, R_OK)) fprintf(stderr, "see %s/run.out\n", r->dir);
    assert_int_equal(access(r->db, R_OK), 0);
    assert_int_equal(sqlite3_open_v2(r->db, &r->sql, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
}

/* Feeds the trace through an aggregator, as `memtrace tui --replay`. */
static void lc_replay(struct lc_run *r)
{
    struct mt_errbuf eb = {{0}};
    struct trace_reader *tr;
    assert_int_equal(trace_reader_open(r->trace, &tr, &eb), 0);
    struct live_agg *a = live_agg_create(trace_reader_header(tr)->start_mono_ns);
    assert_non_null(a);
    struct trace_event ev;
    int rc;
    while ((rc = trace_reader_next(tr, &ev, &eb)) == 1)
        live_agg_feed(a, ev.pid, ev.gen, ev.ring, ev.rec, ev.rec->len);
    assert_int_equal(rc, 0);
    trace_reader_close(tr);
    live_agg_finish(a);
    assert_int_equal(live_agg_status(a), 0);
    struct live_req q = {0};
    assert_int_equal(live_agg_snapshot(a, &q, 0, &r->snap), 0);
    live_agg_destroy(a);
}

static void lc_done(struct lc_run *r)
{
    char cmd[200];
    live_snap_free(&r->snap);
    sqlite3_close(r->sql);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", r->dir);
    assert_int_equal(system(cmd), 0);
}

/* The integer columns of the first row of sql. 1 if there is a row. */
static int lc_row(struct lc_run *r, const char *sql, int64_t *v, int n)
{
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(r->sql, sql, -1, &s, NULL), SQLITE_OK);
    int got = sqlite3_step(s) == SQLITE_ROW;
    for (int i = 0; got && i < n; i++) v[i] = sqlite3_column_int64(s, i);
    sqlite3_finalize(s);
    return got;
}

/* The one process's figures: the final screen equals the database. */
static void lc_check_process(struct lc_run *r)
{
    int64_t v[7];
    const struct live_snap *s = &r->snap;
    assert_true(lc_row(r,
                       "SELECT end_live_bytes, end_live_blocks, n_allocs, n_frees, n_errors,"
                       " peak_heap_bytes, errors_checked FROM processes",
                       v, 7));
    assert_int_equal(s->n_procs, 1);
    assert_int_equal(s->live_bytes, v[0]);
    assert_int_equal(s->live_blocks, v[1]);
    assert_int_equal(s->n_allocs, v[2]);
    assert_int_equal(s->n_frees, v[3]);
    assert_int_equal(s->n_errors, v[4]);
    assert_int_equal(s->peak_bytes, v[5]);
    assert_int_equal(s->procs[0].errors_checked, v[6]);
    assert_int_equal(s->n_unchecked, !v[6]);
}

/* Every pool of the database, in order, equals the snapshot's. */
static void lc_check_pools(struct lc_run *r)
{
    sqlite3_stmt *q;
    assert_int_equal(
        sqlite3_prepare_v2(r->sql,
                           "SELECT name, destroy_ns IS NOT NULL, end_live_bytes, end_live_chunks,"
                           " end_held_bytes, peak_live_bytes, peak_held_bytes, max_held_bytes,"
                           " n_allocs, n_frees, n_resets, n_errors, leaked_chunks, leaked_bytes"
                           " FROM pools ORDER BY proc_id, pool_id",
                           -1, &q, NULL),
        SQLITE_OK);
    size_t n = 0;
    for (; sqlite3_step(q) == SQLITE_ROW; n++) {
        assert_true(n < r->snap.n_pools);
        const struct live_pool_row *p = &r->snap.pools[n];
        int64_t v[14];
        for (int i = 1; i < 14; i++) v[i] = sqlite3_column_int64(q, i);
        assert_string_equal(p->name, (const char *)sqlite3_column_text(q, 0));
        assert_int_equal(p->destroyed, v[1]);
        if (!v[1]) { /* a destroyed pool's end_* are its state just before */
            assert_int_equal(p->live_bytes, v[2]);
            assert_int_equal(p->live_chunks, v[3]);
            assert_int_equal(p->held_bytes, v[4]);
        }
        assert_int_equal(p->peak_live_bytes, v[5]);
        assert_int_equal(p->peak_held_bytes, v[6]);
        assert_int_equal(p->max_held_bytes, v[7]);
        assert_int_equal(p->n_allocs, v[8]);
        assert_int_equal(p->n_frees, v[9]);
        assert_int_equal(p->n_resets, v[10]);
        assert_int_equal(p->n_errors, v[11]);
        assert_int_equal(p->leak_chunks, v[12]);
        assert_int_equal(p->leak_bytes, v[13]);
    }
    sqlite3_finalize(q);
    assert_int_equal(n, r->snap.n_pools);
}

/* The markers of the database, in time order, equal the snapshot's;
 * names (comma separated) are the target's. */
static void lc_check_markers(struct lc_run *r, const char *names)
{
    sqlite3_stmt *q;
    char got[512] = "";
    assert_int_equal(sqlite3_prepare_v2(r->sql,
                                        "SELECT t_ns, kind, name FROM markers"
                                        " ORDER BY t_ns, seq",
                                        -1, &q, NULL),
                     SQLITE_OK);
    size_t n = 0;
    for (; sqlite3_step(q) == SQLITE_ROW; n++) {
        assert_true(n < r->snap.n_markers);
        const struct live_marker *m = &r->snap.markers[n];
        assert_int_equal(m->t_ns, sqlite3_column_int64(q, 0));
        assert_string_equal(m->kind, (const char *)sqlite3_column_text(q, 1));
        assert_string_equal(m->name, (const char *)sqlite3_column_text(q, 2));
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", n ? "," : "", m->name);
    }
    sqlite3_finalize(q);
    assert_int_equal(n, r->snap.n_markers);
    assert_string_equal(got, names);
}

/* Leaked bytes of the sites whose label starts with prefix. */
static uint64_t lc_leaked_at(const struct live_snap *s, const char *prefix)
{
    uint64_t n = 0;
    for (size_t i = 0; i < s->n_sites; i++)
        if (s->sites[i].label && !strncmp(s->sites[i].label, prefix, strlen(prefix)))
            n += s->sites[i].leak_bytes;
    return n;
}

/* ------------------------------------------------------------ tests */

/* client_slab.c's header: peak 7040 live against 8192 held; at the end 15
 * leaked chunks and the ignored one live; a double and an invalid free. */
static void test_live_client_slab(void **state)
{
    (void)state;
    struct lc_run r = {0};
    lc_record(&r, "client_slab", NULL, 0);
    lc_replay(&r);
    lc_check_process(&r);
    lc_check_pools(&r);
    lc_check_markers(&r, "start,phase1-done,phase2-done");
    const struct live_pool_row *p = &r.snap.pools[0];
    assert_int_equal(r.snap.n_pools, 1);
    assert_string_equal(p->name, "slab");
    assert_int_equal(p->peak_live_bytes, 7040);
    assert_int_equal(p->peak_held_bytes - p->peak_live_bytes, 1152);
    assert_int_equal(p->live_chunks, 16);
    assert_int_equal(p->held_bytes, 8192);
    assert_int_equal(p->leak_chunks, 15);
    assert_int_equal(lc_leaked_at(&r.snap, "[pool:slab] slab_alloc"), 15 * 64);
    assert_int_equal(lc_leaked_at(&r.snap, "leak_malloc_phase1"), 300); /* not the check's too */
    assert_int_equal(r.snap.n_errors_shown, 2);
    assert_string_equal(r.snap.errors[0].kind, "double_free");
    assert_string_equal(r.snap.errors[0].api, "pool_free");
    assert_string_equal(r.snap.errors[1].kind, "invalid_free");
    lc_done(&r);
}

/* client_arena.c's header: peak 19200 live against 32768 held (waste
 * 13568), three resets, destroyed, no chunk leaks; markers in seq order. */
static void test_live_client_arena(void **state)
{
    (void)state;
    struct lc_run r = {0};
    lc_record(&r, "client_arena", NULL, 0);
    lc_replay(&r);
    lc_check_process(&r);
    lc_check_pools(&r);
    lc_check_markers(&r, "round1,pause,resume,round2,round3");
    const struct live_pool_row *p = &r.snap.pools[0];
    assert_int_equal(r.snap.n_pools, 1);
    assert_string_equal(p->name, "frame");
    assert_int_equal(p->peak_live_bytes, 19200);
    assert_int_equal(p->peak_held_bytes - p->peak_live_bytes, 13568);
    assert_int_equal(p->destroyed, 1);
    assert_int_equal(p->n_resets, 3);
    assert_int_equal(p->live_bytes + p->held_bytes + p->leak_chunks, 0);
    assert_true(r.snap.peak_bytes >= 19200); /* the process's peak counts the chunks */
    lc_done(&r);
}

/* tui_phases.c (run straight through): its three markers, no pool. */
static void test_live_client_phases_markers(void **state)
{
    (void)state;
    struct lc_run r = {0};
    char dir[64], path[100];
    snprintf(dir, sizeof dir, "/tmp/test_live_client.ph.XXXXXX");
    assert_non_null(mkdtemp(dir));
    for (int i = 2; i <= 3; i++) { /* the go files exist: no phase waits */
        snprintf(path, sizeof path, "%s/go%d", dir, i);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fclose(f);
    }
    lc_record(&r, "tui_phases", dir, 0);
    lc_replay(&r);
    lc_check_process(&r);
    lc_check_markers(&r, "phase1,phase2,phase3");
    assert_int_equal(r.snap.n_pools, 0);
    assert_int_equal(r.snap.peak_bytes, 3000000);
    snprintf(path, sizeof path, "rm -rf '%s'", dir);
    assert_int_equal(system(path), 0);
    lc_done(&r);
}

/* err_double_free_leak.c: checked, one double free and 48 B definitely
 * lost; under --no-errors nothing judged: not checked, not 0. */
static void test_live_client_no_errors(void **state)
{
    (void)state;
    struct lc_run r = {0};
    lc_record(&r, "err_double_free_leak", NULL, 0);
    lc_replay(&r);
    lc_check_process(&r);
    assert_int_equal(r.snap.n_unchecked, 0);
    assert_int_equal(r.snap.n_errors, 1);
    assert_int_equal(lc_leaked_at(&r.snap, "lose "), 48);
    lc_done(&r);

    r = (struct lc_run){0};
    lc_record(&r, "err_double_free_leak", NULL, 1);
    lc_replay(&r);
    lc_check_process(&r);
    assert_int_equal(r.snap.n_scope_procs, 1);
    assert_int_equal(r.snap.n_unchecked, 1);
    assert_int_equal(r.snap.procs[0].errors_checked, 0);
    assert_int_equal(r.snap.n_errors, 0);
    assert_int_equal(lc_leaked_at(&r.snap, "lose "), 0);
    lc_done(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_client_slab),
        cmocka_unit_test(test_live_client_arena),
        cmocka_unit_test(test_live_client_phases_markers),
        cmocka_unit_test(test_live_client_no_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
