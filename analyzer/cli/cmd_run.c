/*
 * cmd_run.c — `memtrace run [options] -- prog args`: record a program into a trace
 *
 * Spawns the program with libmemtrace.so preloaded, collects its rings (and
 * those of every process it forks or execs) on a collector thread, writes
 * the trace, then hands it to the analyzer (analyze_after_run)
 * and exits with the program's own status, 128+signal if it was killed, as
 * a shell does. Reference: docs/cli.md ("run"); trace: docs/trace-format.md.
 *
 * Design notes
 *   1. The child waits on a pipe before exec until the trace file and the
 *      collector exist, so a setup failure never leaves a program running
 *      half-traced; a second, close-on-exec pipe reports exec's errno.
 *   2. memtrace is a child subreaper, so orphaned grandchildren are reaped
 *      here and their status recorded. waitid(WNOWAIT) peeks at a status
 *      and queues it for the collector BEFORE waitpid reaps it: the
 *      collector never sees a pid of ours gone without its status.
 *   3. SIGINT/SIGTERM/SIGHUP/SIGQUIT sent to memtrace by a process are
 *      forwarded to the program; ones from the terminal (si_code
 *      SI_KERNEL) already reached the whole foreground group and are not
 *      sent twice. The program is not killed when memtrace dies: the
 *      preload detaches when the collector is gone and the program ends
 *      untraced.
 *   4. Live aggregation (analyzer/live, docs/tui.md): with --live the
 *      collector feeds the aggregator every block; by default it stays
 *      idle (one flag check per block) and the snapshot socket wakes it
 *      when `memtrace top` attaches: it then replays the trace so far, on
 *      the collector thread, and follows live. --no-live: neither.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "analyze/analyze.h"
#include "collect/collect.h"
#include "collect/collect_session.h"
#include "live/live.h"
#include "memtrace/error.h"
#include "memtrace/ring.h"
#include "trace/trace.h"
#include "tui.h"


#define RUN_DEFAULT_DEPTH 64u        /* ring.h: MEMTRACE_DEPTH default */
#define RUN_MAX_DEPTH 256u           /* deeper stacks cost more than they tell */
#define RUN_DEFAULT_PERIOD_US 10000u /* DESIGN.md: 10 ms samples */

struct run_opts {
    const char *out;          /* -o, NULL for the default name */
    uint32_t depth;
    int lossy, free_stacks, no_follow_fork, no_analyze;
    int no_errors;            /* --no-errors: no live table in the target */
    uint32_t period_us;
    const char *program_output; /* --program-output, NULL: inherit */
    int live, no_live;        /* --live: the view; --no-live: no aggregator/socket */
    int quiet;                /* --quiet: no "trace:" line (check runs us this way) */
    char **prog_argv;         /* borrowed from argv */
    int n_opts;               /* argv[0 .. n_opts) are memtrace's: the verb and options */
};

static volatile sig_atomic_t run_root_pid; /* signal forwarding target */

/* ------------------------------------------------------------ options */

static void run_usage(FILE *f)
{
    fprintf(f,
            "usage: memtrace run [options] [--] program [args...]\n"
            "  -o FILE                 trace file (default <program>.<pid>.mtrace)\n"
            "  --depth N               call stack depth (default %u)\n"
            "  --lossy                 drop events when a ring is full instead of waiting\n"
            "  --free-stacks           record a call stack for every free too\n"
            "  --no-errors             profile only: no memory-error detection, no leak scan\n"
            "  --no-follow-fork        trace only the program, not its children\n"
            "  --sample-period MS      RSS and mallinfo sample period (default 10)\n"
            "  --program-output FILE   send the program's stdout and stderr to FILE\n"
            "  --no-analyze            only record; print the trace path\n"
            "  --quiet                 with --no-analyze: do not print the trace path\n"
            "  --live                  show the live view while the program runs (its\n"
            "                          output goes to --program-output, default <trace>.out)\n"
            "  --no-live               no snapshot socket (memtrace top cannot attach)\n"
            "  --db FILE, --summary, --no-summary, --no-allocations, --debug-path DIR\n"
            "                          passed to the analysis (memtrace analyze --help)\n",
            RUN_DEFAULT_DEPTH);
}

/* Parses an unsigned in [lo, hi]. 0 or -1. */
static int run_parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi || s[0] == '-') return -1;
    *out = (uint32_t)v;
    return 0;
}

/* Fills o from argv. 0 to go on, else the exit code to return. */
static int run_parse(int argc, char **argv, struct run_opts *o)
{
    enum { RUN_OPT_DEPTH = 256, RUN_OPT_LOSSY, RUN_OPT_FREE, RUN_OPT_NOFOLLOW, RUN_OPT_PERIOD,
           RUN_OPT_POUT, RUN_OPT_NOAN, RUN_OPT_HELP, RUN_OPT_ANALYZE, RUN_OPT_LIVE, RUN_OPT_NOLIVE,
           RUN_OPT_QUIET, RUN_OPT_NOERR };
    static const struct option longs[] = {
        {"depth", required_argument, 0, RUN_OPT_DEPTH}, {"lossy", no_argument, 0, RUN_OPT_LOSSY},
        {"free-stacks", no_argument, 0, RUN_OPT_FREE}, {"no-follow-fork", no_argument, 0, RUN_OPT_NOFOLLOW},
        {"sample-period", required_argument, 0, RUN_OPT_PERIOD},
        {"program-output", required_argument, 0, RUN_OPT_POUT},
        {"no-analyze", no_argument, 0, RUN_OPT_NOAN}, {"help", no_argument, 0, RUN_OPT_HELP},
        {"live", no_argument, 0, RUN_OPT_LIVE}, {"no-live", no_argument, 0, RUN_OPT_NOLIVE},
        {"quiet", no_argument, 0, RUN_OPT_QUIET}, {"no-errors", no_argument, 0, RUN_OPT_NOERR},
        /* analysis options: left in argv for analyze_after_run (cmd_analyze.c) */
        {"db", required_argument, 0, RUN_OPT_ANALYZE},
        {"debug-path", required_argument, 0, RUN_OPT_ANALYZE},
        {"no-allocations", no_argument, 0, RUN_OPT_ANALYZE},
        {"summary", no_argument, 0, RUN_OPT_ANALYZE},
        {"no-summary", no_argument, 0, RUN_OPT_ANALYZE}, {0, 0, 0, 0},
    };
    *o = (struct run_opts){.depth = RUN_DEFAULT_DEPTH, .period_us = RUN_DEFAULT_PERIOD_US};
    optind = 1;
    opterr = 0;
    int ch;
    uint32_t ms;
    while ((ch = getopt_long(argc, argv, "+o:h", longs, NULL)) != -1) {
        switch (ch) {
        case 'o': o->out = optarg; break;
        case RUN_OPT_DEPTH:
            if (run_parse_u32(optarg, 1, RUN_MAX_DEPTH, &o->depth))
                return cli_error(CLI_EXIT_USAGE, "run", "--depth: expected 1..%u, got '%s'",
                                 RUN_MAX_DEPTH, optarg);
            break;
        case RUN_OPT_LOSSY: o->lossy = 1; break;
        case RUN_OPT_FREE: o->free_stacks = 1; break;
        case RUN_OPT_NOERR: o->no_errors = 1; break;
        case RUN_OPT_NOFOLLOW: o->no_follow_fork = 1; break;
        case RUN_OPT_PERIOD:
            if (run_parse_u32(optarg, 1, 60000, &ms))
                return cli_error(CLI_EXIT_USAGE, "run",
                                 "--sample-period: expected 1..60000 ms, got '%s'", optarg);
            o->period_us = ms * 1000u;
            break;
        case RUN_OPT_POUT: o->program_output = optarg; break;
        case RUN_OPT_NOAN: o->no_analyze = 1; break;
        case RUN_OPT_QUIET: o->quiet = 1; break;
        case RUN_OPT_LIVE: o->live = 1; break;
        case RUN_OPT_NOLIVE: o->no_live = 1; break;
        case RUN_OPT_ANALYZE: break;
        case 'h':
        case RUN_OPT_HELP: run_usage(stdout); return -1;
        default:
            return cli_error(CLI_EXIT_USAGE, "run", "unknown or incomplete option '%s'",
                             argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_error(CLI_EXIT_USAGE, "run", "no program given (memtrace run -- prog args)");
    o->prog_argv = argv + optind;
    if (o->live && o->no_live)
        return cli_error(CLI_EXIT_USAGE, "run", "--live and --no-live exclude each other");
    if (o->live && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)))
        return cli_error(CLI_EXIT_USAGE, "run", "--live needs a terminal");
    o->n_opts = optind;
    /* the preload reads the user's MEMTRACE_NO_ERRORS=1 as it reads ours:
     * the session record must say so too (MT_OPT_NO_ERRORS) */
    const char *no_err = getenv(MT_ENV_NO_ERRORS);
    if (no_err && !strcmp(no_err, "1")) o->no_errors = 1;
    return 0;
}

/* ------------------------------------------------------------ signals */

static void run_forward(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (si->si_code == SI_KERNEL) return; /* design note 3: tty already sent it */
    if (run_root_pid > 0) kill((pid_t)run_root_pid, sig);
}

static void run_signals(int install)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    struct sigaction sa = {0};
    if (install) {
        sa.sa_sigaction = run_forward;
        sa.sa_flags = SA_SIGINFO | SA_RESTART;
    } else {
        sa.sa_handler = SIG_DFL;
    }
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
}

/* ------------------------------------------------------------ child */

struct run_child {
    pid_t pid;
    int go_w;   /* write end: closing it with a byte lets the child exec */
    int err_r;  /* read end: exec's errno, or EOF when exec succeeded */
};

/* In the child, between fork and exec: async-signal-safe calls only. */
static void __attribute__((noreturn))
run_child_exec(const char *path, char **argv, char **env, char *pid_slot, int go_r, int err_w,
               int out_fd)
{
    char go;
    if (read(go_r, &go, 1) != 1) _exit(CLI_EXIT_ERROR); /* parent gave up */
    collect_session_put_pid(pid_slot, (uint32_t)getpid());
    if (out_fd >= 0 && (dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)) _exit(CLI_EXIT_ERROR);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(path, argv, env);
    int e = errno;
    ssize_t w = write(err_w, &e, sizeof e);
    (void)w;
    _exit(e == ENOENT ? CLI_EXIT_NOT_FOUND : CLI_EXIT_CANNOT_EXEC);
}

/* Forks the child (design note 1). 0 or -errno. */
static int run_spawn(const char *path, char **argv, char **env, char *pid_slot, int out_fd,
                     struct run_child *ch)
{
    int go[2], err[2];
    if (pipe2(go, O_CLOEXEC) < 0) return -errno;
    if (pipe2(err, O_CLOEXEC) < 0) {
        int rc = -errno;
        close(go[0]), close(go[1]);
        return rc;
    }
    pid_t pid = fork();
    if (pid == 0) { /* our copy of go's write end would keep read() from seeing EOF */
        close(go[1]);
        close(err[0]);
        run_child_exec(path, argv, env, pid_slot, go[0], err[1], out_fd);
    }
    int rc = pid < 0 ? -errno : 0;
    close(go[0]);
    close(err[1]);
    if (rc) {
        close(go[1]), close(err[0]);
        return rc;
    }
    *ch = (struct run_child){.pid = pid, .go_w = go[1], .err_r = err[0]};
    return 0;
}

/* Lets the child exec; returns exec's errno, 0 when exec succeeded. */
static int run_release(struct run_child *ch)
{
    ssize_t w = write(ch->go_w, "g", 1);
    (void)w;
    close(ch->go_w);
    int e = 0;
    ssize_t n;
    do n = read(ch->err_r, &e, sizeof e);
    while (n < 0 && errno == EINTR);
    close(ch->err_r);
    return n == (ssize_t)sizeof e ? e : 0;
}

/* ------------------------------------------------------------ recording */

static void run_warn(void *ctx, const char *msg)
{
    (void)ctx;
    cli_error(0, "run", "%s", msg);
}

static uint64_t run_clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* MT_REC_SESSION: the program's command line and the options. */
static int run_write_session(struct trace_writer *w, struct live_agg *agg,
                             const struct run_opts *o)
{
    size_t argv_len = 0;
    for (char **a = o->prog_argv; *a; a++) argv_len += strlen(*a) + 1;
    size_t len = (sizeof(struct mt_rec_session) + argv_len + 7) & ~(size_t)7;
    struct mt_rec_session *s = calloc(1, len);
    if (!s) return -ENOMEM;
    s->hdr = (struct mt_rec_hdr){.kind = MT_REC_SESSION, .len = (uint32_t)len};
    s->t_ns = run_clock_ns(CLOCK_MONOTONIC);
    s->argv_len = (uint32_t)argv_len;
    s->max_depth = o->depth;
    s->opt_flags = (o->lossy ? MT_OPT_LOSSY : 0) | (o->free_stacks ? MT_OPT_FREE_STACKS : 0) |
                   (o->no_errors ? MT_OPT_NO_ERRORS : 0);
    s->sample_period_us = o->period_us;
    char *p = (char *)(s + 1);
    for (char **a = o->prog_argv; *a; a++) p = stpcpy(p, *a) + 1;
    int rc = trace_writer_block(w, 0, 0, MT_RING_COLLECTOR, s, len);
    if (agg) live_agg_on_block(agg, 0, 0, MT_RING_COLLECTOR, s, len); /* counted if lazy */
    free(s);
    return rc;
}

/* Reaps every process until none is left (design note 2). Returns the
 * root's wait status. */
static int run_wait_all(struct collector *c, pid_t root)
{
    int root_status = 0;
    for (;;) {
        siginfo_t si = {0};
        if (waitid(P_ALL, 0, &si, WEXITED | WNOWAIT) < 0) {
            if (errno == EINTR) continue;
            break; /* ECHILD: every process is gone */
        }
        int status = si.si_code == CLD_EXITED ? W_EXITCODE(si.si_status, 0)
                                              : W_EXITCODE(0, si.si_status);
        collect_note_exit(c, si.si_pid, status);
        while (waitpid(si.si_pid, &status, 0) < 0 && errno == EINTR) {}
        if (si.si_pid == root) root_status = status;
    }
    return root_status;
}

static int run_exit_code(int status)
{
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

/* The recording session: everything run_record sets up and tears down. */
struct run_session {
    char dir[PATH_MAX];       /* session directory */
    char trace[PATH_MAX];     /* trace file path */
    int out_fd;               /* --program-output, or -1 */
    char **env;               /* owned: the target's environment */
    struct run_child child;
    struct trace_writer *w;   /* owned */
    struct collector *c;      /* owned */
    struct live_agg *agg;     /* owned, NULL with --no-live */
    struct live_server *srv;  /* owned: <dir>/live.sock for memtrace top */
    struct tui_live *view;    /* owned: --live */
    char out_tmp[PATH_MAX];   /* --live default output, renamed to <trace>.out */
    uint64_t n_traced;        /* process images whose ring attached */
};

/* Opens the trace (header + SESSION) and starts the collector. 0 or the
 * exit code of a reported error. */
static int run_start_trace(struct run_session *s, const struct run_opts *o, const char *prog)
{
    const char *base = strrchr(prog, '/');
    int n = o->out ? snprintf(s->trace, sizeof s->trace, "%s", o->out)
                   : snprintf(s->trace, sizeof s->trace, "%s.%d.mtrace", base ? base + 1 : prog,
                              (int)s->child.pid);
    if (n < 0 || (size_t)n >= sizeof s->trace)
        return cli_error(CLI_EXIT_USAGE, "run", "trace file name too long");
    struct mt_file_hdr h = {
        .start_mono_ns = run_clock_ns(CLOCK_MONOTONIC),
        .start_real_ns = run_clock_ns(CLOCK_REALTIME),
        .root_pid = (uint32_t)s->child.pid,
        .flags = o->lossy ? MT_FILE_F_LOSSY : 0,
    };
    int rc = trace_writer_open(s->trace, &h, &s->w);
    if (rc) return cli_error(CLI_EXIT_ERROR, "run", "%s: %s", s->trace, mt_strerror(rc));
    if (!o->no_live && !(s->agg = live_agg_create(h.start_mono_ns)))
        return cli_error(CLI_EXIT_ERROR, "run", "%s", strerror(ENOMEM));
    /* design note 4: without --live, aggregate only once someone attaches */
    if (s->agg && !o->live && (rc = live_agg_set_lazy(s->agg, s->w, s->trace)))
        return cli_error(CLI_EXIT_ERROR, "run", "%s", mt_strerror(rc));
    rc = run_write_session(s->w, s->agg, o);
    struct collect_opts co = {
        .session_dir = s->dir, .w = s->w, .sample_period_us = o->period_us, .warn = run_warn,
        .on_block = s->agg ? live_agg_on_block : NULL, .block_ctx = s->agg,
    };
    if (!rc) rc = collect_create(&co, &s->c);
    if (!rc) rc = collect_start(s->c);
    if (rc) return cli_error(CLI_EXIT_ERROR, "run", "cannot start the collector: %s",
                             mt_strerror(rc));
    if (s->out_tmp[0]) { /* --live's default output: <trace>.out */
        char out[PATH_MAX + 8];
        snprintf(out, sizeof out, "%s.out", s->trace);
        rename(s->out_tmp, out); /* same directory; on failure the output keeps its name */
    }
    if (s->agg && (rc = live_server_start(s->dir, s->agg, &s->srv)))
        cli_error(0, "run", "no live socket (memtrace top cannot attach): %s", mt_strerror(rc));
    if (o->live && (rc = tui_live_start(s->agg, &s->view)))
        return cli_error(CLI_EXIT_ERROR, "run", "cannot start the live view: %s", mt_strerror(rc));
    return 0;
}

/* Sets up the session directory, output file and environment, and forks
 * the (waiting) child. 0 or the exit code of a reported error. */
static int run_prepare(struct run_session *s, const struct run_opts *o, const char *prog,
                       const char *preload)
{
    struct mt_errbuf eb = {{0}};
    if (collect_session_mkdir(s->dir, sizeof s->dir, &eb))
        return cli_error(CLI_EXIT_ERROR, "run", "%s", eb.msg);
    const char *pout = o->program_output;
    if (o->live && !pout) { /* the screen is the view's: output to <trace>.out */
        if (o->out) snprintf(s->out_tmp, sizeof s->out_tmp, "%s.out", o->out);
        else snprintf(s->out_tmp, sizeof s->out_tmp, "memtrace.%d.out", (int)getpid());
        pout = s->out_tmp;
    }
    if (pout) {
        s->out_fd = open(pout, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (o->out) s->out_tmp[0] = '\0'; /* already <trace>.out */
        if (s->out_fd < 0)
            return cli_error(CLI_EXIT_ERROR, "run", "%s: %s", pout, strerror(errno));
    }
    /* passed like the user's MEMTRACE_* overrides: collect_session_env copies
     * our environment (we are still single-threaded here) */
    if (o->no_errors && setenv(MT_ENV_NO_ERRORS, "1", 1))
        return cli_error(CLI_EXIT_ERROR, "run", "%s", strerror(errno));
    struct collect_env_opts eo = {
        .session_dir = s->dir, .preload = preload, .collector_pid = (uint32_t)getpid(),
        .depth = o->depth, .lossy = o->lossy, .free_stacks = o->free_stacks,
        .no_follow_fork = o->no_follow_fork,
    };
    char *pid_slot = NULL;
    s->env = collect_session_env(&eo, &pid_slot);
    if (!s->env) return cli_error(CLI_EXIT_ERROR, "run", "%s", strerror(ENOMEM));
    prctl(PR_SET_CHILD_SUBREAPER, 1); /* design note 2 */
    int rc = run_spawn(prog, o->prog_argv, s->env, pid_slot, s->out_fd, &s->child);
    if (rc) return cli_error(CLI_EXIT_ERROR, "run", "fork: %s", mt_strerror(rc));
    run_root_pid = s->child.pid;
    return 0;
}

/* Frees whatever s holds. Cannot fail. */
static void run_cleanup(struct run_session *s)
{
    collect_destroy(s->c);
    tui_live_wait(s->view);
    live_server_stop(s->srv);
    live_agg_destroy(s->agg);
    if (s->w) trace_writer_close(s->w);
    if (s->dir[0]) collect_session_rmdir(s->dir);
    collect_session_env_free(s->env);
    if (s->out_fd >= 0) close(s->out_fd);
    run_signals(0);
    run_root_pid = 0;
}

/* Waits for every process, ends the trace (STATS) and closes it. Returns
 * the root's wait status in *status; 0 or a trace error. */
static int run_finish_trace(struct run_session *s, int *status)
{
    *status = run_wait_all(s->c, s->child.pid);
    int rc = collect_finish(s->c);
    if (s->agg) live_agg_finish(s->agg); /* the view shows the final state */
    tui_live_wait(s->view);              /* ... until the user quits it */
    s->view = NULL;
    struct mt_rec_stats st = {
        .hdr = {.kind = MT_REC_STATS, .len = sizeof st},
        .t_ns = run_clock_ns(CLOCK_MONOTONIC),
        .bytes_drained = collect_bytes_drained(s->c),
        .n_processes = collect_n_processes(s->c),
    };
    s->n_traced = st.n_processes;
    if (!rc) rc = trace_writer_block(s->w, 0, 0, MT_RING_COLLECTOR, &st, sizeof st);
    int crc = trace_writer_close(s->w);
    s->w = NULL;
    return rc ? rc : crc;
}

/* Records the program into a trace, then analyzes it. Returns the exit
 * code: the program's, or one of memtrace's when it failed itself. */
static int run_record(const struct run_opts *o, const char *prog, const char *preload,
                      char **argv)
{
    struct run_session s = {.out_fd = -1, .child = {.pid = -1}};
    int code = run_prepare(&s, o, prog, preload);
    if (!code) code = run_start_trace(&s, o, prog);
    if (code) {
        if (s.child.pid > 0) { /* never exec'd: closing go makes it exit */
            close(s.child.go_w);
            close(s.child.err_r);
            waitpid(s.child.pid, NULL, 0);
        }
        if (s.w) unlink(s.trace);
        run_cleanup(&s);
        return code;
    }
    run_signals(1);
    int exec_err = run_release(&s.child);
    int status = 0;
    int rc = run_finish_trace(&s, &status);
    run_cleanup(&s);
    if (exec_err) {
        unlink(s.trace);
        return cli_error(exec_err == ENOENT ? CLI_EXIT_NOT_FOUND : CLI_EXIT_CANNOT_EXEC, "run",
                         "%s: cannot execute: %s", prog, strerror(exec_err));
    }
    if (rc) return cli_error(CLI_EXIT_ERROR, "run", "%s: %s", s.trace, mt_strerror(rc));
    code = run_exit_code(status);
    /* an empty trace analyzed would look like a clean run; check (--quiet)
     * finds the empty trace itself and says so under its own name */
    if (s.n_traced == 0 && !o->quiet)
        return cli_error(code ? code : CLI_EXIT_ERROR, "run",
                         "%s ran untraced (statically linked, or %s is not libmemtrace.so); "
                         "trace: %s", prog, preload, s.trace);
    if (o->no_analyze) {
        if (!o->quiet) fprintf(stderr, "trace: %s\n", s.trace);
        return code;
    }
    int arc = analyze_after_run(s.trace, o->n_opts, argv); /* memtrace's options only */
    return code ? code : arc;
}

/* ------------------------------------------------------------ the verb */

int cli_cmd_run(int argc, char **argv)
{
    struct run_opts o;
    int rc = run_parse(argc, argv, &o);
    if (rc) return rc < 0 ? CLI_EXIT_OK : rc;
    char prog[PATH_MAX], preload[PATH_MAX];
    rc = collect_session_find_program(o.prog_argv[0], prog, sizeof prog);
    if (rc == -ENOENT)
        return cli_error(CLI_EXIT_NOT_FOUND, "run", "%s: command not found", o.prog_argv[0]);
    if (rc)
        return cli_error(CLI_EXIT_CANNOT_EXEC, "run", "%s: cannot execute: %s", o.prog_argv[0],
                         mt_strerror(rc == -ENAMETOOLONG ? rc : -EACCES));
    struct mt_errbuf eb = {{0}};
    if (collect_session_find_preload(preload, sizeof preload, &eb))
        return cli_error(CLI_EXIT_ERROR, "run", "%s", eb.msg);
    return run_record(&o, prog, preload, argv);
}
