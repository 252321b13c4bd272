/*
 * db_record.c — SQLite's record format: encoding rows, decoding them, binding them
 *
 * A row of a table B-tree is stored as a record (fileformat2.html, "Record
 * Format"): a header (its own size as a varint, then one serial type per
 * column) and the column values. db_bulk.c writes records into leaf cells;
 * db_spill.c keeps out-of-order rows as records; an_rows.c binds them back
 * to an INSERT. Only what the allocations table needs: NULL, integers and
 * UTF-8 text. The INTEGER PRIMARY KEY column is the caller's to pass as
 * NULL (the format stores the rowid in the cell, not in the record).
 *
 * SPDX-License-Identifier: MIT
 */
#include "db/db_bulk.h"

#include <assert.h>
#include <string.h>

/* Serial types: 0 NULL, 1..6 integers of db_int_bytes[type] bytes, 8 and
 * 9 the constants 0 and 1, >= 13 odd a text of (type - 13) / 2 bytes. */
static const uint8_t db_int_bytes[10] = {0, 1, 2, 3, 4, 6, 8, 0, 0, 0};

/* ------------------------------------------------------------ varints */

unsigned db_varint_get(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned i = 0; i < 9; i++) {
        if (p + i >= end) return 0;
        if (i == 8) {
            *v = x << 8 | p[8];
            return 9;
        }
        x = x << 7 | (p[i] & 0x7f);
        if (!(p[i] & 0x80)) {
            *v = x;
            return i + 1;
        }
    }
    return 0; /* not reached */
}

/* ------------------------------------------------------------ encoding */

static uint64_t db_serial_type(const struct db_val *v)
{
    if (v->type == DB_VAL_TEXT) return 2ull * v->n + 13;
    if (v->type != DB_VAL_INT) return 0;
    int64_t x = v->i;
    if (x == 0 || x == 1) return (uint64_t)(8 + x);
    if (x >= -128 && x <= 127) return 1;
    if (x >= -32768 && x <= 32767) return 2;
    if (x >= -8388608 && x <= 8388607) return 3;
    if (x >= INT32_MIN && x <= INT32_MAX) return 4;
    if (x >= -(1ll << 47) && x < (1ll << 47)) return 5;
    return 6;
}

static size_t db_serial_bytes(uint64_t type)
{
    return type >= 13 ? (size_t)(type - 13) / 2 : db_int_bytes[type];
}

/* The header's size: the serial types' varints plus its own varint. */
static size_t db_header_size(size_t types)
{
    unsigned k = 1;
    while (db_varint_len(types + k) > k) k++;
    return types + k;
}

size_t db_record_size(const struct db_val *v, int n_cols)
{
    size_t types = 0, body = 0;
    for (int c = 0; c < n_cols; c++) {
        uint64_t t = db_serial_type(&v[c]);
        types += db_varint_len(t);
        body += db_serial_bytes(t);
    }
    return db_header_size(types) + body;
}

size_t db_record_put(const struct db_val *v, int n_cols, uint8_t *out)
{
    uint64_t type[64];
    size_t types = 0;
    uint8_t *p;
    assert(n_cols <= 64);
    for (int c = 0; c < n_cols; c++) {
        type[c] = db_serial_type(&v[c]);
        types += db_varint_len(type[c]);
    }
    p = out + db_varint_put(out, db_header_size(types));
    for (int c = 0; c < n_cols; c++) p += db_varint_put(p, type[c]);
    for (int c = 0; c < n_cols; c++) {
        size_t n = db_serial_bytes(type[c]);
        if (v[c].type == DB_VAL_TEXT) {
            memcpy(p, v[c].z, n);
        } else { /* big-endian two's complement, n bytes */
            uint64_t x = (uint64_t)v[c].i;
            for (size_t k = n; k-- > 0; x >>= 8) p[k] = (uint8_t)x;
        }
        p += n;
    }
    return (size_t)(p - out);
}

/* ------------------------------------------------------------ decoding */

static int64_t db_int_get(const uint8_t *p, size_t n)
{
    uint64_t x = p[0] & 0x80 ? UINT64_MAX : 0; /* sign extension */
    for (size_t k = 0; k < n; k++) x = x << 8 | p[k];
    return (int64_t)x;
}

/* One column: type t, its bytes at p (n of them, checked by the caller). */
static int db_val_get(uint64_t t, const uint8_t *p, struct db_val *v)
{
    memset(v, 0, sizeof *v);
    if (t == 0) return 0;
    if (t == 8 || t == 9) {
        v->type = DB_VAL_INT;
        v->i = (int64_t)t - 8;
        return 0;
    }
    if (t <= 6) {
        v->type = DB_VAL_INT;
        v->i = db_int_get(p, db_int_bytes[t]);
        return 0;
    }
    if (t < 13 || !(t & 1)) return MT_ECORRUPT; /* real, reserved, blob */
    v->type = DB_VAL_TEXT;
    v->z = (const char *)p;
    v->n = (uint32_t)((t - 13) / 2);
    return 0;
}

int db_record_get(const uint8_t *rec, size_t len, struct db_val *v, int max_cols, int *n_cols)
{
    const uint8_t *end = rec + len;
    uint64_t hsize, t;
    unsigned k = db_varint_get(rec, end, &hsize);
    if (!k || hsize < k || hsize > len) return MT_ECORRUPT;
    const uint8_t *h = rec + k, *hend = rec + hsize, *body = hend;
    int c = 0;
    while (h < hend) {
        if (c == max_cols || !(k = db_varint_get(h, hend, &t))) return MT_ECORRUPT;
        size_t n = db_serial_bytes(t < 13 && t > 9 ? 0 : t);
        if (n > (size_t)(end - body) || db_val_get(t, body, &v[c])) return MT_ECORRUPT;
        h += k;
        body += n;
        c++;
    }
    *n_cols = c;
    return body == end ? 0 : MT_ECORRUPT;
}

int db_record_bind(sqlite3_stmt *s, const uint8_t *rec, size_t len)
{
    struct db_val v[64];
    int n, rc = db_record_get(rec, len, v, 64, &n);
    for (int c = 0; c < n && !rc; c++) {
        if (v[c].type == DB_VAL_INT)
            rc = sqlite3_bind_int64(s, c + 1, v[c].i);
        else if (v[c].type == DB_VAL_TEXT)
            rc = sqlite3_bind_text(s, c + 1, v[c].z, (int)v[c].n, SQLITE_STATIC);
        else
            rc = sqlite3_bind_null(s, c + 1);
        if (rc != SQLITE_OK) rc = MT_ESQLITE;
    }
    return rc;
}
