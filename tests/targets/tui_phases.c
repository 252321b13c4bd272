/*
 * tui_phases.c — allocates in phases that a test paces through files
 *
 * Usage: tui_phases DIR. Each phase writes DIR/phaseN.ready, then waits
 * (polling, at most 120 s) until the test creates DIR/goN, so a test can
 * look at the live view between phases without any timing assumption.
 * Expected figures (tests/e2e/tui_*.sh check them):
 *   phase 1: phase_one() holds 10 blocks of 100000 B (1000000 B live);
 *   phase 2: phase_two() holds 40 blocks of 50000 B (2000000 B), phase
 *            one's blocks are freed, then a block of 48 B from
 *            double_free_site() is freed twice (one double_free error);
 *   phase 3: phase two's blocks are freed but 3 (150000 B); 2 blocks of
 *            64 B from leak_site() are leaked; then exit(0).
 *   Peak heap: 2000000 + 48 B at the end of phase two's allocations,
 *   plus phase one's blocks if freed after: phase two allocates first,
 *   so the peak is 3000000 B, reached in phase two.
 *   Markers (memtrace.h): "phase1", "phase2", "phase3", each put on the
 *   timeline at the end of its phase, before the phase's ready file.
 *
 * SPDX-License-Identifier: MIT
 */
#include <memtrace/memtrace.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *one[10], *two[40], *leaked[2];

static void mark(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f) fclose(f);
}

/* Waits for DIR/name to exist; gives up after 120 s so a broken test ends. */
static void wait_for(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    for (int i = 0; i < 12000 && access(path, F_OK) != 0; i++) usleep(10000);
}

__attribute__((noinline)) static void phase_one(void)
{
    for (int i = 0; i < 10; i++) {
        one[i] = malloc(100000);
        memset(one[i], 1, 100000);
    }
}

__attribute__((noinline)) static void phase_two(void)
{
    for (int i = 0; i < 40; i++) {
        two[i] = malloc(50000);
        memset(two[i], 2, 50000);
    }
}

__attribute__((noinline)) static void double_free_site(void)
{
    char *p = malloc(48);
    p[0] = 1;
    free(p);
    free(p); /* the double free the errors panel must show */
}

__attribute__((noinline)) static void leak_site(void)
{
    for (int i = 0; i < 2; i++) leaked[i] = malloc(64);
    leaked[0] = leaked[1] = NULL; /* definitely lost */
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: tui_phases DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    phase_one();
    memtrace_mark("phase1");
    mark(dir, "phase1.ready");
    wait_for(dir, "go2");
    phase_two();
    for (int i = 0; i < 10; i++) free(one[i]);
    double_free_site();
    memtrace_mark("phase2");
    mark(dir, "phase2.ready");
    wait_for(dir, "go3");
    for (int i = 3; i < 40; i++) free(two[i]);
    leak_site();
    memtrace_mark("phase3");
    mark(dir, "phase3.ready");
    printf("tui_phases done\n");
    return 0;
}
