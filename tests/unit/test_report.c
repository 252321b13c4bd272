/*
 * test_report.c — report writers on a database built from schema.sql + INSERTs
 *
 * The fixture is a hand-made memtrace database with known figures (two
 * process images, three sites, one double free, an unsymbolized frame and a
 * function name holding "</script>"), so each writer's output can be checked
 * against numbers written here: text and markdown totals and leak sites,
 * json completeness and escaping, html self-containment, error paths and
 * the output file that only appears when complete. docs/reports.md.
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
#include "memtrace/error.h"
#include "report/jsonw.h"
#include "report/report.h"

/* Figures of the fixture (also asserted below). */
static const char fixture_sql[] =
    "INSERT INTO session (id, command, argv, duration_ns, n_processes, n_events, n_allocs,"
    " alloc_bytes, n_frees, n_temporary, n_errors, peak_heap_bytes, peak_heap_ns, truncated,"
    " dropped, seq_holes, unmatched_frees) VALUES (1, 'prog', 'prog --fast', 5000000, 2, 40,"
    " 14, 1364, 12, 4, 1, 764, 1000000, 0, 0, 0, 0);"
    "INSERT INTO processes (proc_id, pid, gen, exe, argv, end_how, exit_status, leak_scan,"
    " n_allocs, alloc_bytes, n_frees, n_temporary, n_errors, peak_heap_bytes, peak_heap_blocks,"
    " peak_heap_ns, end_live_bytes, end_live_blocks, end_ns) VALUES"
    " (1, 100, 0, '/bin/prog', 'prog --fast', 'exited', 0, 1, 13, 1300, 12, 4, 1, 700, 7,"
    " 1000000, 100, 1, 4000000),"
    " (2, 101, 0, '/bin/prog', 'prog --fast', 'signaled', NULL, 0, 1, 64, 0, 0, 0, 64, 1,"
    " 2000000, 64, 1, 3000000);"
    "INSERT INTO modules VALUES (1, '/bin/prog', 'abcd', 0), (2, '/lib/libx.so', NULL, 0);"
    "INSERT INTO process_modules (proc_id, local_id, module_id, load_bias) VALUES"
    " (1, 1, 1, 4096), (1, 2, 2, 65536), (2, 1, 1, 4096), (2, 2, 2, 65536);"
    "INSERT INTO frames VALUES (1, 'leaky', 'src/a.c', 10, 0, 1, 256, 0),"
    " (2, 'main', 'src/a.c', 20, 0, 1, 512, 0), (3, 'work</script>', 'src/a.c', 30, 0, 1, 768, 0),"
    " (4, NULL, NULL, 0, 0, 2, 4660, 0);"
    "INSERT INTO stacks VALUES (1, 2, 1), (2, 2, 3), (3, 2, 4);"
    "INSERT INTO stack_frames VALUES (1, 0, 1), (1, 1, 2), (2, 0, 3), (2, 1, 2), (3, 0, 4),"
    " (3, 1, 2);"
    "INSERT INTO sites (proc_id, stack_id, n_allocs, alloc_bytes, n_frees, n_temporary,"
    " peak_bytes, peak_blocks, end_live_bytes, end_live_blocks, leak_definite_blocks,"
    " leak_definite_bytes, leak_unclassified_blocks, leak_unclassified_bytes) VALUES"
    " (1, 1, 3, 300, 2, 0, 200, 2, 100, 1, 1, 100, 0, 0),"
    " (1, 2, 10, 1000, 10, 4, 500, 5, 0, 0, 0, 0, 0, 0),"
    " (2, 3, 1, 64, 0, 0, 64, 1, 64, 1, 0, 0, 1, 64);"
    "INSERT INTO errors (error_id, proc_id, tid, seq, t_ns, kind, addr, size, api, family,"
    " alloc_family, stack_id, alloc_stack_id) VALUES"
    " (1, 1, 100, 30, 3000000, 'double_free', 4660, 100, 'free', 'malloc', 'malloc', 2, 1);"
    "INSERT INTO histograms VALUES (1, NULL, 'size', 7, 64, 127, 13, 1300),"
    " (2, NULL, 'size', 7, 64, 127, 1, 64);"
    "INSERT INTO timeline (proc_id, t_ns, heap_bytes, heap_blocks, rss_bytes) VALUES"
    " (1, 10000000, 100, 1, 4000000), (2, 10000000, 64, 1, NULL);"
    "INSERT INTO fragmentation (proc_id, t_ns, seq, at, external, internal, live_bytes) VALUES"
    " (1, 1000000, 20, 'peak', 0.5, 0.25, 700);";

struct fixture {
    char path[64];
    sqlite3 *db; /* opened with db_open_read */
};

static int fixture_setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    sqlite3 *w;
    struct mt_errbuf eb;
    snprintf(f->path, sizeof f->path, "/tmp/mt-test-report-%ld.db", (long)getpid());
    unlink(f->path);
    assert_int_equal(sqlite3_open(f->path, &w), SQLITE_OK);
    assert_int_equal(sqlite3_exec(w, db_schema_sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(w, fixture_sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(w);
    assert_int_equal(db_open_read(f->path, &f->db, &eb), 0);
    *state = f;
    return 0;
}

static int fixture_teardown(void **state)
{
    struct fixture *f = *state;
    sqlite3_close(f->db);
    unlink(f->path);
    free(f);
    return 0;
}

/* Runs a writer into a memory buffer. Returns the text (free it). */
static char *capture(sqlite3 *db, enum report_format fmt, int *rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    struct report_opts o = {.format = fmt, .top = 10, .stack_depth = 0};
    struct mt_errbuf eb = {{0}};
    *rc = report_write(db, out, &o, &eb);
    fclose(out);
    return buf;
}

static void test_report_text_has_totals_and_sites(void **state)
{
    struct fixture *f = *state;
    int rc;
    char *t = capture(f->db, REPORT_TEXT, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(t, "memtrace report: prog --fast"));
    assert_non_null(strstr(t, "14, 1364 B (1.3 KiB)"));
    assert_non_null(strstr(t, "peak heap          700 B in 7 blocks at 0.001 s"));
    assert_non_null(strstr(t, "500 B in 5 blocks (71.4%) at work</script> src/a.c:30"));
    assert_non_null(strstr(t, "definite: 100 B in 1 block at leaky src/a.c:10"));
    assert_non_null(strstr(t, "unclassified: 64 B in 1 block at ?? (/lib/libx.so+0x1234)"));
    assert_non_null(strstr(t, "#1  main src/a.c:20"));
    assert_non_null(strstr(t, "double_free: free(0x1234) by thread 100"));
    assert_non_null(strstr(t, "allocated at:"));
    assert_non_null(strstr(t, "Process 101: /bin/prog"));
    assert_non_null(strstr(t, "killed by signal"));
    assert_non_null(strstr(t, "4 of 10 allocations temporary at work</script> src/a.c:30"));
    assert_non_null(strstr(t, "external 50.0%, internal 25.0%"));
    free(t);
}

static void test_report_markdown_uses_markup(void **state)
{
    struct fixture *f = *state;
    int rc;
    char *t = capture(f->db, REPORT_MARKDOWN, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(t, "\n# memtrace report: prog --fast\n"));
    assert_non_null(strstr(t, "\n## Process 100: /bin/prog\n"));
    assert_non_null(strstr(t, "- **definite**: 1 block, 100 B\n"));
    assert_non_null(strstr(t, "  ```\n  #0  leaky src/a.c:10\n"));
    assert_null(strstr(t, "===="));
    free(t);
}

static void test_report_json_complete_and_escaped(void **state)
{
    struct fixture *f = *state;
    int rc;
    char *t = capture(f->db, REPORT_JSON, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(t, "\"format\": \"memtrace-report\""));
    assert_non_null(strstr(t, "\"version\": 1"));
    assert_non_null(strstr(t, "\"alloc_bytes\": 1364"));
    assert_non_null(strstr(t, "\"1\": [1,2]"));   /* stack 1: leaky, main */
    assert_non_null(strstr(t, "\"function\": null")); /* unsymbolized frame */
    assert_non_null(strstr(t, "work<\\/script>"));
    assert_null(strstr(t, "</script>"));
    assert_non_null(strstr(t, "\"columns\": [\"t_ns\",\"heap_bytes\""));
    assert_non_null(strstr(t, "\"kind\": \"double_free\""));
    assert_non_null(strstr(t, "\"allocated_at\": \"leaky src/a.c:10\""));
    free(t);
}

static void test_report_html_is_self_contained(void **state)
{
    struct fixture *f = *state;
    int rc;
    char *t = capture(f->db, REPORT_HTML, &rc);
    assert_int_equal(rc, 0);
    assert_true(!strncmp(t, "<!DOCTYPE html>", 15));
    assert_null(strstr(t, "@@")); /* every marker replaced */
    assert_non_null(strstr(t, "<script type=\"application/json\" id=\"mt-data\">\n{\"format\":"));
    assert_non_null(strstr(t, "uPlot"));
    assert_non_null(strstr(t, "d3-flame-graph"));
    assert_non_null(strstr(t, "Apache License"));
    assert_null(strstr(t, "src=\"http"));
    /* exactly the template's two script elements end: the data cannot close one */
    int n = 0;
    for (const char *p = t; (p = strstr(p, "</script>")); p++) n++;
    assert_int_equal(n, 2);
    free(t);
}

static void test_report_top_limits_text_rows(void **state)
{
    struct fixture *f = *state;
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    struct report_opts o = {.format = REPORT_TEXT, .top = 1, .stack_depth = 1};
    struct mt_errbuf eb;
    assert_int_equal(report_write(f->db, out, &o, &eb), 0);
    fclose(out);
    assert_non_null(strstr(buf, "... more rows"));
    assert_null(strstr(buf, "(71.4%)\n      #0  work</script> src/a.c:30\n      #1"));
    free(buf);
}

static void test_report_fails_on_foreign_database(void **state)
{
    (void)state;
    sqlite3 *db;
    struct mt_errbuf eb = {{0}};
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(report_json(db, out, 1, &eb), MT_ESQLITE);
    assert_non_null(strstr(eb.msg, "no such table"));
    eb.msg[0] = 0;
    struct report_opts o = {.format = REPORT_TEXT};
    assert_int_not_equal(report_write(db, out, &o, &eb), 0);
    assert_true(eb.msg[0] != 0);
    fclose(out);
    free(buf);
    sqlite3_close(db);
}

static void test_report_out_appears_only_when_complete(void **state)
{
    (void)state;
    char path[64];
    struct report_out o;
    snprintf(path, sizeof path, "/tmp/mt-test-out-%ld.txt", (long)getpid());
    unlink(path);
    assert_int_equal(report_out_open(&o, path), 0);
    fputs("half", o.f);
    assert_int_equal(report_out_close(&o, 0), 0);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(report_out_open(&o, path), 0);
    fputs("whole", o.f);
    assert_int_equal(report_out_close(&o, 1), 0);
    assert_int_equal(access(path, F_OK), 0);
    unlink(path);
    assert_true(report_out_open(&o, "/nonexistent-dir/x/y") < 0);
}

static void test_jsonw_escapes_and_nests(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    struct jsonw w;
    jsonw_init(&w, out, 0);
    jsonw_obj_begin(&w, NULL);
    jsonw_str(&w, "s", "a\"b\\c\nd\x01</e");
    jsonw_arr_begin(&w, "a");
    jsonw_int(&w, NULL, -5);
    jsonw_real(&w, NULL, 0.5);
    jsonw_real(&w, NULL, 1.0 / 0.0);
    jsonw_null(&w, NULL);
    jsonw_bool(&w, NULL, 1);
    jsonw_arr_end(&w);
    jsonw_obj_begin(&w, "empty");
    jsonw_obj_end(&w);
    jsonw_obj_end(&w);
    jsonw_finish(&w);
    fclose(out);
    assert_string_equal(buf, "{\"s\":\"a\\\"b\\\\c\\nd\\u0001<\\/e\",\"a\":[-5,0.5,null,null,true],"
                             "\"empty\":{}}\n");
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_report_text_has_totals_and_sites, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_report_markdown_uses_markup, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_report_json_complete_and_escaped, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_report_html_is_self_contained, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_report_top_limits_text_rows, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test(test_report_fails_on_foreign_database),
        cmocka_unit_test(test_report_out_appears_only_when_complete),
        cmocka_unit_test(test_jsonw_escapes_and_nests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
