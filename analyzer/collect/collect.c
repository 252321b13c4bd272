/*
 * collect.c — the collector thread: poll loop, pacing, frame flushes, shutdown
 *
 * `memtrace run` creates the collector, starts this thread, and calls
 * collect_finish() once waitpid says every process is gone. The thread
 * finds ring files (inotify, plus a readdir fallback), drains every ring of
 * every process into the trace writer, samples RSS/mallinfo each period and
 * retires ended process images (collect_proc.c). Contract:
 * docs/trace-format.md "Rings" and "Crash safety".
 *
 * Design notes
 *   1. Pacing: the collector shares the CPUs with the target. While rings
 *      have data it drains back to back; when a whole pass finds nothing it
 *      sleeps, 200 µs at first, doubling to 1 ms, so an idle target costs
 *      ~1000 wakeups/s and a busy one never waits on us more than 1 ms.
 *   2. Crash safety: a frame is flushed at least every COLLECT_FLUSH_NS, so
 *      a memtrace crash loses at most that much of the trace; the rings
 *      themselves survive in the session directory.
 *   3. Shutdown: finish is only called when no process is left, so the
 *      last pass (scan, drain, retire all) sees every byte ever committed.
 *
 * SPDX-License-Identifier: MIT
 */
#include "collect/collect_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "memtrace/error.h"

#define COLLECT_SLEEP_MIN_NS 200000ull   /* design note 1 */
#define COLLECT_SLEEP_MAX_NS 1000000ull  /* design note 1 */
#define COLLECT_FLUSH_NS 200000000ull    /* design note 2: 200 ms */
#define COLLECT_RESCAN_NS 100000000ull   /* readdir fallback if inotify missed */
#define COLLECT_MAX_EXITS 65536u         /* queued statuses before dropping */

uint64_t collect_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void collect_write_rec(struct collector *c, uint32_t pid, uint32_t gen, const void *rec,
                       size_t len)
{
    if (c->o.on_block) c->o.on_block(c->o.block_ctx, pid, gen, MT_RING_COLLECTOR, rec, len);
    if (c->err) return;
    int rc = trace_writer_block(c->o.w, pid, gen, MT_RING_COLLECTOR, rec, len);
    if (rc) c->err = rc;
}

/* ------------------------------------------------------------ exit queue */

void collect_note_exit(struct collector *c, pid_t pid, int status)
{
    pthread_mutex_lock(&c->mu);
    if (c->n_exits == c->cap_exits) {
        size_t n = c->cap_exits ? c->cap_exits * 2 : 16;
        struct collect_exit *e = n <= COLLECT_MAX_EXITS ? realloc(c->exits, n * sizeof *e) : NULL;
        if (e) {
            c->exits = e;
            c->cap_exits = n;
        } else { /* drop the oldest: its process becomes "vanished" at worst */
            memmove(c->exits, c->exits + 1, (c->n_exits - 1) * sizeof *c->exits);
            c->n_exits--;
        }
    }
    c->exits[c->n_exits++] = (struct collect_exit){.pid = pid, .status = status};
    pthread_mutex_unlock(&c->mu);
}

struct collect_exit *collect_exits_take(struct collector *c, size_t *n)
{
    pthread_mutex_lock(&c->mu);
    struct collect_exit *e = NULL;
    *n = 0;
    if (c->n_exits > 0) {
        e = c->exits;
        *n = c->n_exits;
        c->exits = NULL;
        c->n_exits = c->cap_exits = 0;
    }
    pthread_mutex_unlock(&c->mu);
    return e;
}

int collect_exits_find(struct collector *c, pid_t pid, int *status)
{
    int found = 0;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->n_exits; i++) {
        if (c->exits[i].pid != pid) continue;
        *status = c->exits[i].status;
        c->exits[i] = c->exits[--c->n_exits];
        found = 1;
        break;
    }
    pthread_mutex_unlock(&c->mu);
    return found;
}

/* ------------------------------------------------------------ the loop */

/* True if inotify reported a new file (drains its queue). */
static bool collect_inotify_fired(struct collector *c)
{
    if (c->ino_fd < 0) return false;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    bool fired = false;
    while (read(c->ino_fd, buf, sizeof buf) > 0) fired = true;
    return fired;
}

static void collect_sleep(uint64_t ns)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ns};
    nanosleep(&ts, NULL);
}

static void *collect_main(void *arg)
{
    struct collector *c = arg;
    uint64_t period = (uint64_t)c->o.sample_period_us * 1000u;
    uint64_t now = collect_now_ns();
    uint64_t next_sample = now, last_flush = now, last_scan = 0, sleep_ns = COLLECT_SLEEP_MIN_NS;
    while (!atomic_load_explicit(&c->finishing, memory_order_acquire)) {
        now = collect_now_ns();
        if (collect_inotify_fired(c) || now - last_scan >= COLLECT_RESCAN_NS) {
            collect_proc_scan(c);
            last_scan = now;
        }
        collect_proc_ready_up(c);
        uint64_t drained = collect_proc_drain_all(c);
        if (now >= next_sample) {
            collect_proc_sample(c, now);
            next_sample = now + period;
        }
        collect_proc_retire(c, false);
        if (now - last_flush >= COLLECT_FLUSH_NS) {
            if (!c->err) c->err = trace_writer_flush(c->o.w);
            last_flush = now;
        }
        if (drained > 0) {
            sleep_ns = COLLECT_SLEEP_MIN_NS;
            continue;
        }
        collect_sleep(sleep_ns);
        if (sleep_ns < COLLECT_SLEEP_MAX_NS) sleep_ns *= 2;
        if (sleep_ns > COLLECT_SLEEP_MAX_NS) sleep_ns = COLLECT_SLEEP_MAX_NS;
    }
    /* design note 3 */
    collect_proc_scan(c);
    collect_proc_ready_up(c);
    collect_proc_drain_all(c);
    collect_proc_retire(c, true);
    if (!c->err) c->err = trace_writer_flush(c->o.w);
    return NULL;
}

/* ------------------------------------------------------------ exported */

int collect_create(const struct collect_opts *opts, struct collector **out)
{
    struct collector *c = calloc(1, sizeof *c);
    if (!c) return -ENOMEM;
    c->o = *opts;
    if (c->o.sample_period_us == 0) c->o.sample_period_us = 10000;
    c->dir_fd = open(opts->session_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (c->dir_fd < 0) {
        int rc = -errno;
        free(c);
        return rc;
    }
    c->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (c->ino_fd >= 0 &&
        inotify_add_watch(c->ino_fd, opts->session_dir, IN_CREATE | IN_MOVED_TO) < 0) {
        close(c->ino_fd);
        c->ino_fd = -1; /* the readdir fallback still finds every file */
    }
    long pg = sysconf(_SC_PAGESIZE);
    c->page_size = pg > 0 ? (uint64_t)pg : 4096u;
    pthread_mutex_init(&c->mu, NULL);
    atomic_init(&c->finishing, 0);
    *out = c;
    return 0;
}

int collect_start(struct collector *c)
{
    int rc = pthread_create(&c->thread, NULL, collect_main, c);
    if (rc) return -rc;
    c->started = true;
    return 0;
}

int collect_finish(struct collector *c)
{
    if (!c->started) return c->err;
    atomic_store_explicit(&c->finishing, 1, memory_order_release);
    pthread_join(c->thread, NULL);
    c->started = false;
    return c->err;
}

uint64_t collect_bytes_drained(const struct collector *c)
{
    return c->bytes_drained;
}

uint64_t collect_n_processes(const struct collector *c)
{
    return c->n_processes;
}

void collect_destroy(struct collector *c)
{
    if (!c) return;
    if (c->started) collect_finish(c);
    collect_proc_free_all(c);
    if (c->ino_fd >= 0) close(c->ino_fd);
    close(c->dir_fd);
    pthread_mutex_destroy(&c->mu);
    free(c->exits);
    free(c);
}
