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

#include "fixture_db.h"

static int fixture_setup(void **state)
{
    return fixture_open(state, "report", "");
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
