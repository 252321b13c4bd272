/*
 * collect_int.h — state shared by the collector's files (private to analyzer/collect)
 *
 * collect.c runs the thread and its loop; collect_proc.c keeps the table of
 * process images (one per ring file) and decides when each has ended. Only
 * the collector thread touches struct collect_proc; the exit queue is the
 * one thing other threads write, under collector.mu.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMTRACE_COLLECT_INT_H
#define MEMTRACE_COLLECT_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "collect/collect.h"

/* One "<pid>.<gen>.ring" file and the process image behind it. */
struct collect_proc {
    uint32_t pid, gen;
    char name[48];          /* file name inside the session dir */
    int fd;                 /* owned until the header checks out, then -1 */
    void *base;             /* owned mapping, NULL until mapped */
    uint64_t size;          /* bytes mapped */
    int statm_fd;           /* owned: /proc/<pid>/statm, -1 if unavailable */
    bool ready;             /* header checked: drained and sampled */
    bool bad;               /* reported once, skipped for good */
    uint64_t seen_ns;       /* when the file was found (init timeout) */
    bool ended;             /* end decided; retired after a final drain */
    uint32_t how;           /* enum mt_end_how, once ended */
    int32_t status;         /* exit code or signal, once ended */
    struct collect_proc *next;
};

/* A status reaped by `run` (collect_note_exit). */
struct collect_exit {
    pid_t pid;
    int status; /* as from waitpid */
};

struct collector {
    struct collect_opts o;
    int dir_fd;                  /* owned: the session directory */
    int ino_fd;                  /* owned inotify fd, -1 if unavailable */
    pthread_t thread;
    bool started;
    atomic_int finishing;        /* set by collect_finish */
    pthread_mutex_t mu;          /* guards exits */
    struct collect_exit *exits;  /* owned */
    size_t n_exits, cap_exits;
    struct collect_proc *procs;  /* owned list, thread only */
    uint64_t bytes_drained;      /* ring bytes copied to the trace */
    uint64_t n_processes;        /* process images that were traced */
    int err;                     /* first trace write error */
    bool exec_seen;              /* a gen > 0 file was found since the last check */
    uint64_t page_size;
};

/* Monotonic clock in ns. Cannot fail. */
uint64_t collect_now_ns(void);

/* Reads the session directory and adds a process for every new ring file;
 * maps what is ready. Reports bad files once through o.warn. */
void collect_proc_scan(struct collector *c);

/* Retries mapping/validation of found but not yet ready files. */
void collect_proc_ready_up(struct collector *c);

/* Drains every ring of every ready process. Returns bytes drained. */
uint64_t collect_proc_drain_all(struct collector *c);

/* Per sample period: RSS records, mallinfo requests, liveness checks. */
void collect_proc_sample(struct collector *c, uint64_t now_ns);

/* Applies reaped statuses and exec successors, then retires every ended
 * process: final drain, MT_REC_PROC_END, unmap, unlink. With all set,
 * every process still present is ended first (session over). */
void collect_proc_retire(struct collector *c, bool all);

/* Takes the queued statuses; *n gets their count. Returns a new array
 * owned by the caller (free()), NULL if none. */
struct collect_exit *collect_exits_take(struct collector *c, size_t *n);

/* Looks up and removes a queued status for pid. 1 and *status if found. */
int collect_exits_find(struct collector *c, pid_t pid, int *status);

/* Writes one collector record for (pid, gen); remembers a write error. */
void collect_write_rec(struct collector *c, uint32_t pid, uint32_t gen, const void *rec,
                       size_t len);

/* Frees every process (unmap, close), without writing. */
void collect_proc_free_all(struct collector *c);

#endif /* MEMTRACE_COLLECT_INT_H */
