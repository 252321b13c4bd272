/*
 * gate_supp.c — suppressions in LeakSanitizer's format, extended to errors
 *
 * A suppression is "type:pattern". Types: `leak` (every leak class), a
 * rule id (`leak-reachable`, `double-free`, ...), an error kind with '-' or
 * '_', or `error` (every error kind). The pattern is LeakSanitizer's
 * template: '*' matches any run of characters, a leading '^' and a
 * trailing '$' anchor it, otherwise it may match anywhere. A finding is
 * suppressed when the pattern matches the function, file or module of any
 * frame of its stack (for errors: the bad call's stack or the block's
 * allocation stack). The first matching entry wins and counts the hit.
 * Format and built-in list: docs/ci.md ("Suppressions").
 *
 * SPDX-License-Identifier: MIT
 */
#include "gate/gate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memtrace/error.h"

#define GATE_SUPP_MAX_FILE (16u << 20) /* a suppressions file larger than this is a mistake */

/* ------------------------------------------------------------ matching */

/* Glob match of pat[0..plen) against all of s: '*' any run. Iterative,
 * with one backtrack point (the last '*'), so linear in practice. */
static int gate_glob(const char *pat, size_t plen, const char *s)
{
    size_t p = 0, star = (size_t)-1;
    const char *mark = NULL;
    while (*s) {
        if (p < plen && pat[p] == '*') {
            star = p++;
            mark = s;
        } else if (p < plen && pat[p] == *s) {
            p++, s++;
        } else if (star != (size_t)-1) {
            p = star + 1;
            s = ++mark;
        } else {
            return 0;
        }
    }
    while (p < plen && pat[p] == '*') p++;
    return p == plen;
}

int gate_supp_match(const char *pattern, const char *str)
{
    if (!pattern || !*pattern) return 1;
    if (!str) return 0;
    int anchor_start = pattern[0] == '^';
    const char *p = pattern + anchor_start;
    size_t len = strlen(p);
    int anchor_end = len && p[len - 1] == '$';
    if (anchor_end) len--;
    /* unanchored ends behave as a leading / trailing '*' */
    size_t n = len + 2;
    char buf[256], *q = n <= sizeof buf ? buf : malloc(n + 1);
    if (!q) return 0;
    size_t k = 0;
    if (!anchor_start) q[k++] = '*';
    memcpy(q + k, p, len);
    k += len;
    if (!anchor_end) q[k++] = '*';
    int m = gate_glob(q, k, str);
    if (q != buf) free(q);
    return m;
}

static int gate_frame_match(const char *pat, const struct gate_frame *fr)
{
    return gate_supp_match(pat, fr->function) || gate_supp_match(pat, fr->file) ||
           gate_supp_match(pat, fr->module);
}

static int gate_stack_match(const char *pat, const struct gate_stack *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (gate_frame_match(pat, &s->frames[i])) return 1;
    return 0;
}

static int gate_entry_match(const struct gate_supp *e, const struct gate_finding *f)
{
    if (!(e->rules & GATE_MASK(f->rule))) return 0;
    if (e->leaf && (!f->stack.n || !gate_frame_match(e->leaf, &f->stack.frames[0]))) return 0;
    if (!*e->pattern) return 1;
    return gate_stack_match(e->pattern, &f->stack) ||
           (!gate_rule_is_leak(f->rule) && gate_stack_match(e->pattern, &f->alloc_stack));
}

void gate_supp_apply(struct gate_supps *s, struct gate_findings *f)
{
    for (size_t i = 0; i < f->n; i++) {
        struct gate_finding *x = &f->v[i];
        x->supp_idx = -1;
        for (size_t j = 0; j < s->n; j++) {
            if (!gate_entry_match(&s->v[j], x)) continue;
            x->supp_idx = (int)j;
            s->v[j].hits++;
            s->v[j].hit_bytes += gate_rule_is_leak(x->rule) ? x->bytes : 0;
            break;
        }
    }
}

/* ------------------------------------------------------------ the list */

void gate_supps_free(struct gate_supps *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].pattern);
        free(s->v[i].leaf);
        free(s->v[i].origin);
        free(s->v[i].text);
    }
    free(s->v);
    *s = (struct gate_supps){0};
}

/* Appends an entry, copying the strings. 0 or -ENOMEM. */
static int gate_supp_add(struct gate_supps *s, unsigned rules, const char *pattern,
                         const char *leaf, const char *origin, const char *text)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        void *v = realloc(s->v, cap * sizeof *s->v);
        if (!v) return -ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    struct gate_supp *e = &s->v[s->n];
    *e = (struct gate_supp){.rules = rules};
    e->pattern = strdup(pattern);
    e->leaf = leaf ? strdup(leaf) : NULL;
    e->origin = strdup(origin);
    e->text = strdup(text);
    if (!e->pattern || (leaf && !e->leaf) || !e->origin || !e->text) {
        free(e->pattern), free(e->leaf), free(e->origin), free(e->text);
        return -ENOMEM;
    }
    s->n++;
    return 0;
}

/* The rules a suppression type stands for; 0 if unknown. */
static unsigned gate_supp_type(const char *t, size_t len)
{
    char w[48];
    if (len >= sizeof w) return 0;
    for (size_t i = 0; i < len; i++) w[i] = t[i] == '_' ? '-' : t[i];
    w[len] = 0;
    if (!strcmp(w, "leak")) return GATE_MASK_LEAKS;
    if (!strcmp(w, "error")) return GATE_MASK_ERRORS;
    for (int r = 0; r < GATE_R_COUNT; r++) {
        if (!strcmp(w, gate_rule(r)->id)) return GATE_MASK(r);
        if (!gate_rule_is_leak(r) && !strcmp(w, gate_rule(r)->supp)) return GATE_MASK(r);
    }
    return 0;
}

static char *gate_trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) s[--n] = 0;
    return s;
}

/* One line (modified in place). 0, -ENOMEM or MT_EUSAGE. */
static int gate_supp_line(struct gate_supps *s, char *line, const char *origin, int lineno,
                          int strict, struct mt_errbuf *eb)
{
    char *l = gate_trim(line);
    if (!*l || *l == '#') return 0;
    char *colon = strchr(l, ':');
    unsigned rules = colon ? gate_supp_type(l, (size_t)(colon - l)) : 0;
    if (!rules) {
        if (!strict) return 0;
        char shown[64]; /* a binary file must not reach the terminal raw */
        size_t k = 0;
        for (; l[k] && k < sizeof shown - 1; k++)
            shown[k] = (unsigned char)l[k] >= 0x20 && (unsigned char)l[k] < 0x7f ? l[k] : '?';
        shown[k] = 0;
        mt_errbuf_set(eb, "%s:%d: %s '%s%s' (expected leak:PATTERN, double-free:PATTERN, ...)",
                      origin, lineno, colon ? "unknown suppression type in" : "no type in", shown,
                      l[k] ? "..." : "");
        return MT_EUSAGE;
    }
    char where[512];
    snprintf(where, sizeof where, "%s:%d", origin, lineno);
    return gate_supp_add(s, rules, gate_trim(colon + 1), NULL, where, l);
}

int gate_supp_parse(struct gate_supps *s, const char *text, const char *origin, int strict,
                    struct mt_errbuf *eb)
{
    char *copy = strdup(text);
    if (!copy) return -ENOMEM;
    int rc = 0, lineno = 0;
    /* strsep keeps empty lines, so line numbers stay right */
    for (char *p = copy, *line; !rc && (line = strsep(&p, "\n"));) {
        lineno++;
        rc = gate_supp_line(s, line, origin, lineno, strict, eb);
    }
    free(copy);
    if (rc == -ENOMEM) mt_errbuf_set(eb, "out of memory");
    return rc;
}

int gate_supp_load_file(struct gate_supps *s, const char *path, struct mt_errbuf *eb)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        int rc = -errno;
        mt_errbuf_set(eb, "%s: %s", path, strerror(errno));
        return rc;
    }
    char *text = malloc(GATE_SUPP_MAX_FILE + 1);
    errno = 0;
    size_t n = text ? fread(text, 1, GATE_SUPP_MAX_FILE + 1, f) : 0;
    int err = errno ? errno : EIO; /* EISDIR for a directory */
    int rc = !text ? -ENOMEM : ferror(f) ? -err : n > GATE_SUPP_MAX_FILE ? -EFBIG : 0;
    fclose(f);
    if (rc) {
        mt_errbuf_set(eb, "%s: %s", path, strerror(-rc));
        free(text);
        return rc;
    }
    text[n] = 0;
    rc = gate_supp_parse(s, text, path, 1, eb);
    free(text);
    return rc;
}

/* Known one-time allocations of glibc and libstdc++ that stay live until
 * exit by design (docs/ci.md lists them with the reason). */
static const struct {
    const char *pattern, *leaf, *why;
} gate_builtin[] = {
    {"_IO_file_doallocate", NULL, "stdio stream buffers"},
    {"_dl_allocate_tls", NULL, "thread DTV and static TLS (glibc)"},
    {"tls_get_addr_tail", NULL, "dynamic TLS blocks (glibc)"},
    {"", "ld-linux", "the dynamic loader's own allocations"},
    {"^_nl_", NULL, "locale data loaded by setlocale"},
    {"pool::pool", NULL, "libstdc++ emergency exception-handling pool"},
    {"_dl_init", "libstdc++.so", "libstdc++ static initialisation (emergency EH pool)"},
};

int gate_supp_add_builtin(struct gate_supps *s)
{
    for (size_t i = 0; i < sizeof gate_builtin / sizeof gate_builtin[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "leak:%s%s%s (%s)", gate_builtin[i].pattern,
                 gate_builtin[i].leaf ? " with leaf in " : "",
                 gate_builtin[i].leaf ? gate_builtin[i].leaf : "", gate_builtin[i].why);
        int rc = gate_supp_add(s, GATE_MASK_LEAKS, gate_builtin[i].pattern, gate_builtin[i].leaf,
                               "built-in", text);
        if (rc) return rc;
    }
    return 0;
}
