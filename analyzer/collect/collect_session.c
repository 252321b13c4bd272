/*
 * collect_session.c — session directory, preload lookup, program lookup, target env
 *
 * Everything `memtrace run` prepares before the target starts. The session
 * directory is private (0700, mkdtemp) because anyone who can write a ring
 * file into it can write records into the trace. The preload is put FIRST
 * in LD_PRELOAD: a preload that is already there (jemalloc, tcmalloc) would
 * otherwise win symbol lookup and hide every allocation from memtrace,
 * while first in the list we see each call and forward it to theirs
 * through RTLD_NEXT. Docs: docs/cli.md ("run").
 *
 * SPDX-License-Identifier: MIT
 */
#include "collect/collect_session.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "memtrace/error.h"
#include "memtrace/ring.h"

extern char **environ;

/* The default PATH of execvp when PATH is unset (glibc). */
#define SESSION_DEFAULT_PATH "/bin:/usr/bin"
/* MEMTRACE_ROOT_PID= is followed by this many bytes for the child's pid. */
#define SESSION_PID_DIGITS 11
/* An empty session directory this old lost its memtrace before its program
 * started; one that is younger may be a session being set up. */
#define SESSION_STALE_S 600

/* True if pid names no process (kill says ESRCH). */
static int session_pid_gone(uint32_t pid)
{
    return pid == 0 || (kill((pid_t)pid, 0) != 0 && errno == ESRCH);
}

/* Unlinks the ring files in dir whose collector and process are both dead,
 * and removes dir if that left it empty, or if it is empty and older than
 * SESSION_STALE_S (a memtrace killed before its program started). A live
 * session always has a live collector, so it is never touched. */
static void session_reap_dir(int base_fd, const char *name)
{
    int fd = openat(base_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return;
    struct stat st;
    DIR *d = fstat(fd, &st) == 0 && st.st_uid == getuid() ? fdopendir(fd) : NULL;
    if (!d) {
        close(fd);
        return;
    }
    int n_left = 0, n_reaped = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        struct mt_ring_file h;
        int rfd = openat(fd, e->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        int stale = rfd >= 0 && pread(rfd, &h, sizeof h, 0) == (ssize_t)sizeof h &&
                    h.magic == MT_RING_MAGIC && h.collector_pid != 0 &&
                    session_pid_gone(h.collector_pid) &&
                    session_pid_gone(h.pid);
        if (rfd >= 0) close(rfd);
        if (stale && unlinkat(fd, e->d_name, 0) == 0) n_reaped++;
        else n_left++;
    }
    closedir(d);
    if (n_left == 0 && (n_reaped > 0 || time(NULL) - st.st_mtime > SESSION_STALE_S))
        unlinkat(base_fd, name, AT_REMOVEDIR);
}

/* Cleans up after memtrace processes that died (SIGKILL, crash) and left
 * their session directory, with its ring files, in base. Best effort. */
static void session_reap_stale(const char *base)
{
    DIR *d = opendir(base);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (!strncmp(e->d_name, "memtrace.", 9)) session_reap_dir(dirfd(d), e->d_name);
    closedir(d);
}

int collect_session_mkdir(char *out, size_t len, struct mt_errbuf *eb)
{
    const char *bases[] = {getenv("XDG_RUNTIME_DIR"), "/dev/shm", "/tmp"};
    int rc = -ENOENT;
    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
        if (!bases[i] || !bases[i][0]) continue;
        if ((size_t)snprintf(out, len, "%s/memtrace.XXXXXX", bases[i]) >= len) continue;
        session_reap_stale(bases[i]);
        if (mkdtemp(out)) return 0; /* mkdtemp creates it 0700 */
        rc = -errno;
    }
    mt_errbuf_set(eb, "cannot create a session directory in $XDG_RUNTIME_DIR, /dev/shm or /tmp: %s",
                  mt_strerror(rc));
    return rc;
}

void collect_session_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            unlinkat(dirfd(d), e->d_name, 0);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* 0 if path is a readable ELF file, else -errno (-ENOEXEC: not ELF). A
 * directory or a text file would only make ld.so print a warning and run
 * the program untraced. */
static int session_check_elf(const char *path)
{
    char magic[4];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    ssize_t n = read(fd, magic, sizeof magic);
    int rc = n < 0 ? -errno : n == 4 && !memcmp(magic, "\x7f" "ELF", 4) ? 0 : -ENOEXEC;
    close(fd);
    return rc;
}

int collect_session_find_preload(char *out, size_t len, struct mt_errbuf *eb)
{
    const char *env = getenv("MEMTRACE_PRELOAD");
    if (env && env[0]) {
        int rc = session_check_elf(env);
        if (rc == 0 && (size_t)snprintf(out, len, "%s", env) < len) return 0;
        mt_errbuf_set(eb, "MEMTRACE_PRELOAD=%s: %s", env,
                      rc == -ENOEXEC ? "not a shared library" : strerror(rc ? -rc : ENAMETOOLONG));
        return MT_ENOTFOUND;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        mt_errbuf_set(eb, "cannot find libmemtrace.so: /proc/self/exe unreadable; set MEMTRACE_PRELOAD");
        return MT_ENOTFOUND;
    }
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) *slash = '\0';
    char cand[PATH_MAX + 32];
    snprintf(cand, sizeof cand, "%s/../lib/libmemtrace.so", exe);
    char real[PATH_MAX];
    if (realpath(cand, real) && access(real, R_OK) == 0 &&
        (size_t)snprintf(out, len, "%s", real) < len)
        return 0;
    mt_errbuf_set(eb, "cannot find libmemtrace.so (looked at %s); set MEMTRACE_PRELOAD", cand);
    return MT_ENOTFOUND;
}

/* 0 if path is an executable regular file, -EACCES if it exists but is
 * not, -ENOENT if it does not exist. */
static int session_check_exec(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) return errno == ENOENT || errno == ENOTDIR ? -ENOENT : -EACCES;
    if (!S_ISREG(st.st_mode) || access(path, X_OK) != 0) return -EACCES;
    return 0;
}

int collect_session_find_program(const char *prog, char *out, size_t len)
{
    if (!prog[0]) return -ENOENT;
    if (strchr(prog, '/')) {
        if ((size_t)snprintf(out, len, "%s", prog) >= len) return -ENAMETOOLONG;
        return session_check_exec(out);
    }
    const char *path = getenv("PATH");
    if (!path) path = SESSION_DEFAULT_PATH;
    int rc = -ENOENT;
    for (const char *p = path;; p++) {
        const char *end = strchrnul(p, ':');
        int dlen = (int)(end - p);
        /* an empty PATH element means the current directory */
        if ((size_t)snprintf(out, len, "%.*s%s%s", dlen, p, dlen ? "/" : "./", prog) < len) {
            int r = session_check_exec(out);
            if (r == 0) return 0;
            if (r == -EACCES) rc = -EACCES; /* like execvp: remember, keep looking */
        }
        if (!*end) break;
        p = end;
    }
    return rc;
}

/* "NAME=value" as a new string; NULL when out of memory. */
static char *session_kv(const char *name, const char *value)
{
    size_t n = strlen(name) + strlen(value) + 2;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s=%s", name, value);
    return s;
}

/* Variables this file sets, removed from the inherited environment. */
static int session_is_ours(const char *kv)
{
    static const char *const ours[] = {
        "LD_PRELOAD", MT_ENV_SESSION, MT_ENV_COLLECTOR_PID, MT_ENV_DEPTH, MT_ENV_LOSSY,
        MT_ENV_FREE_STACKS, MT_ENV_NO_FOLLOW, MT_ENV_ROOT_PID,
    };
    for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++) {
        size_t n = strlen(ours[i]);
        if (!strncmp(kv, ours[i], n) && kv[n] == '=') return 1;
    }
    return 0;
}

char **collect_session_env(const struct collect_env_opts *o, char **root_pid_slot)
{
    size_t n_env = 0;
    while (environ[n_env]) n_env++;
    char **env = calloc(n_env + 10, sizeof *env);
    if (!env) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n_env; i++)
        if (!session_is_ours(environ[i])) env[k++] = strdup(environ[i]);
    const char *old = getenv("LD_PRELOAD");
    char num[32], pre[PATH_MAX * 2];
    snprintf(pre, sizeof pre, "%s%s%s", o->preload, old && old[0] ? ":" : "", old ? old : "");
    env[k++] = session_kv("LD_PRELOAD", pre);
    env[k++] = session_kv(MT_ENV_SESSION, o->session_dir);
    snprintf(num, sizeof num, "%u", o->collector_pid);
    env[k++] = session_kv(MT_ENV_COLLECTOR_PID, num);
    snprintf(num, sizeof num, "%u", o->depth);
    env[k++] = session_kv(MT_ENV_DEPTH, num);
    if (o->lossy) env[k++] = session_kv(MT_ENV_LOSSY, "1");
    if (o->free_stacks) env[k++] = session_kv(MT_ENV_FREE_STACKS, "1");
    if (o->no_follow_fork) env[k++] = session_kv(MT_ENV_NO_FOLLOW, "1");
    char *slot = session_kv(MT_ENV_ROOT_PID, "           "); /* SESSION_PID_DIGITS */
    env[k++] = slot;
    for (size_t i = 0; i < k; i++) {
        if (env[i]) continue;
        for (size_t j = 0; j < k; j++) free(env[j]); /* some are NULL: fine */
        free(env);
        return NULL;
    }
    *root_pid_slot = slot + strlen(MT_ENV_ROOT_PID) + 1;
    return env;
}

void collect_session_env_free(char **env)
{
    if (!env) return;
    for (size_t i = 0; env[i]; i++) free(env[i]);
    free(env);
}

void collect_session_put_pid(char *slot, uint32_t pid)
{
    char tmp[SESSION_PID_DIGITS];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + pid % 10);
        pid /= 10;
    } while (pid && n < SESSION_PID_DIGITS - 1);
    for (int i = 0; i < n; i++) slot[i] = tmp[n - 1 - i];
    slot[n] = '\0';
}
