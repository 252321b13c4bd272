/*
 * gate_text.c — the gate's human report and GitHub workflow annotations
 *
 * One line per finding ("FAIL leak-definite: 32 B in 1 block definitely
 * lost at f (a.c:3) < main (a.c:9)"), a line on suppressions, one on
 * rules a --no-errors recording could not check (gate.h design note 3),
 * then the verdict line. Under GitHub Actions, cmd_check.c also calls
 * gate_github_write(), which prints `::error file=,line=::` workflow
 * commands so failures show on the pull request's diff. Format: docs/ci.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include "gate/gate.h"

#include <inttypes.h>
#include <string.h>

/* ------------------------------------------------------------ helpers */

const char *gate_fmt_bytes(uint64_t n, char *buf, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)n;
    int u = 0;
    while (v >= 1024 && u < 4) v /= 1024, u++;
    if (u == 0)
        snprintf(buf, len, "%" PRIu64 " B", n);
    else
        snprintf(buf, len, "%.1f %s", v, units[u]);
    return buf;
}

const char *gate_rel_path(const char *path, const char *root)
{
    if (!path) return NULL;
    size_t n = root ? strlen(root) : 0;
    if (n && !strncmp(path, root, n) && path[n] == '/') path += n + 1;
    while (!strncmp(path, "./", 2)) path += 2;
    return path;
}

const struct gate_frame *gate_primary_frame(const struct gate_stack *s, const char *root)
{
    const struct gate_frame *any = NULL;
    size_t n = root ? strlen(root) : 0;
    for (size_t i = 0; i < s->n; i++) {
        const struct gate_frame *fr = &s->frames[i];
        if (!fr->file || fr->line <= 0) continue;
        if (n && !strncmp(fr->file, root, n) && fr->file[n] == '/') return fr;
        if (!any) any = fr;
    }
    return any ? any : s->n ? &s->frames[0] : NULL;
}

void gate_describe(const struct gate_finding *f, char *buf, size_t len)
{
    const struct gate_rule_info *ri = gate_rule(f->rule);
    char b[32];
    if (gate_rule_is_leak(f->rule)) {
        snprintf(buf, len, "%s in %" PRIu64 " block%s %s", gate_fmt_bytes(f->bytes, b, sizeof b),
                 f->count, f->count == 1 ? "" : "s", ri->title);
    } else if (f->count > 1) {
        snprintf(buf, len, "%s (%" PRIu64 " times)", f->detail, f->count);
    } else {
        snprintf(buf, len, "%s", f->detail);
    }
}

/* Appends the rules of mask & want to buf at *n: each rule id, or all as
 * one word when every rule of want is there. */
static void gate_rules_str(unsigned mask, unsigned want, const char *all, char *buf, size_t len,
                           size_t *n)
{
    if ((mask & want) == want) {
        *n += (size_t)snprintf(buf + *n, len - *n, "%s", all);
        return;
    }
    const char *sep = "";
    for (int r = 0; r < GATE_R_COUNT && *n < len; r++) {
        if (!(mask & want & GATE_MASK(r))) continue;
        *n += (size_t)snprintf(buf + *n, len - *n, "%s%s", sep, gate_rule((enum gate_rule)r)->id);
        sep = ", ";
    }
}

const char *gate_describe_not_checked(const struct gate_verdict *v, const struct gate_session *ss,
                                      char *buf, size_t len)
{
    unsigned leaks = GATE_MASK_LEAKS & GATE_MASK_NEEDS_TABLE;
    size_t n = 0;
    buf[0] = 0;
    if (v->not_checked & GATE_MASK_ERRORS)
        gate_rules_str(v->not_checked, GATE_MASK_ERRORS, "memory errors", buf, len, &n);
    if ((v->not_checked & GATE_MASK_ERRORS) && (v->not_checked & leaks) && n < len)
        n += (size_t)snprintf(buf + n, len - n, " and ");
    if (v->not_checked & leaks && n < len)
        gate_rules_str(v->not_checked, leaks, "leak classes", buf, len, &n);
    if (n < len)
        snprintf(buf + n, len - n, " not checked: recorded with --no-errors (%d of %d process%s)",
                 ss->n_unchecked, ss->n_processes, ss->n_processes == 1 ? "" : "es");
    return buf;
}

/* "function (file:line)" of one frame into buf. */
static void gate_frame_str(const struct gate_frame *fr, const char *root, char *buf, size_t len)
{
    const char *fn = fr->function ? fr->function : "??";
    if (fr->file && fr->line > 0)
        snprintf(buf, len, "%s (%s:%" PRId64 ")", fn, gate_rel_path(fr->file, root), fr->line);
    else if (fr->function)
        snprintf(buf, len, "%s", fn);
    else
        snprintf(buf, len, "?? (%s+0x%" PRIx64 ")", fr->module ? fr->module : "?", fr->offset);
}

static void gate_stack_print(FILE *out, const struct gate_stack *s, int n, const char *root)
{
    if (!s->n) {
        fputs("(no stack)", out);
        return;
    }
    for (size_t i = 0; i < s->n && (int)i < n; i++) {
        char b[512];
        gate_frame_str(&s->frames[i], root, b, sizeof b);
        fprintf(out, "%s%s", i ? " < " : "", b);
    }
    if (s->n > (size_t)n) fputs(" < ...", out);
}

/* ------------------------------------------------------------ text */

static const char *gate_tag(const struct gate_finding *f)
{
    if (f->supp_idx >= 0) return "supp";
    if (f->fails) return "FAIL";
    if (f->base == GATE_BASE_OLD) return "old ";
    return "info";
}

static void gate_finding_print(FILE *out, const struct gate_finding *f, const struct gate_supps *s,
                               int n_processes, const struct gate_out_opts *o)
{
    char d[256], b[32], c[32];
    gate_describe(f, d, sizeof d);
    fprintf(out, "%s %s: %s", gate_tag(f), gate_rule(f->rule)->id, d);
    if (f->base == GATE_BASE_GROWN && gate_rule_is_leak(f->rule))
        fprintf(out, " (site grew from %s to %s since the baseline)",
                gate_fmt_bytes(f->base_bytes, b, sizeof b),
                gate_fmt_bytes(f->key_bytes, c, sizeof c));
    else if (f->base == GATE_BASE_GROWN)
        fprintf(out, " (site grew from %" PRIu64 " to %" PRIu64 " since the baseline)",
                f->base_count, f->key_count);
    if (f->n_procs > 1)
        fprintf(out, " [%d processes]", f->n_procs);
    else if (n_processes > 1)
        fprintf(out, " [pid %d]", f->pid);
    fputs(" at ", out);
    gate_stack_print(out, &f->stack, o->n_frames, o->source_root);
    if (f->alloc_stack.n) {
        fputs("; allocated at ", out);
        gate_stack_print(out, &f->alloc_stack, 1, o->source_root);
    }
    if (f->free_stack.n) {
        fputs("; first freed at ", out);
        gate_stack_print(out, &f->free_stack, 1, o->source_root);
    }
    if (f->supp_idx >= 0 && (size_t)f->supp_idx < s->n)
        fprintf(out, " [suppressed by %s]", s->v[f->supp_idx].origin);
    fputc('\n', out);
}

static void gate_supp_summary(FILE *out, const struct gate_supps *s, const struct gate_verdict *v,
                              int verbose)
{
    if (!v->n_suppressed) return;
    fprintf(out, "suppressed: %zu finding%s\n", v->n_suppressed, v->n_suppressed == 1 ? "" : "s");
    if (!verbose) return;
    for (size_t i = 0; i < s->n; i++) {
        char b[32];
        if (s->v[i].hits)
            fprintf(out, "  %" PRIu64 " by %s (%s): %s\n", s->v[i].hits, s->v[i].text,
                    s->v[i].origin, gate_fmt_bytes(s->v[i].hit_bytes, b, sizeof b));
    }
}

/* The verdict line's reasons. */
static void gate_verdict_print(FILE *out, const struct gate_session *ss,
                               const struct gate_policy *p, const struct gate_verdict *v)
{
    char b[32], c[32];
    fprintf(out, "memtrace check: %s: %zu failing, %zu reported only, %zu suppressed",
            v->failed ? "FAILED" : "PASSED", v->n_fail, v->n_info, v->n_suppressed);
    if (v->n_old) fprintf(out, ", %zu in the baseline", v->n_old);
    if (v->not_checked) fputs("; rules not checked (--no-errors)", out);
    if (p->max_leaked_bytes >= 0)
        fprintf(out, "; leaked %s (limit %s)", gate_fmt_bytes(v->fail_leak_bytes, b, sizeof b),
                gate_fmt_bytes((uint64_t)p->max_leaked_bytes, c, sizeof c));
    if (p->max_peak >= 0)
        fprintf(out, "; peak heap %s (limit %s%s)",
                gate_fmt_bytes(ss->peak_heap > 0 ? (uint64_t)ss->peak_heap : 0, b, sizeof b),
                gate_fmt_bytes((uint64_t)p->max_peak, c, sizeof c),
                v->peak_over ? ", exceeded" : "");
    if (!ss->exited)
        fprintf(out, "; the program was killed by signal %d", ss->signal);
    else if (ss->exit_status)
        fprintf(out, "; the program exited with %d", ss->exit_status);
    fputc('\n', out);
}

void gate_text_write(FILE *out, const struct gate_findings *f, const struct gate_supps *s,
                     const struct gate_session *ss, const struct gate_policy *p,
                     const struct gate_verdict *v, const struct gate_out_opts *o)
{
    for (size_t i = 0; i < f->n; i++) {
        const struct gate_finding *x = &f->v[i];
        if ((x->supp_idx >= 0 || x->base == GATE_BASE_OLD) && !o->verbose) continue;
        gate_finding_print(out, x, s, ss->n_processes, o);
    }
    gate_supp_summary(out, s, v, o->verbose);
    char nc[512];
    if (v->not_checked) /* gate.h design note 3: one line, then the verdict */
        fprintf(out,
                "FAIL not-checked: %s; judge such a recording with --fail-on unclassified "
                "or none\n",
                gate_describe_not_checked(v, ss, nc, sizeof nc));
    else if (ss->n_unchecked)
        fprintf(out,
                "note: %d of %d process%s recorded with --no-errors: memory errors and leak "
                "classes were not checked\n",
                ss->n_unchecked, ss->n_processes, ss->n_processes == 1 ? "" : "es");
    if (!ss->leak_scan)
        fputs("note: a process ended without a leak scan (crash or _exit): its blocks are "
              "'unclassified'\n",
              out);
    if (ss->truncated)
        fputs("note: the trace is truncated: findings after its last complete frame are "
              "missing\n",
              out);
    if (ss->dropped > 0)
        fprintf(out, "note: %" PRId64 " events were dropped (--lossy): findings may be missing\n",
                ss->dropped);
    gate_verdict_print(out, ss, p, v);
}

/* ------------------------------------------------------------ GitHub */

/* Workflow command escaping: data escapes % CR LF; properties also : ,. */
static void gate_gh_escape(FILE *out, const char *s, int property)
{
    for (; *s; s++) {
        switch (*s) {
        case '%':
            fputs("%25", out);
            break;
        case '\r':
            fputs("%0D", out);
            break;
        case '\n':
            fputs("%0A", out);
            break;
        case ':':
            fputs(property ? "%3A" : ":", out);
            break;
        case ',':
            fputs(property ? "%2C" : ",", out);
            break;
        default:
            fputc(*s, out);
        }
    }
}

void gate_github_write(FILE *out, const struct gate_findings *f, const struct gate_verdict *v,
                       const struct gate_session *ss, const struct gate_out_opts *o)
{
    for (size_t i = 0; i < f->n; i++) {
        const struct gate_finding *x = &f->v[i];
        if (!x->fails) continue;
        const struct gate_frame *fr = gate_primary_frame(&x->stack, o->source_root);
        fputs("::error ", out);
        if (fr && fr->file && fr->line > 0) {
            fputs("file=", out);
            gate_gh_escape(out, gate_rel_path(fr->file, o->source_root), 1);
            fprintf(out, ",line=%" PRId64 ",", fr->line);
        }
        fputs("title=", out);
        char t[64], d[256];
        snprintf(t, sizeof t, "memtrace %s", gate_rule(x->rule)->id);
        gate_gh_escape(out, t, 1);
        fputs("::", out);
        gate_describe(x, d, sizeof d);
        gate_gh_escape(out, d, 0);
        if (fr && fr->function) {
            fputs(" in ", out);
            gate_gh_escape(out, fr->function, 0);
        }
        fputc('\n', out);
    }
    if (v->peak_over)
        fprintf(out,
                "::error title=memtrace max-peak::peak heap %" PRId64 " bytes exceeds --max-peak\n",
                ss->peak_heap);
    if (v->not_checked) {
        char nc[512];
        fputs("::error title=memtrace not-checked::", out);
        gate_gh_escape(out, gate_describe_not_checked(v, ss, nc, sizeof nc), 0);
        fputc('\n', out);
    }
}
