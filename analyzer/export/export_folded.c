/*
 * export_folded.c — folded stacks: "outer;...;inner value" per site
 *
 * The input of Brendan Gregg's flamegraph.pl and of speedscope's "folded"
 * import. One line per site (process image and stack) whose value is not
 * zero, frames from the outermost caller to the allocating function, each
 * named by export_frame_name() (inlined frames appear as their own frames).
 * ';' in a name would split a frame, so it is written as ':'. The values
 * add up to the database's totals (docs/reports.md, "folded").
 *
 * SPDX-License-Identifier: MIT
 */
#include "export/export.h"

#include <errno.h>
#include <inttypes.h>

static int64_t export_folded_value(const struct export_site *s, enum export_value v)
{
    switch (v) {
    case EXPORT_ALLOCS: return s->n_allocs;
    case EXPORT_LEAKED: return s->leaked_bytes;
    case EXPORT_PEAK: return s->peak_bytes;
    default: return s->alloc_bytes;
    }
}

static void export_folded_name(FILE *out, const struct export_frame *f)
{
    char buf[1024];
    for (const char *p = export_frame_name(f, buf, sizeof buf); *p; p++) {
        if (*p == ';') fputc(':', out);
        else if (*p == '\n' || *p == '\r') fputc(' ', out);
        else fputc(*p, out);
    }
}

int export_folded(const struct export_data *d, FILE *out, enum export_value v,
                  struct mt_errbuf *eb)
{
    for (size_t i = 0; i < d->n_sites; i++) {
        const struct export_site *s = &d->sites[i];
        int64_t value = export_folded_value(s, v);
        if (value <= 0) continue;
        if (s->n_frames == 0) fputs("[no stack]", out);
        for (int k = s->n_frames - 1; k >= 0; k--) {
            export_folded_name(out, s->frames[k]);
            if (k) fputc(';', out);
        }
        fprintf(out, " %" PRId64 "\n", value);
    }
    if (ferror(out)) {
        mt_errbuf_set(eb, "writing the folded stacks failed");
        return -EIO;
    }
    return 0;
}
