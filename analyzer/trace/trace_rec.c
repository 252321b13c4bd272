/*
 * trace_rec.c — record validation and the names of kinds, families and apis
 *
 * Every reader of trace files (trace_read.c, dump, the loader) calls
 * trace_rec_validate() on a record before it trusts any field: the record
 * must fit its bytes, its trailing arrays must fit the record, its strings
 * must be NUL-terminated and its enums in range. A record that passes can be
 * printed or indexed without further checks. Contract: docs/trace-format.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include "trace/trace.h"

#include <stdbool.h>

#include "memtrace/error.h"

/* ------------------------------------------------------------ names */

static const char *const trace_kind_names[MT_REC_KIND_MAX] = {
    [MT_REC_PAD] = "pad",
    [MT_REC_PROCESS] = "process",
    [MT_REC_EXIT] = "exit",
    [MT_REC_THREAD] = "thread",
    [MT_REC_MODULE] = "module",
    [MT_REC_MODULE_UNLOAD] = "module_unload",
    [MT_REC_STACK] = "stack",
    [MT_REC_ALLOC] = "alloc",
    [MT_REC_FREE] = "free",
    [MT_REC_ERROR] = "error",
    [MT_REC_MALLINFO] = "mallinfo",
    [MT_REC_LEAK_BEGIN] = "leak_begin",
    [MT_REC_LEAK] = "leak",
    [MT_REC_LEAK_END] = "leak_end",
    [MT_REC_SEQ_SKIP] = "seq_skip",
    [MT_REC_POOL] = "pool",
    [MT_REC_POOL_CHUNK] = "pool_chunk",
    [MT_REC_CLIENT] = "client",
    [MT_REC_SESSION] = "session",
    [MT_REC_RSS] = "rss",
    [MT_REC_PROC_END] = "proc_end",
    [MT_REC_STATS] = "stats",
};

static const char *const trace_family_names[MT_FAM_COUNT] = {
    "malloc", "new", "new[]", "aligned", "new_aligned", "new[]_aligned",
};

/* Same order as enum mt_api (trace_format.h). */
static const char *const trace_api_names[MT_API_COUNT] = {
    "malloc", "calloc", "realloc", "reallocarray", "free", "posix_memalign",
    "aligned_alloc", "memalign", "valloc", "pvalloc", "new", "new_nothrow",
    "new_aligned", "new_aligned_nothrow", "new[]", "new[]_nothrow", "new[]_aligned",
    "new[]_aligned_nothrow", "delete", "delete_sized", "delete_aligned",
    "delete_sized_aligned", "delete_nothrow", "delete_aligned_nothrow", "delete[]",
    "delete[]_sized", "delete[]_aligned", "delete[]_sized_aligned", "delete[]_nothrow",
    "delete[]_aligned_nothrow",
};
_Static_assert(sizeof trace_api_names / sizeof trace_api_names[0] == MT_API_COUNT,
               "one name per api");

const char *trace_kind_name(unsigned kind)
{
    if (kind >= MT_REC_KIND_MAX || !trace_kind_names[kind]) return "?";
    return trace_kind_names[kind];
}

const char *trace_family_name(unsigned family)
{
    return family < MT_FAM_COUNT ? trace_family_names[family] : "?";
}

const char *trace_api_name(unsigned api)
{
    return api < MT_API_COUNT ? trace_api_names[api] : "?";
}

/* ------------------------------------------------------------ validation */

/* Fixed part of each kind; 0 for kinds that do not exist. */
static const uint32_t trace_kind_size[MT_REC_KIND_MAX] = {
    [MT_REC_PAD] = sizeof(struct mt_rec_hdr),
    [MT_REC_PROCESS] = sizeof(struct mt_rec_process),
    [MT_REC_EXIT] = sizeof(struct mt_rec_exit),
    [MT_REC_THREAD] = sizeof(struct mt_rec_thread),
    [MT_REC_MODULE] = sizeof(struct mt_rec_module),
    [MT_REC_MODULE_UNLOAD] = sizeof(struct mt_rec_module_unload),
    [MT_REC_STACK] = sizeof(struct mt_rec_stack),
    [MT_REC_ALLOC] = sizeof(struct mt_rec_alloc),
    [MT_REC_FREE] = sizeof(struct mt_rec_free),
    [MT_REC_ERROR] = sizeof(struct mt_rec_error),
    [MT_REC_MALLINFO] = sizeof(struct mt_rec_mallinfo),
    [MT_REC_LEAK_BEGIN] = sizeof(struct mt_rec_leak_mark),
    [MT_REC_LEAK] = sizeof(struct mt_rec_leak),
    [MT_REC_LEAK_END] = sizeof(struct mt_rec_leak_mark),
    [MT_REC_SEQ_SKIP] = sizeof(struct mt_rec_seq_skip),
    [MT_REC_POOL] = sizeof(struct mt_rec_pool),
    [MT_REC_POOL_CHUNK] = sizeof(struct mt_rec_pool_chunk),
    [MT_REC_CLIENT] = sizeof(struct mt_rec_client),
    [MT_REC_SESSION] = sizeof(struct mt_rec_session),
    [MT_REC_RSS] = sizeof(struct mt_rec_rss),
    [MT_REC_PROC_END] = sizeof(struct mt_rec_proc_end),
    [MT_REC_STATS] = sizeof(struct mt_rec_stats),
};

/* A string of len bytes (len counts its NUL) that must end with NUL. */
static bool trace_str_ok(const char *s, uint64_t len)
{
    return len >= 1 && s[len - 1] == '\0';
}

/* An argv block: empty, or NUL-terminated args back to back. */
static bool trace_argv_ok(const char *s, uint64_t len)
{
    return len == 0 || s[len - 1] == '\0';
}

/* Trailing arrays and strings of the variable-length kinds. */
static int trace_rec_validate_tail(const struct mt_rec_hdr *rec)
{
    const char *base = (const char *)rec;
    uint64_t len = rec->len;
    switch (rec->kind) {
    case MT_REC_PROCESS: {
        const struct mt_rec_process *p = (const void *)rec;
        uint64_t need = sizeof *p + (uint64_t)p->exe_len + p->argv_len;
        if (need > len || !trace_str_ok(base + sizeof *p, p->exe_len)) return MT_ECORRUPT;
        return trace_argv_ok(base + sizeof *p + p->exe_len, p->argv_len) ? 0 : MT_ECORRUPT;
    }
    case MT_REC_MODULE: {
        const struct mt_rec_module *m = (const void *)rec;
        uint64_t segs = (uint64_t)m->n_segments * sizeof(struct mt_segment);
        uint64_t need = sizeof *m + segs + m->path_len;
        if (need > len || m->build_id_len > sizeof m->build_id) return MT_ECORRUPT;
        return trace_str_ok(base + sizeof *m + segs, m->path_len) ? 0 : MT_ECORRUPT;
    }
    case MT_REC_STACK: {
        const struct mt_rec_stack *s = (const void *)rec;
        return sizeof *s + (uint64_t)s->n_frames * 8u <= len ? 0 : MT_ECORRUPT;
    }
    case MT_REC_LEAK: {
        const struct mt_rec_leak *l = (const void *)rec;
        if (sizeof *l + (uint64_t)l->n * sizeof(struct mt_leak_entry) > len) return MT_ECORRUPT;
        const struct mt_leak_entry *e = (const void *)(l + 1);
        for (uint32_t i = 0; i < l->n; i++)
            if (e[i].cls < MT_LEAK_DEFINITE || e[i].cls > MT_LEAK_REACHABLE) return MT_ECORRUPT;
        return 0;
    }
    case MT_REC_POOL: {
        const struct mt_rec_pool *p = (const void *)rec;
        if (p->name_len == 0) return 0;
        if (sizeof *p + (uint64_t)p->name_len > len) return MT_ECORRUPT;
        return trace_str_ok(base + sizeof *p, p->name_len) ? 0 : MT_ECORRUPT;
    }
    case MT_REC_CLIENT: {
        const struct mt_rec_client *c = (const void *)rec;
        if (c->label_len == 0) return 0;
        if (sizeof *c + (uint64_t)c->label_len > len) return MT_ECORRUPT;
        return trace_str_ok(base + sizeof *c, c->label_len) ? 0 : MT_ECORRUPT;
    }
    case MT_REC_SESSION: {
        const struct mt_rec_session *s = (const void *)rec;
        if (sizeof *s + (uint64_t)s->argv_len > len) return MT_ECORRUPT;
        return trace_argv_ok(base + sizeof *s, s->argv_len) ? 0 : MT_ECORRUPT;
    }
    default:
        return 0;
    }
}

/* Enum fields that readers use as array indexes. */
static int trace_rec_validate_enums(const struct mt_rec_hdr *rec)
{
    switch (rec->kind) {
    case MT_REC_ALLOC: {
        const struct mt_rec_alloc *a = (const void *)rec;
        return a->family < MT_FAM_COUNT && a->api < MT_API_COUNT ? 0 : MT_ECORRUPT;
    }
    case MT_REC_FREE: {
        const struct mt_rec_free *f = (const void *)rec;
        return f->family < MT_FAM_COUNT && f->api < MT_API_COUNT ? 0 : MT_ECORRUPT;
    }
    case MT_REC_ERROR: {
        const struct mt_rec_error *e = (const void *)rec;
        if (e->kind < MT_ERR_NOT_LIVE || e->kind > MT_ERR_REALLOC_NOT_LIVE) return MT_ECORRUPT;
        if (e->family >= MT_FAM_COUNT || e->api >= MT_API_COUNT) return MT_ECORRUPT;
        /* alloc_family only means something for a mismatch */
        return e->kind != MT_ERR_MISMATCH || e->alloc_family < MT_FAM_COUNT ? 0 : MT_ECORRUPT;
    }
    case MT_REC_POOL: {
        const struct mt_rec_pool *p = (const void *)rec;
        return p->event >= MT_POOL_CREATE && p->event <= MT_POOL_DESTROY ? 0 : MT_ECORRUPT;
    }
    case MT_REC_POOL_CHUNK: {
        const struct mt_rec_pool_chunk *c = (const void *)rec;
        return c->op >= MT_CHUNK_ALLOC && c->op <= MT_CHUNK_SB_RELEASE ? 0 : MT_ECORRUPT;
    }
    case MT_REC_CLIENT: {
        const struct mt_rec_client *c = (const void *)rec;
        return c->op >= MT_CLIENT_MARK && c->op <= MT_CLIENT_IGNORE ? 0 : MT_ECORRUPT;
    }
    case MT_REC_PROC_END: {
        const struct mt_rec_proc_end *p = (const void *)rec;
        return p->how >= MT_END_EXITED && p->how <= MT_END_VANISHED ? 0 : MT_ECORRUPT;
    }
    default:
        return 0;
    }
}

int trace_rec_validate(const struct mt_rec_hdr *rec, size_t avail)
{
    if (avail < sizeof *rec) return MT_ECORRUPT;
    if (rec->len < sizeof *rec || rec->len > avail || rec->len % MT_REC_ALIGN) return MT_ECORRUPT;
    if (rec->kind >= MT_REC_KIND_MAX || trace_kind_size[rec->kind] == 0) return MT_ECORRUPT;
    if (rec->len < trace_kind_size[rec->kind]) return MT_ECORRUPT;
    int rc = trace_rec_validate_tail(rec);
    return rc ? rc : trace_rec_validate_enums(rec);
}
