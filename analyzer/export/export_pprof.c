/*
 * export_pprof.c — pprof heap profile: gzipped perftools.profiles.Profile
 *
 * Laid out as Go's own heap profiles so `go tool pprof`, Pyroscope, Parca
 * and Grafana read it without options: sample types alloc_objects/count,
 * alloc_space/bytes, inuse_objects/count, inuse_space/bytes (the default).
 * "inuse" is live at the process's peak (memtrace's most useful moment),
 * or live at the end with --inuse end. One sample per site with labels
 * "pid" (numeric and string) and "family" ("heap" or a client pool's
 * "pool:<name>"); one location per symbolized frame (inlined frames are their
 * own locations), functions deduplicated by name and file, one mapping per
 * module with its build id. Encoded with protobuf-c (profile.pb-c.c, from
 * profile.proto) and gzipped with zlib. docs/reports.md, "pprof".
 *
 * SPDX-License-Identifier: MIT
 */
#include "export/export.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "export/profile.pb-c.h"

#define PPROF_GZ_CHUNK 65536 /* deflate output buffer */
#define PPROF_LABELS 3       /* per sample: pid (number), pid (string), family */

typedef Perftools__Profiles__Profile PProfile;
typedef Perftools__Profiles__ValueType PValueType;
typedef Perftools__Profiles__Sample PSample;
typedef Perftools__Profiles__Label PLabel;
typedef Perftools__Profiles__Mapping PMapping;
typedef Perftools__Profiles__Location PLocation;
typedef Perftools__Profiles__Line PLine;
typedef Perftools__Profiles__Function PFunction;

/* String -> index map (open addressing, FNV-1a), keeping the strings in
 * insertion order: the profile's string table, and the function and
 * mapping dedup keys. */
struct pprof_map {
    char **strs;     /* owned, n of them */
    size_t n, cap;
    size_t *slots;   /* index + 1, 0 = empty */
    size_t n_slots;  /* power of two */
};

/* Everything the profile points into; freed by pprof_build_free. */
struct pprof_build {
    PProfile prof;
    struct pprof_map strings, funcs, maps;
    PValueType vt[4], *vt_ptrs[4];
    PSample *samples, **sample_ptrs;
    PLabel *labels, **label_ptrs;
    uint64_t *loc_ids;   /* all samples' location ids, back to back */
    int64_t *values;     /* 4 per sample */
    PLocation *locs, **loc_ptrs;
    PLine *lines, **line_ptrs;
    uint64_t *frame_loc; /* per frame index: location id, 0 = none yet */
    PFunction *fns, **fn_ptrs;
    PMapping *mappings, **mapping_ptrs;
    PValueType period_type;
    int64_t comment;     /* string index of the note on "inuse" */
    int oom;             /* an intern failed: the profile is unusable */
};

/* ------------------------------------------------------------ string map */

static uint64_t pprof_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int pprof_map_rehash(struct pprof_map *m)
{
    size_t n_slots = m->n_slots ? m->n_slots * 2 : 1024;
    size_t *slots = calloc(n_slots, sizeof *slots);
    if (!slots) return -ENOMEM;
    for (size_t i = 0; i < m->n; i++) {
        size_t j = pprof_hash(m->strs[i]) & (n_slots - 1);
        while (slots[j]) j = (j + 1) & (n_slots - 1);
        slots[j] = i + 1;
    }
    free(m->slots);
    m->slots = slots;
    m->n_slots = n_slots;
    return 0;
}

/* Index of s in m, added if new (*added = 1). -ENOMEM on failure. */
static int64_t pprof_map_intern(struct pprof_map *m, const char *s, int *added)
{
    size_t j;
    if (added) *added = 0;
    if ((m->n + 1) * 2 > m->n_slots && pprof_map_rehash(m)) return -ENOMEM;
    for (j = pprof_hash(s) & (m->n_slots - 1); m->slots[j]; j = (j + 1) & (m->n_slots - 1))
        if (!strcmp(m->strs[m->slots[j] - 1], s)) return (int64_t)(m->slots[j] - 1);
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        char **p = realloc(m->strs, cap * sizeof *p);
        if (!p) return -ENOMEM;
        m->strs = p;
        m->cap = cap;
    }
    if (!(m->strs[m->n] = strdup(s))) return -ENOMEM;
    m->slots[j] = ++m->n;
    if (added) *added = 1;
    return (int64_t)(m->n - 1);
}

static void pprof_map_free(struct pprof_map *m)
{
    for (size_t i = 0; i < m->n; i++) free(m->strs[i]);
    free(m->strs);
    free(m->slots);
    memset(m, 0, sizeof *m);
}

/* A string-table index; failures are caught by pprof_build's final check. */
static int64_t pprof_str(struct pprof_build *b, const char *s)
{
    int64_t idx = pprof_map_intern(&b->strings, s ? s : "", NULL);
    if (idx < 0) {
        b->oom = 1;
        return 0;
    }
    return idx;
}

/* ------------------------------------------------------------ building */

/* Mapping id (1-based) of a frame's module; 0 without a module. */
static uint64_t pprof_mapping(struct pprof_build *b, const struct export_frame *f)
{
    char key[32];
    int added;
    int64_t idx;
    PMapping *m;
    if (!f->module_id) return 0;
    snprintf(key, sizeof key, "%lld", (long long)f->module_id);
    idx = pprof_map_intern(&b->maps, key, &added);
    if (idx < 0) {
        b->oom = 1;
        return 0;
    }
    m = &b->mappings[idx];
    if (added) {
        perftools__profiles__mapping__init(m);
        m->id = (uint64_t)idx + 1;
        m->memory_start = (uint64_t)f->load_bias;
        m->filename = pprof_str(b, f->module);
        m->build_id = pprof_str(b, f->build_id);
        m->has_functions = m->has_filenames = m->has_line_numbers = m->has_inline_frames = 1;
        b->mapping_ptrs[idx] = m;
        b->prof.n_mapping = (size_t)idx + 1;
    }
    if ((uint64_t)(f->load_bias + f->offset) + 1 > m->memory_limit)
        m->memory_limit = (uint64_t)(f->load_bias + f->offset) + 1;
    return m->id;
}

/* Function id (1-based) for a frame, deduplicated by name and file. */
static uint64_t pprof_function(struct pprof_build *b, const struct export_frame *f)
{
    char name[1024], key[64];
    int added;
    int64_t n = pprof_str(b, export_frame_name(f, name, sizeof name));
    int64_t file = pprof_str(b, f->file);
    int64_t idx;
    snprintf(key, sizeof key, "%lld/%lld", (long long)n, (long long)file);
    idx = pprof_map_intern(&b->funcs, key, &added);
    if (idx < 0) {
        b->oom = 1;
        return 0;
    }
    if (added) {
        PFunction *fn = &b->fns[idx];
        perftools__profiles__function__init(fn);
        fn->id = (uint64_t)idx + 1;
        fn->name = fn->system_name = n;
        fn->filename = file;
        b->fn_ptrs[idx] = fn;
        b->prof.n_function = (size_t)idx + 1;
    }
    return (uint64_t)idx + 1;
}

/* Location id of frame f (index fi of d->frames), created on first use. */
static uint64_t pprof_location(struct pprof_build *b, const struct export_frame *f, size_t fi)
{
    size_t i = b->prof.n_location;
    if (b->frame_loc[fi]) return b->frame_loc[fi];
    perftools__profiles__location__init(&b->locs[i]);
    perftools__profiles__line__init(&b->lines[i]);
    b->lines[i].function_id = pprof_function(b, f);
    b->lines[i].line = f->line;
    b->line_ptrs[i] = &b->lines[i];
    b->locs[i].id = i + 1;
    b->locs[i].mapping_id = pprof_mapping(b, f);
    b->locs[i].address = (uint64_t)(f->module_id ? f->load_bias + f->offset : f->offset);
    b->locs[i].n_line = 1;
    b->locs[i].line = &b->line_ptrs[i];
    b->loc_ptrs[i] = &b->locs[i];
    b->prof.n_location = i + 1;
    return b->frame_loc[fi] = i + 1;
}

static int pprof_alloc(struct pprof_build *b, const struct export_data *d)
{
    size_t nf = d->n_frames + 1, ns = d->n_sites + 1, n_ids = 1;
    for (size_t i = 0; i < d->n_sites; i++) n_ids += (size_t)d->sites[i].n_frames;
    b->samples = calloc(ns, sizeof *b->samples);
    b->sample_ptrs = calloc(ns, sizeof *b->sample_ptrs);
    b->labels = calloc(ns * PPROF_LABELS, sizeof *b->labels);
    b->label_ptrs = calloc(ns * PPROF_LABELS, sizeof *b->label_ptrs);
    b->values = calloc(ns * 4, sizeof *b->values);
    b->loc_ids = calloc(n_ids, sizeof *b->loc_ids);
    b->locs = calloc(nf, sizeof *b->locs);
    b->loc_ptrs = calloc(nf, sizeof *b->loc_ptrs);
    b->lines = calloc(nf, sizeof *b->lines);
    b->line_ptrs = calloc(nf, sizeof *b->line_ptrs);
    b->frame_loc = calloc(nf, sizeof *b->frame_loc);
    b->fns = calloc(nf, sizeof *b->fns);
    b->fn_ptrs = calloc(nf, sizeof *b->fn_ptrs);
    b->mappings = calloc(nf, sizeof *b->mappings);
    b->mapping_ptrs = calloc(nf, sizeof *b->mapping_ptrs);
    if (!b->samples || !b->sample_ptrs || !b->labels || !b->label_ptrs || !b->values ||
        !b->loc_ids || !b->locs || !b->loc_ptrs || !b->lines || !b->line_ptrs || !b->frame_loc ||
        !b->fns || !b->fn_ptrs || !b->mappings || !b->mapping_ptrs)
        return -ENOMEM;
    b->prof.sample = b->sample_ptrs;
    b->prof.location = b->loc_ptrs;
    b->prof.function = b->fn_ptrs;
    b->prof.mapping = b->mapping_ptrs;
    return 0;
}

static void pprof_build_free(struct pprof_build *b)
{
    void *arrays[] = {b->samples, b->sample_ptrs, b->labels, b->label_ptrs, b->values,
                      b->loc_ids, b->locs, b->loc_ptrs, b->lines, b->line_ptrs, b->frame_loc,
                      b->fns, b->fn_ptrs, b->mappings, b->mapping_ptrs};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) free(arrays[i]);
    pprof_map_free(&b->strings);
    pprof_map_free(&b->funcs);
    pprof_map_free(&b->maps);
}

/* The header: sample types, period, time, comment. */
static void pprof_header(struct pprof_build *b, const struct export_data *d, int inuse_at_end)
{
    static const char *const types[4][2] = {{"alloc_objects", "count"}, {"alloc_space", "bytes"},
                                            {"inuse_objects", "count"}, {"inuse_space", "bytes"}};
    pprof_str(b, ""); /* string_table[0] must be "" */
    for (int i = 0; i < 4; i++) {
        perftools__profiles__value_type__init(&b->vt[i]);
        b->vt[i].type = pprof_str(b, types[i][0]);
        b->vt[i].unit = pprof_str(b, types[i][1]);
        b->vt_ptrs[i] = &b->vt[i];
    }
    b->prof.sample_type = b->vt_ptrs;
    b->prof.n_sample_type = 4;
    perftools__profiles__value_type__init(&b->period_type);
    b->period_type.type = pprof_str(b, "space");
    b->period_type.unit = pprof_str(b, "bytes");
    b->prof.period_type = &b->period_type;
    b->prof.period = 1; /* every allocation was recorded: no sampling to undo */
    b->prof.time_nanos = d->start_real_ns;
    b->prof.duration_nanos = d->duration_ns;
    b->prof.default_sample_type = pprof_str(b, "inuse_space");
    b->comment = pprof_str(b, inuse_at_end ? "memtrace: inuse = live at the end of each process"
                                           : "memtrace: inuse = live at each process's peak heap");
    b->prof.comment = &b->comment;
    b->prof.n_comment = 1;
}

/* Sample k's labels: pid as a number (pprof's -tagfocus=pid:1234 and
 * ranges) and as a string (string-only consumers: Pyroscope, Parca, and
 * -tagfocus=pid=1234), and the family: "heap" for malloc and new, or the
 * client pool's "pool:<name>". */
static void pprof_labels(struct pprof_build *b, size_t k, const struct export_site *s,
                         int64_t pid_key, int64_t family_key, int64_t heap)
{
    PLabel *l = &b->labels[k * PPROF_LABELS];
    PLabel **lp = &b->label_ptrs[k * PPROF_LABELS];
    char pid[24];
    snprintf(pid, sizeof pid, "%lld", (long long)s->pid);
    for (int i = 0; i < PPROF_LABELS; i++) {
        perftools__profiles__label__init(&l[i]);
        lp[i] = &l[i];
    }
    l[0].key = pid_key;
    l[0].num = s->pid;
    l[1].key = pid_key;
    l[1].str = pprof_str(b, pid);
    l[2].key = family_key;
    l[2].str = s->family ? pprof_str(b, s->family) : heap;
    b->samples[k].n_label = PPROF_LABELS;
    b->samples[k].label = lp;
}

/* One sample per site with any non-zero value. */
static void pprof_samples(struct pprof_build *b, const struct export_data *d, int inuse_at_end)
{
    size_t ids = 0;
    int64_t pid_key = pprof_str(b, "pid"), family_key = pprof_str(b, "family");
    int64_t heap = pprof_str(b, "heap");
    for (size_t i = 0; i < d->n_sites; i++) {
        const struct export_site *s = &d->sites[i];
        size_t k = b->prof.n_sample;
        int64_t *v = &b->values[k * 4];
        PSample *smp = &b->samples[k];
        v[0] = s->n_allocs;
        v[1] = s->alloc_bytes;
        v[2] = inuse_at_end ? s->end_blocks : s->peak_blocks;
        v[3] = inuse_at_end ? s->end_bytes : s->peak_bytes;
        if (!v[0] && !v[1] && !v[2] && !v[3]) continue;
        perftools__profiles__sample__init(smp);
        smp->n_value = 4;
        smp->value = v;
        smp->location_id = &b->loc_ids[ids];
        for (int f = 0; f < s->n_frames; f++)
            b->loc_ids[ids + smp->n_location_id++] =
                pprof_location(b, s->frames[f], (size_t)(s->frames[f] - d->frames));
        ids += smp->n_location_id;
        pprof_labels(b, k, s, pid_key, family_key, heap);
        b->sample_ptrs[k] = smp;
        b->prof.n_sample = k + 1;
    }
}

/* ------------------------------------------------------------ writing */

/* gzips len bytes of buf to out. 0, -EIO or -ENOMEM. */
static int pprof_gzip(const uint8_t *buf, size_t len, FILE *out)
{
    z_stream z;
    unsigned char chunk[PPROF_GZ_CHUNK];
    int zrc;
    memset(&z, 0, sizeof z);
    /* 15 + 16: the largest window, with a gzip header (pprof expects gzip) */
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -ENOMEM;
    z.next_in = (Bytef *)buf;
    z.avail_in = (uInt)len; /* profiles stay far below 4 GiB */
    do {
        z.next_out = chunk;
        z.avail_out = sizeof chunk;
        zrc = deflate(&z, Z_FINISH);
        if (zrc == Z_STREAM_ERROR) break;
        fwrite(chunk, 1, sizeof chunk - z.avail_out, out);
    } while (zrc != Z_STREAM_END);
    deflateEnd(&z);
    if (zrc != Z_STREAM_END) return -ENOMEM;
    return ferror(out) ? -EIO : 0;
}

int export_pprof(const struct export_data *d, FILE *out, int inuse_at_end, struct mt_errbuf *eb)
{
    struct pprof_build b;
    uint8_t *buf = NULL;
    size_t len;
    int rc;
    memset(&b, 0, sizeof b);
    perftools__profiles__profile__init(&b.prof);
    rc = pprof_alloc(&b, d);
    if (rc == 0) {
        pprof_header(&b, d, inuse_at_end);
        pprof_samples(&b, d, inuse_at_end);
        b.prof.string_table = b.strings.strs;
        b.prof.n_string_table = b.strings.n;
        if (b.oom) rc = -ENOMEM;
    }
    if (rc == 0) {
        len = perftools__profiles__profile__get_packed_size(&b.prof);
        buf = malloc(len ? len : 1);
        if (!buf) rc = -ENOMEM;
        else perftools__profiles__profile__pack(&b.prof, buf);
    }
    if (rc == 0) rc = pprof_gzip(buf, len, out);
    if (rc == -ENOMEM) mt_errbuf_set(eb, "out of memory building the profile");
    else if (rc) mt_errbuf_set(eb, "writing the profile failed");
    free(buf);
    pprof_build_free(&b);
    return rc;
}
