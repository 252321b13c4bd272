/*
 * test_collect.c — unit tests of the collector (analyzer/collect/)
 *
 * Builds ring files by hand, exactly as include/memtrace/ring.h lays them
 * out, and plays the producer: collect_ring_drain must copy committed bytes
 * in one or two calls around the wrap and store tail; collect_ring_check
 * must reject foreign or broken headers; and the collector thread, run on a
 * session directory with a real (forked) process behind a ring file, must
 * drain it into a trace and end it with the right MT_REC_PROC_END.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "collect/collect.h"
#include "memtrace/error.h"
#include "memtrace/ring.h"
#include "trace/trace.h"

#define TC_RINGS 2u
#define TC_RING_BYTES 256u /* small so that a few records wrap */

/* ------------------------------------------------------------ helpers */

/* Initialises a ring file image at base (as preload/ring.c does). */
static void tc_ring_init(void *base, uint32_t pid, uint32_t gen)
{
    struct mt_ring_file *f = base;
    uint64_t size = mt_ring_file_size(TC_RINGS, TC_RING_BYTES);
    f->version = MT_RING_VERSION;
    f->hdr_bytes = sizeof *f;
    f->pid = pid;
    f->gen = gen;
    f->n_rings = TC_RINGS;
    f->ring_bytes = TC_RING_BYTES;
    f->data_offset = size - (uint64_t)TC_RINGS * TC_RING_BYTES;
    f->magic = MT_RING_MAGIC;
}

static struct mt_ring_ctl *tc_ctl(void *base, uint32_t ring)
{
    return (struct mt_ring_ctl *)((char *)base + sizeof(struct mt_ring_file)) + ring;
}

/* Producer: writes one record of len bytes (kind ALLOC-sized or PAD),
 * padding to the end of the ring first if it would cross it. */
static void tc_produce(void *base, uint32_t ring, uint64_t seq, uint32_t len)
{
    struct mt_ring_file *f = base;
    struct mt_ring_ctl *ctl = tc_ctl(base, ring);
    char *data = (char *)base + f->data_offset + (uint64_t)ring * TC_RING_BYTES;
    uint64_t head = atomic_load(&ctl->head);
    uint64_t off = head % TC_RING_BYTES;
    uint64_t need = len + (off + len > TC_RING_BYTES ? TC_RING_BYTES - off : 0);
    while (head - atomic_load(&ctl->tail) + need > TC_RING_BYTES) usleep(100); /* full */
    if (off + len > TC_RING_BYTES) {
        struct mt_rec_hdr pad = {MT_REC_PAD, 0, (uint32_t)(TC_RING_BYTES - off)};
        memcpy(data + off, &pad, sizeof pad);
        head += TC_RING_BYTES - off;
        off = 0;
    }
    struct mt_rec_seq_skip r = {{{MT_REC_SEQ_SKIP, 0, len}, seq, 1000 + seq}};
    memset(data + off, 0, len);
    memcpy(data + off, &r, sizeof r);
    atomic_store(&ctl->head, head + len);
}

struct tc_sink {
    int calls;
    size_t lens[4];
    char bytes[1024];
    size_t total;
    int fail;
};

static int tc_sink_fn(void *ctx, const void *bytes, size_t len)
{
    struct tc_sink *s = ctx;
    if (s->fail) return -EIO;
    if (s->calls < 4) s->lens[s->calls] = len;
    s->calls++;
    memcpy(s->bytes + s->total, bytes, len);
    s->total += len;
    return 0;
}

static void *tc_alloc_file(void)
{
    void *b = calloc(1, mt_ring_file_size(TC_RINGS, TC_RING_BYTES));
    assert_non_null(b);
    return b;
}

/* ------------------------------------------------------------ drain */

static void test_collect_drain_wraps_in_two_calls(void **state)
{
    (void)state;
    void *base = tc_alloc_file();
    tc_ring_init(base, 1, 0);
    struct mt_ring_ctl *ctl = tc_ctl(base, 1);
    atomic_store(&ctl->head, 192);
    atomic_store(&ctl->tail, 192); /* consumer caught up near the end */
    tc_produce(base, 1, 0, 32);    /* 192..224 */
    tc_produce(base, 1, 1, 48);    /* pad 224..256, then 0..48 */
    struct tc_sink s = {0};
    int64_t n = collect_ring_drain(base, 1, tc_sink_fn, &s);
    assert_int_equal(n, 32 + 32 + 48);
    assert_int_equal(s.calls, 2);
    assert_int_equal(s.lens[0], 64); /* record + pad, up to the end */
    assert_int_equal(s.lens[1], 48);
    assert_int_equal(atomic_load(&ctl->tail), 192 + 112);
    const struct mt_rec_hdr *pad = (const void *)(s.bytes + 32);
    assert_int_equal(pad->kind, MT_REC_PAD);
    const struct mt_rec_common *second = (const void *)(s.bytes + 64);
    assert_int_equal(second->seq, 1);
    /* ring 0 untouched, and a second drain finds nothing */
    assert_int_equal(collect_ring_drain(base, 0, tc_sink_fn, &s), 0);
    assert_int_equal(collect_ring_drain(base, 1, tc_sink_fn, &s), 0);
    assert_int_equal(s.calls, 2);
    free(base);
}

static void test_collect_drain_one_call_without_wrap(void **state)
{
    (void)state;
    void *base = tc_alloc_file();
    tc_ring_init(base, 1, 0);
    for (uint64_t i = 0; i < 3; i++) tc_produce(base, 0, i, 24);
    struct tc_sink s = {0};
    assert_int_equal(collect_ring_drain(base, 0, tc_sink_fn, &s), 72);
    assert_int_equal(s.calls, 1);
    assert_int_equal(atomic_load(&tc_ctl(base, 0)->tail), 72);
    free(base);
}

static void test_collect_drain_sink_failure_keeps_tail(void **state)
{
    (void)state;
    void *base = tc_alloc_file();
    tc_ring_init(base, 1, 0);
    tc_produce(base, 0, 0, 24);
    struct tc_sink s = {.fail = 1};
    assert_int_equal(collect_ring_drain(base, 0, tc_sink_fn, &s), -EIO);
    assert_int_equal(atomic_load(&tc_ctl(base, 0)->tail), 0);
    s.fail = 0;
    assert_int_equal(collect_ring_drain(base, 0, tc_sink_fn, &s), 24);
    free(base);
}

static void test_collect_drain_rejects_impossible_head(void **state)
{
    (void)state;
    void *base = tc_alloc_file();
    tc_ring_init(base, 1, 0);
    atomic_store(&tc_ctl(base, 0)->head, TC_RING_BYTES + 8); /* more than a ring */
    struct tc_sink s = {0};
    assert_int_equal(collect_ring_drain(base, 0, tc_sink_fn, &s), MT_ECORRUPT);
    assert_int_equal(s.calls, 0);
    free(base);
}

static void test_collect_check_rejects_bad_headers(void **state)
{
    (void)state;
    uint64_t size = mt_ring_file_size(TC_RINGS, TC_RING_BYTES);
    void *base = tc_alloc_file();
    assert_int_equal(collect_ring_check(base, size), 1); /* magic 0: not yet */
    assert_int_equal(collect_ring_check(base, 16), 1);   /* not sized yet */
    tc_ring_init(base, 1, 0);
    assert_int_equal(collect_ring_check(base, size), 0);
    assert_int_equal(collect_ring_check(base, size - 1), MT_ECORRUPT);
    struct mt_ring_file *f = base;
    f->ring_bytes = 100; /* not a power of two */
    assert_int_equal(collect_ring_check(base, size), MT_ECORRUPT);
    f->ring_bytes = TC_RING_BYTES;
    f->version = 9;
    assert_int_equal(collect_ring_check(base, size), MT_EVERSION);
    f->magic = 0x1234;
    assert_int_equal(collect_ring_check(base, size), MT_EBADMAGIC);
    free(base);
}

/* ------------------------------------------------------------ the thread */

struct tc_session {
    char dir[64];
    char trace[96];
};

/* Creates "<dir>/<pid>.<gen>.ring" and maps it. */
static void *tc_ring_file(const char *dir, pid_t pid, uint32_t gen)
{
    char path[160];
    snprintf(path, sizeof path, "%s/%d.%u.ring", dir, (int)pid, gen);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    uint64_t size = mt_ring_file_size(TC_RINGS, TC_RING_BYTES);
    assert_int_equal(ftruncate(fd, (off_t)size), 0);
    void *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    assert_true(base != MAP_FAILED);
    close(fd);
    tc_ring_init(base, (uint32_t)pid, gen);
    return base;
}

/* on_block hook: sums the ring bytes and counts the PROC_END records. */
struct tc_blocks {
    uint64_t ring_bytes;
    int n_proc_end;
};

static void tc_on_block(void *ctx, uint32_t pid, uint32_t gen, uint32_t ring, const void *recs,
                        size_t len)
{
    struct tc_blocks *b = ctx;
    (void)pid, (void)gen;
    if (ring != MT_RING_COLLECTOR) b->ring_bytes += len;
    else if (((const struct mt_rec_hdr *)recs)->kind == MT_REC_PROC_END) b->n_proc_end++;
}

/* Reaps pid the way `run` does: queue the status, then reap. */
static void tc_reap(struct collector *c, pid_t pid)
{
    siginfo_t si = {0};
    assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
    int status = si.si_code == CLD_EXITED ? W_EXITCODE(si.si_status, 0)
                                          : W_EXITCODE(0, si.si_status);
    collect_note_exit(c, pid, status);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
}

/* A child killed by SIGKILL keeps what it committed: the collector drains
 * every record, then writes PROC_END signaled 9, and unlinks the file.
 * A second image of the same pid (gen 1) ends the first with EXEC. */
static void test_collect_thread_drains_and_ends_processes(void **state)
{
    (void)state;
    struct tc_session s;
    snprintf(s.dir, sizeof s.dir, "/tmp/mt-test-collect.XXXXXX");
    assert_non_null(mkdtemp(s.dir));
    snprintf(s.trace, sizeof s.trace, "%s.mtrace", s.dir);
    struct mt_file_hdr h = {0};
    struct trace_writer *w = NULL;
    assert_int_equal(trace_writer_open(s.trace, &h, &w), 0);
    struct tc_blocks blocks = {0};
    struct collect_opts o = {.session_dir = s.dir, .w = w, .sample_period_us = 1000,
                             .on_block = tc_on_block, .block_ctx = &blocks};
    struct collector *c = NULL;
    assert_int_equal(collect_create(&o, &c), 0);
    assert_int_equal(collect_start(c), 0);

    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    void *g0 = tc_ring_file(s.dir, child, 0);
    for (uint64_t i = 0; i < 40; i++) tc_produce(g0, (uint32_t)(i % 2), i, 24); /* wraps */
    void *g1 = tc_ring_file(s.dir, child, 1);
    for (uint64_t i = 0; i < 3; i++) tc_produce(g1, 0, i, 24);
    kill(child, SIGKILL);
    tc_reap(c, child);
    assert_int_equal(collect_finish(c), 0);
    assert_int_equal(collect_n_processes(c), 2);
    assert_int_equal(blocks.ring_bytes, collect_bytes_drained(c));
    assert_true(blocks.ring_bytes >= 43 * 24); /* 43 records, plus pads */
    assert_int_equal(blocks.n_proc_end, 2);
    collect_destroy(c);
    assert_int_equal(trace_writer_close(w), 0);
    munmap(g0, mt_ring_file_size(TC_RINGS, TC_RING_BYTES));
    munmap(g1, mt_ring_file_size(TC_RINGS, TC_RING_BYTES));
    assert_int_equal(rmdir(s.dir), 0); /* both ring files were unlinked */

    struct trace_reader *r = NULL;
    struct mt_errbuf eb;
    assert_int_equal(trace_reader_open(s.trace, &r, &eb), 0);
    struct trace_event ev;
    uint64_t next[2] = {0, 0};
    int ends = 0, rc;
    while ((rc = trace_reader_next(r, &ev, &eb)) == 1) {
        assert_int_equal(ev.pid, child);
        if (ev.rec->kind == MT_REC_SEQ_SKIP) {
            assert_int_equal(((const struct mt_rec_common *)ev.rec)->seq, next[ev.gen]++);
        } else if (ev.rec->kind == MT_REC_PROC_END) {
            const struct mt_rec_proc_end *e = (const void *)ev.rec;
            assert_int_equal(e->how, e->gen == 0 ? MT_END_EXEC : MT_END_SIGNALED);
            if (e->gen == 1) assert_int_equal(e->status, SIGKILL);
            assert_int_equal(next[e->gen], e->gen == 0 ? 40 : 3); /* all before the end */
            ends++;
        }
    }
    assert_int_equal(rc, 0);
    assert_int_equal(ends, 2);
    assert_int_equal(trace_reader_seq_holes(r), 0);
    trace_reader_close(r);
    unlink(s.trace);
}

static void tc_count_warn(void *ctx, const char *msg)
{
    (void)msg;
    (*(int *)ctx)++;
}

/* A foreign file with a ring name is reported once and skipped; files with
 * other names are ignored; nothing crashes and the trace stays empty. */
static void test_collect_bad_ring_file_reported_once(void **state)
{
    (void)state;
    struct tc_session s;
    snprintf(s.dir, sizeof s.dir, "/tmp/mt-test-collect.XXXXXX");
    assert_non_null(mkdtemp(s.dir));
    snprintf(s.trace, sizeof s.trace, "%s.mtrace", s.dir);
    char path[160], junk[4096];
    memset(junk, 0x41, sizeof junk);
    snprintf(path, sizeof path, "%s/%d.0.ring", s.dir, (int)getpid());
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(junk, 1, sizeof junk, f), sizeof junk);
    fclose(f);
    snprintf(path, sizeof path, "%s/notes.txt", s.dir);
    f = fopen(path, "wb");
    assert_non_null(f);
    fclose(f);

    struct mt_file_hdr h = {0};
    struct trace_writer *w = NULL;
    assert_int_equal(trace_writer_open(s.trace, &h, &w), 0);
    int n_warn = 0;
    struct collect_opts o = {.session_dir = s.dir, .w = w, .sample_period_us = 1000,
                             .warn = tc_count_warn, .warn_ctx = &n_warn};
    struct collector *c = NULL;
    assert_int_equal(collect_create(&o, &c), 0);
    assert_int_equal(collect_start(c), 0);
    usleep(150 * 1000); /* many polls and rescans */
    assert_int_equal(collect_finish(c), 0);
    assert_int_equal(n_warn, 1);
    assert_int_equal(collect_n_processes(c), 0);
    collect_destroy(c);
    assert_int_equal(trace_writer_close(w), 0);
    unlink(path);
    assert_int_equal(rmdir(s.dir), 0); /* the bad ring file was removed at the end */
    struct trace_reader *r = NULL;
    struct mt_errbuf eb;
    assert_int_equal(trace_reader_open(s.trace, &r, &eb), 0);
    struct trace_event ev;
    assert_int_equal(trace_reader_next(r, &ev, &eb), 0);
    trace_reader_close(r);
    unlink(s.trace);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_collect_drain_wraps_in_two_calls),
        cmocka_unit_test(test_collect_drain_one_call_without_wrap),
        cmocka_unit_test(test_collect_drain_sink_failure_keeps_tail),
        cmocka_unit_test(test_collect_drain_rejects_impossible_head),
        cmocka_unit_test(test_collect_check_rejects_bad_headers),
        cmocka_unit_test(test_collect_thread_drains_and_ends_processes),
        cmocka_unit_test(test_collect_bad_ring_file_reported_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
