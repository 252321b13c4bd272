/*
 * test_ring_wait.c — a producer on a full ring sleeps announced and is woken by the drain
 *
 * One producer thread writes more records than its 4 KiB ring holds through
 * the real producer code (preload/ring.c); the test thread plays the
 * collector with collect_ring_drain() (analyzer/collect/collect_ring.c).
 * Checks ring.h note 3's waiting protocol: while the producer is blocked
 * the ring's waiting word is set and the file counts a wait; draining lets
 * it finish with nothing lost and the word cleared. No timing is asserted
 * (the deadlines only keep a broken build from hanging).
 * Contract: include/memtrace/ring.h, docs/trace-format.md "Rings".
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "collect/collect.h"
#include "preload_int.h"

#define RW_RING_BYTES 4096u /* smallest ring: 64 ALLOC records */
#define RW_RECORDS 1000u    /* ~16 rings' worth: the producer must wait */
#define RW_DEADLINE_MS 20000 /* hang guard only */

struct rw_producer {
    uint32_t written;  /* OUT: records accepted */
    _Atomic int done;  /* set when the loop ended */
};

static void *rw_produce(void *arg)
{
    struct rw_producer *p = arg;
    for (uint32_t i = 0; i < RW_RECORDS; i++) {
        struct mt_rec_alloc *r = (struct mt_rec_alloc *)ring_reserve(
            MT_REC_ALLOC, sizeof(struct mt_rec_alloc), 0);
        if (r == NULL) break;
        memset((uint8_t *)r + sizeof(r->c), 0, sizeof(*r) - sizeof(r->c));
        r->size = i;
        ring_commit(&r->c);
        p->written++;
    }
    atomic_store(&p->done, 1);
    return NULL;
}

static void rw_sleep_ms(int ms)
{
    struct timespec ts = {0, (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* Counts whole records drained. */
static int rw_sink(void *ctx, const void *bytes, size_t len)
{
    uint64_t *n = ctx;
    for (size_t off = 0; off + sizeof(struct mt_rec_hdr) <= len;) {
        const struct mt_rec_hdr *h = (const void *)((const uint8_t *)bytes + off);
        if (h->kind == MT_REC_ALLOC) (*n)++;
        off += h->len;
    }
    return 0;
}

static void test_ring_wait_blocked_producer_is_announced_and_woken(void **state)
{
    (void)state;
    char path[] = "/tmp/mt-test-ring-wait.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    uint64_t size = mt_ring_file_size(2, RW_RING_BYTES);
    assert_int_equal(ftruncate(fd, (off_t)size), 0);
    void *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    assert_true(base != MAP_FAILED);
    ring_file_init(base, (uint32_t)getpid(), 0, 2, RW_RING_BYTES, (uint32_t)getpid());
    ring_attach(base, size, 0);
    ring_proc.announce = 0;
    struct mt_ring_file *f = base;
    struct mt_ring_ctl *ctl = (struct mt_ring_ctl *)((uint8_t *)base + f->hdr_bytes);

    struct rw_producer p = {0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, rw_produce, &p), 0);
    int waited_ms = 0;
    while (!atomic_load(&ctl[0].waiting) && waited_ms < RW_DEADLINE_MS) {
        rw_sleep_ms(1);
        waited_ms++;
    }
    assert_int_equal(atomic_load(&ctl[0].waiting), 1); /* blocked, and said so */
    assert_false(atomic_load(&p.done));
    assert_true(atomic_load(&f->waits) >= 1);

    uint64_t drained = 0;
    for (waited_ms = 0; !atomic_load(&p.done) && waited_ms < RW_DEADLINE_MS; waited_ms++) {
        assert_true(collect_ring_drain(base, 0, rw_sink, &drained) >= 0);
        rw_sleep_ms(1);
    }
    pthread_join(th, NULL);
    assert_true(collect_ring_drain(base, 0, rw_sink, &drained) >= 0);
    assert_int_equal(p.written, RW_RECORDS);
    assert_int_equal(drained, RW_RECORDS);
    assert_int_equal(atomic_load(&ctl[0].waiting), 0);
    ring_detach();
    munmap(base, size);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ring_wait_blocked_producer_is_announced_and_woken),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
