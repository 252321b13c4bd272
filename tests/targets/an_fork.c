/*
 * an_fork.c — a parent and its forked child leak different blocks
 *
 * Target for tests/e2e/analyze_fork.sh. The parent forks first, so nothing
 * it leaks is inherited. The child leaks 3 x malloc(555) from child_leak()
 * and frees 10 x malloc(64), writes "child <pid>" to argv[1] and exits 0.
 * The parent waits for it, then leaks 2 x malloc(777) from parent_leak(),
 * writes "parent <pid>" to argv[1] and exits 0.
 * Expected verdicts: child pid: 3 leaked blocks, 1665 bytes, at child_leak,
 * nothing at parent_leak; parent pid: 2 leaked blocks, 1554 bytes, at
 * parent_leak, nothing at child_leak; the child's process row has
 * forked = 1 and the parent as parent_proc_id; 0 errors.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static void *volatile an_sink; /* keeps the compiler from dropping mallocs */

static NOINLINE void child_leak(void)
{
    an_sink = malloc(555);
}

static NOINLINE void parent_leak(void)
{
    an_sink = malloc(777);
}

static int an_note(const char *path, const char *who)
{
    FILE *f = fopen(path, "a");
    if (!f) return 1;
    fprintf(f, "%s %d\n", who, (int)getpid());
    return fclose(f) != 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
        for (int i = 0; i < 10; i++) free(malloc(64));
        for (int i = 0; i < 3; i++) child_leak();
        an_sink = NULL;
        exit(an_note(argv[1], "child"));
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) return 1;
    for (int i = 0; i < 2; i++) parent_leak();
    an_sink = NULL;
    return an_note(argv[1], "parent");
}
