/*
 * collect_session.h — what `memtrace run` sets up around a recording
 *
 * The private session directory the rings live in, the preload library to
 * inject, the program to execute and the environment it gets. Used by
 * analyzer/cli/cmd_run.c; documented in docs/cli.md ("run") and
 * docs/trace-format.md ("Rings").
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMTRACE_COLLECT_SESSION_H
#define MEMTRACE_COLLECT_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "cli/cli.h"

/* Creates a private (0700) session directory under $XDG_RUNTIME_DIR,
 * /dev/shm or /tmp, the first that works; its path goes to out (size
 * len). 0 or -errno (eb says what was tried). */
int collect_session_mkdir(char *out, size_t len, struct mt_errbuf *eb);

/* Removes the session directory and whatever is left in it (rings of
 * processes that could not be retired). Cannot fail (best effort). */
void collect_session_rmdir(const char *dir);

/* Finds libmemtrace.so: $MEMTRACE_PRELOAD, else <bindir>/../lib/
 * libmemtrace.so next to this executable. 0 and out filled, or
 * MT_ENOTFOUND (eb lists where it looked). */
int collect_session_find_preload(char *out, size_t len, struct mt_errbuf *eb);

/* Resolves prog as execvp would (PATH search without a '/'). 0 and out
 * filled; -ENOENT if not found; -EACCES if found but not executable (a
 * directory, or no x bit). */
int collect_session_find_program(const char *prog, char *out, size_t len);

struct collect_env_opts {
    const char *session_dir;
    const char *preload;
    uint32_t collector_pid;
    uint32_t depth;
    int lossy, free_stacks, no_follow_fork;
};

/* Returns a new NULL-terminated environment for the target (owned by the
 * caller; free with collect_session_env_free): the current environment
 * minus the variables set here, plus MEMTRACE_* and LD_PRELOAD with the
 * preload first. *root_pid_slot points at the digits of
 * MEMTRACE_ROOT_PID=, which the child fills after fork (async-signal-safe,
 * collect_session_put_pid). NULL when out of memory. */
char **collect_session_env(const struct collect_env_opts *o, char **root_pid_slot);
void collect_session_env_free(char **env);

/* Writes pid in decimal into slot (room for 10 digits + NUL). Safe in a
 * child between fork and exec. */
void collect_session_put_pid(char *slot, uint32_t pid);

#endif /* MEMTRACE_COLLECT_SESSION_H */
