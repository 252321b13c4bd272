/*
 * export.h — `memtrace export`: a database into other tools' formats
 *
 * export_data.c loads every site (per process image and stack) with its
 * figures and symbolized frames once; the writers turn that into pprof
 * (export_pprof.c, gzipped protobuf of profile.proto, Go heap-profile
 * sample types), folded stacks (export_folded.c, flamegraph.pl and
 * speedscope) and massif (export_massif.c, ms_print and
 * massif-visualizer). cli/cmd_export.c is the verb. Formats and the meaning
 * of every value: docs/reports.md.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMTRACE_EXPORT_H
#define MEMTRACE_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

#include "cli/cli.h"

/* A symbolized frame (one row of frames). Strings owned by export_data. */
struct export_frame {
    int64_t id;
    char *function;   /* NULL when unknown */
    char *file;       /* NULL when unknown */
    int64_t line;
    int64_t module_id; /* 0 when the pc was in no known module */
    char *module;     /* module path, NULL when none */
    char *build_id;   /* hex, NULL when none */
    int64_t offset;   /* pc - load bias (the raw pc without a module) */
    int64_t load_bias; /* of the module's first mapping, 0 when unknown */
    int inlined;
};

/* A site: one (process image, stack) row of `sites`. */
struct export_site {
    int64_t proc_id, pid, stack_id;
    int64_t n_allocs, alloc_bytes;
    int64_t peak_blocks, peak_bytes;     /* live at the process's peak */
    int64_t end_blocks, end_bytes;       /* live at the end */
    int64_t leaked_blocks, leaked_bytes; /* definite+indirect+possible+unclassified */
    char *family;                        /* owned: "pool:<name>" for chunks, NULL for heap */
    int n_frames;
    const struct export_frame **frames; /* owned array; depth 0 (innermost) first */
};

struct export_data {
    struct export_frame *frames; /* owned, sorted by id */
    size_t n_frames;
    struct export_site *sites;   /* owned, by proc_id then stack_id */
    size_t n_sites;
    char *argv;                  /* owned; the session's command line */
    int64_t start_real_ns, duration_ns;
};

/* What a folded line's value counts. */
enum export_value { EXPORT_BYTES, EXPORT_ALLOCS, EXPORT_LEAKED, EXPORT_PEAK };

/* Loads the sites of db; pid > 0 keeps only that pid's images. OUT: *d,
 * free with export_data_free. 0, MT_ESQLITE or -ENOMEM (detail in eb). */
int export_data_load(sqlite3 *db, int64_t pid, struct export_data *d, struct mt_errbuf *eb);
void export_data_free(struct export_data *d);

/* A frame's short name: the function, else "<module basename>+0x<off>".
 * Returns buf. Cannot fail. */
const char *export_frame_name(const struct export_frame *f, char *buf, size_t len);

/* Writers. 0 or a negative code with eb filled. */
int export_folded(const struct export_data *d, FILE *out, enum export_value v,
                  struct mt_errbuf *eb);
int export_pprof(const struct export_data *d, FILE *out, int inuse_at_end, struct mt_errbuf *eb);
/* pid: the image to export (0: the first one, the root). */
int export_massif(sqlite3 *db, const struct export_data *d, FILE *out, int64_t pid,
                  struct mt_errbuf *eb);

#endif /* MEMTRACE_EXPORT_H */
