/*
 * proc.c — life of a traced process image: init, ring file, fork, exit
 *
 * The first hook call (or the library constructor, whichever comes first)
 * runs proc_init(): resolve the real allocator, read the MEMTRACE_*
 * environment (ring.h), create "<session>/<pid>.<gen>.ring" and write
 * PROCESS, THREAD and MODULE records. Later: pthread_atfork gives a forked
 * child its own file, an on_exit handler writes EXIT and runs the leak scan,
 * the library destructor marks the file DONE. Contract page: docs/preload.md.
 *
 * Design notes
 *   1. States of the file (ring.h enum mt_proc_state): RUNNING at creation;
 *      EXITED in the on_exit handler after EXIT and the leak scan; DONE in
 *      the library destructor (tracing stops); DETACHED from ring.c when the
 *      collector is gone.
 *   2. Init may be deferred: a malloc from the loader before libc set up
 *      `environ` cannot know the session; it is served and entered in the
 *      live table (untraced), and init is retried on the next call.
 *   3. fork child: the parent's file is unmapped, TLS claims go stale (ring
 *      epoch), a new file gen is created for the new pid and PROCESS says
 *      FORKED with the parent's next stack/module ids as watermarks; the
 *      stack and module tables themselves are inherited unchanged.
 *   4. mallinfo2() walks every free chunk of every arena under the arena
 *      locks: on a fragmented heap (100 000 free chunks) one call takes
 *      milliseconds, and one per collector period took the whole program's
 *      time (an_late: 34-70 s instead of 0.3 s). So a request that comes
 *      sooner than PROC_MALLINFO_BACKOFF times the last call's duration
 *      after it is acknowledged without a sample: sampling costs the
 *      program at most ~2 %, and the timeline's intervals without a sample
 *      have no mallinfo figures (NULL), never stale ones.
 *
 * SPDX-License-Identifier: MIT
 */
#include "preload_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- state */

/* Design note 4: at least this many times a sample's duration between two. */
#define PROC_MALLINFO_BACKOFF 50u

#define PROC_ARGV_MAX (32u << 10) /* argv bytes kept in PROCESS; rest truncated */
#define PROC_GEN_MAX 100000u      /* give up creating a file after this many gens */

_Atomic int proc_init_state;
int proc_live_on = 1;
int proc_free_stacks;

static struct {
    char session[PATH_MAX];  /* MEMTRACE_SESSION */
    uint32_t depth;          /* MEMTRACE_DEPTH */
    uint32_t n_rings;        /* MEMTRACE_RINGS */
    uint32_t ring_bytes;     /* MEMTRACE_RING_BYTES */
    uint32_t collector_pid;  /* MEMTRACE_COLLECTOR_PID */
    uint32_t root_pid;       /* MEMTRACE_ROOT_PID (NO_FOLLOW) */
    int lossy;               /* MEMTRACE_LOSSY=1 */
    int no_follow;           /* MEMTRACE_NO_FOLLOW_FORK=1 */
    uint32_t pid;            /* pid of the traced image */
    uint32_t gen;            /* its generation */
    void *base;              /* mapped ring file, owned */
    uint64_t size;           /* its size */
    char *argv_buf;          /* arena, PROC_ARGV_MAX bytes */
    _Atomic int mallinfo_busy; /* one sampler at a time */
    uint64_t mallinfo_next_ns; /* no sample before (note 4); under mallinfo_busy */
    _Atomic int exit_ran;    /* proc_on_exit finished */
    _Atomic int dtor_ran;    /* proc_dtor ran */
} proc;

extern char **environ;

/* ------------------------------------------------------------ helpers */

static uint32_t proc_env_u32(const char *name, uint32_t dflt)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0') return dflt;
    char *end;
    unsigned long n = strtoul(v, &end, 10);
    return (*end != '\0' || n > UINT32_MAX) ? dflt : (uint32_t)n;
}

static int proc_env_flag(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && v[0] == '1' && v[1] == '\0';
}

/* Appends the decimal n to dst at *len (no stdio). */
static void proc_put_u32(char *dst, size_t *len, uint32_t n)
{
    char tmp[12];
    int i = 0;
    do tmp[i++] = (char)('0' + n % 10); while ((n /= 10) != 0);
    while (i > 0) dst[(*len)++] = tmp[--i];
}

/* Reads the environment once; returns 1 when this image is to be traced. */
static int proc_config(void)
{
    const char *s = getenv(MT_ENV_SESSION);
    if (s == NULL || *s == '\0' || strlen(s) > PATH_MAX - 32) return 0;
    strcpy(proc.session, s);
    proc.depth = proc_env_u32(MT_ENV_DEPTH, STACK_DEFAULT_DEPTH);
    proc.n_rings = proc_env_u32(MT_ENV_RINGS, MT_RING_DEFAULT_RINGS);
    proc.ring_bytes = proc_env_u32(MT_ENV_RING_BYTES, MT_RING_DEFAULT_BYTES);
    if (proc.n_rings < 1 || proc.n_rings > 4096) proc.n_rings = MT_RING_DEFAULT_RINGS;
    if (proc.ring_bytes < 4096 || (proc.ring_bytes & (proc.ring_bytes - 1)))
        proc.ring_bytes = MT_RING_DEFAULT_BYTES;
    proc.collector_pid = proc_env_u32(MT_ENV_COLLECTOR_PID, 0);
    proc.lossy = proc_env_flag(MT_ENV_LOSSY);
    proc_free_stacks = proc_env_flag(MT_ENV_FREE_STACKS);
    proc.no_follow = proc_env_flag(MT_ENV_NO_FOLLOW);
    proc.root_pid = proc_env_u32(MT_ENV_ROOT_PID, (uint32_t)getpid());
    if (proc_env_flag(MT_ENV_NO_ERRORS)) proc_live_on = 0; /* hooks.c design note 4 */
    return !proc.no_follow || (uint32_t)getpid() == proc.root_pid;
}

/* Creates and maps the next free "<pid>.<gen>.ring"; 0 or -errno. */
static int proc_file_open(void)
{
    char path[PATH_MAX];
    size_t base_len = strlen(proc.session);
    uint64_t size = mt_ring_file_size(proc.n_rings, proc.ring_bytes);
    int fd = -1;

    memcpy(path, proc.session, base_len);
    path[base_len++] = '/';
    for (uint32_t gen = 0; gen < PROC_GEN_MAX && fd < 0; gen++) {
        size_t len = base_len;
        proc_put_u32(path, &len, proc.pid);
        path[len++] = '.';
        proc_put_u32(path, &len, gen);
        memcpy(path + len, ".ring", 6);
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST) return -errno;
        proc.gen = gen;
    }
    if (fd < 0) return -EEXIST;
    if (ftruncate(fd, (off_t)size) < 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    void *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int rc = base == MAP_FAILED ? -errno : 0;
    close(fd);
    if (rc < 0) return rc;
    proc.base = base;
    proc.size = size;
    return 0;
}

/* Reads /proc/self/cmdline into proc.argv_buf; returns bytes (NUL-terminated). */
static uint32_t proc_read_argv(uint32_t max)
{
    if (proc.argv_buf == NULL) proc.argv_buf = arena_alloc(PROC_ARGV_MAX);
    if (proc.argv_buf == NULL || max == 0) return 0;
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    uint32_t len = 0;
    for (;;) {
        ssize_t n = read(fd, proc.argv_buf + len, max - len);
        if (n <= 0) break;
        len += (uint32_t)n;
        if (len == max) break;
    }
    close(fd);
    if (len == max) proc.argv_buf[len - 1] = '\0'; /* truncated: keep it a string */
    return len;
}

/* The MT_OPT_* of this image for its PROCESS record (trace_format.h):
 * without the live table nothing judges a free and no scan runs, and the
 * analyzer must say "not checked" rather than count zero errors. */
static uint32_t proc_opt_flags(void)
{
    return (proc.lossy ? MT_OPT_LOSSY : 0) | (proc_free_stacks ? MT_OPT_FREE_STACKS : 0) |
           (proc_live_on ? 0 : MT_OPT_NO_ERRORS);
}

static void proc_write_process(uint16_t flags, uint32_t ppid, uint32_t parent_gen,
                               uint32_t stack_wm, uint32_t module_wm)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = '\0';
    uint32_t exe_len = (uint32_t)strlen(exe) + 1;
    uint32_t room = ring_max_record() - sizeof(struct mt_rec_process) - exe_len - MT_REC_ALIGN;
    uint32_t argv_len = proc_read_argv(room < PROC_ARGV_MAX ? room : PROC_ARGV_MAX);
    uint32_t len = sizeof(struct mt_rec_process) + exe_len + argv_len;
    len = (len + MT_REC_ALIGN - 1) & ~(MT_REC_ALIGN - 1);

    struct mt_rec_process *r = (struct mt_rec_process *)ring_reserve(MT_REC_PROCESS, len, 0);
    if (r == NULL) return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    memset((uint8_t *)r + sizeof(r->c), 0, len - sizeof(r->c));
    r->c.hdr.flags = flags;
    *r = (struct mt_rec_process){
        .c = r->c, .pid = proc.pid, .ppid = ppid, .gen = proc.gen, .parent_gen = parent_gen,
        .stack_watermark = stack_wm, .module_watermark = module_wm, .exe_len = exe_len,
        .argv_len = argv_len,
        .start_real_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec,
        .max_depth = stack_depth(),
        .opt_flags = proc_opt_flags()};
    memcpy((char *)(r + 1), exe, exe_len);
    memcpy((char *)(r + 1) + exe_len, proc.argv_buf, argv_len);
    ring_commit(&r->c);
}

/* Opens the file and writes the opening records; 0 or -errno. */
static int proc_start(uint16_t flags, uint32_t ppid, uint32_t parent_gen, uint32_t stack_wm,
                      uint32_t module_wm)
{
    proc.pid = (uint32_t)getpid();
    int rc = proc_file_open();
    if (rc < 0) return rc;
    if (proc.gen > 0 && !(flags & MT_PROC_F_FORKED)) flags |= MT_PROC_F_EXEC;
    ring_file_init(proc.base, proc.pid, proc.gen, proc.n_rings, proc.ring_bytes,
                   proc.collector_pid);
    ring_proc.announce = 0; /* PROCESS must be the first record (seq 0) */
    ring_attach(proc.base, proc.size, proc.lossy);
    proc_write_process(flags, ppid, parent_gen, stack_wm, module_wm);
    ring_proc.announce = 1;
    ring_announce_thread();
    return 0;
}

/* Last record written: tracing stops, the collector may finish the file. */
static void proc_done(void)
{
    struct mt_ring_file *f = ring_proc.file;
    if (f == NULL) return;
    atomic_store(&ring_proc.tracing, 0);
    uint32_t st = atomic_load(&f->state);
    while (st != MT_STATE_DETACHED && !atomic_compare_exchange_weak(&f->state, &st, MT_STATE_DONE)) {
    }
}

static void proc_on_exit(int status, void *arg)
{
    (void)arg;
    if (ring_proc.file == NULL || !atomic_load(&ring_proc.tracing)) return;
    tls_state.guard++;
    struct mt_rec_exit *r = (struct mt_rec_exit *)ring_reserve(MT_REC_EXIT, sizeof(*r), 0);
    if (r != NULL) {
        r->status = status;
        r->pad = 0;
        ring_commit(&r->c);
    }
    atomic_store(&ring_proc.file->exit_status, status);
    tls_state.guard--;
    if (leak_scan_run && proc_live_on && !getenv(MT_ENV_NO_LEAK_SCAN)) leak_scan_run();
    uint32_t st = MT_STATE_RUNNING;
    atomic_compare_exchange_strong(&ring_proc.file->state, &st, MT_STATE_EXITED);
    atomic_store(&proc.exit_ran, 1);
    if (atomic_load(&proc.dtor_ran)) proc_done();
}

static void proc_fork_child(void)
{
    uint32_t ppid = proc.pid, parent_gen = proc.gen;
    int was_tracing = ring_proc.file != NULL && atomic_load(&ring_proc.tracing);

    tls_state.guard++;
    stack_fork_child();
    mod_fork_child();
    tls_state.tid = 0;
    ring_detach();
    if (proc.base != NULL) munmap(proc.base, proc.size);
    proc.base = NULL;
    if (was_tracing && (!proc.no_follow || (uint32_t)getpid() == proc.root_pid)) {
        if (proc_start(MT_PROC_F_FORKED, ppid, parent_gen, stack_next_id(), mod_next_id()) < 0)
            ring_degrade(MT_DEGRADED_ARENA);
    } else {
        proc_live_on = 0;
    }
    tls_state.guard--;
}

/* Everything after the environment said "trace": tables, handlers, file. */
static void proc_setup(void)
{
    uint64_t lo = 0, hi = 0;
    mod_range_of((const void *)&proc_setup, &lo, &hi);
    if (stack_init(proc.depth, lo, hi, 0) < 0) ring_degrade(MT_DEGRADED_ARENA);
    pthread_atfork(NULL, NULL, proc_fork_child);
    on_exit(proc_on_exit, NULL);
    if (proc_start(0, (uint32_t)getppid(), 0, 0, 0) < 0) {
        proc_live_on = 0;
        return;
    }
    mod_scan_all();
}

/* ------------------------------------------------------------ exported */

void proc_init(void)
{
    int expect = PROC_INIT_NONE;
    if (!atomic_compare_exchange_strong(&proc_init_state, &expect, PROC_INIT_BUSY)) {
        while (atomic_load_explicit(&proc_init_state, memory_order_acquire) == PROC_INIT_BUSY)
            sched_yield(); /* another thread initialises */
        return;
    }
    int saved = errno;
    tls_state.guard++;
    if (hook_resolve() < 0 || environ == NULL) {
        atomic_store(&proc_init_state, PROC_INIT_NONE); /* design note 2 */
    } else {
        if (proc_config()) proc_setup();
        else proc_live_on = 0;
        atomic_store_explicit(&proc_init_state, PROC_INIT_DONE, memory_order_release);
    }
    tls_state.guard--;
    errno = saved;
}

void proc_mallinfo_poll(void)
{
    struct mt_ring_file *f = ring_proc.file;
    if (f == NULL || atomic_exchange(&proc.mallinfo_busy, 1)) return;
    uint32_t req = atomic_load(&f->mallinfo_req);
    uint64_t t0 = req != atomic_load(&f->mallinfo_done) ? ring_now_ns() : 0;
    if (t0 && t0 >= proc.mallinfo_next_ns) {
        struct mallinfo2 mi = mallinfo2();
        uint64_t t1 = ring_now_ns();
        proc.mallinfo_next_ns = t1 + PROC_MALLINFO_BACKOFF * (t1 - t0);
        struct mt_rec_mallinfo *r =
            (struct mt_rec_mallinfo *)ring_reserve(MT_REC_MALLINFO, sizeof(*r), 1);
        if (r != NULL) {
            r->arena = mi.arena;
            r->ordblks = mi.ordblks;
            r->hblks = mi.hblks;
            r->hblkhd = mi.hblkhd;
            r->uordblks = mi.uordblks;
            r->fordblks = mi.fordblks;
            r->keepcost = mi.keepcost;
            ring_commit(&r->c);
        }
    }
    if (t0) atomic_store(&f->mallinfo_done, req); /* sampled, or skipped (note 4) */
    atomic_store(&proc.mallinfo_busy, 0);
}

__attribute__((constructor)) static void proc_ctor(void)
{
    if (atomic_load(&proc_init_state) != PROC_INIT_DONE) proc_init();
}

/* glibc registers _dl_fini (which runs this) after our on_exit handler was
 * registered by the constructor, so at exit() this usually runs FIRST; the
 * file is DONE only once both have run. */
__attribute__((destructor)) static void proc_dtor(void)
{
    atomic_store(&proc.dtor_ran, 1);
    if (atomic_load(&proc.exit_ran)) proc_done();
}
