/*
 * cmd_check.c — `memtrace check`: the CI gate (record, analyze, judge)
 *
 *   memtrace check [options] -- prog args   record the program, analyze, judge
 *   memtrace check [options] DB             judge an existing database
 *
 * Exit codes (docs/cli.md, "check"): 0 passed, 1 the gate failed, 3 the
 * program crashed or exited non-zero (and the gate passed), 2 usage, 125
 * memtrace could not do its work, 126/127 the program cannot be executed /
 * was not found. Judging itself is analyzer/gate/ (gate.h); CI usage is
 * docs/ci.md.
 *
 * Design notes
 *   1. Recording reuses `memtrace run` as a child process:
 *      `/proc/self/exe run -o DIR/check.mtrace --free-stacks --no-analyze
 *      -- prog args`, then analyze_trace() in this process. A child keeps
 *      run's process-wide state (subreaper, signal forwarding, collector
 *      thread) out of the gate and needs no change to cmd_run.c; the cost
 *      is one exec. --free-stacks gives double frees their first free.
 *   2. SIGINT/SIGTERM/SIGHUP reaching memtrace check are passed to the run
 *      child, which passes them to the program; the gate still judges what
 *      was recorded.
 *   3. A gate failure (1) takes precedence over a program failure (3), as
 *      valgrind's --error-exitcode does: the verdict line names both.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analyze/analyze.h"
#include "collect/collect_session.h"
#include "db/db.h"
#include "gate/gate.h"
#include "memtrace/error.h"

#define CHECK_MAX_SUPP 32      /* --suppressions files */
#define CHECK_DEFAULT_FRAMES 3 /* frames per finding line: enough to name the caller */

struct check_opts {
    struct gate_policy policy;
    const char *supp[CHECK_MAX_SUPP];
    int n_supp;
    int no_default_supp;
    const char *baseline, *junit, *sarif, *db_out;
    const char *source_root;
    const char *depth; /* passed to run */
    int frames, verbose, github;
    const char *db_in; /* DB form */
    char **prog_argv;  /* program form, borrowed from argv */
};

static volatile sig_atomic_t check_child_pid; /* design note 2 */

/* ------------------------------------------------------------ options */

static const char check_usage_text[] =
    "usage: memtrace check [options] -- program [args...]\n"
    "       memtrace check [options] DATABASE\n"
    "  --fail-on LIST            what fails: definite,indirect,possible,reachable,unclassified,\n"
    "                            errors, double-free, invalid-free, mismatched-free, leaks, all,\n"
    "                            none (default: definite,possible,errors)\n"
    "  --max-leaked-bytes N      leaks fail only when their bytes exceed N (K, M, G suffixes)\n"
    "  --max-peak N              fail when the peak heap exceeds N bytes (K, M, G suffixes)\n"
    "  --suppressions FILE       LeakSanitizer-style suppressions (repeatable)\n"
    "  --no-default-suppressions do not apply the built-in glibc/libstdc++ list\n"
    "  --baseline DB             only what is new or grown against DB fails\n"
    "  --junit FILE              write a JUnit XML report\n"
    "  --sarif FILE              write a SARIF 2.1.0 log (GitHub code scanning)\n"
    "  --source-root DIR         paths under DIR are reported relative (default: .)\n"
    "  --github / --no-github    GitHub workflow annotations (default: if GITHUB_ACTIONS=true)\n"
    "  --db FILE                 keep the recorded database at FILE (program form)\n"
    "  --depth N                 call stack depth when recording\n"
    "  --frames N                frames per finding line (default 3)\n"
    "  -v, --verbose             also list suppressed and baseline findings\n"
    "exit: 0 passed, 1 gate failed, 3 program failed, 2 usage, 125 memtrace failed\n";

/* "10", "64K", "1.5M", "2GiB": binary multiples. 0 or -1. */
static int check_parse_size(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0 || s[0] == '-') return -1;
    double mul = 1;
    switch (*end) {
    case 'k':
    case 'K':
        mul = 1024.0, end++;
        break;
    case 'm':
    case 'M':
        mul = 1024.0 * 1024, end++;
        break;
    case 'g':
    case 'G':
        mul = 1024.0 * 1024 * 1024, end++;
        break;
    default:
        break;
    }
    if (mul > 1 && *end == 'i') end++;
    if (*end == 'B' || *end == 'b') end++;
    if (*end || v * mul > 9.0e18) return -1;
    *out = (int64_t)(v * mul);
    return 0;
}

enum {
    CHECK_OPT_FAIL_ON = 256,
    CHECK_OPT_MAX_LEAK,
    CHECK_OPT_MAX_PEAK,
    CHECK_OPT_SUPP,
    CHECK_OPT_NO_DEFAULT,
    CHECK_OPT_BASELINE,
    CHECK_OPT_JUNIT,
    CHECK_OPT_SARIF,
    CHECK_OPT_ROOT,
    CHECK_OPT_GITHUB,
    CHECK_OPT_NO_GITHUB,
    CHECK_OPT_DB,
    CHECK_OPT_DEPTH,
    CHECK_OPT_FRAMES,
};

static const struct option check_longs[] = {
    {"fail-on", required_argument, 0, CHECK_OPT_FAIL_ON},
    {"max-leaked-bytes", required_argument, 0, CHECK_OPT_MAX_LEAK},
    {"max-peak", required_argument, 0, CHECK_OPT_MAX_PEAK},
    {"suppressions", required_argument, 0, CHECK_OPT_SUPP},
    {"no-default-suppressions", no_argument, 0, CHECK_OPT_NO_DEFAULT},
    {"baseline", required_argument, 0, CHECK_OPT_BASELINE},
    {"junit", required_argument, 0, CHECK_OPT_JUNIT},
    {"sarif", required_argument, 0, CHECK_OPT_SARIF},
    {"source-root", required_argument, 0, CHECK_OPT_ROOT},
    {"github", no_argument, 0, CHECK_OPT_GITHUB},
    {"no-github", no_argument, 0, CHECK_OPT_NO_GITHUB},
    {"db", required_argument, 0, CHECK_OPT_DB},
    {"depth", required_argument, 0, CHECK_OPT_DEPTH},
    {"frames", required_argument, 0, CHECK_OPT_FRAMES},
    {"verbose", no_argument, 0, 'v'},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

/* One option. 0 or the exit code of a reported error. */
static int check_option(int ch, const char *arg, struct check_opts *o)
{
    struct mt_errbuf eb = {""};
    switch (ch) {
    case CHECK_OPT_FAIL_ON:
        if (gate_parse_fail_on(arg, &o->policy.fail_mask, &eb))
            return cli_error(CLI_EXIT_USAGE, "check", "--fail-on: %s", eb.msg);
        return 0;
    case CHECK_OPT_MAX_LEAK:
    case CHECK_OPT_MAX_PEAK:
        if (check_parse_size(arg, ch == CHECK_OPT_MAX_LEAK ? &o->policy.max_leaked_bytes
                                                           : &o->policy.max_peak))
            return cli_error(CLI_EXIT_USAGE, "check",
                             "%s: expected a size such as 4096 or 64K, "
                             "got '%s'",
                             ch == CHECK_OPT_MAX_LEAK ? "--max-leaked-bytes" : "--max-peak", arg);
        return 0;
    case CHECK_OPT_SUPP:
        if (o->n_supp == CHECK_MAX_SUPP)
            return cli_error(CLI_EXIT_USAGE, "check", "at most %d --suppressions", CHECK_MAX_SUPP);
        o->supp[o->n_supp++] = arg;
        return 0;
    case CHECK_OPT_NO_DEFAULT:
        o->no_default_supp = 1;
        return 0;
    case CHECK_OPT_BASELINE:
        o->baseline = arg;
        return 0;
    case CHECK_OPT_JUNIT:
        o->junit = arg;
        return 0;
    case CHECK_OPT_SARIF:
        o->sarif = arg;
        return 0;
    case CHECK_OPT_ROOT:
        o->source_root = arg;
        return 0;
    case CHECK_OPT_GITHUB:
        o->github = 1;
        return 0;
    case CHECK_OPT_NO_GITHUB:
        o->github = 0;
        return 0;
    case CHECK_OPT_DB:
        o->db_out = arg;
        return 0;
    case CHECK_OPT_DEPTH:
        o->depth = arg;
        return 0;
    case CHECK_OPT_FRAMES:
        o->frames = atoi(arg);
        if (o->frames < 1 || o->frames > 256)
            return cli_error(CLI_EXIT_USAGE, "check", "--frames: expected 1..256, got '%s'", arg);
        return 0;
    case 'v':
        o->verbose = 1;
        return 0;
    default:
        return CLI_EXIT_USAGE;
    }
}

/* Fills o from argv. 0 to go on, -1 after --help, else an exit code. */
/* 1 if path is a non-executable file that starts as an SQLite database. */
static int check_is_sqlite(const char *path)
{
    char magic[16] = "";
    FILE *f = access(path, X_OK) != 0 ? fopen(path, "rb") : NULL;
    size_t n = f ? fread(magic, 1, sizeof magic, f) : 0;
    if (f) fclose(f);
    return n == sizeof magic && !memcmp(magic, "SQLite format 3", sizeof magic);
}

static int check_parse(int argc, char **argv, struct check_opts *o)
{
    const char *gh = getenv("GITHUB_ACTIONS");
    *o = (struct check_opts){
        .policy = {.fail_mask = GATE_MASK_DEFAULT, .max_leaked_bytes = -1, .max_peak = -1},
        .frames = CHECK_DEFAULT_FRAMES,
        .github = gh && !strcmp(gh, "true"),
    };
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "+vh", check_longs, NULL)) != -1) {
        if (ch == 'h') {
            fputs(check_usage_text, stdout);
            return -1;
        }
        if (ch == '?' || ch == ':')
            return cli_error(CLI_EXIT_USAGE, "check", "unknown or incomplete option '%s'",
                             argv[optind - 1]);
        int rc = check_option(ch, optarg, o);
        if (rc) return rc;
    }
    int dashdash = optind > 1 && !strcmp(argv[optind - 1], "--");
    if (optind >= argc)
        return cli_error(CLI_EXIT_USAGE, "check",
                         "nothing to check (memtrace check -- prog args, or memtrace check DB)");
    if (!dashdash && optind == argc - 1)
        o->db_in = argv[optind];
    else
        o->prog_argv = argv + optind;
    /* `check run.db --junit x`: options after a database, not a program */
    if (!dashdash && o->prog_argv && check_is_sqlite(argv[optind]))
        return cli_error(CLI_EXIT_USAGE, "check",
                         "%s is not a program; options go before the database "
                         "(memtrace check [options] DB)", argv[optind]);
    if (o->db_in && o->db_out)
        return cli_error(CLI_EXIT_USAGE, "check", "--db is for recording (check -- prog)");
    return 0;
}

/* ------------------------------------------------------------ recording */

static void check_forward(int sig)
{
    if (check_child_pid > 0) kill((pid_t)check_child_pid, sig);
}

static void check_signals(int install)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa = {0};
    sa.sa_handler = install ? check_forward : SIG_DFL;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
}

/* Runs `memtrace run` on the program into trace (design note 1). 0 when
 * a trace was written, else the exit code of a reported error. */
static int check_record(const struct check_opts *o, const char *trace)
{
    int n = 0;
    while (o->prog_argv[n]) n++;
    char **av = calloc((size_t)n + 12, sizeof *av); /* 10 fixed + args + NULL */
    if (!av) return cli_error(CLI_EXIT_ERROR, "check", "out of memory");
    int k = 0;
    av[k++] = "memtrace", av[k++] = "run", av[k++] = "-o", av[k++] = (char *)trace;
    av[k++] = "--free-stacks", av[k++] = "--no-analyze", av[k++] = "--quiet";
    if (o->depth) av[k++] = "--depth", av[k++] = (char *)o->depth;
    av[k++] = "--";
    for (int i = 0; i < n; i++) av[k++] = o->prog_argv[i];
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        execv("/proc/self/exe", av);
        _exit(CLI_EXIT_ERROR);
    }
    free(av);
    if (pid < 0) return cli_error(CLI_EXIT_ERROR, "check", "fork: %s", strerror(errno));
    check_child_pid = pid;
    check_signals(1);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    check_signals(0);
    check_child_pid = 0;
    if (access(trace, F_OK) == 0) return 0;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : CLI_EXIT_ERROR;
    if (code == CLI_EXIT_NOT_FOUND || code == CLI_EXIT_CANNOT_EXEC) return code;
    return cli_error(CLI_EXIT_ERROR, "check", "recording %s failed (no trace written)",
                     o->prog_argv[0]);
}

/* Process images in the database at path; -1 when it cannot be read. */
static int64_t check_n_processes(const char *path)
{
    sqlite3 *db;
    sqlite3_stmt *q;
    int64_t n = -1;
    if (db_open_read(path, &db, NULL)) return -1;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM processes", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return n;
}

/* Records and analyzes into db. 0 or a reported exit code. */
static int check_record_analyze(const struct check_opts *o, const char *dir, const char *db)
{
    char prog[PATH_MAX], trace[PATH_MAX];
    int rc = collect_session_find_program(o->prog_argv[0], prog, sizeof prog);
    if (rc == -ENOENT)
        return cli_error(CLI_EXIT_NOT_FOUND, "check", "%s: command not found", o->prog_argv[0]);
    if (rc) return cli_error(CLI_EXIT_CANNOT_EXEC, "check", "%s: cannot execute", o->prog_argv[0]);
    snprintf(trace, sizeof trace, "%s/check.mtrace", dir);
    rc = check_record(o, trace);
    if (rc) return rc;
    struct analyze_opts ao = {.trace_path = trace, .db_path = db};
    struct analyze_result res;
    struct mt_errbuf eb = {""};
    rc = analyze_trace(&ao, &res, &eb);
    unlink(trace);
    if (rc)
        return cli_error(CLI_EXIT_ERROR, "check", "analyzing the recording: %s",
                         eb.msg[0] ? eb.msg : mt_strerror(rc));
    if (check_n_processes(db) == 0) /* judging nothing would pass the gate */
        return cli_error(CLI_EXIT_ERROR, "check",
                         "%s ran untraced (statically linked, or the preload did not load): "
                         "nothing to judge", o->prog_argv[0]);
    return 0;
}

/* ------------------------------------------------------------ judging */

/* Every suppression source: files, the targets' own, the built-ins. */
static int check_load_supps(sqlite3 *db, const struct check_opts *o, struct gate_supps *s)
{
    struct mt_errbuf eb = {""};
    for (int i = 0; i < o->n_supp; i++) {
        int rc = gate_supp_load_file(s, o->supp[i], &eb);
        if (rc)
            return cli_error(rc == MT_EUSAGE ? CLI_EXIT_USAGE : CLI_EXIT_ERROR, "check",
                             "--suppressions %s", eb.msg);
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT DISTINCT exe FROM processes WHERE exe IS NOT NULL", -1, &st,
                           NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *exe = (const char *)sqlite3_column_text(st, 0);
            char *text = NULL, origin[PATH_MAX + 64];
            if (access(exe, R_OK)) continue; /* the binary is gone: nothing to read */
            if (gate_lsan_read(exe, &text, &eb)) cli_error(0, "check", "warning: %s", eb.msg);
            snprintf(origin, sizeof origin, "%s:__lsan_default_suppressions", exe);
            if (text && gate_supp_parse(s, text, origin, 0, &eb) == -ENOMEM) {
                free(text);
                sqlite3_finalize(st);
                return cli_error(CLI_EXIT_ERROR, "check", "out of memory");
            }
            free(text);
        }
        sqlite3_finalize(st);
    }
    if (!o->no_default_supp && gate_supp_add_builtin(s))
        return cli_error(CLI_EXIT_ERROR, "check", "out of memory");
    return 0;
}

static int check_load_baseline(const char *path, struct gate_findings *cur)
{
    sqlite3 *bdb;
    struct mt_errbuf eb = {""};
    struct gate_findings base = {0};
    if (db_open_read(path, &bdb, &eb))
        return cli_error(CLI_EXIT_ERROR, "check", "--baseline %s: %s", path, eb.msg);
    int rc = gate_load(bdb, &base, &eb);
    sqlite3_close(bdb);
    if (rc) {
        gate_findings_free(&base);
        return cli_error(CLI_EXIT_ERROR, "check", "--baseline %s: %s", path, eb.msg);
    }
    rc = gate_baseline_apply(cur, &base);
    gate_findings_free(&base);
    return rc ? cli_error(CLI_EXIT_ERROR, "check", "--baseline %s: out of memory", path) : 0;
}

/* Writes the reports. 0 or a reported exit code. */
static int check_outputs(const struct check_opts *o, const struct gate_findings *f,
                         const struct gate_supps *s, const struct gate_session *ss,
                         const struct gate_verdict *v, const struct gate_out_opts *oo)
{
    int rc;
    if (o->sarif && (rc = gate_sarif_write(o->sarif, f, ss, v, oo)))
        return cli_error(CLI_EXIT_ERROR, "check", "--sarif %s: %s", o->sarif, mt_strerror(rc));
    if (o->junit && (rc = gate_junit_write(o->junit, f, s, ss, &o->policy, v, oo)))
        return cli_error(CLI_EXIT_ERROR, "check", "--junit %s: %s", o->junit, mt_strerror(rc));
    if (o->github) gate_github_write(stdout, f, v, ss, oo);
    gate_text_write(stdout, f, s, ss, &o->policy, v, oo);
    fflush(stdout);
    return 0;
}

/* Loads, suppresses, compares, judges and reports. Returns the exit code. */
static int check_judge(sqlite3 *db, const struct check_opts *o, const char *root)
{
    struct gate_findings f = {0};
    struct gate_supps s = {0};
    struct gate_session ss;
    struct gate_verdict v;
    struct mt_errbuf eb = {""};
    int code = gate_session_read(db, &ss, &eb) || gate_load(db, &f, &eb)
                   ? cli_error(CLI_EXIT_ERROR, "check", "%s", eb.msg)
                   : 0;
    if (!code) code = check_load_supps(db, o, &s);
    if (!code) gate_supp_apply(&s, &f);
    if (!code && o->baseline) code = check_load_baseline(o->baseline, &f);
    if (!code) {
        gate_judge(&f, &o->policy, &ss, &v);
        struct gate_out_opts oo = {
            .source_root = root, .n_frames = o->frames, .verbose = o->verbose};
        code = check_outputs(o, &f, &s, &ss, &v, &oo);
    }
    if (!code)
        code = v.failed            ? CLI_EXIT_GATE_FAILED
               : ss.program_failed ? CLI_EXIT_PROGRAM_FAILED
                                   : CLI_EXIT_OK;
    gate_findings_free(&f);
    gate_supps_free(&s);
    return code;
}

static int check_db(const char *path, const struct check_opts *o, const char *root)
{
    sqlite3 *db;
    struct mt_errbuf eb = {""};
    if (db_open_read(path, &db, &eb))
        return cli_error(CLI_EXIT_ERROR, "check", "%s: %s", path, eb.msg);
    int code = check_judge(db, o, root);
    sqlite3_close(db);
    return code;
}

/* The program form: a private directory for the trace (and the database
 * unless --db), removed at the end. */
static int check_program(const struct check_opts *o, const char *root)
{
    const char *tmp = getenv("TMPDIR");
    char dir[PATH_MAX - 64], db[PATH_MAX]; /* room for "/check.db" */
    snprintf(dir, sizeof dir, "%s/memtrace-check.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) return cli_error(CLI_EXIT_ERROR, "check", "%s: %s", dir, strerror(errno));
    snprintf(db, sizeof db, "%s", o->db_out ? o->db_out : "");
    if (!o->db_out) snprintf(db, sizeof db, "%s/check.db", dir);
    int code = check_record_analyze(o, dir, db);
    if (!code) code = check_db(db, o, root);
    if (!o->db_out) unlink(db);
    rmdir(dir);
    return code;
}

int cli_cmd_check(int argc, char **argv)
{
    struct check_opts o;
    int rc = check_parse(argc, argv, &o);
    if (rc) return rc < 0 ? CLI_EXIT_OK : rc;
    char root[PATH_MAX];
    if (!realpath(o.source_root ? o.source_root : ".", root))
        return cli_error(CLI_EXIT_USAGE, "check", "--source-root %s: %s",
                         o.source_root ? o.source_root : ".", strerror(errno));
    if (!strcmp(root, "/")) root[0] = 0;
    return o.db_in ? check_db(o.db_in, &o, root) : check_program(&o, root);
}
