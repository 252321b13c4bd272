/*
 * collect_proc.c — the collector's table of traced process images and their ends
 *
 * One entry per "<pid>.<gen>.ring" file of the session directory. An entry
 * is found (scan), becomes ready once its header checks out (the target
 * writes the magic last), is drained and sampled while the image runs, and
 * is retired once its end is known: final drain, MT_REC_PROC_END, unmap,
 * unlink. Contract: docs/trace-format.md "Rings" and "Crash safety".
 *
 * Design notes — how an image's end is decided (first that applies):
 *   1. `run` reaped the pid (collect_note_exit): the highest gen of that pid
 *      ends EXITED/SIGNALED with the wait status; lower gens end EXEC.
 *   2. A file of the same pid with a higher gen exists: EXEC (the new image
 *      creates its file after execve succeeded, so the old one is gone).
 *   3. kill(pid, 0) says ESRCH (someone else reaped it): EXITED with the
 *      exit_status the preload stored if its state says it exited, else
 *      VANISHED. `run` queues a status before it reaps (waitid WNOWAIT),
 *      so a pid of ours is never taken for vanished.
 *   A ring file is never unlinked while its pid may still run: an exec'd
 *   image must find gen's file to pick gen + 1.
 *
 * SPDX-License-Identifier: MIT
 */
#include "collect/collect_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memtrace/error.h"
#include "memtrace/ring.h"

/* A file whose magic is still 0 after this long belongs to a target that
 * died while creating it (or to something else): report it, skip it. */
#define PROC_INIT_TIMEOUT_NS 5000000000ull

/* ------------------------------------------------------------ helpers */

static void proc_warn(struct collector *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void proc_warn(struct collector *c, const char *fmt, ...)
{
    if (!c->o.warn) return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->o.warn(c->o.warn_ctx, msg);
}

static struct mt_ring_file *proc_file(const struct collect_proc *p)
{
    return p->base;
}

static void proc_unmap(struct collect_proc *p)
{
    if (p->base) munmap(p->base, p->size);
    p->base = NULL;
    if (p->fd >= 0) close(p->fd);
    p->fd = -1;
}

static void proc_mark_bad(struct collector *c, struct collect_proc *p, const char *why)
{
    proc_warn(c, "ring file %s skipped: %s", p->name, why);
    p->bad = true;
    proc_unmap(p);
}

/* Sets p's end from a waitpid status. */
static void proc_end_with_status(struct collect_proc *p, int status)
{
    p->ended = true;
    if (WIFSIGNALED(status)) {
        p->how = MT_END_SIGNALED;
        p->status = WTERMSIG(status);
    } else {
        p->how = MT_END_EXITED;
        p->status = WEXITSTATUS(status);
    }
}

/* ------------------------------------------------------------ find and map */

/* Maps p's file and checks its header (design: magic is written last). */
static void proc_try_ready(struct collector *c, struct collect_proc *p)
{
    if (p->fd < 0) p->fd = openat(c->dir_fd, p->name, O_RDWR | O_CLOEXEC);
    if (p->fd < 0) {
        p->bad = true; /* unlinked under us: nothing to report */
        return;
    }
    struct stat st;
    if (fstat(p->fd, &st) != 0) return;
    uint64_t size = (uint64_t)st.st_size;
    if (p->base && size != p->size) { /* sized after we mapped it */
        munmap(p->base, p->size);
        p->base = NULL;
    }
    if (size >= sizeof(struct mt_ring_file) && !p->base) {
        void *b = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd, 0);
        if (b == MAP_FAILED) return proc_mark_bad(c, p, strerror(errno));
        p->base = b;
        p->size = size;
    }
    int rc = p->base ? collect_ring_check(p->base, p->size) : 1;
    if (rc == 1) {
        if (collect_now_ns() - p->seen_ns > PROC_INIT_TIMEOUT_NS && !p->ended)
            proc_mark_bad(c, p, "never initialised");
        return;
    }
    if (rc < 0) return proc_mark_bad(c, p, mt_strerror(rc));
    if (proc_file(p)->pid != p->pid || proc_file(p)->gen != p->gen)
        return proc_mark_bad(c, p, "header names another process");
    close(p->fd);
    p->fd = -1;
    char path[64];
    snprintf(path, sizeof path, "/proc/%u/statm", p->pid);
    p->statm_fd = open(path, O_RDONLY | O_CLOEXEC);
    p->ready = true;
    c->n_processes++;
}

static struct collect_proc *proc_find(struct collector *c, uint32_t pid, uint32_t gen)
{
    for (struct collect_proc *p = c->procs; p; p = p->next)
        if (p->pid == pid && p->gen == gen) return p;
    return NULL;
}

/* Adds the file name if it is "<pid>.<gen>.ring" and new. */
static void proc_add_name(struct collector *c, const char *name)
{
    unsigned pid, gen;
    int end = 0;
    if (sscanf(name, "%u.%u.ring%n", &pid, &gen, &end) != 2 || name[end] != '\0') return;
    if (strlen(name) >= sizeof((struct collect_proc *)0)->name) return;
    if (proc_find(c, pid, gen)) return;
    struct collect_proc *p = calloc(1, sizeof *p);
    if (!p) return; /* found again at the next scan */
    p->pid = pid;
    p->gen = gen;
    strcpy(p->name, name);
    p->fd = -1;
    p->statm_fd = -1;
    p->seen_ns = collect_now_ns();
    /* appended: older images come first, so they are retired first */
    struct collect_proc **pp = &c->procs;
    while (*pp) pp = &(*pp)->next;
    *pp = p;
    if (gen > 0) c->exec_seen = true;
    proc_try_ready(c, p);
}

void collect_proc_scan(struct collector *c)
{
    int fd = dup(c->dir_fd);
    if (fd < 0) return;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    rewinddir(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') proc_add_name(c, e->d_name);
    closedir(d);
}

void collect_proc_ready_up(struct collector *c)
{
    for (struct collect_proc *p = c->procs; p; p = p->next)
        if (!p->ready && !p->bad) proc_try_ready(c, p);
}

/* ------------------------------------------------------------ drain */

struct proc_sink_ctx {
    struct collector *c;
    struct collect_proc *p;
    uint32_t ring;
};

/* Copies ring bytes into a trace block. After a write error the bytes are
 * dropped (still consumed), so that targets never wait on a dead trace. */
static int proc_sink(void *ctx, const void *bytes, size_t len)
{
    struct proc_sink_ctx *s = ctx;
    struct collector *c = s->c;
    if (c->o.on_block) c->o.on_block(c->o.block_ctx, s->p->pid, s->p->gen, s->ring, bytes, len);
    if (c->err) return 0;
    int rc = trace_writer_block(c->o.w, s->p->pid, s->p->gen, s->ring, bytes, len);
    if (rc) c->err = rc;
    return 0;
}

/* Drains every ring of one ready process. Returns bytes drained. */
static uint64_t proc_drain(struct collector *c, struct collect_proc *p)
{
    struct mt_ring_file *f = proc_file(p);
    uint64_t total = 0;
    struct proc_sink_ctx s = {c, p, 0};
    for (s.ring = 0; s.ring < f->n_rings; s.ring++) {
        int64_t n = collect_ring_drain(p->base, s.ring, proc_sink, &s);
        if (n < 0) {
            proc_mark_bad(c, p, "ring head and tail are inconsistent");
            break;
        }
        total += (uint64_t)n;
    }
    c->bytes_drained += total;
    return total;
}

uint64_t collect_proc_drain_all(struct collector *c)
{
    uint64_t total = 0, now = collect_now_ns();
    for (struct collect_proc *p = c->procs; p; p = p->next) {
        if (!p->ready || p->bad) continue;
        atomic_store_explicit(&proc_file(p)->heartbeat_ns, now, memory_order_relaxed);
        total += proc_drain(c, p);
    }
    return total;
}

/* ------------------------------------------------------------ sampling */

/* Resident bytes from /proc/<pid>/statm; 0 if it cannot be read. */
static uint64_t proc_rss(const struct collector *c, const struct collect_proc *p)
{
    char buf[128];
    if (p->statm_fd < 0) return 0;
    ssize_t n = pread(p->statm_fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return 0;
    buf[n] = '\0';
    unsigned long long size_pages, resident_pages;
    if (sscanf(buf, "%llu %llu", &size_pages, &resident_pages) != 2) return 0;
    return resident_pages * c->page_size;
}

/* Design note 3: the pid is gone and nobody told us how. */
static void proc_end_gone(struct collector *c, struct collect_proc *p)
{
    int status;
    if (collect_exits_find(c, (pid_t)p->pid, &status)) return proc_end_with_status(p, status);
    p->ended = true;
    p->how = MT_END_VANISHED;
    p->status = 0;
    if (!p->ready) return;
    uint32_t state = atomic_load(&proc_file(p)->state);
    if (state == MT_STATE_EXITED || state == MT_STATE_DONE) {
        p->how = MT_END_EXITED;
        p->status = atomic_load(&proc_file(p)->exit_status);
    }
}

static void proc_apply_exec(struct collector *c);

void collect_proc_sample(struct collector *c, uint64_t now_ns)
{
    for (struct collect_proc *p = c->procs; p; p = p->next) {
        if (!p->ready || p->bad || p->ended) continue;
        uint64_t rss = proc_rss(c, p);
        if (rss) {
            struct mt_rec_rss r = {
                .hdr = {.kind = MT_REC_RSS, .len = sizeof r},
                .t_ns = now_ns, .pid = p->pid, .gen = p->gen, .rss = rss,
            };
            collect_write_rec(c, p->pid, p->gen, &r, sizeof r);
        }
        atomic_fetch_add_explicit(&proc_file(p)->mallinfo_req, 1, memory_order_release);
        if (kill((pid_t)p->pid, 0) == 0 || errno != ESRCH) continue;
        /* note 2 before note 3: a later image of the gone pid made its file
         * before the pid died, even if no scan has seen it yet */
        collect_proc_scan(c);
        proc_apply_exec(c);
        if (!p->ended) proc_end_gone(c, p);
    }
}

/* ------------------------------------------------------------ retire */

/* Design note 1 for every queued status. */
static void proc_apply_exits(struct collector *c)
{
    size_t n = 0;
    struct collect_exit *ex = collect_exits_take(c, &n);
    if (!ex) return;
    collect_proc_scan(c); /* files of these pids existed before they died */
    for (size_t i = 0; i < n; i++) {
        struct collect_proc *last = NULL;
        for (struct collect_proc *p = c->procs; p; p = p->next)
            if (p->pid == (uint32_t)ex[i].pid && !p->ended && !p->bad &&
                (!last || p->gen > last->gen))
                last = p;
        if (last) proc_end_with_status(last, ex[i].status);
    }
    free(ex);
}

/* Design note 2 (and lower gens of a reaped pid). */
static void proc_apply_exec(struct collector *c)
{
    if (!c->exec_seen) return; /* quadratic: only after a gen > 0 appeared */
    c->exec_seen = false;
    for (struct collect_proc *p = c->procs; p; p = p->next) {
        if (p->ended || p->bad) continue;
        for (struct collect_proc *q = c->procs; q; q = q->next) {
            if (q->pid != p->pid || q->gen <= p->gen) continue;
            p->ended = true;
            p->how = MT_END_EXEC;
            p->status = 0;
            break;
        }
    }
}

/* Final drain, PROC_END, unmap, unlink. */
static void proc_retire_one(struct collector *c, struct collect_proc *p)
{
    if (p->ready && !p->bad) {
        proc_drain(c, p);
        struct mt_ring_file *f = proc_file(p);
        struct mt_rec_proc_end e = {
            .hdr = {.kind = MT_REC_PROC_END, .len = sizeof e},
            .t_ns = collect_now_ns(), .pid = p->pid, .gen = p->gen, .how = p->how,
            .status = p->status, .dropped = atomic_load(&f->dropped),
            .degraded = atomic_load(&f->degraded),
        };
        if (!p->bad) collect_write_rec(c, p->pid, p->gen, &e, sizeof e);
    }
    proc_unmap(p);
    if (p->statm_fd >= 0) close(p->statm_fd);
    unlinkat(c->dir_fd, p->name, 0);
}

void collect_proc_retire(struct collector *c, bool all)
{
    proc_apply_exits(c);
    proc_apply_exec(c);
    if (all) {
        collect_proc_scan(c);
        collect_proc_ready_up(c);
        proc_apply_exec(c);
        for (struct collect_proc *p = c->procs; p; p = p->next)
            if (!p->ended && !p->bad) proc_end_gone(c, p);
    }
    struct collect_proc **pp = &c->procs;
    while (*pp) {
        struct collect_proc *p = *pp;
        if (!p->ended && !(all && p->bad)) {
            pp = &p->next;
            continue;
        }
        proc_retire_one(c, p);
        *pp = p->next;
        free(p);
    }
}

void collect_proc_free_all(struct collector *c)
{
    while (c->procs) {
        struct collect_proc *p = c->procs;
        c->procs = p->next;
        proc_unmap(p);
        if (p->statm_fd >= 0) close(p->statm_fd);
        free(p);
    }
}
