/*
 * error.h — memtrace's domain error codes and their text
 *
 * Functions return 0 on success and a negative value on failure: -errno for
 * system failures, one of MT_E* below for domain failures. MT_E* values sit
 * below -4096 so they can never collide with a negated errno.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMTRACE_ERROR_H
#define MEMTRACE_ERROR_H

#include <string.h>

enum mt_error {
    MT_EBADMAGIC = -5001,  /* not a memtrace file */
    MT_EVERSION = -5002,   /* a memtrace file of an unsupported version */
    MT_ETRUNC = -5003,     /* file ends inside a frame or record */
    MT_ECORRUPT = -5004,   /* a record or block fails its checks */
    MT_EZSTD = -5005,      /* zstd reported an error */
    MT_ESQLITE = -5006,    /* SQLite reported an error */
    MT_EUSAGE = -5007,     /* bad command-line usage */
    MT_ENOTFOUND = -5008,  /* a named thing does not exist */
    MT_ESCHEMA = -5009,    /* database is not a memtrace database */
};

/* Text for a code returned by any memtrace function. Cannot fail. */
static inline const char *mt_strerror(int rc)
{
    switch (rc) {
    case 0: return "success";
    case MT_EBADMAGIC: return "not a memtrace file (bad magic)";
    case MT_EVERSION: return "unsupported memtrace format version";
    case MT_ETRUNC: return "file is truncated";
    case MT_ECORRUPT: return "file is corrupted";
    case MT_EZSTD: return "zstd decompression failed";
    case MT_ESQLITE: return "SQLite error";
    case MT_EUSAGE: return "invalid usage";
    case MT_ENOTFOUND: return "not found";
    case MT_ESCHEMA: return "not a memtrace database";
    default: return rc < 0 && rc > -4096 ? strerror(-rc) : "unknown error";
    }
}

#endif /* MEMTRACE_ERROR_H */
