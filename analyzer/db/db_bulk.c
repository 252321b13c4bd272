/*
 * db_bulk.c — a rowid table's B-tree written page by page, then spliced into a closed database
 *
 * The allocations table is most of a memtrace database, and SQLite's insert
 * path is its slowest part (db_bulk.h). Rows come here in rising rowid
 * order; this file lays them out as SQLite's file format says a table
 * B-tree is laid out (https://www.sqlite.org/fileformat2.html, "B-tree
 * Pages"), and once SQLite has written and closed everything else, makes
 * them the table's B-tree. Facts of the format used here are named where
 * they are used; nothing of SQLite's own code.
 *
 * Design notes
 *   1. Leaves. A table leaf page (type 0x0D) has an 8-byte header, then one
 *      2-byte cell pointer per cell in key order, then free space, then the
 *      cells packed against the end of the usable area (page size less the
 *      reserved bytes). A cell is varint(payload bytes), varint(rowid),
 *      payload; SQLite counts a cell as at least 4 bytes. Each leaf is
 *      filled as full as it goes and written out at once: memory is one
 *      page plus (largest rowid, page number) per leaf.
 *   2. Where the leaves go. The rows file becomes the database. Its first
 *      reserve_pages pages are left as a hole for SQLite's pages; leaves
 *      follow. At the finish SQLite's N pages are copied into pages 1..N
 *      and the L leaves must take the L pages after N: those already there
 *      stay, the others (below N if SQLite outgrew the reserve, at the tail
 *      if it did not fill it) are copied into the gaps. Leaves hold no page
 *      numbers, so they can move. The copying is bounded by max(N, reserve)
 *      pages, never by the table: appending the leaves to SQLite's file
 *      instead copied all of them (300 MB took 0.1-0.8 s here).
 *   3. Interior pages (type 0x05: 12-byte header with the right-most child
 *      at offset 8) are built level by level from the (rowid, page) array:
 *      each takes as many children as fit; every child but the last is a
 *      cell (4-byte page number, varint of the largest rowid under it).
 *      The level of one page is written into the table's existing root
 *      page; a lone leaf is written there itself.
 *   4. The lock-byte page, the one holding file offset 0x40000000, is
 *      never written: leaves and interior pages skip it and it stays a hole
 *      inside the database, as SQLite leaves it.
 *   5. The header gets the new page count (offset 28) and change counter
 *      (24), with the same value at 92 so that the in-header size is valid.
 *   6. Anything unexpected in the header or the root page refuses
 *      (DB_BULK_REFUSED) before a byte is written; the caller inserts the
 *      rows through SQL instead (db_bulk_each). Payloads too big for a
 *      leaf (they would need overflow pages) are refused per row.
 *
 * SPDX-License-Identifier: MIT
 */
#include "db/db_bulk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DB_PENDING_BYTE 0x40000000u /* fileformat2.html, "The Lock-Byte Page" */
#define DB_HDR_BYTES 100            /* the database header at the start of page 1 */
#define DB_LEAF_HDR 8
#define DB_INTERIOR_HDR 12
#define DB_PAGE_LEAF 0x0d     /* table B-tree leaf page */
#define DB_PAGE_INTERIOR 0x05 /* table B-tree interior page */
#define DB_MIN_CELL 4         /* the least room a cell takes */
#define DB_LEAF_OVERHEAD 35   /* a table leaf holds payloads of up to usable - 35 bytes */

static uint32_t db_pending_byte = DB_PENDING_BYTE;

/* ------------------------------------------------------------ types */

struct db_bulk_leaf {
    int64_t last;  /* largest rowid in it */
    uint32_t pgno; /* its page (in the rows file until the finish places it) */
};

struct db_bulk {
    int fd;               /* owned: the rows file */
    char *path;           /* owned: its name */
    int created, renamed; /* we made path / it became the database */
    uint32_t page_size;
    uint32_t usable;           /* page_size less the reserved bytes */
    uint32_t reserve;          /* pages left for SQLite's (design note 2) */
    uint32_t lock_pgno;        /* design note 4 */
    uint32_t next_pgno;        /* page of the next full leaf */
    uint8_t *page;             /* owned: the leaf being filled */
    uint32_t n_cells, content; /* its cells, start of their content */
    int64_t last;              /* largest rowid appended */
    uint64_t n_rows;
    struct db_bulk_leaf *leaf; /* owned: the full leaves in rowid order */
    size_t n_leaf, cap_leaf;
};

/* The database being spliced into (db_bulk_finish). */
struct db_target {
    int fd;                    /* owned */
    uint32_t n_pages;          /* SQLite's */
    uint32_t root;             /* the table's root page */
    uint8_t hdr[DB_HDR_BYTES]; /* its header, updated then written back */
};

/* ------------------------------------------------------------ helpers */

static uint32_t db_get16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t db_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void db_put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void db_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* The page after pg, never the lock-byte page. */
static uint32_t db_bulk_next(const struct db_bulk *b, uint32_t pg)
{
    return pg + 1 == b->lock_pgno ? pg + 2 : pg + 1;
}

static off_t db_off(const struct db_bulk *b, uint32_t pgno)
{
    return (off_t)(pgno - 1) * b->page_size;
}

int db_file_write(int fd, const void *buf, size_t len, off_t off)
{
    while (len) {
        ssize_t n = pwrite(fd, buf, len, off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return n < 0 ? -errno : -ENOSPC;
        buf = (const uint8_t *)buf + n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

/* 0, -errno, or MT_ECORRUPT when the file ends first. */
static int db_pread(int fd, void *buf, size_t len, off_t off)
{
    while (len) {
        ssize_t n = pread(fd, buf, len, off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return n < 0 ? -errno : MT_ECORRUPT;
        buf = (uint8_t *)buf + n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

/* Copies len bytes: copy_file_range (the kernel moves the pages), else
 * through buf (buf_len bytes) where the file system cannot. */
static int db_copy(int in, off_t off_in, int out, off_t off_out, size_t len, uint8_t *buf,
                   size_t buf_len)
{
    while (len) {
        ssize_t n = copy_file_range(in, &off_in, out, &off_out, len, 0);
        if (n > 0) {
            len -= (size_t)n;
            continue;
        }
        if (n == 0) return MT_ECORRUPT; /* the source is shorter than its header says */
        if (errno == EINTR) continue;
        if (errno != EXDEV && errno != ENOSYS && errno != EOPNOTSUPP && errno != EINVAL)
            return -errno;
        size_t k = len < buf_len ? len : buf_len;
        int rc = db_pread(in, buf, k, off_in);
        if (!rc) rc = db_file_write(out, buf, k, off_out);
        if (rc) return rc;
        off_in += (off_t)k;
        off_out += (off_t)k;
        len -= k;
    }
    return 0;
}

/* ------------------------------------------------------------ leaves */

/* Header and cleared free space of the leaf being filled (design note 1). */
static void db_leaf_seal(struct db_bulk *b)
{
    uint8_t *p = b->page;
    uint32_t ptr_end = DB_LEAF_HDR + 2 * b->n_cells;
    p[0] = DB_PAGE_LEAF;
    db_put16(p + 1, 0); /* no freeblock */
    db_put16(p + 3, b->n_cells);
    db_put16(p + 5, b->content); /* 65536 is written as 0, as the format says */
    p[7] = 0;                    /* no fragmented bytes */
    memset(p + ptr_end, 0, b->content - ptr_end);
}

/* Writes the leaf being filled to the rows file and starts the next. */
static int db_leaf_flush(struct db_bulk *b)
{
    if (b->n_leaf == b->cap_leaf) {
        size_t cap = b->cap_leaf ? b->cap_leaf * 2 : 64;
        struct db_bulk_leaf *n = realloc(b->leaf, cap * sizeof *n);
        if (!n) return -ENOMEM;
        b->leaf = n;
        b->cap_leaf = cap;
    }
    db_leaf_seal(b);
    int rc = db_file_write(b->fd, b->page, b->page_size, db_off(b, b->next_pgno));
    if (rc) return rc;
    b->leaf[b->n_leaf++] = (struct db_bulk_leaf){.last = b->last, .pgno = b->next_pgno};
    b->next_pgno = db_bulk_next(b, b->next_pgno);
    b->n_cells = 0;
    b->content = b->usable;
    return 0;
}

int db_bulk_append(struct db_bulk *b, int64_t rowid, const uint8_t *rec, size_t len)
{
    if (b->n_rows && rowid <= b->last) return DB_BULK_ORDER;
    if (len > b->usable - DB_LEAF_OVERHEAD) return DB_BULK_BIG;
    unsigned h = db_varint_len(len) + db_varint_len((uint64_t)rowid);
    uint32_t cell = (uint32_t)(h + len) < DB_MIN_CELL ? DB_MIN_CELL : (uint32_t)(h + len);
    if (DB_LEAF_HDR + 2 * (b->n_cells + 1) + cell > b->content) {
        int rc = db_leaf_flush(b);
        if (rc) return rc;
    }
    uint8_t *p = b->page + b->content - cell;
    p += db_varint_put(p, len);
    p += db_varint_put(p, (uint64_t)rowid);
    memcpy(p, rec, len);
    memset(p + len, 0, cell - h - len); /* a short cell's padding */
    b->content -= cell;
    db_put16(b->page + DB_LEAF_HDR + 2 * b->n_cells, b->content);
    b->n_cells++;
    b->last = rowid;
    b->n_rows++;
    return 0;
}

uint64_t db_bulk_rows(const struct db_bulk *b, int64_t *last)
{
    *last = b->last;
    return b->n_rows;
}

/* Calls fn for each cell of the leaf p. */
static int db_leaf_each(const struct db_bulk *b, const uint8_t *p, db_row_fn fn, void *ctx)
{
    const uint8_t *end = p + b->usable;
    uint32_t n = db_get16(p + 3);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t len, rowid;
        const uint8_t *c = p + db_get16(p + DB_LEAF_HDR + 2 * i);
        unsigned k = c < end ? db_varint_get(c, end, &len) : 0;
        unsigned k2 = k ? db_varint_get(c + k, end, &rowid) : 0;
        if (!k2 || len > (uint64_t)(end - c - k - k2)) return MT_ECORRUPT;
        int rc = fn(ctx, (int64_t)rowid, c + k + k2, (size_t)len);
        if (rc) return rc;
    }
    return 0;
}

int db_bulk_each(struct db_bulk *b, db_row_fn fn, void *ctx)
{
    uint8_t *buf = malloc(b->page_size);
    int rc = buf ? 0 : -ENOMEM;
    for (size_t j = 0; j < b->n_leaf && !rc; j++) {
        rc = db_pread(b->fd, buf, b->page_size, db_off(b, b->leaf[j].pgno));
        if (!rc) rc = db_leaf_each(b, buf, fn, ctx);
    }
    free(buf);
    if (!rc && b->n_cells) {
        db_leaf_seal(b);
        rc = db_leaf_each(b, b->page, fn, ctx);
    }
    return rc;
}

/* ------------------------------------------------------------ the target */

/* Why t's header or root page is not one to splice into, or NULL. */
static const char *db_target_why(const struct db_bulk *b, const struct db_target *t,
                                 const struct stat *sb)
{
    const uint8_t *h = t->hdr;
    uint32_t ps = db_get16(h + 16) == 1 ? 65536 : db_get16(h + 16);
    if (memcmp(h, "SQLite format 3", 16)) return "not an SQLite 3 database";
    if (ps != b->page_size) return "page size differs";
    if (h[18] != 1 || h[19] != 1) return "not in rollback-journal format";
    if (h[20] != b->page_size - b->usable) return "reserved bytes per page differ";
    if (h[21] != 64 || h[22] != 32 || h[23] != 32) return "unknown payload fractions";
    if (db_get32(h + 92) != db_get32(h + 24) || !t->n_pages) return "in-header size not valid";
    if ((uint64_t)sb->st_size != (uint64_t)t->n_pages * ps) return "file size differs from header";
    if (db_get32(h + 44) != 4) return "schema format is not 4";
    if (db_get32(h + 52) || db_get32(h + 64)) return "auto-vacuum is on";
    if (db_get32(h + 56) != 1) return "text encoding is not UTF-8";
    if (t->root < 2 || t->root > t->n_pages || t->root == b->lock_pgno) return "bad root page";
    return NULL;
}

/* Opens db_path into t and checks it (design note 6), reading the root
 * page into scratch (page_size bytes). 0, DB_BULK_REFUSED or -errno, with
 * eb set. */
static int db_target_open(struct db_bulk *b, const char *db_path, struct db_target *t,
                          uint8_t *scratch, struct mt_errbuf *eb)
{
    struct stat sb;
    const char *why = NULL;
    t->fd = open(db_path, O_RDWR | O_CLOEXEC);
    if (t->fd < 0 || fstat(t->fd, &sb)) {
        int rc = -errno;
        mt_errbuf_set(eb, "splicing the allocations table: %s: %s", db_path, strerror(errno));
        return rc;
    }
    int rc = db_pread(t->fd, t->hdr, DB_HDR_BYTES, 0);
    if (rc == MT_ECORRUPT)
        why = "shorter than a header";
    else if (rc)
        goto fail_io;
    t->n_pages = db_get32(t->hdr + 28);
    if (!why) why = db_target_why(b, t, &sb);
    if (!why && (rc = db_pread(t->fd, scratch, b->page_size, db_off(b, t->root)))) goto fail_io;
    if (!why && (scratch[0] != DB_PAGE_LEAF || db_get16(scratch + 3) || db_get16(scratch + 1)))
        why = "the table's root page is not an empty leaf";
    if (!why) return 0;
    mt_errbuf_set(eb, "splicing the allocations table: %s: %s", db_path, why);
    return DB_BULK_REFUSED;
fail_io:
    mt_errbuf_set(eb, "splicing the allocations table: reading %s: %s", db_path,
                  rc == MT_ECORRUPT ? "file is truncated" : strerror(-rc));
    return rc;
}

/* Design note 5. */
static void db_header_update(uint8_t *hdr, uint32_t n_pages)
{
    uint32_t counter = db_get32(hdr + 24) + 1;
    db_put32(hdr + 24, counter);
    db_put32(hdr + 28, n_pages);
    db_put32(hdr + 92, counter);
}

/* ------------------------------------------------------------ interior */

/* End (exclusive) of the children, from s on, that the next interior page
 * takes: as many as fit, but never leaving one alone for the last page
 * (an interior page needs a cell). */
static size_t db_group_end(const struct db_bulk *b, const struct db_bulk_leaf *c, size_t n,
                           size_t s)
{
    uint32_t room = b->usable - DB_INTERIOR_HDR;
    size_t e = s + 1;
    while (e < n) {
        uint32_t cell = 2 + 4 + db_varint_len((uint64_t)c[e - 1].last); /* pointer + cell */
        if (cell > room) break;
        room -= cell;
        e++;
    }
    if (n - e == 1) e--;
    return e;
}

/* Interior page p over children c[0..n), n >= 2 (design note 3). */
static void db_interior_build(const struct db_bulk *b, const struct db_bulk_leaf *c, size_t n,
                              uint8_t *p)
{
    uint32_t content = b->usable;
    memset(p, 0, b->page_size);
    for (size_t i = 0; i + 1 < n; i++) {
        uint8_t cell[4 + 9];
        db_put32(cell, c[i].pgno);
        uint32_t len = 4 + db_varint_put(cell + 4, (uint64_t)c[i].last);
        content -= len;
        memcpy(p + content, cell, len);
        db_put16(p + DB_INTERIOR_HDR + 2 * i, content);
    }
    p[0] = DB_PAGE_INTERIOR;
    db_put16(p + 3, (uint32_t)(n - 1));
    db_put16(p + 5, content);
    db_put32(p + 8, c[n - 1].pgno);
}

/* Writes the interior levels above b->leaf (n_leaf >= 2) on the pages
 * after *pg (updated to the last one written) and leaves the top page in
 * top. 0 or -errno. */
static int db_interior(struct db_bulk *b, uint32_t *pg, uint8_t *top, uint8_t *buf)
{
    const struct db_bulk_leaf *lv = b->leaf;
    struct db_bulk_leaf *up = NULL;
    size_t n = b->n_leaf;
    int rc = 0;
    while (!rc) {
        size_t n_up = 0, e;
        struct db_bulk_leaf *next = malloc(((n + 1) / 2) * sizeof *next);
        if (!next) rc = -ENOMEM;
        for (size_t s = 0; s < n && !rc; s = e) {
            e = db_group_end(b, lv, n, s);
            if (s == 0 && e == n) { /* the top */
                db_interior_build(b, lv, n, top);
                break;
            }
            db_interior_build(b, lv + s, e - s, buf);
            *pg = db_bulk_next(b, *pg);
            rc = db_file_write(b->fd, buf, b->page_size, db_off(b, *pg));
            next[n_up++] = (struct db_bulk_leaf){.last = lv[e - 1].last, .pgno = *pg};
        }
        free(up);
        up = next;
        lv = next;
        if (!n_up) break;
        n = n_up;
    }
    free(up);
    return rc;
}

/* ------------------------------------------------------------ placing */

/* Design note 2: moves the leaves so that they take the pages after
 * n_pages. OUT: *end, the last of them. 0 or -errno. */
static int db_place(struct db_bulk *b, uint32_t n_pages, uint32_t *end, uint8_t *buf)
{
    uint32_t t_end = n_pages, lo = 0, hi = 0, slot = n_pages;
    for (size_t j = 0; j < b->n_leaf; j++) t_end = db_bulk_next(b, t_end);
    for (size_t j = 0; j < b->n_leaf; j++) { /* the leaves that stay: pages lo..hi */
        uint32_t pg = b->leaf[j].pgno;
        if (pg <= n_pages || pg > t_end) continue;
        lo = lo ? lo : pg;
        hi = pg;
    }
    for (size_t j = 0; j < b->n_leaf; j++) {
        uint32_t pg = b->leaf[j].pgno;
        if (pg > n_pages && pg <= t_end) continue;
        slot = db_bulk_next(b, slot);
        if (lo && slot >= lo && slot <= hi) slot = db_bulk_next(b, hi);
        int rc =
            db_copy(b->fd, db_off(b, pg), b->fd, db_off(b, slot), b->page_size, buf, b->page_size);
        if (rc) return rc;
        b->leaf[j].pgno = slot;
    }
    *end = t_end;
    return 0;
}

/* Two or more leaves: the rows file becomes the database. */
static int db_splice(struct db_bulk *b, struct db_target *t, const char *db_path, uint8_t *buf)
{
    uint8_t *top = malloc(b->page_size);
    uint32_t pg = t->n_pages;
    int rc = top ? 0 : -ENOMEM;
    if (!rc && b->n_cells) rc = db_leaf_flush(b);
    if (!rc) rc = db_place(b, t->n_pages, &pg, buf);
    if (!rc) rc = db_interior(b, &pg, top, buf);
    if (!rc) rc = db_copy(t->fd, 0, b->fd, 0, (size_t)t->n_pages * b->page_size, buf, b->page_size);
    if (!rc) rc = db_file_write(b->fd, top, b->page_size, db_off(b, t->root));
    free(top);
    db_header_update(t->hdr, pg);
    if (!rc) rc = db_file_write(b->fd, t->hdr, DB_HDR_BYTES, 0);
    if (!rc && ftruncate(b->fd, db_off(b, pg + 1))) rc = -errno;
    /* Not over db_path: ext4 flushes a file renamed over another
     * (auto_da_alloc), 80 ms for 300 MB here. db_path is a temp name. */
    if (!rc && unlink(db_path)) rc = -errno;
    if (!rc && rename(b->path, db_path)) rc = -errno;
    if (!rc) b->renamed = 1;
    return rc;
}

/* No leaf, or one: it goes into the root page of the database itself. */
static int db_splice_small(struct db_bulk *b, struct db_target *t)
{
    int rc = 0;
    if (!b->n_leaf && !b->n_cells) return 0; /* no rows: the empty root is right */
    if (b->n_leaf)
        rc = db_pread(b->fd, b->page, b->page_size, db_off(b, b->leaf[0].pgno));
    else
        db_leaf_seal(b);
    if (!rc) rc = db_file_write(t->fd, b->page, b->page_size, db_off(b, t->root));
    db_header_update(t->hdr, t->n_pages);
    if (!rc) rc = db_file_write(t->fd, t->hdr, DB_HDR_BYTES, 0);
    return rc;
}

int db_bulk_finish(struct db_bulk *b, const char *db_path, uint32_t root, struct mt_errbuf *eb)
{
    struct db_target t = {.fd = -1, .root = root};
    uint8_t *buf = malloc(b->page_size);
    if (!buf) {
        mt_errbuf_set(eb, "out of memory");
        return -ENOMEM;
    }
    int rc = db_target_open(b, db_path, &t, buf, eb);
    if (!rc) {
        rc = b->n_leaf + (b->n_cells ? 1 : 0) <= 1 ? db_splice_small(b, &t)
                                                   : db_splice(b, &t, db_path, buf);
        if (rc)
            mt_errbuf_set(eb, "splicing the allocations table: %s",
                          rc == MT_ECORRUPT ? "file is truncated" : strerror(-rc));
    }
    if (t.fd >= 0) close(t.fd);
    free(buf);
    return rc;
}

/* ------------------------------------------------------------ lifetime */

int db_bulk_open(struct db_bulk **out, const char *path, uint32_t page_size, uint32_t reserved,
                 uint32_t reserve_pages)
{
    *out = NULL;
    if (page_size < 512 || page_size > 65536 || (page_size & (page_size - 1)) || reserved > 255 ||
        page_size - reserved < 480) /* the format's limits */
        return -EINVAL;
    struct db_bulk *b = calloc(1, sizeof *b);
    if (!b) return -ENOMEM;
    b->fd = -1;
    b->page_size = page_size;
    b->usable = page_size - reserved;
    b->content = b->usable;
    b->reserve = reserve_pages;
    b->lock_pgno = db_pending_byte / page_size + 1;
    b->next_pgno = db_bulk_next(b, reserve_pages);
    b->path = strdup(path);
    b->page = calloc(1, page_size);
    int rc = b->path && b->page ? 0 : -ENOMEM;
    if (!rc && (b->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) rc = -errno;
    b->created = b->fd >= 0;
    if (rc) {
        db_bulk_close(b);
        return rc;
    }
    *out = b;
    return 0;
}

void db_bulk_close(struct db_bulk *b)
{
    if (!b) return;
    if (b->fd >= 0) close(b->fd);
    if (b->created && !b->renamed) unlink(b->path);
    free(b->path);
    free(b->page);
    free(b->leaf);
    free(b);
}

void db_bulk_test_pending_byte(uint32_t offset)
{
    db_pending_byte = offset ? offset : DB_PENDING_BYTE;
}
