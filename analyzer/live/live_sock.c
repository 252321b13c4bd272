/*
 * live_sock.c — the session's snapshot socket: server thread and client
 *
 * While a session records, a thread of `memtrace run` listens on
 * <session_dir>/live.sock and answers snapshot and stack requests from
 * `memtrace top` with what live_agg_snapshot()/live_agg_stack() return,
 * encoded by live_snap.c. Docs: docs/tui.md ("Snapshot socket").
 *
 * Design notes
 *   1. Access: the session directory is 0700 and the socket 0600, and
 *      every accepted peer's uid (SO_PEERCRED) must be ours: only the user
 *      who runs the session can read it.
 *   2. Protocol, one exchange at a time per connection: the client writes
 *      a struct live_sock_req; the server answers a struct live_sock_resp
 *      header (status, payload length) and the payload. Both ends are the
 *      same binary, so structs go as they are; a wrong magic or an absurd
 *      length closes the connection.
 *   3. The server thread polls the listening socket, its clients and a
 *      stop pipe; a slow client only delays other clients, never the
 *      collector (snapshots hold the aggregator's lock only to copy).
 *   4. Lazy sessions (live_lazy.c): an accepted viewer wakes the idle
 *      aggregator, and each request first waits until it has caught up
 *      with the trace, so the first answer already has exact figures.
 *
 * SPDX-License-Identifier: MIT
 */
#include "live/live_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "memtrace/error.h"

#define LIVE_SOCK_MAGIC 0x4d544c56u   /* "VLTM": a memtrace top request */
#define LIVE_SOCK_MAX_CLIENTS 8       /* top instances served at once */
#define LIVE_SOCK_MAX_PAYLOAD (256u << 20) /* far above any real snapshot */
#define LIVE_SOCK_TIMEOUT_S 10        /* client gives up on a silent server */
#define LIVE_INFO_NAME "live.info"    /* "<memtrace pid>\n" next to the socket */
#define LIVE_SOCK_READY_MS 5000       /* wait for a lazy catch-up: a sample period
                                         brings a block; half the client's timeout */

enum { LIVE_SOCK_SNAP = 1, LIVE_SOCK_STACK = 2 };

struct live_sock_req {
    uint32_t magic, kind;
    struct live_req req;
    uint32_t pid, gen, stack_id, pad;
};

struct live_sock_resp {
    uint32_t magic;
    int32_t status;   /* 0 or a negative error */
    uint64_t len;     /* payload bytes that follow */
};

struct live_server {
    struct live_agg *agg;  /* borrowed, outlives the server */
    char path[108];        /* socket path */
    char info[4096];       /* live.info path */
    int listen_fd;
    int stop[2];           /* pipe: writing stops the thread */
    pthread_t thread;
};

struct live_client {
    int fd;
};

/* ------------------------------------------------------------ io */

/* Writes or reads all of buf. 0 or -errno (-EPIPE at EOF). */
static int live_io(int fd, void *buf, size_t len, int writing)
{
    char *p = buf;
    while (len) {
        ssize_t n = writing ? send(fd, p, len, MSG_NOSIGNAL) : recv(fd, p, len, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -errno;
        if (n == 0) return -EPIPE;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int live_send_resp(int fd, int status, const char *payload, size_t len)
{
    struct live_sock_resp r = {LIVE_SOCK_MAGIC, status, status ? 0 : len};
    int rc = live_io(fd, &r, sizeof r, 1);
    if (!rc && !status && len) rc = live_io(fd, (void *)payload, len, 1);
    return rc;
}

static uint64_t live_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------ server */

/* Answers one request. 0 to keep the connection, negative to close it. */
static int live_serve_one(struct live_server *s, int fd)
{
    struct live_sock_req q;
    int rc = live_io(fd, &q, sizeof q, 0);
    if (rc) return rc;
    if (q.magic != LIVE_SOCK_MAGIC) return MT_ECORRUPT;
    char *buf = NULL;
    size_t len = 0;
    rc = live_agg_wait_ready(s->agg, LIVE_SOCK_READY_MS); /* note 4 */
    if (!rc && q.kind == LIVE_SOCK_SNAP) {
        struct live_snap snap;
        rc = live_agg_snapshot(s->agg, &q.req, live_mono_ns(), &snap);
        if (!rc) rc = live_snap_encode(&snap, &q.req, &buf, &len);
        live_snap_free(&snap);
    } else if (!rc && q.kind == LIVE_SOCK_STACK) {
        struct live_lines l = {0};
        rc = live_agg_stack(s->agg, q.pid, q.gen, q.stack_id, &l);
        if (!rc) rc = live_lines_encode(&l, &buf, &len);
        live_lines_free(&l);
    } else if (!rc) {
        rc = -EINVAL;
    }
    int wrc = live_send_resp(fd, rc, buf, len);
    free(buf);
    return wrc;
}

/* Design note 1: same uid only. */
static int live_peer_ok(int fd)
{
    struct ucred cr;
    socklen_t n = sizeof cr;
    return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &n) == 0 && cr.uid == getuid();
}

static void *live_server_main(void *arg)
{
    struct live_server *s = arg;
    struct pollfd fds[2 + LIVE_SOCK_MAX_CLIENTS];
    int n_cl = 0;
    fds[0] = (struct pollfd){.fd = s->stop[0], .events = POLLIN};
    fds[1] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
    for (;;) {
        if (poll(fds, (nfds_t)(2 + n_cl), -1) < 0 && errno != EINTR) break;
        if (fds[0].revents) break;
        for (int i = 0; i < n_cl; i++) {
            if (!fds[2 + i].revents) continue;
            if ((fds[2 + i].revents & POLLIN) && live_serve_one(s, fds[2 + i].fd) == 0) continue;
            close(fds[2 + i].fd);
            fds[2 + i] = fds[2 + --n_cl];
            i--;
        }
        if (fds[1].revents & POLLIN) {
            int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
            if (fd < 0) continue;
            if (n_cl == LIVE_SOCK_MAX_CLIENTS || !live_peer_ok(fd)) {
                close(fd);
                continue;
            }
            live_agg_want(s->agg); /* note 4 */
            fds[2 + n_cl++] = (struct pollfd){.fd = fd, .events = POLLIN};
        }
    }
    for (int i = 0; i < n_cl; i++) close(fds[2 + i].fd);
    return NULL;
}

static int live_listen(struct live_server *s)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", s->path);
    s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->listen_fd < 0) return -errno;
    unlink(s->path);
    mode_t old = umask(077); /* note 1: 0600 from the start, no chmod window */
    int rc = bind(s->listen_fd, (struct sockaddr *)&sa, sizeof sa) < 0 ? -errno : 0;
    umask(old);
    if (!rc && listen(s->listen_fd, LIVE_SOCK_MAX_CLIENTS) < 0) rc = -errno;
    return rc;
}

int live_server_start(const char *session_dir, struct live_agg *a, struct live_server **out)
{
    struct live_server *s = calloc(1, sizeof *s);
    if (!s) return -ENOMEM;
    s->agg = a;
    s->listen_fd = s->stop[0] = s->stop[1] = -1;
    int rc = 0;
    if ((size_t)snprintf(s->path, sizeof s->path, "%s/%s", session_dir, LIVE_SOCK_NAME) >=
        sizeof s->path)
        rc = -ENAMETOOLONG;
    snprintf(s->info, sizeof s->info, "%s/%s", session_dir, LIVE_INFO_NAME);
    if (!rc) rc = live_listen(s);
    if (!rc && pipe2(s->stop, O_CLOEXEC) < 0) rc = -errno;
    if (!rc) rc = -pthread_create(&s->thread, NULL, live_server_main, s);
    if (rc) {
        if (s->listen_fd >= 0) close(s->listen_fd), unlink(s->path);
        if (s->stop[0] >= 0) close(s->stop[0]), close(s->stop[1]);
        free(s);
        return rc;
    }
    FILE *f = fopen(s->info, "we");
    if (f) {
        fprintf(f, "%d\n", (int)getpid());
        fclose(f);
    }
    *out = s;
    return 0;
}

void live_server_stop(struct live_server *s)
{
    if (!s) return;
    ssize_t w = write(s->stop[1], "x", 1);
    (void)w;
    pthread_join(s->thread, NULL);
    close(s->listen_fd);
    close(s->stop[0]);
    close(s->stop[1]);
    unlink(s->path);
    unlink(s->info);
    free(s);
}

/* ------------------------------------------------------------ client */

int live_client_open(const char *sock_path, struct live_client **out)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if ((size_t)snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock_path) >= sizeof sa.sun_path)
        return -ENAMETOOLONG;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct timeval tv = {.tv_sec = LIVE_SOCK_TIMEOUT_S};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    struct live_client *c = malloc(sizeof *c);
    if (!c) {
        close(fd);
        return -ENOMEM;
    }
    c->fd = fd;
    *out = c;
    return 0;
}

void live_client_close(struct live_client *c)
{
    if (!c) return;
    close(c->fd);
    free(c);
}

/* One exchange (note 2). OUT: *buf owned by the caller. */
static int live_client_call(struct live_client *c, const struct live_sock_req *q, char **buf,
                            size_t *len)
{
    struct live_sock_resp r;
    int rc = live_io(c->fd, (void *)q, sizeof *q, 1);
    if (!rc) rc = live_io(c->fd, &r, sizeof r, 0);
    if (rc) return rc;
    if (r.magic != LIVE_SOCK_MAGIC || r.len > LIVE_SOCK_MAX_PAYLOAD) return MT_ECORRUPT;
    if (r.status) return r.status;
    *buf = malloc(r.len + 1);
    if (!*buf) return -ENOMEM;
    *len = r.len;
    rc = live_io(c->fd, *buf, r.len, 0);
    if (rc) free(*buf);
    return rc;
}

int live_client_snapshot(struct live_client *c, const struct live_req *req,
                         struct live_snap *out)
{
    struct live_sock_req q = {.magic = LIVE_SOCK_MAGIC, .kind = LIVE_SOCK_SNAP, .req = *req};
    char *buf;
    size_t len;
    int rc = live_client_call(c, &q, &buf, &len);
    if (rc) return rc;
    rc = live_snap_decode(buf, len, out);
    free(buf);
    return rc;
}

int live_client_stack(struct live_client *c, uint32_t pid, uint32_t gen, uint32_t stack_id,
                      struct live_lines *out)
{
    struct live_sock_req q = {.magic = LIVE_SOCK_MAGIC, .kind = LIVE_SOCK_STACK, .pid = pid,
                              .gen = gen, .stack_id = stack_id};
    char *buf;
    size_t len;
    int rc = live_client_call(c, &q, &buf, &len);
    if (rc) return rc;
    rc = live_lines_decode(buf, len, out);
    free(buf);
    return rc;
}

/* ------------------------------------------------------------ finding */

/* 1 if dir holds a ring file of pid or names pid in live.info. */
static int live_dir_has_pid(const char *dir, const char *pid)
{
    char path[4200], buf[32] = "";
    snprintf(path, sizeof path, "%s/%s", dir, LIVE_INFO_NAME);
    FILE *f = fopen(path, "re");
    if (f) {
        if (!fgets(buf, sizeof buf, f)) buf[0] = '\0';
        fclose(f);
        buf[strcspn(buf, "\n")] = '\0';
        if (!strcmp(buf, pid)) return 1;
    }
    DIR *d = opendir(dir);
    if (!d) return 0;
    size_t n = strlen(pid);
    int found = 0;
    for (struct dirent *e; !found && (e = readdir(d));)
        found = !strncmp(e->d_name, pid, n) && e->d_name[n] == '.' && strstr(e->d_name, ".ring");
    closedir(d);
    return found;
}

/* 1 unless dir's live.info names a memtrace that is gone: a session whose
 * memtrace was killed keeps its directory, and counting it would make
 * `memtrace top` refuse to choose ("2 sessions are running"). */
static int live_dir_alive(const char *dir)
{
    char path[4200], buf[32] = "";
    snprintf(path, sizeof path, "%s/%s", dir, LIVE_INFO_NAME);
    FILE *f = fopen(path, "re");
    if (!f) return 1; /* not written yet: a session starting */
    if (!fgets(buf, sizeof buf, f)) buf[0] = '\0';
    fclose(f);
    long pid = strtol(buf, NULL, 10);
    return pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH;
}

/* Appends every live session socket under base matching pid (or all). */
static void live_scan_base(const char *base, const char *pid, char found[][4200], int *n)
{
    DIR *d = base && base[0] ? opendir(base) : NULL;
    if (!d) return;
    for (struct dirent *e; (e = readdir(d)) && *n < 16;) {
        if (strncmp(e->d_name, "memtrace.", 9)) continue;
        char dir[4100], sock[4200];
        snprintf(dir, sizeof dir, "%s/%s", base, e->d_name);
        snprintf(sock, sizeof sock, "%s/%s", dir, LIVE_SOCK_NAME);
        struct stat st;
        if (stat(sock, &st) != 0 || !S_ISSOCK(st.st_mode) || st.st_uid != getuid()) continue;
        if (!live_dir_alive(dir)) continue;
        if (pid && !live_dir_has_pid(dir, pid)) continue;
        snprintf(found[(*n)++], 4200, "%s", sock);
    }
    closedir(d);
}

int live_find_session(const char *target, char *out, size_t len, struct mt_errbuf *eb)
{
    struct stat st;
    if (target && stat(target, &st) == 0) {
        int n = S_ISDIR(st.st_mode) ? snprintf(out, len, "%s/%s", target, LIVE_SOCK_NAME)
                                    : snprintf(out, len, "%s", target);
        return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
    }
    if (target && strspn(target, "0123456789") != strlen(target)) {
        mt_errbuf_set(eb, "%s: no such session directory, socket or pid", target);
        return -ENOENT;
    }
    static char found[16][4200];
    int n = 0;
    const char *bases[] = {getenv("XDG_RUNTIME_DIR"), "/dev/shm", "/tmp"};
    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
        int dup = 0; /* XDG_RUNTIME_DIR may be one of the others */
        for (size_t k = 0; k < i; k++) dup |= bases[k] && bases[i] && !strcmp(bases[k], bases[i]);
        if (!dup) live_scan_base(bases[i], target, found, &n);
    }
    if (n == 0) {
        mt_errbuf_set(eb, target ? "no running memtrace session traces pid %s"
                                 : "no running memtrace session found%s", target ? target : "");
        return -ENOENT;
    }
    if (n > 1) {
        char list[400] = "";
        for (int i = 0; i < n && strlen(list) + strlen(found[i]) + 2 < sizeof list; i++) {
            strcat(list, " ");
            strcat(list, found[i]);
        }
        mt_errbuf_set(eb, "%d sessions are running, name one:%s", n, list);
        return -EEXIST;
    }
    return (size_t)snprintf(out, len, "%s", found[0]) < len ? 0 : -ENAMETOOLONG;
}
