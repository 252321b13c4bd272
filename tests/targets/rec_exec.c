/*
 * rec_exec.c — a process that replaces itself with exec, and one that forks and execs
 *
 * Target for tests/e2e/run_exec.sh. Modes (argv[1]), report file argv[2]:
 *   self      2 x malloc(31013), freed, then execv(/proc/self/exe, stage2):
 *             the same pid becomes exec generation 1;
 *   forkexec  2 x malloc(31013), freed, then fork; the child execs stage2 at
 *             once; the parent waits;
 *   stage2    3 x malloc(31019), freed, writes "stage2 <pid>" to the report,
 *             exits 0.
 * The report also gets "start <pid>" from the first image.
 * Expected trace: 31013 x2 under (start pid, gen 0); 31019 x3 under
 * (stage2 pid, gen 1), which is the start pid in `self` mode and a new pid
 * (child of the start pid) in `forkexec` mode. Exit status 0.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static int rec_note(const char *out, const char *what)
{
    FILE *f = fopen(out, "a");
    if (!f) return 2;
    fprintf(f, "%s %d\n", what, (int)getpid());
    fclose(f);
    return 0;
}

static NOINLINE void rec_exec_alloc(size_t size, int n)
{
    void *blocks[8];

    for (int i = 0; i < n; i++) blocks[i] = malloc(size);
    for (int i = 0; i < n; i++) free(blocks[i]);
}

static void rec_exec_stage2(const char *out)
{
    char *args[] = {"rec_exec", "stage2", (char *)out, NULL};
    execv("/proc/self/exe", args);
    _exit(127);
}

int main(int argc, char **argv)
{
    if (argc < 3) return 2;
    const char *mode = argv[1], *out = argv[2];
    if (!strcmp(mode, "stage2")) {
        rec_exec_alloc(31019, 3);
        return rec_note(out, "stage2");
    }
    if (rec_note(out, "start")) return 2;
    rec_exec_alloc(31013, 2);
    if (!strcmp(mode, "self")) rec_exec_stage2(out);
    if (strcmp(mode, "forkexec")) return 2;
    pid_t child = fork();
    if (child < 0) return 1;
    if (child == 0) rec_exec_stage2(out);
    int status = 0;
    if (waitpid(child, &status, 0) != child) return 1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
