/*
 * collect_ring.c — consumer side of the shared-memory rings (runs in memtrace)
 *
 * The other half of preload/ring.c. collect_ring_check() decides whether a
 * mapped "<pid>.<gen>.ring" file can be trusted; collect_ring_drain() copies
 * a ring's committed bytes out and frees the space. Nothing here parses
 * records: bytes go to the trace as they are (trace_format.h), and wakes a
 * producer sleeping on the full ring it just emptied. Protocol:
 * include/memtrace/ring.h design notes 3-4; docs/trace-format.md "Rings".
 *
 * SPDX-License-Identifier: MIT
 */
#include "collect/collect.h"

#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "memtrace/error.h"
#include "memtrace/ring.h"

/* Largest geometry we accept: 4096 rings of 1 GiB would be absurd, but
 * these bounds only guard the arithmetic below against a forged header. */
#define COLLECT_MAX_RINGS 4096u
#define COLLECT_MAX_RING_BYTES (1u << 30)

/* A producer that found the ring full sleeps on tail's low word after
 * setting waiting (ring.h note 3); the fence orders our tail store before
 * the load of waiting, so either it sees the new tail or we see it waiting. */
static void collect_ring_wake(struct mt_ring_ctl *ctl)
{
    atomic_thread_fence(memory_order_seq_cst);
    if (!atomic_load_explicit(&ctl->waiting, memory_order_relaxed)) return;
    syscall(SYS_futex, (uint32_t *)&ctl->tail, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

int collect_ring_check(const void *base, uint64_t file_size)
{
    const struct mt_ring_file *f = base;
    if (file_size < sizeof *f) return 1; /* not sized yet */
    /* magic is stored last, with release (preload/ring.c ring_file_init) */
    uint64_t magic = __atomic_load_n(&f->magic, __ATOMIC_ACQUIRE);
    if (magic == 0) return 1;
    if (magic != MT_RING_MAGIC) return MT_EBADMAGIC;
    if (f->version != MT_RING_VERSION) return MT_EVERSION;
    uint32_t n = f->n_rings, rb = f->ring_bytes;
    if (n == 0 || n > COLLECT_MAX_RINGS || rb < 64 || rb > COLLECT_MAX_RING_BYTES ||
        (rb & (rb - 1)) != 0)
        return MT_ECORRUPT;
    if (f->hdr_bytes < sizeof *f ||
        f->hdr_bytes + (uint64_t)n * sizeof(struct mt_ring_ctl) > f->data_offset)
        return MT_ECORRUPT;
    if (f->data_offset + (uint64_t)n * rb > file_size) return MT_ECORRUPT;
    return 0;
}

int64_t collect_ring_drain(void *file_base, uint32_t ring_idx,
                           int (*sink)(void *ctx, const void *bytes, size_t len), void *ctx)
{
    struct mt_ring_file *f = file_base;
    char *base = file_base;
    struct mt_ring_ctl *ctl =
        (struct mt_ring_ctl *)(base + f->hdr_bytes) + ring_idx;
    uint64_t head = atomic_load_explicit(&ctl->head, memory_order_acquire);
    uint64_t tail = atomic_load_explicit(&ctl->tail, memory_order_relaxed);
    if (head == tail) return 0;
    uint64_t size = f->ring_bytes;
    uint64_t n = head - tail;
    if (head < tail || n > size || n % 8u) return MT_ECORRUPT;
    const char *data = base + f->data_offset + (uint64_t)ring_idx * size;
    uint64_t off = tail & (size - 1);
    uint64_t first = size - off < n ? size - off : n;
    int rc = sink(ctx, data + off, first);
    if (rc < 0) return rc;
    if (n > first) {
        /* The producer pads to the end of the ring, so the first part ended
         * on a record boundary and the rest starts at offset 0. */
        rc = sink(ctx, data, n - first);
        if (rc < 0) return rc;
    }
    atomic_store_explicit(&ctl->tail, head, memory_order_release);
    collect_ring_wake(ctl);
    return (int64_t)n;
}
