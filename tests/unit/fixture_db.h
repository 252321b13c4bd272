/*
 * fixture_db.h — the hand-made memtrace database of test_report.c and test_export.c
 *
 * schema.sql plus INSERTs with known figures: two process images, three
 * sites, one double free, an unsymbolized frame and a function name holding
 * "</script>". Each test file checks its writers' output against these
 * numbers; test_export.c adds a client pool on top (fixture_open's extra).
 * Included by one test file each (static functions).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMTRACE_TEST_FIXTURE_DB_H
#define MEMTRACE_TEST_FIXTURE_DB_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db/db.h"
#include "memtrace/error.h"

/* Figures of the fixture (also asserted by the tests). */
#define FIXTURE_DB_SQL                                                                             \
    "INSERT INTO session (id, command, argv, duration_ns, n_processes, n_events, n_allocs,"        \
    " alloc_bytes, n_frees, n_temporary, n_errors, peak_heap_bytes, peak_heap_ns, truncated,"      \
    " dropped, seq_holes, unmatched_frees) VALUES (1, 'prog', 'prog --fast', 5000000, 2, 40,"      \
    " 14, 1364, 12, 4, 1, 764, 1000000, 0, 0, 0, 0);"                                              \
    "INSERT INTO processes (proc_id, pid, gen, exe, argv, end_how, exit_status, leak_scan,"        \
    " n_allocs, alloc_bytes, n_frees, n_temporary, n_errors, peak_heap_bytes, peak_heap_blocks,"   \
    " peak_heap_ns, end_live_bytes, end_live_blocks, end_ns) VALUES"                               \
    " (1, 100, 0, '/bin/prog', 'prog --fast', 'exited', 0, 1, 13, 1300, 12, 4, 1, 700, 7,"         \
    " 1000000, 100, 1, 4000000),"                                                                  \
    " (2, 101, 0, '/bin/prog', 'prog --fast', 'signaled', NULL, 0, 1, 64, 0, 0, 0, 64, 1,"         \
    " 2000000, 64, 1, 3000000);"                                                                   \
    "INSERT INTO modules VALUES (1, '/bin/prog', 'abcd', 0), (2, '/lib/libx.so', NULL, 0);"        \
    "INSERT INTO process_modules (proc_id, local_id, module_id, load_bias) VALUES"                 \
    " (1, 1, 1, 4096), (1, 2, 2, 65536), (2, 1, 1, 4096), (2, 2, 2, 65536);"                       \
    "INSERT INTO frames VALUES (1, 'leaky', 'src/a.c', 10, 0, 1, 256, 0),"                         \
    " (2, 'main', 'src/a.c', 20, 0, 1, 512, 0), (3, 'work</script>', 'src/a.c', 30, 0, 1, 768, "   \
    "0),"                                                                                          \
    " (4, NULL, NULL, 0, 0, 2, 4660, 0);"                                                          \
    "INSERT INTO stacks VALUES (1, 2, 1), (2, 2, 3), (3, 2, 4);"                                   \
    "INSERT INTO stack_frames VALUES (1, 0, 1), (1, 1, 2), (2, 0, 3), (2, 1, 2), (3, 0, 4),"       \
    " (3, 1, 2);"                                                                                  \
    "INSERT INTO sites (proc_id, stack_id, n_allocs, alloc_bytes, n_frees, n_temporary,"           \
    " peak_bytes, peak_blocks, end_live_bytes, end_live_blocks, leak_definite_blocks,"             \
    " leak_definite_bytes, leak_unclassified_blocks, leak_unclassified_bytes) VALUES"              \
    " (1, 1, 3, 300, 2, 0, 200, 2, 100, 1, 1, 100, 0, 0),"                                         \
    " (1, 2, 10, 1000, 10, 4, 500, 5, 0, 0, 0, 0, 0, 0),"                                          \
    " (2, 3, 1, 64, 0, 0, 64, 1, 64, 1, 0, 0, 1, 64);"                                             \
    "INSERT INTO errors (error_id, proc_id, tid, seq, t_ns, kind, addr, size, api, family,"        \
    " alloc_family, stack_id, alloc_stack_id) VALUES"                                              \
    " (1, 1, 100, 30, 3000000, 'double_free', 4660, 100, 'free', 'malloc', 'malloc', 2, 1);"       \
    "INSERT INTO histograms VALUES (1, NULL, 'size', 7, 64, 127, 13, 1300),"                       \
    " (2, NULL, 'size', 7, 64, 127, 1, 64);"                                                       \
    "INSERT INTO timeline (proc_id, t_ns, heap_bytes, heap_blocks, rss_bytes) VALUES"              \
    " (1, 10000000, 100, 1, 4000000), (2, 10000000, 64, 1, NULL);"                                 \
    "INSERT INTO fragmentation (proc_id, t_ns, seq, at, external, internal, live_bytes) VALUES"    \
    " (1, 1000000, 20, 'peak', 0.5, 0.25, 700);"

struct fixture {
    char path[64];
    sqlite3 *db; /* opened with db_open_read */
};

/* Builds the fixture (plus extra_sql) in /tmp/mt-test-NAME-PID.db and opens
 * it for reading into *state. cmocka setup: 0, or an assertion fails. */
static int fixture_open(void **state, const char *name, const char *extra_sql)
{
    struct fixture *f = calloc(1, sizeof *f);
    sqlite3 *w;
    struct mt_errbuf eb;
    assert_non_null(f);
    snprintf(f->path, sizeof f->path, "/tmp/mt-test-%s-%ld.db", name, (long)getpid());
    unlink(f->path);
    assert_int_equal(sqlite3_open(f->path, &w), SQLITE_OK);
    assert_int_equal(sqlite3_exec(w, db_schema_sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(w, FIXTURE_DB_SQL, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(w, extra_sql, NULL, NULL, NULL), SQLITE_OK);
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

#endif /* MEMTRACE_TEST_FIXTURE_DB_H */
