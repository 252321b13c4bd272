/*
 * leak_tree.c — a binary tree whose root is lost
 *
 * Leak-scan ground truth for tests/e2e/leaks_valgrind.sh. A complete tree
 * of depth 4 (15 nodes of 48 bytes); the only pointer to the root is
 * dropped, so the root is definitely lost and every other node is reachable
 * only through it.
 * Expected verdicts (program's own blocks; glibc's stdout buffer adds one
 * still reachable block in both tools):
 *   definitely lost   1 block    48 bytes  (root)
 *   indirectly lost  14 blocks  672 bytes  (the other nodes)
 * Prints "done" last.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tree {
    struct tree *left, *right;
    long key;
    char pad[24];
};

static __attribute__((noinline)) struct tree *tree_build(int depth, long key)
{
    if (depth == 0)
        return NULL;
    struct tree *t = calloc(1, sizeof(*t));
    t->key = key;
    t->left = tree_build(depth - 1, key * 2);
    t->right = tree_build(depth - 1, key * 2 + 1);
    return t;
}

static __attribute__((noinline)) void scrub_stack(void)
{
    volatile char pad[16384];
    memset((char *)pad, 0, sizeof(pad));
}

static __attribute__((noinline)) long lose_tree(void)
{
    struct tree *root = tree_build(4, 1);
    long k = root->left->key + root->right->key;
    root = NULL;
    return k;
}

int main(void)
{
    long k = lose_tree();
    scrub_stack();
    printf("done %ld\n", k);
    return 0;
}
