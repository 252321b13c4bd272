/*
 * gate_lsan.c — a program that carries its own __lsan_default_suppressions()
 *
 * Ground truth for tests/unit/test_gate.c (reading the string from the ELF)
 * and tests/e2e/check_suppressions.sh. The function returns a constant
 * list that suppresses the leak made in gate_lsan_ignored().
 * Expected verdicts (memtrace check, default options):
 *   definitely lost  1 block  64 bytes in gate_lsan_ignored  -> suppressed
 *                                  (by the target's own list)
 *   definitely lost  1 block  32 bytes in gate_lsan_kept     -> fails
 * Prints "done" last; exits 0.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>

const char *__lsan_default_suppressions(void)
{
    return "# gate_lsan's own suppressions\nleak:gate_lsan_ignored\nrace:not_ours\n";
}

static void *volatile sink; /* holds each block until its pointer is dropped */

__attribute__((noinline)) void gate_lsan_ignored(void)
{
    sink = malloc(64);
    sink = NULL;
}

__attribute__((noinline)) void gate_lsan_kept(void)
{
    sink = malloc(32);
    sink = NULL;
}

int main(void)
{
    gate_lsan_ignored();
    gate_lsan_kept();
    puts("done");
    return 0;
}
