/*
 * test_gate.c — the CI gate on hand-made databases (cmocka)
 *
 * Each case builds an in-memory database from the embedded schema
 * (analyzer/db/schema.sql) plus INSERTs of known leaks and errors, then
 * drives analyzer/gate/: loading and merging, --fail-on, suppressions
 * (templates, types, built-ins, a target's __lsan_default_suppressions read
 * from tests/targets/gate_lsan), baselines, the byte and peak limits and
 * the rules a --no-errors recording could not check.
 * Deterministic: no program is recorded here (tests/e2e/check_*.sh do).
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

#include <cmocka.h>
#include <sqlite3.h>

#include "db/db.h"
#include "gate/gate.h"
#include "memtrace/error.h"

/* ------------------------------------------------------------ fixture */

static void sql(sqlite3 *db, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *q = sqlite3_vmprintf(fmt, ap);
    va_end(ap);
    char *err = NULL;
    int rc = sqlite3_exec(db, q, NULL, NULL, &err);
    if (rc != SQLITE_OK) fprintf(stderr, "SQL failed: %s\n  %s\n", err, q);
    assert_int_equal(rc, SQLITE_OK);
    sqlite3_free(q);
}

/* A database with one session, processes 1 (pid 100, root) and 2 (pid
 * 101, forked), and modules prog (1), libc (2) and ld.so (3). */
static sqlite3 *db_new(void)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    sql(db, "%s", db_schema_sql);
    sql(db, "INSERT INTO session (id, command, argv, n_processes, peak_heap_bytes, root_pid)"
            " VALUES (1, 'prog', 'prog -x', 2, 5000, 100)");
    sql(db, "INSERT INTO processes (proc_id, pid, gen, exe, argv, end_how, exit_status,"
            " normal_exit, leak_scan) VALUES (1, 100, 0, '/nonexistent/prog', 'prog -x',"
            " 'exited', 0, 1, 1), (2, 101, 0, '/nonexistent/prog', 'prog -x', 'exited', 0, 1, 1)");
    sql(db, "UPDATE processes SET parent_proc_id = 1, forked = 1 WHERE proc_id = 2");
    sql(db, "INSERT INTO modules VALUES (1, '/src/build/prog', NULL, 0),"
            " (2, '/lib/x86_64-linux-gnu/libc.so.6', NULL, 0),"
            " (3, '/lib64/ld-linux-x86-64.so.2', NULL, 0)");
    return db;
}

/* Adds stack id with frames "func@file:line@module_id" separated by '|',
 * innermost first. */
static void db_stack(sqlite3 *db, int id, const char *frames)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", frames);
    int depth = 0;
    for (char *sp = NULL, *fr = strtok_r(buf, "|", &sp); fr; fr = strtok_r(NULL, "|", &sp)) {
        char fn[128], file[256];
        int line, mod;
        assert_int_equal(sscanf(fr, "%127[^@]@%255[^:]:%d@%d", fn, file, &line, &mod), 4);
        int fid = id * 100 + depth;
        sql(db, "INSERT INTO frames VALUES (%d, %Q, %Q, %d, 0, %d, %d, 0)", fid, fn,
            strcmp(file, "-") ? file : NULL, line, mod, 0x1000 + fid);
        sql(db, "INSERT INTO stack_frames VALUES (%d, %d, %d)", id, depth, fid);
        depth++;
    }
    sql(db, "INSERT INTO stacks VALUES (%d, %d, %d)", id, depth, id * 100);
}

/* A site of process proc_id with blocks/bytes in one leak class. */
static void db_leak(sqlite3 *db, int proc_id, int stack, const char *cls, int blocks, int bytes)
{
    sql(db,
        "INSERT INTO sites (proc_id, stack_id, n_allocs, end_live_blocks, end_live_bytes,"
        " leak_%s_blocks, leak_%s_bytes) VALUES (%d, %d, %d, %d, %d, %d, %d)",
        cls, cls, proc_id, stack, blocks, blocks, bytes, blocks, bytes);
}

static void db_error(sqlite3 *db, int seq, const char *kind, int stack, int alloc_stack)
{
    sql(db,
        "INSERT INTO errors (proc_id, tid, seq, kind, addr, size, api, family, alloc_family,"
        " stack_id, alloc_stack_id) VALUES (1, 100, %d, '%q', 4096, 16, 'free', 'malloc',"
        " 'new', %d, %d)",
        seq, kind, stack, alloc_stack);
}

/* The standard cast: main -> build_list -> malloc (definite, 32 B), a
 * stdio buffer (reachable), a loader block (possible), a double free. */
static sqlite3 *db_standard(void)
{
    sqlite3 *db = db_new();
    db_stack(db, 1, "build_list@/src/list.c:12@1|main@/src/main.c:40@1");
    db_stack(db, 2,
             "_IO_file_doallocate@./libio/filedoalloc.c:101@2|_IO_puts@ioputs.c:40@2|"
             "main@/src/main.c:50@1");
    db_stack(db, 3,
             "calloc@../include/rtld-malloc.h:44@3|_dl_allocate_tls@dl-tls.c:670@3|"
             "main@/src/main.c:60@1");
    db_stack(db, 4, "release@/src/main.c:20@1|main@/src/main.c:70@1");
    db_stack(db, 5, "main@/src/main.c:65@1");
    db_leak(db, 1, 1, "definite", 1, 32);
    db_leak(db, 1, 2, "reachable", 1, 4096);
    db_leak(db, 1, 3, "possible", 1, 304);
    db_error(db, 10, "double_free", 4, 5);
    return db;
}

static const struct gate_policy policy_default = {GATE_MASK_DEFAULT, -1, -1};

struct judged {
    struct gate_findings f;
    struct gate_supps s;
    struct gate_session ss;
    struct gate_verdict v;
};

/* Loads db, applies supps text (may be NULL) and builtins, judges. */
static void judge(sqlite3 *db, const char *supp_text, int builtin, const struct gate_policy *p,
                  struct judged *j)
{
    struct mt_errbuf eb = {""};
    memset(j, 0, sizeof *j);
    assert_int_equal(gate_session_read(db, &j->ss, &eb), 0);
    assert_int_equal(gate_load(db, &j->f, &eb), 0);
    if (supp_text) assert_int_equal(gate_supp_parse(&j->s, supp_text, "t.supp", 1, &eb), 0);
    if (builtin) assert_int_equal(gate_supp_add_builtin(&j->s), 0);
    gate_supp_apply(&j->s, &j->f);
    gate_judge(&j->f, p, &j->ss, &j->v);
}

static void judged_free(struct judged *j)
{
    gate_findings_free(&j->f);
    gate_supps_free(&j->s);
}

/* The finding of a rule whose leaf function is fn, or NULL. */
static const struct gate_finding *find(const struct judged *j, enum gate_rule r, const char *fn)
{
    for (size_t i = 0; i < j->f.n; i++) {
        const struct gate_finding *x = &j->f.v[i];
        if (x->rule == r && x->stack.n && !strcmp(x->stack.frames[0].function, fn)) return x;
    }
    return NULL;
}

/* ------------------------------------------------------------ cases */

static void test_gate_template_match_follows_lsan(void **state)
{
    (void)state;
    assert_true(gate_supp_match("list", "build_list"));
    assert_false(gate_supp_match("^list", "build_list"));
    assert_true(gate_supp_match("^build", "build_list"));
    assert_true(gate_supp_match("list$", "build_list"));
    assert_false(gate_supp_match("build$", "build_list"));
    assert_true(gate_supp_match("^build_list$", "build_list"));
    assert_false(gate_supp_match("^build_list$", "build_list2"));
    assert_true(gate_supp_match("b*_l*t", "build_list"));
    assert_true(gate_supp_match("^std::*::push_back$", "std::vector<int>::push_back"));
    assert_false(gate_supp_match("^std::*::push_back$", "std::vector<int>::push_back_n"));
    assert_true(gate_supp_match("", "anything"));
    assert_false(gate_supp_match("x", NULL));
    assert_true(gate_supp_match("libc.so", "/lib/x86_64-linux-gnu/libc.so.6"));
}

static void test_gate_fail_on_parses_classes_and_kinds(void **state)
{
    (void)state;
    unsigned m = 0;
    struct mt_errbuf eb = {""};
    assert_int_equal(gate_parse_fail_on("definite,reachable", &m, &eb), 0);
    assert_int_equal(m, GATE_MASK(GATE_R_LEAK_DEFINITE) | GATE_MASK(GATE_R_LEAK_REACHABLE));
    assert_int_equal(gate_parse_fail_on("errors", &m, &eb), 0);
    assert_int_equal(m, GATE_MASK_ERRORS);
    assert_int_equal(gate_parse_fail_on("double_free,leak-indirect", &m, &eb), 0);
    assert_int_equal(m, GATE_MASK(GATE_R_DOUBLE_FREE) | GATE_MASK(GATE_R_LEAK_INDIRECT));
    assert_int_equal(gate_parse_fail_on("none", &m, &eb), 0);
    assert_int_equal(m, 0);
    assert_int_equal(gate_parse_fail_on("all", &m, &eb), 0);
    assert_int_equal(m, GATE_MASK_LEAKS | GATE_MASK_ERRORS);
    assert_int_equal(gate_parse_fail_on("definite,bogus", &m, &eb), -1);
    assert_non_null(strstr(eb.msg, "bogus"));
}

static void test_gate_default_policy_fails_definite_possible_errors(void **state)
{
    (void)state;
    sqlite3 *db = db_standard();
    struct judged j;
    judge(db, NULL, 0, &policy_default, &j);
    assert_int_equal(j.f.n, 4);
    assert_true(find(&j, GATE_R_LEAK_DEFINITE, "build_list")->fails);
    assert_true(find(&j, GATE_R_LEAK_POSSIBLE, "calloc")->fails);
    assert_false(find(&j, GATE_R_LEAK_REACHABLE, "_IO_file_doallocate")->fails);
    const struct gate_finding *df = find(&j, GATE_R_DOUBLE_FREE, "release");
    assert_true(df->fails);
    assert_int_equal(df->alloc_stack.n, 1);
    assert_int_equal(j.v.n_fail, 3);
    assert_int_equal(j.v.n_info, 1);
    assert_true(j.v.failed);
    /* errors come first in the report */
    assert_int_equal(j.f.v[0].rule, GATE_R_DOUBLE_FREE);
    judged_free(&j);
    sqlite3_close(db);
}

static void test_gate_builtin_list_removes_glibc_blocks_only(void **state)
{
    (void)state;
    sqlite3 *db = db_standard();
    struct judged j;
    judge(db, NULL, 1, &policy_default, &j);
    assert_true(find(&j, GATE_R_LEAK_REACHABLE, "_IO_file_doallocate")->supp_idx >= 0);
    assert_true(find(&j, GATE_R_LEAK_POSSIBLE, "calloc")->supp_idx >= 0);
    assert_int_equal(find(&j, GATE_R_LEAK_DEFINITE, "build_list")->supp_idx, -1);
    assert_int_equal(j.v.n_suppressed, 2);
    assert_int_equal(j.v.n_fail, 2); /* the definite leak and the double free */
    judged_free(&j);
    sqlite3_close(db);
}

static void test_gate_suppressions_remove_exactly_what_they_match(void **state)
{
    (void)state;
    sqlite3 *db = db_new();
    db_stack(db, 1, "make_a@/src/a.c:3@1|main@/src/main.c:9@1");
    db_stack(db, 2, "make_b@/src/b.c:3@1|main@/src/main.c:10@1");
    db_stack(db, 3, "release@/src/b.c:20@1|main@/src/main.c:11@1");
    db_leak(db, 1, 1, "definite", 1, 10);
    db_leak(db, 1, 2, "definite", 1, 20);
    db_error(db, 5, "double_free", 3, 0);
    db_error(db, 6, "mismatched_free", 3, 0);
    struct judged j;
    /* a file pattern, a type that only covers double frees, a comment */
    judge(db, "# ours\nleak:/src/a.c$\n\ndouble-free:^release$\n", 0, &policy_default, &j);
    assert_int_equal(find(&j, GATE_R_LEAK_DEFINITE, "make_a")->supp_idx, 0);
    assert_int_equal(find(&j, GATE_R_LEAK_DEFINITE, "make_b")->supp_idx, -1);
    assert_int_equal(find(&j, GATE_R_DOUBLE_FREE, "release")->supp_idx, 1);
    assert_int_equal(find(&j, GATE_R_MISMATCHED_FREE, "release")->supp_idx, -1);
    assert_int_equal(j.s.v[0].hits, 1);
    assert_int_equal(j.s.v[0].hit_bytes, 10);
    assert_int_equal(j.v.n_fail, 2);
    judged_free(&j);
    sqlite3_close(db);
}

static void test_gate_bad_suppression_names_file_and_line(void **state)
{
    (void)state;
    struct gate_supps s = {0};
    struct mt_errbuf eb = {""};
    assert_int_equal(gate_supp_parse(&s, "leak:x\nbogus:y\n", "my.supp", 1, &eb), MT_EUSAGE);
    assert_non_null(strstr(eb.msg, "my.supp:2"));
    assert_int_equal(gate_supp_parse(&s, "no colon here\n", "my.supp", 1, &eb), MT_EUSAGE);
    gate_supps_free(&s);
    /* lenient (a target's own list): other sanitizers' types are skipped */
    assert_int_equal(gate_supp_parse(&s, "race:x\nleak:y\n", "t", 0, &eb), 0);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.v[0].pattern, "y");
    gate_supps_free(&s);
}

static void test_gate_processes_sum_into_one_finding(void **state)
{
    (void)state;
    sqlite3 *db = db_new();
    db_stack(db, 1, "make_a@/src/a.c:3@1|main@/src/main.c:9@1");
    db_leak(db, 1, 1, "definite", 1, 10);
    db_leak(db, 2, 1, "definite", 2, 20);
    struct judged j;
    judge(db, NULL, 0, &policy_default, &j);
    assert_int_equal(j.f.n, 1);
    assert_int_equal(j.f.v[0].count, 3);
    assert_int_equal(j.f.v[0].bytes, 30);
    assert_int_equal(j.f.v[0].n_procs, 2);
    judged_free(&j);
    sqlite3_close(db);
}

/* Baseline: site a 32 B; the current run per arguments. */
static void baseline_case(int a_bytes, int with_b, enum gate_base want_a, int want_fail)
{
    sqlite3 *base = db_new(), *cur = db_new();
    /* the same functions at other lines and addresses: keys ignore both */
    db_stack(base, 7, "make_a@/old/src/a.c:3@1|main@/old/src/main.c:9@1");
    db_leak(base, 1, 7, "definite", 1, 32);
    db_stack(cur, 1, "make_a@/src/a.c:5@1|main@/src/main.c:12@1");
    db_stack(cur, 2, "make_b@/src/b.c:3@1|main@/src/main.c:13@1");
    db_leak(cur, 1, 1, "definite", a_bytes / 32, a_bytes);
    if (with_b) db_leak(cur, 1, 2, "definite", 1, 48);
    struct gate_findings bf = {0};
    struct mt_errbuf eb = {""};
    assert_int_equal(gate_load(base, &bf, &eb), 0);
    struct judged j;
    memset(&j, 0, sizeof j);
    assert_int_equal(gate_session_read(cur, &j.ss, &eb), 0);
    assert_int_equal(gate_load(cur, &j.f, &eb), 0);
    gate_supp_apply(&j.s, &j.f);
    assert_int_equal(gate_baseline_apply(&j.f, &bf), 0);
    gate_judge(&j.f, &policy_default, &j.ss, &j.v);
    const struct gate_finding *a = find(&j, GATE_R_LEAK_DEFINITE, "make_a");
    assert_int_equal(a->base, want_a);
    assert_int_equal(a->fails, want_a != GATE_BASE_OLD);
    if (with_b) {
        assert_int_equal(find(&j, GATE_R_LEAK_DEFINITE, "make_b")->base, GATE_BASE_NEW);
        assert_true(find(&j, GATE_R_LEAK_DEFINITE, "make_b")->fails);
    }
    assert_int_equal(j.v.failed, want_fail);
    gate_findings_free(&bf);
    judged_free(&j);
    sqlite3_close(base);
    sqlite3_close(cur);
}

static void test_gate_baseline_old_passes_new_and_grown_fail(void **state)
{
    (void)state;
    baseline_case(32, 0, GATE_BASE_OLD, 0);
    baseline_case(32, 1, GATE_BASE_OLD, 1);
    baseline_case(64, 0, GATE_BASE_GROWN, 1);
}

static void test_gate_max_leaked_bytes_is_a_strict_limit(void **state)
{
    (void)state;
    sqlite3 *db = db_new();
    db_stack(db, 1, "make_a@/src/a.c:3@1|main@/src/main.c:9@1");
    db_stack(db, 2, "make_b@/src/b.c:3@1|main@/src/main.c:9@1");
    db_leak(db, 1, 1, "definite", 1, 60);
    db_leak(db, 1, 2, "possible", 1, 40);
    struct judged j;
    struct gate_policy p = {GATE_MASK_DEFAULT, 100, -1};
    judge(db, NULL, 0, &p, &j);
    assert_false(j.v.failed);
    assert_int_equal(j.v.fail_leak_bytes, 100);
    assert_int_equal(j.v.n_info, 2);
    judged_free(&j);
    p.max_leaked_bytes = 99;
    judge(db, NULL, 0, &p, &j);
    assert_true(j.v.failed);
    assert_true(j.v.leak_over);
    assert_int_equal(j.v.n_fail, 2);
    judged_free(&j);
    sqlite3_close(db);
}

static void test_gate_max_peak_and_program_status(void **state)
{
    (void)state;
    sqlite3 *db = db_new(); /* session peak 5000 */
    struct judged j;
    struct gate_policy p = {GATE_MASK_DEFAULT, -1, 5000};
    judge(db, NULL, 0, &p, &j);
    assert_false(j.v.failed);
    assert_false(j.ss.program_failed);
    judged_free(&j);
    /* a forked child's failure is not the program's */
    sql(db, "UPDATE processes SET exit_status = 9 WHERE proc_id = 2");
    judge(db, NULL, 0, &p, &j);
    assert_false(j.ss.program_failed);
    judged_free(&j);
    p.max_peak = 4999;
    sql(db, "UPDATE processes SET end_how = 'signaled', exit_signal = 11 WHERE proc_id = 1");
    judge(db, NULL, 0, &p, &j);
    assert_true(j.v.peak_over);
    assert_true(j.v.failed);
    assert_true(j.ss.program_failed);
    assert_int_equal(j.ss.signal, 11);
    judged_free(&j);
    sqlite3_close(db);
}

static void test_gate_lsan_string_read_from_target_elf(void **state)
{
    (void)state;
    const char *dir = getenv("MT_TARGET_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/gate_lsan", dir ? dir : "targets");
    if (access(path, R_OK)) {
        fprintf(stderr, "skip: %s not built\n", path);
        skip();
    }
    char *text = NULL;
    struct mt_errbuf eb = {""};
    assert_int_equal(gate_lsan_read(path, &text, &eb), 0);
    assert_non_null(text);
    assert_string_equal(text, "# gate_lsan's own suppressions\nleak:gate_lsan_ignored\n"
                              "race:not_ours\n");
    free(text);
    /* a binary without the function: no text, no error */
    snprintf(path, sizeof path, "%s/gate_sites", dir ? dir : "targets");
    if (!access(path, R_OK)) {
        assert_int_equal(gate_lsan_read(path, &text, &eb), 0);
        assert_null(text);
    }
    assert_true(gate_lsan_read("/nonexistent/x", &text, &eb) < 0);
}

static void test_gate_writers_produce_files(void **state)
{
    (void)state;
    sqlite3 *db = db_standard();
    struct judged j;
    judge(db, NULL, 1, &policy_default, &j);
    char sarif[] = "/tmp/test_gate_sarif.XXXXXX", junit[] = "/tmp/test_gate_junit.XXXXXX";
    int fd1 = mkstemp(sarif), fd2 = mkstemp(junit);
    assert_true(fd1 >= 0 && fd2 >= 0);
    close(fd1), close(fd2);
    struct gate_out_opts o = {.source_root = "/src", .n_frames = 3};
    assert_int_equal(gate_sarif_write(sarif, &j.f, &j.ss, &j.v, &o), 0);
    assert_int_equal(gate_junit_write(junit, &j.f, &j.s, &j.ss, &policy_default, &j.v, &o), 0);
    char buf[65536];
    FILE *f = fopen(sarif, "r");
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    /* repo-relative uri and the suppressed findings left out */
    assert_non_null(strstr(buf, "\"uri\":\"list.c\",\"uriBaseId\":\"SRCROOT\""));
    assert_non_null(strstr(buf, "\"startLine\":12"));
    assert_null(strstr(buf, "_IO_file_doallocate"));
    assert_non_null(strstr(buf, "external/cwe/cwe-415"));
    assert_true(gate_sarif_write("/nonexistent/dir/x.sarif", &j.f, &j.ss, &j.v, &o) < 0);
    unlink(sarif);
    unlink(junit);
    judged_free(&j);
    sqlite3_close(db);
}

/* Errors: old while the count per key does not grow; suppressible through
 * the allocation stack. */
static void test_gate_error_baseline_and_alloc_stack_suppression(void **state)
{
    (void)state;
    sqlite3 *base = db_new(), *cur = db_new();
    db_stack(base, 3, "release@/old/b.c:9@1|main@/old/main.c:11@1");
    db_error(base, 5, "double_free", 3, 0);
    db_stack(cur, 3, "release@/src/b.c:20@1|main@/src/main.c:11@1");
    db_stack(cur, 4, "alloc_in_lib@/lib/x.c:5@2|main@/src/main.c:10@1");
    db_error(cur, 5, "double_free", 3, 4);
    struct gate_findings bf = {0};
    struct mt_errbuf eb = {""};
    assert_int_equal(gate_load(base, &bf, &eb), 0);
    struct judged j;
    judge(cur, NULL, 0, &policy_default, &j);
    assert_int_equal(gate_baseline_apply(&j.f, &bf), 0);
    gate_judge(&j.f, &policy_default, &j.ss, &j.v);
    assert_int_equal(j.f.v[0].base, GATE_BASE_OLD);
    assert_false(j.v.failed);
    judged_free(&j);
    db_error(cur, 6, "double_free", 3, 4); /* the same call fails once more */
    judge(cur, NULL, 0, &policy_default, &j);
    assert_int_equal(gate_baseline_apply(&j.f, &bf), 0);
    gate_judge(&j.f, &policy_default, &j.ss, &j.v);
    assert_int_equal(j.f.n, 1);
    assert_int_equal(j.f.v[0].count, 2);
    assert_int_equal(j.f.v[0].base, GATE_BASE_GROWN);
    assert_true(j.v.failed);
    judged_free(&j);
    /* matched through the allocation stack only */
    judge(cur, "double-free:alloc_in_lib\n", 0, &policy_default, &j);
    assert_int_equal(j.f.v[0].supp_idx, 0);
    assert_false(j.v.failed);
    judged_free(&j);
    gate_findings_free(&bf);
    sqlite3_close(base);
    sqlite3_close(cur);
}

static void test_gate_load_fault_reports_sqlite_error(void **state)
{
    (void)state;
    sqlite3 *db = db_standard();
    struct gate_findings f = {0};
    struct mt_errbuf eb = {""};
    sql(db, "DROP VIEW errors_readable; DROP TABLE errors");
    assert_int_equal(gate_load(db, &f, &eb), MT_ESQLITE);
    assert_non_null(strstr(eb.msg, "errors"));
    gate_findings_free(&f);
    sqlite3_close(db);
    db = db_standard();
    sql(db, "DROP VIEW stack_trace");
    assert_int_equal(gate_load(db, &f, &eb), MT_ESQLITE);
    assert_int_equal(f.n, 0);
    gate_findings_free(&f);
    sqlite3_close(db);
}

/* The text report of j (gate_text_write), owned by the caller. */
static char *judged_text(const struct judged *j, const struct gate_policy *p)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    assert_non_null(mem);
    struct gate_out_opts o = {.n_frames = 1};
    gate_text_write(mem, &j->f, &j->s, &j->ss, p, &j->v, &o);
    fclose(mem);
    return text;
}

/* gate.h design note 3: an image recorded with --no-errors checked no
 * error kind and no leak class but "unclassified"; asking for one fails
 * the gate with one line, the rest is judged as usual. */
static void test_gate_no_errors_recording_fails_what_it_did_not_check(void **state)
{
    (void)state;
    sqlite3 *db = db_new();
    db_stack(db, 1, "build_list@/src/list.c:12@1|main@/src/main.c:40@1");
    db_leak(db, 1, 1, "unclassified", 2, 64);
    struct judged j;
    judge(db, NULL, 0, &policy_default, &j); /* errors_checked NULL: checked, as before */
    assert_int_equal(j.ss.n_unchecked, 0);
    assert_int_equal(j.v.not_checked, 0);
    assert_false(j.v.failed);
    judged_free(&j);

    sql(db, "UPDATE processes SET errors_checked = 1");
    sql(db, "UPDATE processes SET errors_checked = 0, leak_scan = 0 WHERE proc_id = 1");
    judge(db, NULL, 0, &policy_default, &j);
    assert_int_equal(j.ss.n_unchecked, 1);
    assert_int_equal(j.ss.leak_scan, 1); /* not a crash: no "without a leak scan" note */
    assert_int_equal(j.v.n_fail, 0);
    assert_int_equal(j.v.not_checked, GATE_MASK_DEFAULT);
    assert_true(j.v.failed);
    char *text = judged_text(&j, &policy_default);
    assert_non_null(strstr(text, "FAIL not-checked: memory errors and leak-definite, "
                                 "leak-possible not checked: recorded with --no-errors (1 of 2 "
                                 "processes)"));
    assert_null(strstr(text, "without a leak scan"));
    assert_non_null(strstr(text, "memtrace check: FAILED: 0 failing"));
    free(text);
    judged_free(&j);

    struct gate_policy p = {GATE_MASK(GATE_R_DOUBLE_FREE) | GATE_MASK(GATE_R_LEAK_REACHABLE), -1,
                            -1};
    judge(db, NULL, 0, &p, &j);
    assert_int_equal(j.v.not_checked, p.fail_mask);
    char nc[256];
    gate_describe_not_checked(&j.v, &j.ss, nc, sizeof nc);
    assert_string_equal(nc, "double-free and leak-reachable not checked: recorded with "
                            "--no-errors (1 of 2 processes)");
    judged_free(&j);

    p = (struct gate_policy){GATE_MASK(GATE_R_LEAK_UNCLASSIFIED), -1, 4000};
    judge(db, NULL, 0, &p, &j); /* judgeable: the unclassified leak and the peak fail */
    assert_int_equal(j.v.not_checked, 0);
    assert_int_equal(j.v.n_fail, 1);
    assert_true(j.v.peak_over);
    judged_free(&j);

    p = (struct gate_policy){0, -1, 10000};
    judge(db, NULL, 0, &p, &j);
    assert_false(j.v.failed);
    text = judged_text(&j, &p);
    assert_non_null(strstr(text, "note: 1 of 2 processes recorded with --no-errors"));
    assert_non_null(strstr(text, "memtrace check: PASSED"));
    free(text);
    judged_free(&j);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gate_template_match_follows_lsan),
        cmocka_unit_test(test_gate_fail_on_parses_classes_and_kinds),
        cmocka_unit_test(test_gate_default_policy_fails_definite_possible_errors),
        cmocka_unit_test(test_gate_builtin_list_removes_glibc_blocks_only),
        cmocka_unit_test(test_gate_suppressions_remove_exactly_what_they_match),
        cmocka_unit_test(test_gate_bad_suppression_names_file_and_line),
        cmocka_unit_test(test_gate_processes_sum_into_one_finding),
        cmocka_unit_test(test_gate_baseline_old_passes_new_and_grown_fail),
        cmocka_unit_test(test_gate_max_leaked_bytes_is_a_strict_limit),
        cmocka_unit_test(test_gate_max_peak_and_program_status),
        cmocka_unit_test(test_gate_lsan_string_read_from_target_elf),
        cmocka_unit_test(test_gate_writers_produce_files),
        cmocka_unit_test(test_gate_error_baseline_and_alloc_stack_suppression),
        cmocka_unit_test(test_gate_load_fault_reports_sqlite_error),
        cmocka_unit_test(test_gate_no_errors_recording_fails_what_it_did_not_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
