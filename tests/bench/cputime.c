/*
 * cputime.c — runs a command and reports its wall time and its own CPU apart from its children's
 *
 * scripts/bench measures memtrace's own CPU (its collector, the live view,
 * the trace writer) apart from the traced program's. getrusage and wait4
 * fold waited-for children into a process's figures, so this waits for the
 * command with waitid(WNOWAIT), reads the zombie's /proc/PID/stat (utime +
 * stime: its own threads; cutime + cstime: the children it reaped, i.e.
 * the program memtrace ran), then reaps it. Not part of ctest.
 *
 *   cputime [-p PIDFILE] -o OUTFILE -- command args...
 *
 * PIDFILE receives the command's pid as soon as it runs (written to a
 * temporary name, then renamed). OUTFILE gets one line,
 * "wall=<s> self=<s> children=<s>" (seconds, clock-tick resolution for the
 * CPU figures). Exit status: the command's, 128+signal when it was killed.
 *
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double cputime_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Own and children's CPU seconds of pid (a zombie not yet reaped). 0 or -1. */
static int cputime_of(pid_t pid, double *self, double *children)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p) return -1;
    unsigned long long v[4];
    /* after ")": state(3) ppid pgrp session tty tpgid flags minflt cminflt
     * majflt cmajflt(12) utime(14) stime cutime cstime(17) */
    if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu", &v[0],
               &v[1], &v[2], &v[3]) != 4)
        return -1;
    double hz = (double)sysconf(_SC_CLK_TCK);
    *self = (double)(v[0] + v[1]) / hz;
    *children = (double)(v[2] + v[3]) / hz;
    return 0;
}

static void cputime_put_pid(const char *pidfile, pid_t pid)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", pidfile);
    FILE *f = fopen(tmp, "w");
    if (!f) return;
    fprintf(f, "%d\n", (int)pid);
    fclose(f);
    rename(tmp, pidfile);
}

int main(int argc, char **argv)
{
    const char *pidfile = NULL, *outfile = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "+p:o:")) != -1) {
        if (opt == 'p') pidfile = optarg;
        else if (opt == 'o') outfile = optarg;
        else return 2;
    }
    if (!outfile || optind >= argc) {
        fprintf(stderr, "usage: cputime [-p PIDFILE] -o OUTFILE -- command args...\n");
        return 2;
    }
    double t0 = cputime_now();
    pid_t pid = fork();
    if (pid < 0) return perror("fork"), 1;
    if (pid == 0) {
        execvp(argv[optind], argv + optind);
        fprintf(stderr, "cputime: %s: %s\n", argv[optind], strerror(errno));
        _exit(127);
    }
    if (pidfile) cputime_put_pid(pidfile, pid);
    siginfo_t si;
    while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0)
        if (errno != EINTR) return perror("waitid"), 1;
    double wall = cputime_now() - t0, self = -1, children = -1;
    int rc = cputime_of(pid, &self, &children);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return perror("waitpid"), 1;
    FILE *f = fopen(outfile, "w");
    if (!f) return perror(outfile), 1;
    if (rc == 0) fprintf(f, "wall=%.3f self=%.3f children=%.3f\n", wall, self, children);
    else fprintf(f, "wall=%.3f self=- children=-\n", wall);
    fclose(f);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
