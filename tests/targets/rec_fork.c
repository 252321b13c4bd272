/*
 * rec_fork.c — a parent and a forked child allocate, each with its own size
 *
 * Target for tests/e2e/run_fork.sh. The parent makes 3 x malloc(30011), then
 * forks. The child makes 5 x malloc(30013) and frees them, frees the first of
 * the 3 blocks it inherited (legal: the child owns its copy), and exits 0.
 * The parent waits for it, then frees its own 3 blocks.
 * argv[1] receives "child <pid> ppid <ppid> inherited 0x<addr>" (from the
 * child) and then "parent <pid> child_status <status>".
 * Expected trace: parent pid: 3 ALLOCs of 30011 and their 3 FREEs, nothing of
 * 30013. Child pid: a PROCESS record with forked=1 and ppid = parent, 5
 * ALLOCs of 30013 and their 5 FREEs, one FREE of the inherited address; no
 * memory errors anywhere. Exit status 0.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static NOINLINE void *rec_fork_parent_alloc(void)
{
    return malloc(30011);
}

static NOINLINE void *rec_fork_child_alloc(void)
{
    return malloc(30013);
}

static NOINLINE int rec_fork_child(const char *out, void *inherited)
{
    void *blocks[5];

    for (int i = 0; i < 5; i++) blocks[i] = rec_fork_child_alloc();
    for (int i = 0; i < 5; i++) free(blocks[i]);
    uintptr_t addr = (uintptr_t)inherited;
    free(inherited);
    FILE *f = fopen(out, "a");
    if (!f) return 2;
    fprintf(f, "child %d ppid %d inherited 0x%jx\n", (int)getpid(), (int)getppid(), (uintmax_t)addr);
    fclose(f);
    return 0;
}

int main(int argc, char **argv)
{
    void *blocks[3];

    if (argc < 2) return 2;
    for (int i = 0; i < 3; i++) {
        blocks[i] = rec_fork_parent_alloc();
        memset(blocks[i], 1, 64);
    }
    fflush(NULL);
    pid_t child = fork();
    if (child < 0) return 1;
    if (child == 0) exit(rec_fork_child(argv[1], blocks[0]));
    int status = 0;
    if (waitpid(child, &status, 0) != child) return 1;
    for (int i = 0; i < 3; i++) free(blocks[i]);
    FILE *f = fopen(argv[1], "a");
    if (!f) return 2;
    fprintf(f, "parent %d child_status %d\n", (int)getpid(), status);
    fclose(f);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
