/*
 * live_json.c — a snapshot as JSON, for scripts (memtrace top --json, tui --json)
 *
 * Everything the view shows is also machine-readable (DESIGN.md): the
 * same struct live_snap the screen draws, printed as one object with
 * exact integers. Field names: docs/tui.md ("Machine output"). A scope
 * recorded with --no-errors has "errors_checked": false: its n_errors
 * counts only client pools' errors and its leaks were never classified.
 *
 * SPDX-License-Identifier: MIT
 */
#include "live/live.h"

#include <errno.h>
#include <stdio.h>

/* Prints s as a JSON string (quotes, escapes). */
static void live_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

#define U(x) ((unsigned long long)(x))

static void live_json_sites(const struct live_snap *s, FILE *f)
{
    fprintf(f, "\"sites\":[");
    for (size_t i = 0; i < s->n_sites; i++) {
        const struct live_site_row *r = &s->sites[i];
        fprintf(f, "%s{\"pid\":%u,\"gen\":%u,\"stack_id\":%u,\"live_bytes\":%llu,"
                   "\"live_blocks\":%llu,\"alloc_bytes\":%llu,\"n_allocs\":%llu,\"n_frees\":%llu,"
                   "\"leak_bytes\":%llu,\"leak_blocks\":%llu,\"location\":",
                i ? "," : "", r->pid, r->gen, r->stack_id, U(r->live_bytes), U(r->live_blocks),
                U(r->alloc_bytes), U(r->n_allocs), U(r->n_frees), U(r->leak_bytes),
                U(r->leak_blocks));
        live_json_str(f, r->label);
        fputc('}', f);
    }
    fprintf(f, "],");
}

static void live_json_rest(const struct live_snap *s, FILE *f)
{
    fprintf(f, "\"errors\":[");
    for (size_t i = 0; i < s->n_errors_shown; i++) {
        const struct live_error_row *e = &s->errors[i];
        fprintf(f, "%s{\"t_ns\":%llu,\"pid\":%u,\"tid\":%u,\"kind\":", i ? "," : "", U(e->t_ns),
                e->pid, e->tid);
        live_json_str(f, e->kind);
        fprintf(f, ",\"api\":");
        live_json_str(f, e->api);
        fprintf(f, ",\"addr\":%llu,\"size\":%llu,\"at\":", U(e->addr), U(e->size));
        live_json_str(f, e->at);
        fputc('}', f);
    }
    fprintf(f, "],\"processes\":[");
    for (size_t i = 0; i < s->n_procs; i++) {
        const struct live_proc_row *p = &s->procs[i];
        fprintf(f,
                "%s{\"pid\":%u,\"gen\":%u,\"ppid\":%u,\"ended\":%d,\"live_bytes\":%llu,"
                "\"peak_bytes\":%llu,\"rss_bytes\":%llu,\"n_allocs\":%llu,\"n_frees\":%llu,"
                "\"n_errors\":%llu,\"errors_checked\":%s,\"exe\":",
                i ? "," : "", p->pid, p->gen, p->ppid, p->ended, U(p->live_bytes), U(p->peak_bytes),
                U(p->rss), U(p->n_allocs), U(p->n_frees), U(p->n_errors),
                p->errors_checked < 0 ? "null"
                : p->errors_checked   ? "true"
                                      : "false");
        live_json_str(f, p->exe);
        fputc('}', f);
    }
    fprintf(f, "],\"threads\":[");
    for (size_t i = 0; i < s->n_threads; i++) {
        const struct live_thread_row *t = &s->threads[i];
        fprintf(f, "%s{\"pid\":%u,\"tid\":%u,\"name\":", i ? "," : "", t->pid, t->tid);
        live_json_str(f, t->name);
        fprintf(f, ",\"n_allocs\":%llu,\"alloc_bytes\":%llu,\"n_frees\":%llu,\"live_bytes\":%llu}",
                U(t->n_allocs), U(t->alloc_bytes), U(t->n_frees), U(t->live_bytes));
    }
    fprintf(f, "]");
}

/* pools[] and markers[] (client API, docs/client-api.md). */
static void live_json_client(const struct live_snap *s, FILE *f)
{
    fprintf(f, ",\"pools\":[");
    for (size_t i = 0; i < s->n_pools; i++) {
        const struct live_pool_row *p = &s->pools[i];
        fprintf(f, "%s{\"pid\":%u,\"gen\":%u,\"pool_id\":%u,\"name\":", i ? "," : "", p->pid,
                p->gen, p->pool_id);
        live_json_str(f, p->name);
        fprintf(f,
                ",\"destroyed\":%d,\"live_bytes\":%llu,\"live_chunks\":%llu,\"held_bytes\":%llu,"
                "\"waste_bytes\":%llu,\"peak_live_bytes\":%llu,\"peak_held_bytes\":%llu,"
                "\"max_held_bytes\":%llu,\"n_allocs\":%llu,\"n_frees\":%llu,\"n_resets\":%llu,"
                "\"n_errors\":%llu,\"leak_bytes\":%llu,\"leak_chunks\":%llu}",
                p->destroyed, U(p->live_bytes), U(p->live_chunks), U(p->held_bytes),
                U(p->held_bytes > p->live_bytes ? p->held_bytes - p->live_bytes : 0),
                U(p->peak_live_bytes), U(p->peak_held_bytes), U(p->max_held_bytes), U(p->n_allocs),
                U(p->n_frees), U(p->n_resets), U(p->n_errors), U(p->leak_bytes), U(p->leak_chunks));
    }
    fprintf(f, "],\"markers\":[");
    for (size_t i = 0; i < s->n_markers; i++) {
        const struct live_marker *m = &s->markers[i];
        fprintf(f, "%s{\"t_ns\":%llu,\"pid\":%u,\"gen\":%u,\"kind\":", i ? "," : "", U(m->t_ns),
                m->pid, m->gen);
        live_json_str(f, m->kind);
        fprintf(f, ",\"name\":");
        live_json_str(f, m->name);
        fputc('}', f);
    }
    fprintf(f, "]");
}

int live_snap_json(const struct live_snap *s, FILE *f)
{
    fprintf(f, "{\"command\":");
    live_json_str(f, s->command);
    fprintf(f,
            ",\"finished\":%d,\"elapsed_ns\":%llu,\"cursor_ns\":%llu,\"peak_ns\":%llu,"
            "\"live_bytes\":%llu,\"live_blocks\":%llu,\"peak_bytes\":%llu,\"rss_bytes\":%llu,"
            "\"n_allocs\":%llu,\"n_frees\":%llu,\"alloc_bytes\":%llu,\"n_errors\":%llu,"
            "\"allocs_per_s\":%.1f,\"frees_per_s\":%.1f,\"processes_running\":%u,"
            "\"replayed_records\":%llu,\"errors_checked\":%s,",
            s->finished, U(s->elapsed_ns), U(s->cursor_ns), U(s->peak_ns), U(s->live_bytes),
            U(s->live_blocks), U(s->peak_bytes), U(s->rss_bytes), U(s->n_allocs), U(s->n_frees),
            U(s->alloc_bytes), U(s->n_errors), s->allocs_per_s, s->frees_per_s, s->n_procs_running,
            U(s->replayed_records), s->n_unchecked ? "false" : "true");
    live_json_sites(s, f);
    live_json_rest(s, f);
    live_json_client(s, f);
    fprintf(f, "}\n");
    return ferror(f) ? -EIO : 0;
}
