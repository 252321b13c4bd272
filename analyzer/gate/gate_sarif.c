/*
 * gate_sarif.c — the gate's findings as a SARIF 2.1.0 log for code scanning
 *
 * What GitHub code scanning reads: tool.driver.rules (id, name,
 * descriptions, helpUri, properties.tags with CWE ids), and per result a
 * ruleId, level, message, one location whose artifactLocation.uri is
 * relative to the source root (uriBaseId SRCROOT) with region.startLine, a
 * codeFlow with the whole stack, relatedLocations for the allocation and
 * first-free sites, partialFingerprints from the site key (stable across
 * runs) and baselineState with --baseline. Suppressed findings are left
 * out. Rules a --no-errors recording could not check (gate.h design note
 * 3) become error-level toolExecutionNotifications of the invocation, one
 * per rule (associatedRule), since they have no result to carry. Validated against the OASIS schema
 * by tests/e2e/check_sarif.sh. Reference: docs/ci.md ("SARIF").
 *
 * SPDX-License-Identifier: MIT
 */
#include "gate/gate.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "report/report.h"

#define GATE_SARIF_SCHEMA "https://json.schemastore.org/sarif-2.1.0.json"
#define GATE_CWE_URI "https://cwe.mitre.org/data/definitions/%d.html"

/* ------------------------------------------------------------ JSON */

void gate_json_str(FILE *out, const char *s)
{
    if (!s) {
        fputs("null", out);
        return;
    }
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p == '\t')
            fputs("\\t", out);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

/* A path as a URI reference: RFC 3986 unreserved characters and '/' kept,
 * everything else percent-encoded. abs: prefix file://. */
static void gate_json_uri(FILE *out, const char *path, int abs)
{
    fputs(abs ? "\"file://" : "\"", out);
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~/", *p))
            fputc(*p, out);
        else
            fprintf(out, "%%%02X", *p);
    }
    fputc('"', out);
}

/* ------------------------------------------------------------ pieces */

static void gate_sarif_rule(FILE *out, enum gate_rule r)
{
    const struct gate_rule_info *ri = gate_rule(r);
    int cwe = 0;
    sscanf(ri->cwe, "%d", &cwe);
    fprintf(out, "{\"id\":\"%s\",\"name\":\"%s\",\"shortDescription\":{\"text\":", ri->id,
            ri->name);
    char t[96];
    if (gate_rule_is_leak(r))
        snprintf(t, sizeof t, "Memory %s", ri->title);
    else
        snprintf(t, sizeof t, "%c%s", toupper((unsigned char)ri->title[0]), ri->title + 1);
    gate_json_str(out, t);
    fputs("},\"fullDescription\":{\"text\":", out);
    gate_json_str(out, ri->help);
    fprintf(out, "},\"helpUri\":\"" GATE_CWE_URI "\",\"help\":{\"text\":", cwe);
    gate_json_str(out, ri->help);
    fputs("},\"properties\":{\"precision\":\"high\",\"tags\":[\"memory\",\"reliability\"", out);
    char cwes[32];
    snprintf(cwes, sizeof cwes, "%s", ri->cwe);
    for (char *sp = NULL, *c = strtok_r(cwes, ",", &sp); c; c = strtok_r(NULL, ",", &sp))
        fprintf(out, ",\"CWE-%s\",\"external/cwe/cwe-%s\"", c, c);
    fputs("]}}", out);
}

/* A physicalLocation object for a frame, or nothing (returns 0) when the
 * frame has neither a file nor a module. */
static int gate_sarif_phys(FILE *out, const struct gate_frame *fr, const char *root)
{
    const char *path = fr->file ? fr->file : fr->module;
    if (!path) return 0;
    const char *rel = gate_rel_path(path, root);
    fputs("\"physicalLocation\":{\"artifactLocation\":{\"uri\":", out);
    if (rel != path || path[0] != '/') {
        gate_json_uri(out, rel, 0);
        if (rel != path) fputs(",\"uriBaseId\":\"SRCROOT\"", out);
    } else {
        gate_json_uri(out, path, 1);
    }
    fputc('}', out);
    if (fr->file && fr->line > 0) fprintf(out, ",\"region\":{\"startLine\":%" PRId64 "}", fr->line);
    fputc('}', out);
    return 1;
}

static void gate_sarif_frame_msg(FILE *out, const struct gate_frame *fr)
{
    char b[512];
    if (fr->function)
        snprintf(b, sizeof b, "%s", fr->function);
    else
        snprintf(b, sizeof b, "?? (%s+0x%" PRIx64 ")", fr->module ? fr->module : "?", fr->offset);
    fputs("\"message\":{\"text\":", out);
    gate_json_str(out, b);
    fputc('}', out);
}

/* A codeFlow with every frame of the stack, innermost first. */
static void gate_sarif_flow(FILE *out, const struct gate_stack *s, const char *what,
                            const char *root)
{
    fputs("{\"message\":{\"text\":", out);
    gate_json_str(out, what);
    fputs("},\"threadFlows\":[{\"locations\":[", out);
    for (size_t i = 0; i < s->n; i++) {
        fputs(i ? ",{\"location\":{" : "{\"location\":{", out);
        if (gate_sarif_phys(out, &s->frames[i], root)) fputc(',', out);
        gate_sarif_frame_msg(out, &s->frames[i]);
        fputs("}}", out);
    }
    fputs("]}]}", out);
}

static void gate_sarif_related(FILE *out, const struct gate_stack *s, int id, const char *what,
                               const char *root, int *first)
{
    const struct gate_frame *fr = gate_primary_frame(s, root);
    if (!fr) return;
    fprintf(out, "%s{\"id\":%d,", *first ? "" : ",", id);
    if (gate_sarif_phys(out, fr, root)) fputc(',', out);
    char b[512];
    snprintf(b, sizeof b, "%s in %s", what, fr->function ? fr->function : "??");
    fputs("\"message\":{\"text\":", out);
    gate_json_str(out, b);
    fputs("}}", out);
    *first = 0;
}

static const char *gate_sarif_base(enum gate_base b)
{
    return b == GATE_BASE_NEW ? "new" : b == GATE_BASE_GROWN ? "updated" : "unchanged";
}

static void gate_sarif_result(FILE *out, const struct gate_finding *f, const char *exe,
                              const struct gate_out_opts *o)
{
    const char *root = o->source_root;
    const struct gate_frame *fr = gate_primary_frame(&f->stack, root);
    char d[256], m[512];
    gate_describe(f, d, sizeof d);
    snprintf(m, sizeof m, "%s%s%s", d, fr && fr->function ? " in " : "",
             fr && fr->function ? fr->function : "");
    fprintf(out, "{\"ruleId\":\"%s\",\"ruleIndex\":%d,\"level\":\"%s\",\"message\":{\"text\":",
            gate_rule(f->rule)->id, (int)f->rule, f->fails ? "error" : "note");
    gate_json_str(out, m);
    fputs("},\"locations\":[{", out);
    if (fr && gate_sarif_phys(out, fr, root))
        fputc(',', out);
    else if (exe[0] && gate_sarif_phys(out, &(struct gate_frame){.module = (char *)exe}, root))
        fputc(',', out); /* no frame to show: code scanning still needs an artifact */
    fputs("\"logicalLocations\":[{\"kind\":\"function\",\"name\":", out);
    gate_json_str(out, fr && fr->function ? fr->function : "??");
    fprintf(out, "}]}],\"partialFingerprints\":{\"memtraceSite/v1\":\"%016" PRIx64 "\"}",
            f->fingerprint);
    if (f->base != GATE_BASE_NONE)
        fprintf(out, ",\"baselineState\":\"%s\"", gate_sarif_base(f->base));
    if (f->stack.n) { /* a threadFlow needs at least one location */
        fputs(",\"codeFlows\":[", out);
        gate_sarif_flow(out, &f->stack, gate_rule_is_leak(f->rule) ? "allocation" : "the bad call",
                        root);
        fputs("]", out);
    }
    int first = 1;
    if (f->alloc_stack.n || f->free_stack.n) {
        fputs(",\"relatedLocations\":[", out);
        gate_sarif_related(out, &f->alloc_stack, 1, "allocated", root, &first);
        gate_sarif_related(out, &f->free_stack, 2, "first freed", root, &first);
        fputs("]", out);
    }
    fprintf(out,
            ",\"properties\":{\"count\":%" PRIu64 ",\"bytes\":%" PRIu64
            ",\"pid\":%d,\"processes\":%d,\"gate\":\"%s\"}}",
            f->count, f->bytes, f->pid, f->n_procs, f->fails ? "fail" : "report");
}

/* ------------------------------------------------------------ the log */

/* ,"toolExecutionNotifications":[...] for v->not_checked; nothing if 0. */
static void gate_sarif_not_checked(FILE *out, const struct gate_verdict *v,
                                   const struct gate_session *ss)
{
    const char *sep = ",\"toolExecutionNotifications\":[";
    for (int r = 0; r < GATE_R_COUNT; r++) {
        if (!(v->not_checked & GATE_MASK(r))) continue;
        char nc[512];
        struct gate_verdict one = *v;
        one.not_checked = GATE_MASK(r);
        fprintf(out,
                "%s{\"level\":\"error\",\"descriptor\":{\"id\":\"not-checked\"},"
                "\"associatedRule\":{\"id\":\"%s\",\"index\":%d},\"message\":{\"text\":",
                sep, gate_rule((enum gate_rule)r)->id, r);
        gate_json_str(out, gate_describe_not_checked(&one, ss, nc, sizeof nc));
        fputs("}}", out);
        sep = ",";
    }
    if (v->not_checked) fputc(']', out);
}

int gate_sarif_write(const char *path, const struct gate_findings *f, const struct gate_session *ss,
                     const struct gate_verdict *v, const struct gate_out_opts *o)
{
    struct report_out ro; /* a temp file renamed at the end: no half log */
    int rc = report_out_open(&ro, path);
    if (rc) return rc;
    FILE *out = ro.f;
    fputs("{\"$schema\":\"" GATE_SARIF_SCHEMA "\",\"version\":\"2.1.0\",\"runs\":[{\n"
          "\"tool\":{\"driver\":{\"name\":\"memtrace\",\"version\":\"0.1.0\","
          "\"semanticVersion\":\"0.1.0\",\"rules\":[\n",
          out);
    for (int r = 0; r < GATE_R_COUNT; r++) {
        if (r) fputs(",\n", out);
        gate_sarif_rule(out, (enum gate_rule)r);
    }
    fputs("]}},\n\"originalUriBaseIds\":{\"SRCROOT\":{\"uri\":", out);
    char root[4096];
    snprintf(root, sizeof root, "%s/", o->source_root ? o->source_root : "");
    gate_json_uri(out, root, 1);
    fputs("}},\n\"invocations\":[{\"executionSuccessful\":true,\"commandLine\":", out);
    gate_json_str(out, ss->program);
    gate_sarif_not_checked(out, v, ss);
    fprintf(out,
            ",\"properties\":{\"programExitStatus\":%d,\"programSignal\":%d,"
            "\"gateFailed\":%s,\"processesNotChecked\":%d}}],\n\"results\":[",
            ss->exited ? ss->exit_status : -1, ss->exited ? 0 : ss->signal,
            v->failed ? "true" : "false", ss->n_unchecked);
    int n = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (f->v[i].supp_idx >= 0) continue;
        fputs(n++ ? ",\n" : "\n", out);
        gate_sarif_result(out, &f->v[i], ss->exe, o);
    }
    fputs("\n]}]}\n", out);
    rc = ferror(out) ? -EIO : 0;
    int rc_close = report_out_close(&ro, rc == 0);
    return rc ? rc : rc_close;
}
