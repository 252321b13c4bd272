/*
 * fuzz_trace.c — fuzz target for the trace reader (analyzer/trace/)
 *
 * Feeds arbitrary bytes to trace_reader_open/next as a file (a memfd, so no
 * disk I/O) and touches every byte of every record handed out, so that a
 * reader that trusted a bad length shows up under ASan. The contract under
 * test: any input yields records and then 0, or one negative error; never a
 * crash, a hang or a leak. Corpus: tests/fuzz/corpus/trace/ (valid,
 * truncated and garbage files). Format: docs/trace-format.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "trace/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Sums every byte of a record so that ASan sees each one read. */
static uint64_t fuzz_touch(const struct mt_rec_hdr *rec)
{
    const uint8_t *p = (const uint8_t *)rec;
    uint64_t sum = 0;
    for (uint32_t i = 0; i < rec->len; i++) sum += p[i];
    return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz_trace", MFD_CLOEXEC);
    if (fd < 0) return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    struct trace_reader *r = NULL;
    struct mt_errbuf eb;
    if (trace_reader_open(path, &r, &eb) == 0) {
        struct trace_event ev;
        volatile uint64_t sink = 0;
        while (trace_reader_next(r, &ev, &eb) == 1) {
            sink += fuzz_touch(ev.rec);
            sink += (uint64_t)strlen(trace_kind_name(ev.rec->kind));
        }
        uint64_t off;
        sink += (uint64_t)trace_reader_truncated(r, &off) + trace_reader_seq_holes(r);
        (void)sink;
        trace_reader_close(r);
    }
    close(fd);
    return 0;
}
