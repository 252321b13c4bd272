/*
 * replay_main.c — runs a fuzz target over every file of a corpus directory
 *
 * The suite builds each tests/fuzz/fuzz_<input>.c with this main so that the
 * corpus is replayed by ctest on every run, with or without clang's libFuzzer
 * (scripts/fuzz builds the libFuzzer binaries for real fuzzing). Exit 0 when
 * every input ran; a crash or sanitizer report fails the test.
 *
 * SPDX-License-Identifier: MIT
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads a whole file into a new buffer owned by the caller; NULL on error. */
static uint8_t *replay_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0, got;
    do {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) { free(buf); fclose(f); return NULL; }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    fclose(f);
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    DIR *d = opendir(argv[1]);
    if (!d) {
        fprintf(stderr, "%s: cannot open corpus %s\n", argv[0], argv[1]);
        return 1;
    }
    int n_run = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
        size_t len = 0;
        uint8_t *buf = replay_read(path, &len);
        if (!buf) continue;
        LLVMFuzzerTestOneInput(buf, len);
        free(buf);
        n_run++;
    }
    closedir(d);
    printf("replayed %d inputs\n", n_run);
    return n_run > 0 ? 0 : 1;  /* an empty corpus is a broken test */
}
