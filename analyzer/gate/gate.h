/*
 * gate.h — the CI gate: findings read from a database, suppressed, compared
 * with a baseline and judged
 *
 * cmd_check.c drives it: gate_load() reads the leaks and memory errors of a
 * memtrace database (docs/schema.md) as findings, gate_supp_*() removes the
 * suppressed ones, gate_baseline_apply() marks what a baseline database
 * already had, gate_judge() decides which findings fail, and the writers
 * (gate_text.c, gate_sarif.c, gate_junit.c) print the verdict. Contract
 * and options: docs/cli.md ("check"), docs/ci.md.
 *
 * Design notes
 *   1. A finding is one stack of one rule: leaks are summed per (rule,
 *      stack) over processes, errors are grouped per (rule, stack) with a
 *      count. The site key hashes the symbolized frames (function and file
 *      basename; module basename and offset where no function is known)
 *      of the innermost 12 frames, never addresses or lines, so it is the
 *      same across runs, machines and line shifts. Baselines compare
 *      totals per (rule, key): a key whose blocks, bytes or error count
 *      grew makes all its findings "grown". SARIF fingerprints are the key
 *      plus the finding's rank among those of equal key.
 *   2. Verdict order: suppressed (never fails) -> baseline old (never
 *      fails) -> rule not in --fail-on (reported, never fails) -> fails;
 *      with --max-leaked-bytes, leaks fail together only when their bytes
 *      (new or grown bytes under a baseline) exceed the limit.
 *   3. A process image recorded with --no-errors (processes.errors_checked
 *      = 0) judged no free and ran no leak scan: its error kinds and leak
 *      classes other than "unclassified" were not checked. When --fail-on
 *      names one of them the gate FAILS, whatever the findings: a gate
 *      that passes because it looked at nothing is a false green. The
 *      rules so affected are gate_verdict.not_checked; "unclassified" and
 *      the byte and peak limits stay judgeable (docs/ci.md).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMTRACE_GATE_H
#define MEMTRACE_GATE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

#include "cli/cli.h"

/* ------------------------------------------------------------ rules */

enum gate_rule {
    GATE_R_LEAK_DEFINITE,
    GATE_R_LEAK_INDIRECT,
    GATE_R_LEAK_POSSIBLE,
    GATE_R_LEAK_REACHABLE,
    GATE_R_LEAK_UNCLASSIFIED,
    GATE_R_DOUBLE_FREE,
    GATE_R_INVALID_FREE,
    GATE_R_MISMATCHED_FREE,
    GATE_R_REALLOC_OF_FREED,
    GATE_R_INVALID_REALLOC,
    GATE_R_COUNT
};

#define GATE_MASK(r) (1u << (r))
#define GATE_MASK_LEAKS 0x1fu   /* the five leak rules */
#define GATE_MASK_ERRORS 0x3e0u /* the five error rules */
/* valgrind's default: errors, definitely and possibly lost */
#define GATE_MASK_DEFAULT                                                                          \
    (GATE_MASK_ERRORS | GATE_MASK(GATE_R_LEAK_DEFINITE) | GATE_MASK(GATE_R_LEAK_POSSIBLE))
/* what only the live table can tell: every rule but leak-unclassified (note 3) */
#define GATE_MASK_NEEDS_TABLE                                                                      \
    ((GATE_MASK_LEAKS | GATE_MASK_ERRORS) & ~GATE_MASK(GATE_R_LEAK_UNCLASSIFIED))

struct gate_rule_info {
    const char *id;      /* SARIF ruleId and --fail-on name: "leak-definite", "double-free" */
    const char *db_name; /* leak class or errors.kind in the database */
    const char *supp;    /* suppression type: "leak", "double-free"... */
    const char *name;    /* SARIF rule name, CamelCase */
    const char *title;   /* human: "definitely lost", "double free" */
    const char *help;    /* one sentence for SARIF and JUnit */
    const char *cwe;     /* comma separated CWE numbers, first is primary */
};

/* The table of rules, indexed by enum gate_rule. Cannot fail. */
const struct gate_rule_info *gate_rule(enum gate_rule r);
static inline int gate_rule_is_leak(enum gate_rule r)
{
    return r <= GATE_R_LEAK_UNCLASSIFIED;
}

/* Parses a --fail-on list ("definite,possible,errors", "all", "none",
 * rule ids, leak classes, error kinds with - or _). 0 and *mask, or -1 with
 * the offending word in eb. */
int gate_parse_fail_on(const char *list, unsigned *mask, struct mt_errbuf *eb);

/* ------------------------------------------------------------ findings */

struct gate_frame {
    char *function;  /* owned; NULL when unknown */
    char *file;      /* owned; NULL when unknown */
    char *module;    /* owned; NULL when the pc was in no module */
    int64_t line;    /* 0 when unknown */
    uint64_t offset; /* module offset of the pc */
    int inlined;
};

struct gate_stack {
    size_t n;
    struct gate_frame *frames; /* owned, depth 0 (innermost) first */
};

enum gate_base { GATE_BASE_NONE, GATE_BASE_NEW, GATE_BASE_GROWN, GATE_BASE_OLD };

struct gate_finding {
    enum gate_rule rule;
    struct gate_stack stack;       /* leak: allocation site; error: the bad call */
    struct gate_stack alloc_stack; /* error: where the block was allocated */
    struct gate_stack free_stack;  /* double free: first free (with --free-stacks) */
    uint64_t count;                /* leak: blocks; error: occurrences */
    uint64_t bytes;                /* leak: bytes; error: requested size of the block (first one) */
    uint64_t addr;                 /* error: pointer passed in (first occurrence) */
    char detail[160];     /* error: what was wrong, e.g. "delete[] of a block from malloc" */
    int pid;              /* first process with this finding */
    int n_procs;          /* processes summed */
    int64_t stack_id;     /* the database's stack of .stack */
    uint64_t key;         /* site key (design note 1) */
    uint64_t fingerprint; /* key and rank among findings of equal key: SARIF */
    uint64_t order;       /* load order: errors by seq, for stable merging */
    /* filled by suppressions, baseline and judge */
    int supp_idx; /* index into the suppression list, -1 if none */
    enum gate_base base;
    uint64_t base_count, base_bytes; /* baseline's totals for this rule and key */
    uint64_t key_count, key_bytes;   /* this run's totals for this rule and key */
    uint64_t new_bytes;              /* leak bytes counted against --max-leaked-bytes */
    int judged;                      /* rule is in --fail-on */
    int fails;                       /* this finding fails the gate */
};

struct gate_findings {
    struct gate_finding *v; /* owned */
    size_t n, cap;
};

/* Reads every leak and error of db into out (appends). 0, -ENOMEM or
 * MT_ESQLITE with eb filled. */
int gate_load(sqlite3 *db, struct gate_findings *out, struct mt_errbuf *eb);

/* The site key of a stack for a rule (design note 1). Cannot fail. */
uint64_t gate_site_key(enum gate_rule r, const struct gate_stack *s);

void gate_findings_free(struct gate_findings *f);
void gate_stack_free(struct gate_stack *s);

/* ------------------------------------------------------------ suppressions */

struct gate_supp {
    unsigned rules; /* GATE_MASK bits this entry applies to */
    char *pattern;  /* owned; matched against any frame's function, file, module */
    char *leaf;     /* owned, built-ins only: must also match the leaf frame; or NULL */
    char *origin;   /* owned: "FILE:LINE", "built-in" or "__lsan_default_suppressions" */
    char *text;     /* owned: the line as written, for reports */
    uint64_t hits;  /* findings suppressed */
    uint64_t hit_bytes;
};

struct gate_supps {
    struct gate_supp *v; /* owned */
    size_t n, cap;
};

/* Parses suppressions text (LeakSanitizer's format, docs/ci.md): lines
 * "type:pattern", '#' comments. origin names the source in messages.
 * strict: an unknown type is an error (else the line is skipped, as for
 * a target's __lsan_default_suppressions, which may hold other
 * sanitizers' types). 0, -ENOMEM, or MT_EUSAGE with "origin:line: why"
 * in eb. */
int gate_supp_parse(struct gate_supps *s, const char *text, const char *origin, int strict,
                    struct mt_errbuf *eb);
/* Reads and parses a suppressions file. 0, -errno or MT_EUSAGE, eb filled. */
int gate_supp_load_file(struct gate_supps *s, const char *path, struct mt_errbuf *eb);
/* Adds the built-in list of one-time glibc/libstdc++ allocations. 0 or -ENOMEM. */
int gate_supp_add_builtin(struct gate_supps *s);
/* LeakSanitizer's template match: '*' any run, '^' '$' anchors, else a
 * substring. An empty pattern matches everything. 1 on a match. */
int gate_supp_match(const char *pattern, const char *str);
/* Sets supp_idx of every finding (the first matching entry) and counts hits. */
void gate_supp_apply(struct gate_supps *s, struct gate_findings *f);
void gate_supps_free(struct gate_supps *s);

/* Reads the string __lsan_default_suppressions() returns from the ELF file
 * at path without running it (gate_lsan.c, x86-64). 0 and *out (owned,
 * NULL when the binary does not define the function), -errno, or
 * MT_ENOTFOUND when the function exists but its string cannot be found. */
int gate_lsan_read(const char *path, char **out, struct mt_errbuf *eb);

/* ------------------------------------------------------------ baseline, judge */

/* Marks each finding of cur NEW, GROWN or OLD against base, comparing
 * totals per rule and site key (design note 1): more blocks, bytes or
 * error occurrences than the baseline is growth. Sets new_bytes: the
 * growth in bytes, counted once per key. 0 or -ENOMEM. */
int gate_baseline_apply(struct gate_findings *cur, const struct gate_findings *base);

struct gate_policy {
    unsigned fail_mask;       /* rules that fail */
    int64_t max_leaked_bytes; /* -1: any leak in fail_mask fails */
    int64_t max_peak;         /* -1: no limit */
};

/* What the program did (root process) and the session figures. */
struct gate_session {
    char program[256];  /* command line */
    char exe[4096];     /* root process executable, "" if unknown */
    int64_t peak_heap;  /* session peak, -1 if unknown */
    int exited;         /* 1 exited normally, 0 otherwise */
    int exit_status;    /* when exited */
    int signal;         /* when killed */
    int program_failed; /* signaled or non-zero exit */
    int n_processes;
    int n_unchecked; /* images recorded with --no-errors (design note 3) */
    int leak_scan;   /* 1 if every checked process's leak scan completed */
    int truncated;   /* the trace ended inside a frame */
    int64_t dropped; /* events dropped in --lossy mode */
    double seconds;  /* session duration */
};

/* Reads the session row and the root process: the last exec generation of
 * session.root_pid (the program's own exit status; a forked child's is
 * not). 0 or MT_ESQLITE, eb filled. */
int gate_session_read(sqlite3 *db, struct gate_session *s, struct mt_errbuf *eb);

struct gate_verdict {
    size_t n_fail, n_info, n_suppressed, n_old;
    uint64_t fail_leak_bytes; /* leak bytes counted against the limit */
    int leak_over;            /* --max-leaked-bytes exceeded */
    int peak_over;            /* --max-peak exceeded */
    unsigned not_checked;     /* GATE_MASK bits of --fail-on not checked (design note 3) */
    int failed;               /* the gate failed */
};

/* Sets judged/fails of every finding and fills v (design note 2). */
void gate_judge(struct gate_findings *f, const struct gate_policy *p, const struct gate_session *s,
                struct gate_verdict *v);

/* ------------------------------------------------------------ output */

struct gate_out_opts {
    const char *source_root; /* absolute, no trailing '/'; paths under it become relative */
    int n_frames;            /* frames per text line */
    int verbose;             /* also list suppressed and old findings */
};

/* Byte counts as "1.5 KiB". Returns buf. */
const char *gate_fmt_bytes(uint64_t n, char *buf, size_t len);
/* The frame to point at: the first frame with a file under source_root,
 * else the first with a file, else the leaf; NULL for an empty stack. */
const struct gate_frame *gate_primary_frame(const struct gate_stack *s, const char *root);
/* path relative to root when under it ("./" stripped), else path. Borrowed. */
const char *gate_rel_path(const char *path, const char *root);
/* One sentence on a finding: "32 B in 1 block definitely lost". */
void gate_describe(const struct gate_finding *f, char *buf, size_t len);
/* One sentence on v->not_checked (non-zero): "memory errors and
 * leak-definite, leak-possible not checked: recorded with --no-errors (1 of
 * 1 process)". Returns buf. */
const char *gate_describe_not_checked(const struct gate_verdict *v, const struct gate_session *ss,
                                      char *buf, size_t len);

/* Human report: one line per finding with its top frames, then the
 * verdict line. */
void gate_text_write(FILE *out, const struct gate_findings *f, const struct gate_supps *s,
                     const struct gate_session *ss, const struct gate_policy *p,
                     const struct gate_verdict *v, const struct gate_out_opts *o);
/* GitHub workflow commands (::error file=,line=::) for failing findings. */
void gate_github_write(FILE *out, const struct gate_findings *f, const struct gate_verdict *v,
                       const struct gate_session *ss, const struct gate_out_opts *o);
/* SARIF 2.1.0 log. 0 or -errno. */
int gate_sarif_write(const char *path, const struct gate_findings *f, const struct gate_session *ss,
                     const struct gate_verdict *v, const struct gate_out_opts *o);
/* JUnit XML: one testcase per rule and limit. 0 or -errno. */
int gate_junit_write(const char *path, const struct gate_findings *f, const struct gate_supps *s,
                     const struct gate_session *ss, const struct gate_policy *p,
                     const struct gate_verdict *v, const struct gate_out_opts *o);

/* JSON string literal of s (NULL -> null). */
void gate_json_str(FILE *out, const char *s);

#endif /* MEMTRACE_GATE_H */
