/*
 * gate_sites.c — leaks chosen on the command line, for gate baselines
 *
 * Ground truth for tests/e2e/check_baseline.sh and check_exit.sh. Each
 * argument is one action, done in order:
 *   a       leak 32 bytes from gate_site_a()    (definitely lost)
 *   b       leak 48 bytes from gate_site_b()    (definitely lost)
 *   keep    keep 100 bytes in a global          (still reachable)
 *   fork    fork a child that leaks 48 bytes from gate_site_b() and
 *           exits 7; the parent waits for it and goes on
 *   exit=N  exit(N) at once
 *   segv    die of SIGSEGV (no leak scan: live blocks are unclassified)
 * With no argument it frees everything it allocates and exits 0 (clean).
 * Prints "done" before a normal exit.
 *
 * SPDX-License-Identifier: MIT
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void *volatile sink; /* holds each block until its pointer is dropped */
static void *kept;          /* still reachable through this global */

__attribute__((noinline)) void gate_site_a(void)
{
    sink = malloc(32);
    sink = NULL;
}

__attribute__((noinline)) void gate_site_b(void)
{
    sink = malloc(48);
    sink = NULL;
}

/* A child that leaks and fails; the parent only waits. */
static void gate_fork(void)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        gate_site_b();
        exit(7);
    }
    if (pid > 0) waitpid(pid, NULL, 0);
}

int main(int argc, char **argv)
{
    void *tmp = malloc(256); /* a clean run still allocates and frees */
    free(tmp);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "a"))
            gate_site_a();
        else if (!strcmp(argv[i], "b"))
            gate_site_b();
        else if (!strcmp(argv[i], "keep"))
            kept = malloc(100);
        else if (!strcmp(argv[i], "fork"))
            gate_fork();
        else if (!strncmp(argv[i], "exit=", 5))
            exit(atoi(argv[i] + 5));
        else if (!strcmp(argv[i], "segv"))
            raise(SIGSEGV);
    }
    puts("done");
    return 0;
}
