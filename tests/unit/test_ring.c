/*
 * test_ring.c — the preload's ring producer against the collector's consumer
 *
 * Producer threads write records through the real producer code
 * (preload/ring.c, linked from mtpreload_core) into a ring file in a temp
 * dir while a consumer thread drains it with collect_ring_drain()
 * (analyzer/collect/collect_ring.c). Checks ring.h's promises: every record
 * exactly once, per-producer order kept, seqs dense from 0, a full ring makes
 * the producer wait instead of dropping, lossy mode drops and counts, a dead
 * collector detaches the producer. Contract: docs/preload.md, ring.h.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "collect/collect.h"
#include "preload_int.h"

/* ---------------------------------------------------------------- types */

#define TR_MAX_PRODUCERS 16

struct tr_file {
    void *base;    /* mapped ring file */
    uint64_t size; /* its bytes */
};

/* What the consumer saw. */
struct tr_seen {
    uint8_t *seq_seen;                   /* one byte per seq, up to n_seq */
    uint64_t n_seq;                      /* capacity of seq_seen */
    uint64_t n_records;                  /* records with a seq */
    uint64_t n_dups;                     /* seqs seen twice */
    uint64_t n_order_errors;             /* per-producer order broken */
    int64_t last_idx[TR_MAX_PRODUCERS];  /* last record index per producer */
    uint64_t n_per[TR_MAX_PRODUCERS];    /* records per producer */
    uint64_t n_thread_start;             /* THREAD start records */
    uint64_t n_thread_end;               /* THREAD end records */
};

struct tr_consumer {
    struct tr_file *file;
    struct tr_seen *seen;
    _Atomic int stop;       /* producers done: drain until seq_next reached */
    uint64_t wait_for_waits; /* start draining only once file->waits >= this */
    int failed;
};

struct tr_producer {
    uint32_t id;      /* index into tr_seen arrays */
    uint32_t n;       /* records to write */
    int may_drop;     /* use ring_reserve(may_drop=1) */
    uint32_t written; /* OUT: records reserve accepted */
};

/* ------------------------------------------------------------ helpers */

static void tr_open(struct tr_file *f, uint32_t n_rings, uint32_t ring_bytes, uint32_t collector,
                    int lossy, int announce)
{
    char path[] = "/tmp/mt-test-ring.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    f->size = mt_ring_file_size(n_rings, ring_bytes);
    assert_int_equal(ftruncate(fd, (off_t)f->size), 0);
    f->base = mmap(NULL, f->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    assert_true(f->base != MAP_FAILED);
    ring_file_init(f->base, (uint32_t)getpid(), 0, n_rings, ring_bytes, collector);
    assert_int_equal(collect_ring_check(f->base, f->size), 0);
    ring_attach(f->base, f->size, lossy);
    ring_proc.announce = announce;
}

static void tr_close(struct tr_file *f)
{
    ring_detach();
    munmap(f->base, f->size);
}

static struct mt_ring_file *tr_hdr(struct tr_file *f)
{
    return f->base;
}

/* An ALLOC record standing for record idx of producer id. */
static int tr_emit(uint32_t id, uint32_t idx, int may_drop)
{
    struct mt_rec_alloc *r =
        (struct mt_rec_alloc *)ring_reserve(MT_REC_ALLOC, sizeof(struct mt_rec_alloc), may_drop);
    if (r == NULL) return -1;
    memset((uint8_t *)r + sizeof(r->c), 0, sizeof(*r) - sizeof(r->c));
    r->addr = (uint64_t)id << 32 | idx;
    r->size = idx;
    ring_commit(&r->c);
    return 0;
}

static void *tr_produce(void *arg)
{
    struct tr_producer *p = arg;
    for (uint32_t i = 0; i < p->n; i++) p->written += tr_emit(p->id, i, p->may_drop) == 0;
    return NULL;
}

/* Sink for collect_ring_drain: walks whole records, updates tr_seen. */
static int tr_sink(void *ctx, const void *bytes, size_t len)
{
    struct tr_seen *s = ctx;
    const uint8_t *p = bytes;
    while (len >= sizeof(struct mt_rec_hdr)) {
        const struct mt_rec_hdr *h = (const struct mt_rec_hdr *)p;
        if (h->len < sizeof(*h) || h->len > len || h->len % MT_REC_ALIGN) return -1;
        if (h->kind != MT_REC_PAD) {
            const struct mt_rec_common *c = (const struct mt_rec_common *)p;
            if (c->seq >= s->n_seq) return -1;
            s->n_dups += s->seq_seen[c->seq]++ != 0;
            s->n_records++;
        }
        if (h->kind == MT_REC_ALLOC) {
            const struct mt_rec_alloc *a = (const struct mt_rec_alloc *)p;
            uint32_t id = (uint32_t)(a->addr >> 32);
            int64_t idx = (int64_t)(uint32_t)a->addr;
            if (id >= TR_MAX_PRODUCERS) return -1;
            s->n_order_errors += idx <= s->last_idx[id];
            s->last_idx[id] = idx;
            s->n_per[id]++;
        } else if (h->kind == MT_REC_THREAD) {
            s->n_thread_start += (h->flags & MT_THREAD_F_START) != 0;
            s->n_thread_end += (h->flags & MT_THREAD_F_END) != 0;
        }
        p += h->len;
        len -= h->len;
    }
    return len == 0 ? 0 : -1;
}

static int tr_drain_all(struct tr_file *f, struct tr_seen *s)
{
    for (uint32_t r = 0; r < tr_hdr(f)->n_rings; r++)
        if (collect_ring_drain(f->base, r, tr_sink, s) < 0) return -1;
    return 0;
}

static void tr_sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static void *tr_consume(void *arg)
{
    struct tr_consumer *c = arg;
    struct mt_ring_file *h = tr_hdr(c->file);
    while (atomic_load(&h->waits) < c->wait_for_waits) tr_sleep_us(100);
    for (;;) {
        int stop = atomic_load(&c->stop);
        if (tr_drain_all(c->file, c->seen) < 0) {
            c->failed = 1;
            return NULL;
        }
        if (stop && c->seen->n_records >= atomic_load(&h->seq_next)) return NULL;
        tr_sleep_us(50);
    }
}

static void tr_seen_init(struct tr_seen *s, uint64_t n_seq)
{
    memset(s, 0, sizeof(*s));
    s->seq_seen = calloc(n_seq, 1);
    assert_non_null(s->seq_seen);
    s->n_seq = n_seq;
    for (int i = 0; i < TR_MAX_PRODUCERS; i++) s->last_idx[i] = -1;
}

/* Every seq below seq_next seen exactly once. */
static void tr_assert_dense(struct tr_file *f, struct tr_seen *s)
{
    uint64_t next = atomic_load(&tr_hdr(f)->seq_next);
    assert_int_equal(s->n_dups, 0);
    assert_int_equal(s->n_records, next);
    for (uint64_t i = 0; i < next; i++) assert_int_equal(s->seq_seen[i], 1);
}

/* Runs n_prod producers of n_rec records against a concurrent consumer. */
static void tr_run(struct tr_file *f, struct tr_seen *s, uint32_t n_prod, uint32_t n_rec,
                   uint64_t wait_for_waits)
{
    pthread_t prod[TR_MAX_PRODUCERS], cons;
    struct tr_producer p[TR_MAX_PRODUCERS];
    struct tr_consumer c = {.file = f, .seen = s, .wait_for_waits = wait_for_waits};

    assert_int_equal(pthread_create(&cons, NULL, tr_consume, &c), 0);
    for (uint32_t i = 0; i < n_prod; i++) {
        p[i] = (struct tr_producer){.id = i, .n = n_rec};
        assert_int_equal(pthread_create(&prod[i], NULL, tr_produce, &p[i]), 0);
    }
    for (uint32_t i = 0; i < n_prod; i++) {
        pthread_join(prod[i], NULL);
        assert_int_equal(p[i].written, n_rec);
    }
    atomic_store(&c.stop, 1);
    pthread_join(cons, NULL);
    assert_false(c.failed);
}

/* -------------------------------------------------------------- tests */

static void test_ring_producers_deliver_every_record_once_in_order(void **state)
{
    (void)state;
    const uint32_t n_prod = 8, n_rec = 20000;
    struct tr_file f;
    struct tr_seen s;
    /* 3 exclusive rings for 8 producers: five share the overflow ring */
    tr_open(&f, 4, 16384, (uint32_t)getpid(), 0, 0);
    tr_seen_init(&s, (uint64_t)n_prod * n_rec + 64);
    tr_run(&f, &s, n_prod, n_rec, 0);

    tr_assert_dense(&f, &s);
    assert_int_equal(s.n_order_errors, 0);
    for (uint32_t i = 0; i < n_prod; i++) assert_int_equal(s.n_per[i], n_rec);
    assert_int_equal(atomic_load(&tr_hdr(&f)->dropped), 0);
    free(s.seq_seen);
    tr_close(&f);
}

static void test_ring_full_ring_blocks_producer(void **state)
{
    (void)state;
    const uint32_t n_rec = 2000; /* 128 KB of records through a 4 KB ring */
    struct tr_file f;
    struct tr_seen s;
    tr_open(&f, 2, 4096, (uint32_t)getpid(), 0, 0);
    tr_seen_init(&s, n_rec + 64);
    /* the consumer starts only once the producer has found the ring full */
    tr_run(&f, &s, 1, n_rec, 1);

    tr_assert_dense(&f, &s);
    assert_int_equal(s.n_per[0], n_rec);
    assert_int_equal(s.n_order_errors, 0);
    assert_true(atomic_load(&tr_hdr(&f)->waits) >= 1);
    assert_int_equal(atomic_load(&tr_hdr(&f)->dropped), 0);
    free(s.seq_seen);
    tr_close(&f);
}

static void test_ring_lossy_mode_counts_drops_and_keeps_seqs_dense(void **state)
{
    (void)state;
    const uint32_t n_rec = 1000;
    struct tr_file f;
    struct tr_seen s;
    struct tr_producer p = {.id = 0, .n = n_rec, .may_drop = 1};
    tr_open(&f, 2, 4096, (uint32_t)getpid(), 1, 0);
    tr_seen_init(&s, n_rec + 64);
    tr_produce(&p); /* nobody drains: most records cannot fit */

    struct mt_ring_file *h = tr_hdr(&f);
    assert_true(p.written < n_rec);
    assert_int_equal(atomic_load(&h->dropped), n_rec - p.written);
    assert_true(atomic_load(&h->degraded) & MT_DEGRADED_RING_FULL_DROP);
    assert_int_equal(tr_drain_all(&f, &s), 0);
    assert_int_equal(s.n_per[0], p.written);
    tr_assert_dense(&f, &s); /* dropped records took no seq */
    free(s.seq_seen);
    tr_close(&f);
}

static void test_ring_threads_announce_and_release_their_ring(void **state)
{
    (void)state;
    const uint32_t n_prod = 3, n_rec = 5000; /* long enough for all three to overlap */
    struct tr_file f;
    struct tr_seen s;
    /* 2 exclusive rings for 3 threads: one announces on the overflow ring */
    tr_open(&f, 3, 8192, (uint32_t)getpid(), 0, 1);
    tr_seen_init(&s, n_prod * (n_rec + 2) + 64);
    tr_run(&f, &s, n_prod, n_rec, 0);

    assert_int_equal(s.n_thread_start, n_prod);
    assert_int_equal(s.n_thread_end, n_prod); /* key destructor at thread exit */
    tr_assert_dense(&f, &s);
    struct mt_ring_ctl *ctl = (struct mt_ring_ctl *)((uint8_t *)f.base + tr_hdr(&f)->hdr_bytes);
    for (uint32_t r = 0; r < 2; r++) assert_int_equal(atomic_load(&ctl[r].owner_tid), 0);
    free(s.seq_seen);
    tr_close(&f);
}

static void test_ring_rec_emit_copies_payload_and_stamps(void **state)
{
    (void)state;
    struct tr_file f;
    tr_open(&f, 2, 4096, (uint32_t)getpid(), 0, 0);
    struct mt_rec_exit rec = {.c.hdr = {.kind = MT_REC_EXIT, .len = sizeof(rec)}, .status = 42};
    assert_int_equal(rec_emit(&rec.c), 0);
    assert_int_equal(rec.c.seq, 0);
    assert_true(rec.c.t_ns > 0);
    struct mt_rec_common bad = {.hdr = {.kind = MT_REC_EXIT, .len = 12}};
    assert_int_equal(rec_emit(&bad), -1); /* len not a multiple of 8 */
    struct mt_rec_exit *out = (struct mt_rec_exit *)((uint8_t *)f.base + tr_hdr(&f)->data_offset);
    struct mt_ring_ctl *ctl = (struct mt_ring_ctl *)((uint8_t *)f.base + tr_hdr(&f)->hdr_bytes);
    /* the test thread may have claimed either ring */
    if (atomic_load(&ctl[0].head) == 0) out = (struct mt_rec_exit *)((uint8_t *)out + 4096);
    assert_int_equal(out->c.hdr.kind, MT_REC_EXIT);
    assert_int_equal(out->status, 42);
    tr_close(&f);
    assert_int_equal(rec_emit(&rec.c), -1); /* not tracing any more */
}

static void test_ring_dead_collector_detaches_producer(void **state)
{
    (void)state;
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) _exit(0);
    waitpid(child, NULL, 0); /* child's pid now names no process */

    struct tr_file f;
    tr_open(&f, 2, 4096, (uint32_t)child, 0, 0);
    int rc = 0;
    for (uint32_t i = 0; i < 1000 && rc == 0; i++) rc = tr_emit(0, i, 0);
    /* the producer gave up after MT_RING_DETACH_NS instead of hanging */
    assert_int_equal(rc, -1);
    assert_int_equal(atomic_load(&tr_hdr(&f)->state), MT_STATE_DETACHED);
    assert_int_equal(atomic_load(&tr_hdr(&f)->dropped), 0);
    assert_int_equal(tr_emit(0, 0, 0), -1);
    tr_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ring_producers_deliver_every_record_once_in_order),
        cmocka_unit_test(test_ring_full_ring_blocks_producer),
        cmocka_unit_test(test_ring_lossy_mode_counts_drops_and_keeps_seqs_dense),
        cmocka_unit_test(test_ring_threads_announce_and_release_their_ring),
        cmocka_unit_test(test_ring_rec_emit_copies_payload_and_stamps),
        cmocka_unit_test(test_ring_dead_collector_detaches_producer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
