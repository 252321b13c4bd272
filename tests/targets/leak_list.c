/*
 * leak_list.c — a lost linked list and a kept one
 *
 * Leak-scan ground truth for tests/e2e/leaks_valgrind.sh. Nodes are 32
 * bytes. The lost list's head pointer is dropped, so the head has no
 * pointer at all and the other nodes are reachable only from it; the kept
 * list hangs off a global.
 * Expected verdicts (program's own blocks; glibc's stdout buffer adds one
 * still reachable block in both tools):
 *   definitely lost  1 block    32 bytes  (lost head)
 *   indirectly lost  9 blocks  288 bytes  (rest of the lost list)
 *   still reachable  5 blocks  160 bytes  (kept list)
 * Prints "done" last.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node {
    struct node *next;
    char payload[24];
};

static struct node *kept; /* root of the still reachable list */

static __attribute__((noinline)) struct node *list_build(int n)
{
    struct node *head = NULL;
    for (int i = 0; i < n; i++) {
        struct node *x = malloc(sizeof(*x));
        memset(x->payload, 'a' + i, sizeof(x->payload));
        x->next = head;
        head = x;
    }
    return head;
}

/* Overwrites the dead stack below main so no stale copy of a pointer survives. */
static __attribute__((noinline)) void scrub_stack(void)
{
    volatile char pad[16384];
    memset((char *)pad, 0, sizeof(pad));
}

static __attribute__((noinline)) void lose_list(void)
{
    struct node *head = list_build(10);
    head = NULL; /* the only pointer to the head is gone */
    (void)head;
}

int main(void)
{
    lose_list();
    kept = list_build(5);
    scrub_stack();
    printf("done\n");
    return 0;
}
