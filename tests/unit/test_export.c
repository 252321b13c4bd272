/*
 * test_export.c — pprof, folded and massif writers on a hand-made database
 *
 * The same fixture as test_report.c (schema.sql + INSERTs: two process
 * images, three sites, an unsymbolized frame), so every exported number is
 * known: folded sums per --value, the pprof profile decoded back with
 * protobuf-c after gunzip (sample types, totals, locations, mappings, the
 * pid label), massif's trees at the peak and at the end, the --pid filter.
 * docs/reports.md, "export".
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
#include <zlib.h>

#include "db/db.h"
#include "export/export.h"
#include "export/profile.pb-c.h"
#include "memtrace/error.h"

#include "fixture_db.h"

/* On top of the shared fixture: */
static const char pool_sql[] =
    /* site (1, 2) hands out chunks of a client pool */
    "INSERT INTO pools (proc_id, pool_id, name, family) VALUES (1, 1, 'p', 'pool:p');"
    "INSERT INTO allocations (alloc_id, proc_id, size, family, api, stack_id) VALUES"
    " (1, 1, 100, 'pool:p', 'pool_alloc', 2), (2, 1, 100, 'malloc', 'malloc', 1);";

static int fixture_setup(void **state)
{
    return fixture_open(state, "export", pool_sql);
}

/* Runs fn into a memory buffer; returns the bytes (free them), *len. */
static char *export_run(struct fixture *f, int64_t pid, int fmt, int arg, size_t *len, int *rc)
{
    struct export_data d;
    struct mt_errbuf eb = {{0}};
    char *buf = NULL;
    FILE *out = open_memstream(&buf, len);
    assert_int_equal(export_data_load(f->db, pid, &d, &eb), 0);
    if (fmt == 0) *rc = export_folded(&d, out, (enum export_value)arg, &eb);
    else if (fmt == 1) *rc = export_pprof(&d, out, arg, &eb);
    else *rc = export_massif(f->db, &d, out, pid, &eb);
    fclose(out);
    export_data_free(&d);
    return buf;
}

static long folded_sum(const char *t)
{
    long sum = 0;
    for (const char *line = t; *line;) {
        const char *nl = strchr(line, '\n');
        const char *sp = line;
        for (const char *p = line; p < nl; p++)
            if (*p == ' ') sp = p;
        sum += strtol(sp + 1, NULL, 10);
        line = nl + 1;
    }
    return sum;
}

static void test_export_folded_sums_every_value(void **state)
{
    static const long want[] = {[EXPORT_BYTES] = 1364, [EXPORT_ALLOCS] = 14,
                                [EXPORT_LEAKED] = 164, [EXPORT_PEAK] = 764};
    size_t len;
    int rc;
    for (int v = EXPORT_BYTES; v <= EXPORT_PEAK; v++) {
        char *t = export_run(*state, 0, 0, v, &len, &rc);
        assert_int_equal(rc, 0);
        assert_int_equal(folded_sum(t), want[v]);
        free(t);
    }
    char *t = export_run(*state, 0, 0, EXPORT_BYTES, &len, &rc);
    assert_non_null(strstr(t, "main;leaky 300\n"));
    assert_non_null(strstr(t, "main;work</script> 1000\n"));
    assert_non_null(strstr(t, "main;libx.so+0x1234 64\n"));
    free(t);
}

static void test_export_pid_filter_keeps_one_image(void **state)
{
    struct fixture *f = *state;
    struct export_data d;
    struct mt_errbuf eb;
    assert_int_equal(export_data_load(f->db, 101, &d, &eb), 0);
    assert_int_equal(d.n_sites, 1);
    assert_int_equal(d.sites[0].leaked_bytes, 64);
    assert_int_equal(d.sites[0].n_frames, 2);
    assert_null(d.sites[0].frames[0]->function);
    export_data_free(&d);
    assert_int_equal(export_data_load(f->db, 999, &d, &eb), 0);
    assert_int_equal(d.n_sites, 0);
    export_data_free(&d);
}

/* gunzips buf into a profile; free with ..._free_unpacked. */
static Perftools__Profiles__Profile *pprof_decode(const char *buf, size_t len)
{
    z_stream z;
    size_t cap = 1 << 20;
    uint8_t *raw = malloc(cap);
    Perftools__Profiles__Profile *p;
    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK); /* gzip only */
    z.next_in = (Bytef *)buf;
    z.avail_in = (uInt)len;
    z.next_out = raw;
    z.avail_out = (uInt)cap;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    p = perftools__profiles__profile__unpack(NULL, z.total_out, raw);
    inflateEnd(&z);
    free(raw);
    assert_non_null(p);
    return p;
}

static int64_t pprof_total(const Perftools__Profiles__Profile *p, int type)
{
    int64_t sum = 0;
    for (size_t i = 0; i < p->n_sample; i++) sum += p->sample[i]->value[type];
    return sum;
}

static void test_export_pprof_decodes_as_go_heap_profile(void **state)
{
    static const char *const types[] = {"alloc_objects", "alloc_space", "inuse_objects",
                                        "inuse_space"};
    size_t len;
    int rc;
    char *buf = export_run(*state, 0, 1, 0, &len, &rc);
    assert_int_equal(rc, 0);
    Perftools__Profiles__Profile *p = pprof_decode(buf, len);
    assert_string_equal(p->string_table[0], "");
    assert_int_equal(p->n_sample_type, 4);
    for (int i = 0; i < 4; i++)
        assert_string_equal(p->string_table[p->sample_type[i]->type], types[i]);
    assert_string_equal(p->string_table[p->default_sample_type], "inuse_space");
    assert_int_equal(p->n_sample, 3);
    assert_int_equal(pprof_total(p, 0), 14);
    assert_int_equal(pprof_total(p, 1), 1364);
    assert_int_equal(pprof_total(p, 2), 8);
    assert_int_equal(pprof_total(p, 3), 764);
    assert_int_equal(p->n_location, 4);
    assert_int_equal(p->n_function, 4);
    assert_int_equal(p->n_mapping, 2);
    /* the first sample is site (proc 1, stack 1): leaf leaky at bias 4096 + 256 */
    Perftools__Profiles__Location *leaf = p->location[p->sample[0]->location_id[0] - 1];
    assert_int_equal(leaf->address, 4352);
    assert_string_equal(p->string_table[p->function[leaf->line[0]->function_id - 1]->name], "leaky");
    assert_int_equal(leaf->line[0]->line, 10);
    /* pid as a number and as a string (Pyroscope reads only strings), and
     * the family: a client pool's chunks are their own */
    assert_int_equal(p->sample[2]->n_label, 3);
    assert_string_equal(p->string_table[p->sample[2]->label[0]->key], "pid");
    assert_int_equal(p->sample[2]->label[0]->num, 101);
    assert_string_equal(p->string_table[p->sample[2]->label[1]->key], "pid");
    assert_string_equal(p->string_table[p->sample[2]->label[1]->str], "101");
    assert_string_equal(p->string_table[p->sample[2]->label[2]->key], "family");
    assert_string_equal(p->string_table[p->sample[2]->label[2]->str], "heap");
    assert_string_equal(p->string_table[p->sample[1]->label[2]->str], "pool:p");
    perftools__profiles__profile__free_unpacked(p, NULL);
    free(buf);
    buf = export_run(*state, 0, 1, 1, &len, &rc); /* --inuse end */
    p = pprof_decode(buf, len);
    assert_int_equal(pprof_total(p, 3), 164);
    assert_int_equal(pprof_total(p, 2), 2);
    perftools__profiles__profile__free_unpacked(p, NULL);
    free(buf);
}

static void test_export_massif_trees_add_up(void **state)
{
    size_t len;
    int rc;
    char *t = export_run(*state, 0, 2, 0, &len, &rc);
    assert_int_equal(rc, 0);
    assert_true(!strncmp(t, "desc: ", 6));
    assert_non_null(strstr(t, "\ncmd: prog --fast\ntime_unit: ms\n"));
    assert_non_null(strstr(t, "time=1.000\nmem_heap_B=700\nmem_heap_extra_B=0\nmem_stacks_B=0\n"
                              "heap_tree=peak\nn2: 700 (heap allocation functions)"));
    /* children by size: work (500) before leaky (200) */
    assert_true(strstr(t, " n1: 500 0x300: work</script>") < strstr(t, " n1: 200 0x100: leaky"));
    assert_non_null(strstr(t, "heap_tree=detailed\nn1: 100 (heap allocation functions)"));
    free(t);
    t = export_run(*state, 101, 2, 0, &len, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(t, " n1: 64 0x1234: libx.so+0x1234 (in /lib/libx.so)\n"));
    free(t);
    t = export_run(*state, 999, 2, 0, &len, &rc);
    assert_int_equal(rc, MT_ENOTFOUND);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_export_folded_sums_every_value, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_export_pid_filter_keeps_one_image, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_export_pprof_decodes_as_go_heap_profile,
                                        fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_export_massif_trees_add_up, fixture_setup,
                                        fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
