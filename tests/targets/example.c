/*
 * example.c — the program the README's quick start records
 *
 * A small "word index" that shows what memtrace reports: a peak made of
 * known sites, temporaries, one leaked list (definitely + indirectly lost),
 * a global cache (still reachable) and one double free that memtrace
 * catches and survives (glibc alone would abort).
 *
 * Expected verdicts: 1 double free; leaks: definitely lost 1 block (the list
 * head, 24 bytes), indirectly lost 9 blocks (216 bytes), still reachable 1
 * block (the cache, 4096 bytes); peak heap includes 64 x 1000-byte pages.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node {
    struct node *next;
    char *word;
    size_t len;
};

static char *cache; /* still reachable at exit */

static struct node *list_build(int n)
{
    struct node *head = NULL;
    for (int i = 0; i < n; i++) {
        struct node *nd = malloc(sizeof *nd);
        nd->next = head;
        nd->word = NULL;
        nd->len = (size_t)i;
        head = nd;
    }
    return head;
}

static void pages_churn(void)
{
    char *pages[64];
    for (int i = 0; i < 64; i++) {
        pages[i] = malloc(1000);
        memset(pages[i], i, 1000);
    }
    for (int i = 0; i < 64; i++) free(pages[i]);
}

static size_t temporaries(int n)
{
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        char *tmp = malloc(32 + (size_t)i);
        snprintf(tmp, 32, "word-%d", i);
        total += strlen(tmp);
        free(tmp);
    }
    return total;
}

int main(void)
{
    cache = malloc(4096);
    pages_churn();
    size_t t = temporaries(100);
    struct node *list = list_build(10);
    list = NULL; /* the whole list is lost here */

    char *twice = malloc(48);
    free(twice);
    free(twice); /* double free: reported, not fatal under memtrace */

    printf("example done (%zu chars, list %p)\n", t, (void *)list);
    return 0;
}
