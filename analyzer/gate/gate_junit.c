/*
 * gate_junit.c — the gate's verdict as a JUnit XML test suite
 *
 * One <testsuite> valid against the common (Apache Ant) JUnit schema,
 * bundled as tests/data/junit.xsd: one testcase per rule (each leak class
 * and error kind), one per limit given (--max-leaked-bytes, --max-peak)
 * and one for the program's own exit. A testcase fails when a finding of
 * its rule fails the gate; the failure text lists those findings with
 * their whole stacks. A rule of --fail-on that a --no-errors recording
 * could not check fails as "not-checked" (gate.h design note 3). The
 * human report goes to <system-out>. Reference: docs/ci.md ("JUnit").
 *
 * SPDX-License-Identifier: MIT
 */
#include "gate/gate.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "report/report.h"

/* XML text or attribute value; characters XML 1.0 forbids become '?'. */
static void gate_xml(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        switch (*p) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&apos;", out);
            break;
        default:
            if (*p < 0x20 && *p != '\n' && *p != '\t' && *p != '\r')
                fputc('?', out);
            else
                fputc(*p, out);
        }
    }
}

/* The failure text of one finding: description and every frame. */
static void gate_junit_finding(FILE *out, const struct gate_finding *f, const char *root)
{
    char d[256];
    gate_describe(f, d, sizeof d);
    fprintf(out, "%s\n", d);
    const struct gate_stack *stacks[] = {&f->stack, &f->alloc_stack, &f->free_stack};
    static const char *const heads[] = {"", "  allocated:\n", "  first freed:\n"};
    for (int k = 0; k < 3; k++) {
        if (!stacks[k]->n) continue;
        fputs(heads[k], out);
        for (size_t i = 0; i < stacks[k]->n; i++) {
            const struct gate_frame *fr = &stacks[k]->frames[i];
            fprintf(out, "    at %s", fr->function ? fr->function : "??");
            if (fr->file)
                fprintf(out, " (%s:%" PRId64 ")", gate_rel_path(fr->file, root), fr->line);
            else
                fprintf(out, " (%s+0x%" PRIx64 ")", fr->module ? fr->module : "?", fr->offset);
            fputc('\n', out);
        }
    }
}

/* The testcase of one rule. Returns 1 if it failed. */
static int gate_junit_rule(FILE *out, enum gate_rule r, const struct gate_findings *f,
                           const struct gate_session *ss, const struct gate_verdict *v,
                           const char *root)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n; i++) n += f->v[i].rule == r && f->v[i].fails;
    fprintf(out, "  <testcase classname=\"memtrace.check\" name=\"%s\" time=\"0\"",
            gate_rule(r)->id);
    if (!n && (v->not_checked & GATE_MASK(r))) {
        char nc[512];
        struct gate_verdict one = *v;
        one.not_checked = GATE_MASK(r);
        fputs(">\n    <failure type=\"not-checked\" message=\"", out);
        gate_xml(out, gate_describe_not_checked(&one, ss, nc, sizeof nc));
        fputs("\"/>\n  </testcase>\n", out);
        return 1;
    }
    if (!n) {
        fputs("/>\n", out);
        return 0;
    }
    fprintf(out, ">\n    <failure type=\"%s\" message=\"%zu finding%s: %s\">", gate_rule(r)->id, n,
            n == 1 ? "" : "s", gate_rule(r)->title);
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    for (size_t i = 0; mem && i < f->n; i++)
        if (f->v[i].rule == r && f->v[i].fails) gate_junit_finding(mem, &f->v[i], root);
    if (mem) fclose(mem);
    gate_xml(out, text);
    free(text);
    fputs("</failure>\n  </testcase>\n", out);
    return 1;
}

/* A testcase for a limit or the program's exit. Returns failed. */
static int gate_junit_simple(FILE *out, const char *name, int failed, const char *msg)
{
    fprintf(out, "  <testcase classname=\"memtrace.check\" name=\"%s\" time=\"0\"", name);
    if (!failed) {
        fputs("/>\n", out);
        return 0;
    }
    fprintf(out, ">\n    <failure type=\"%s\" message=\"", name);
    gate_xml(out, msg);
    fputs("\"/>\n  </testcase>\n", out);
    return 1;
}

static void gate_junit_head(FILE *out, int tests, int failures, const struct gate_session *ss)
{
    char ts[32], host[256] = "localhost";
    time_t now = time(NULL);
    struct tm tm;
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", localtime_r(&now, &tm));
    if (gethostname(host, sizeof host - 1) || !host[0]) strcpy(host, "localhost");
    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<testsuite name=\"memtrace check\" timestamp=\"%s\" hostname=\"",
            ts);
    gate_xml(out, host);
    fprintf(out, "\" tests=\"%d\" failures=\"%d\" errors=\"0\" time=\"%.3f\">\n  <properties>\n",
            tests, failures, ss->seconds);
    fputs("    <property name=\"program\" value=\"", out);
    gate_xml(out, ss->program);
    fprintf(out,
            "\"/>\n    <property name=\"peak_heap_bytes\" value=\"%" PRId64 "\"/>\n"
            "  </properties>\n",
            ss->peak_heap);
}

/* Writes the testcases to body. Returns the failure count via *failures. */
static int gate_junit_cases(FILE *body, const struct gate_findings *f,
                            const struct gate_session *ss, const struct gate_policy *p,
                            const struct gate_verdict *v, const char *root, int *failures)
{
    int tests = 0;
    char msg[256], b[32], c[32];
    for (int r = 0; r < GATE_R_COUNT; r++, tests++)
        *failures += gate_junit_rule(body, (enum gate_rule)r, f, ss, v, root);
    if (p->max_leaked_bytes >= 0) {
        snprintf(msg, sizeof msg, "leaked %s, limit %s", gate_fmt_bytes(v->fail_leak_bytes, b, 32),
                 gate_fmt_bytes((uint64_t)p->max_leaked_bytes, c, 32));
        *failures += gate_junit_simple(body, "max-leaked-bytes", v->leak_over, msg), tests++;
    }
    if (p->max_peak >= 0) {
        snprintf(msg, sizeof msg, "peak heap %" PRId64 " bytes, limit %" PRId64, ss->peak_heap,
                 p->max_peak);
        *failures += gate_junit_simple(body, "max-peak", v->peak_over, msg), tests++;
    }
    if (ss->exited)
        snprintf(msg, sizeof msg, "the program exited with %d", ss->exit_status);
    else
        snprintf(msg, sizeof msg, "the program was killed by signal %d", ss->signal);
    *failures += gate_junit_simple(body, "program-exit", ss->program_failed, msg), tests++;
    return tests;
}

int gate_junit_write(const char *path, const struct gate_findings *f, const struct gate_supps *s,
                     const struct gate_session *ss, const struct gate_policy *p,
                     const struct gate_verdict *v, const struct gate_out_opts *o)
{
    char *body = NULL, *report = NULL;
    size_t blen = 0, rlen = 0;
    FILE *bm = open_memstream(&body, &blen), *rm = open_memstream(&report, &rlen);
    int failures = 0, tests = 0;
    if (bm) tests = gate_junit_cases(bm, f, ss, p, v, o->source_root, &failures);
    struct gate_out_opts ro = *o;
    ro.verbose = 1;
    if (rm) gate_text_write(rm, f, s, ss, p, v, &ro);
    if (bm) fclose(bm);
    if (rm) fclose(rm);
    struct report_out file; /* a temp file renamed at the end: no half report */
    int rc = bm && rm ? report_out_open(&file, path) : -ENOMEM;
    if (rc == 0) {
        FILE *out = file.f;
        gate_junit_head(out, tests, failures, ss);
        fputs(body, out);
        fputs("  <system-out>", out);
        gate_xml(out, report);
        fputs("</system-out>\n  <system-err></system-err>\n</testsuite>\n", out);
        rc = ferror(out) ? -EIO : 0;
        int rc_close = report_out_close(&file, rc == 0);
        if (!rc) rc = rc_close;
    }
    free(body);
    free(report);
    return rc;
}
