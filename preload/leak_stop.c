/*
 * leak_stop.c — stop the other threads for the leak scan and record their registers (target)
 *
 * leak_roots.c calls leak_stop_world() once the module list is taken and
 * leak_start_world() when the graph is classified. No malloc, no stdio: the
 * thread slots come from arena_alloc() and stay (a late handler may still
 * touch them), /proc is read with open/read. Contract: docs/leaks.md.
 *
 * Design notes
 *   1. States of a slot: IDLE -> SIGNALLED (tgkill sent, or the thread
 *      blocks the signal: never sent) -> ARRIVED (handler saved registers,
 *      waits on the release futex) -> LEFT (released, or gave up after
 *      LEAK_HOLD_MAX_NS so a vanished scanner never strands the program).
 *   2. The scanner waits LEAK_STOP_WAIT_NS at most for ARRIVED; a thread
 *      still SIGNALLED is scanned from the stack pointer its
 *      /proc/self/task/T/syscall shows, without registers.
 *   3. The old action is restored only after every ARRIVED thread LEFT; if
 *      some thread never took its signal, SIG_IGN is set first so the
 *      pending signal is discarded instead of delivered to the old action
 *      (SIG_DFL of a realtime signal terminates the process).
 *
 * SPDX-License-Identifier: MIT
 */
#include "leak.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "preload_int.h"

/* ------------------------------------------------------------------ *
 * Types
 * ------------------------------------------------------------------ */

#define LEAK_STOP_SIG (SIGRTMAX - 2)     /* glibc keeps 32/33; programs favour SIGRTMIN+n */
#define LEAK_STOP_WAIT_NS 500000000ull   /* 0.5 s for all threads to answer */
#define LEAK_HOLD_MAX_NS 10000000000ull  /* a stopped thread gives up after 10 s */
#define LEAK_MAX_THREADS 4096u           /* threads we stop; the rest are scanned whole */

enum leak_th_state { LEAK_TH_IDLE, LEAK_TH_SIGNALLED, LEAK_TH_ARRIVED, LEAK_TH_LEFT };

static struct {
    struct leak_thread *threads; /* arena memory, kept forever (handlers may lag) */
    uint32_t cap;                /* slots in threads */
    _Atomic uint32_t n;          /* slots in use */
    _Atomic uint32_t release;    /* futex word: 1 = stopped threads may go */
    struct sigaction old;        /* action to restore */
} leak_stop;

/* ------------------------------------------------------------------ *
 * Helpers: time, futex, parsing (parsers shared with leak_roots.c)
 * ------------------------------------------------------------------ */

uint64_t leak_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void leak_sleep_ns(uint64_t ns)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ns};
    nanosleep(&ts, NULL);
}

static void leak_futex_wait(_Atomic uint32_t *word, uint32_t val, uint64_t ns)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ns};
    syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val, &ts, NULL, 0);
}

/* Parses hex digits at *p, advancing it. */
uint64_t leak_parse_hex(const char **p)
{
    uint64_t v = 0;
    const char *s = *p;
    if (s[0] == '0' && s[1] == 'x')
        s += 2;
    for (;; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (*s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else
            break;
        v = v << 4 | d;
    }
    *p = s;
    return v;
}

const char *leak_parse_skip(const char *s)
{
    while (*s && *s != ' ')
        s++;
    while (*s == ' ')
        s++;
    return s;
}

/* Formats a decimal into out (at least 12 bytes); returns its end. */
static char *leak_dec(char *out, uint32_t v)
{
    char tmp[12];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *out++ = tmp[--n];
    *out = 0;
    return out;
}

/* ------------------------------------------------------------------ *
 * Stopping the other threads
 * ------------------------------------------------------------------ */

static struct leak_thread *leak_thread_of(int32_t tid)
{
    uint32_t n = atomic_load_explicit(&leak_stop.n, memory_order_acquire);
    for (uint32_t i = 0; i < n; i++)
        if (atomic_load_explicit(&leak_stop.threads[i].tid, memory_order_relaxed) == tid)
            return &leak_stop.threads[i];
    return NULL;
}

/* Signal handler, on a stopped thread: save the registers, say so, wait for
 * the release (bounded, so a vanished scanner never strands the program). */
static void leak_stop_handler(int sig, siginfo_t *si, void *uctx)
{
    int saved_errno = errno;
    struct leak_thread *t = NULL;

    if (si->si_code == SI_TKILL && si->si_pid == getpid())
        t = leak_thread_of((int32_t)syscall(SYS_gettid));
    if (t != NULL && atomic_load_explicit(&t->state, memory_order_acquire) == LEAK_TH_SIGNALLED) {
        const ucontext_t *uc = uctx;
        uint64_t fs;
        __asm__ volatile("mov %%fs:0, %0" : "=r"(fs)); /* glibc: TCB self pointer */
        memcpy(t->regs, uc->uc_mcontext.gregs, sizeof(t->regs));
        t->sp = (uint64_t)uc->uc_mcontext.gregs[REG_RSP];
        t->fs = fs;
        t->has_regs = 1;
        atomic_store_explicit(&t->state, LEAK_TH_ARRIVED, memory_order_release);
        uint64_t waited = 0;
        while (!atomic_load_explicit(&leak_stop.release, memory_order_acquire) &&
               waited < LEAK_HOLD_MAX_NS) {
            leak_futex_wait(&leak_stop.release, 0, 10000000);
            waited += 10000000;
        }
        atomic_store_explicit(&t->state, LEAK_TH_LEFT, memory_order_release);
    }
    errno = saved_errno;
}

/* 1 if thread tid blocks the stop signal (SigBlk in its status file): it
 * would never answer, so it is not signalled nor waited for. */
static int leak_sig_blocked(int32_t tid)
{
    char buf[2048];
    char path[48] = "/proc/self/task/";
    char *e = leak_dec(path + strlen(path), (uint32_t)tid);
    memcpy(e, "/status", 8);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    long len = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (len <= 0)
        return 0;
    buf[len] = 0;
    const char *p = strstr(buf, "\nSigBlk:");
    if (p == NULL)
        return 0;
    p += 9;
    while (*p == ' ' || *p == '\t')
        p++;
    return (leak_parse_hex(&p) >> (LEAK_STOP_SIG - 1)) & 1;
}

/* Sends the stop signal to every thread in /proc/self/task but this one;
 * returns how many were signalled. */
static uint32_t leak_signal_all(char *buf, size_t buf_bytes)
{
    int32_t self = (int32_t)syscall(SYS_gettid);
    pid_t pid = getpid();
    uint32_t n_sent = 0;
    int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0)
        return 0;
    for (;;) {
        long len = syscall(SYS_getdents64, fd, buf, buf_bytes);
        if (len <= 0)
            break;
        for (long off = 0; off < len;) {
            struct dirent64 *d = (struct dirent64 *)(buf + off);
            off += d->d_reclen;
            const char *p = d->d_name;
            int32_t tid = 0;
            while (*p >= '0' && *p <= '9')
                tid = tid * 10 + (*p++ - '0');
            uint32_t i = atomic_load_explicit(&leak_stop.n, memory_order_relaxed);
            if (tid <= 0 || tid == self || i >= leak_stop.cap)
                continue;
            struct leak_thread *t = &leak_stop.threads[i];
            atomic_store_explicit(&t->tid, tid, memory_order_relaxed);
            atomic_store_explicit(&t->state, LEAK_TH_SIGNALLED, memory_order_relaxed);
            atomic_store_explicit(&leak_stop.n, i + 1, memory_order_release);
            if (leak_sig_blocked(tid))
                continue; /* stays SIGNALLED: scanned from its syscall stack pointer */
            if (syscall(SYS_tgkill, pid, tid, LEAK_STOP_SIG) == 0)
                n_sent++;
            else /* exited meanwhile */
                atomic_store_explicit(&t->state, LEAK_TH_IDLE, memory_order_relaxed);
        }
    }
    close(fd);
    return n_sent;
}

/* Stack pointer of a thread that did not answer, from /proc/self/task/T/syscall
 * ("nr a1..a6 sp pc" while blocked in a system call); 0 if unknown. */
static uint64_t leak_blocked_sp(char *buf, int32_t tid)
{
    char path[48] = "/proc/self/task/";
    char *e = leak_dec(path + strlen(path), (uint32_t)tid);
    memcpy(e, "/syscall", 9);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    long len = read(fd, buf, 255);
    close(fd);
    if (len <= 0 || buf[0] < '0' || buf[0] > '9')
        return 0; /* "running" or "-1 ..." */
    buf[len] = 0;
    const char *p = buf;
    for (int field = 0; field < 7; field++)
        p = leak_parse_skip(p);
    return leak_parse_hex(&p);
}

/* Installs the handler and stops every other thread; 0, or -errno when the
 * handler could not be installed (nothing is stopped then). */
int leak_stop_world(char *buf, size_t buf_bytes)
{
    struct sigaction sa;

    if (leak_stop.threads == NULL) {
        leak_stop.threads = arena_alloc(LEAK_MAX_THREADS * sizeof(struct leak_thread));
        if (leak_stop.threads == NULL)
            return -ENOMEM;
        leak_stop.cap = LEAK_MAX_THREADS;
    }
    atomic_store(&leak_stop.n, 0);
    atomic_store(&leak_stop.release, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = leak_stop_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask);
    if (sigaction(LEAK_STOP_SIG, &sa, &leak_stop.old) != 0)
        return -errno;
    uint32_t n_sent = leak_signal_all(buf, buf_bytes);
    uint64_t deadline = leak_now_ns() + LEAK_STOP_WAIT_NS;
    for (uint32_t arrived = 0; arrived < n_sent && leak_now_ns() < deadline;) {
        leak_sleep_ns(100000);
        arrived = 0;
        for (uint32_t i = 0; i < atomic_load(&leak_stop.n); i++)
            arrived += atomic_load(&leak_stop.threads[i].state) == LEAK_TH_ARRIVED;
    }
    for (uint32_t i = 0; i < atomic_load(&leak_stop.n); i++) {
        struct leak_thread *t = &leak_stop.threads[i];
        if (atomic_load(&t->state) == LEAK_TH_SIGNALLED)
            t->sp = leak_blocked_sp(buf, atomic_load(&t->tid));
    }
    return 0;
}

/* Lets the stopped threads go and restores the program's action. */
void leak_start_world(void)
{
    struct sigaction ign;
    int stragglers = 0;

    atomic_store_explicit(&leak_stop.release, 1, memory_order_release);
    syscall(SYS_futex, &leak_stop.release, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
    uint64_t deadline = leak_now_ns() + LEAK_STOP_WAIT_NS;
    for (uint32_t i = 0; i < atomic_load(&leak_stop.n); i++) {
        struct leak_thread *t = &leak_stop.threads[i];
        while (atomic_load(&t->state) == LEAK_TH_ARRIVED && leak_now_ns() < deadline)
            leak_sleep_ns(100000);
        stragglers |= atomic_load(&t->state) == LEAK_TH_SIGNALLED;
    }
    if (stragglers) { /* discard the still pending signal before the old action returns */
        memset(&ign, 0, sizeof(ign));
        ign.sa_handler = SIG_IGN;
        sigaction(LEAK_STOP_SIG, &ign, NULL);
    }
    sigaction(LEAK_STOP_SIG, &leak_stop.old, NULL);
}

uint32_t leak_stop_n(void)
{
    return atomic_load_explicit(&leak_stop.n, memory_order_acquire);
}

const struct leak_thread *leak_stop_at(uint32_t idx)
{
    return &leak_stop.threads[idx];
}
