/*
 * db_spill.c — rows that missed their turn, kept sorted in bounded memory
 *
 * The bulk B-tree (db_bulk.c) takes rows in rising rowid order only. The
 * few that come after their turn (an allocation that outlived the writer's
 * ordering window, the leaks drained at the end) wait here, and are
 * inserted through SQL once the table is spliced, in rowid order: SQLite
 * then walks its B-tree forward instead of jumping (in random order, its
 * small page cache made every insert read and write a page).
 *
 * An external merge sort: rows fill a memory buffer; a full buffer is
 * sorted and written to the spill file as one run; db_spill_each() merges
 * the runs and the last buffer. Memory is the buffer plus a read buffer
 * per run while merging. The file is unlinked as soon as it is made.
 *
 * SPDX-License-Identifier: MIT
 */
#include "db/db_bulk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DB_SPILL_ENT_HDR 12        /* rowid (8) and length (4) before each record in a run */
#define DB_SPILL_READ (256u << 10) /* read buffer per run while merging */

/* ------------------------------------------------------------ types */

/* A row in the memory buffer. */
struct db_spill_ent {
    int64_t rowid;
    uint32_t off, len; /* its record in mem */
};

/* A sorted run in the file. */
struct db_spill_run {
    off_t off;
    off_t end;
};

/* Merge cursor over one run. */
struct db_spill_rd {
    off_t pos, end; /* unread part of the run in the file */
    uint8_t *buf;   /* owned */
    size_t cap, have, at;
    int64_t rowid; /* the current row, valid while !done */
    const uint8_t *rec;
    uint32_t len;
    int done;
};

struct db_spill {
    char *path;   /* owned: where the file is made */
    int fd;       /* -1 until the first run */
    uint8_t *mem; /* owned: records of the buffered rows */
    size_t mem_cap, mem_used;
    struct db_spill_ent *ent; /* owned */
    size_t n_ent, cap_ent;
    struct db_spill_run *run; /* owned */
    size_t n_run, cap_run;
    off_t file_end;
    uint64_t n_rows;
};

/* ------------------------------------------------------------ writing runs */

static int db_spill_cmp(const void *a, const void *b)
{
    int64_t x = ((const struct db_spill_ent *)a)->rowid,
            y = ((const struct db_spill_ent *)b)->rowid;
    return (x > y) - (x < y);
}

static int db_spill_file(struct db_spill *s)
{
    if (s->fd >= 0) return 0;
    s->fd = open(s->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (s->fd < 0) return -errno;
    unlink(s->path); /* anonymous from now on */
    return 0;
}

/* Appends len bytes (a run's part) at the end of the file. */
static int db_spill_append(struct db_spill *s, const void *buf, size_t len)
{
    int rc = db_file_write(s->fd, buf, len, s->file_end);
    s->file_end += (off_t)len;
    return rc;
}

/* Sorts the buffered rows and writes them as one run, through a buffer of
 * DB_SPILL_READ bytes; empties the memory buffer. */
static int db_spill_flush(struct db_spill *s)
{
    int rc = db_spill_file(s);
    if (!rc && s->n_run == s->cap_run) {
        size_t cap = s->cap_run ? s->cap_run * 2 : 8;
        struct db_spill_run *n = realloc(s->run, cap * sizeof *n);
        if (!n) return -ENOMEM;
        s->run = n;
        s->cap_run = cap;
    }
    uint8_t *out = rc ? NULL : malloc(DB_SPILL_READ);
    if (!rc && !out) rc = -ENOMEM;
    qsort(s->ent, s->n_ent, sizeof *s->ent, db_spill_cmp);
    off_t start = s->file_end;
    size_t used = 0;
    for (size_t i = 0; i < s->n_ent && !rc; i++) {
        const struct db_spill_ent *e = &s->ent[i];
        size_t size = DB_SPILL_ENT_HDR + e->len;
        if (used && used + size > DB_SPILL_READ) {
            rc = db_spill_append(s, out, used);
            used = 0;
        }
        uint8_t *h = size > DB_SPILL_READ ? out : out + used; /* a huge one goes alone */
        memcpy(h, &e->rowid, 8);
        memcpy(h + 8, &e->len, 4);
        if (size > DB_SPILL_READ) {
            if (!rc) rc = db_spill_append(s, h, DB_SPILL_ENT_HDR);
            if (!rc) rc = db_spill_append(s, s->mem + e->off, e->len);
            continue;
        }
        memcpy(h + DB_SPILL_ENT_HDR, s->mem + e->off, e->len);
        used += size;
    }
    if (!rc && used) rc = db_spill_append(s, out, used);
    free(out);
    if (rc) return rc;
    s->run[s->n_run++] = (struct db_spill_run){.off = start, .end = s->file_end};
    s->n_ent = 0;
    s->mem_used = 0;
    return 0;
}

int db_spill_add(struct db_spill *s, int64_t rowid, const uint8_t *rec, size_t len)
{
    if (len > UINT32_MAX / 2) return -EFBIG;
    if (s->n_ent && s->mem_used + len > s->mem_cap) {
        int rc = db_spill_flush(s);
        if (rc) return rc;
    }
    if (len > s->mem_cap) { /* a record larger than the buffer: the buffer grows */
        uint8_t *m = realloc(s->mem, len);
        if (!m) return -ENOMEM;
        s->mem = m;
        s->mem_cap = len;
    }
    if (s->n_ent == s->cap_ent) {
        size_t cap = s->cap_ent ? s->cap_ent * 2 : 1024;
        struct db_spill_ent *n = realloc(s->ent, cap * sizeof *n);
        if (!n) return -ENOMEM;
        s->ent = n;
        s->cap_ent = cap;
    }
    memcpy(s->mem + s->mem_used, rec, len);
    s->ent[s->n_ent++] = (struct db_spill_ent){rowid, (uint32_t)s->mem_used, (uint32_t)len};
    s->mem_used += len;
    s->n_rows++;
    return 0;
}

uint64_t db_spill_rows(const struct db_spill *s)
{
    return s->n_rows;
}

/* ------------------------------------------------------------ merging */

/* Makes need bytes from rd->at available. 0, -errno or MT_ECORRUPT. */
static int db_spill_fill(int fd, struct db_spill_rd *rd, size_t need)
{
    if (rd->have - rd->at >= need) return 0;
    memmove(rd->buf, rd->buf + rd->at, rd->have - rd->at);
    rd->have -= rd->at;
    rd->at = 0;
    if (need > rd->cap) {
        uint8_t *n = realloc(rd->buf, need);
        if (!n) return -ENOMEM;
        rd->buf = n;
        rd->cap = need;
    }
    while (rd->have < need) {
        size_t want = rd->cap - rd->have;
        if ((off_t)want > rd->end - rd->pos) want = (size_t)(rd->end - rd->pos);
        ssize_t n = want ? pread(fd, rd->buf + rd->have, want, rd->pos) : 0;
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return n < 0 ? -errno : MT_ECORRUPT;
        rd->have += (size_t)n;
        rd->pos += n;
    }
    return 0;
}

/* Moves rd to its next row (or done). */
static int db_spill_next(int fd, struct db_spill_rd *rd)
{
    if (rd->at == rd->have && rd->pos == rd->end) {
        rd->done = 1;
        return 0;
    }
    int rc = db_spill_fill(fd, rd, DB_SPILL_ENT_HDR);
    if (rc) return rc;
    memcpy(&rd->rowid, rd->buf + rd->at, 8);
    memcpy(&rd->len, rd->buf + rd->at + 8, 4);
    if ((rc = db_spill_fill(fd, rd, DB_SPILL_ENT_HDR + (size_t)rd->len))) return rc;
    rd->rec = rd->buf + rd->at + DB_SPILL_ENT_HDR;
    rd->at += DB_SPILL_ENT_HDR + rd->len;
    return 0;
}

/* Every run, merged: the one with the smallest current rowid goes first
 * (a linear scan: there are few runs, one per mem_cap bytes spilled). */
static int db_spill_merge(struct db_spill *s, db_row_fn fn, void *ctx)
{
    struct db_spill_rd *rd = calloc(s->n_run, sizeof *rd);
    int rc = rd ? 0 : -ENOMEM;
    for (size_t r = 0; r < s->n_run && !rc; r++) {
        rd[r] = (struct db_spill_rd){.pos = s->run[r].off, .end = s->run[r].end};
        rd[r].buf = malloc(DB_SPILL_READ);
        rd[r].cap = DB_SPILL_READ;
        rc = rd[r].buf ? db_spill_next(s->fd, &rd[r]) : -ENOMEM;
    }
    while (!rc) {
        struct db_spill_rd *min = NULL;
        for (size_t r = 0; r < s->n_run; r++)
            if (!rd[r].done && (!min || rd[r].rowid < min->rowid)) min = &rd[r];
        if (!min) break;
        rc = fn(ctx, min->rowid, min->rec, min->len);
        if (!rc) rc = db_spill_next(s->fd, min);
    }
    for (size_t r = 0; rd && r < s->n_run; r++) free(rd[r].buf);
    free(rd);
    return rc;
}

int db_spill_each(struct db_spill *s, db_row_fn fn, void *ctx)
{
    int rc = 0;
    if (!s->n_run) { /* it all fit in memory: no file */
        if (s->n_ent) qsort(s->ent, s->n_ent, sizeof *s->ent, db_spill_cmp);
        for (size_t i = 0; i < s->n_ent && !rc; i++)
            rc = fn(ctx, s->ent[i].rowid, s->mem + s->ent[i].off, s->ent[i].len);
        return rc;
    }
    if (s->n_ent && (rc = db_spill_flush(s))) return rc;
    return db_spill_merge(s, fn, ctx);
}

/* ------------------------------------------------------------ lifetime */

int db_spill_open(struct db_spill **out, const char *path, size_t mem_bytes)
{
    struct db_spill *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s) return -ENOMEM;
    s->fd = -1;
    s->mem_cap = mem_bytes;
    s->path = strdup(path);
    s->mem = malloc(mem_bytes ? mem_bytes : 1);
    if (!s->path || !s->mem) {
        db_spill_close(s);
        return -ENOMEM;
    }
    *out = s;
    return 0;
}

void db_spill_close(struct db_spill *s)
{
    if (!s) return;
    if (s->fd >= 0) close(s->fd);
    free(s->path);
    free(s->mem);
    free(s->ent);
    free(s->run);
    free(s);
}
