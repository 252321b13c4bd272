/*
 * leak.h — exit-time reachability scan: the block graph and its entry point (runs in the target)
 *
 * leak.c holds the pure part of the scan: a sorted table of live blocks, the
 * mark phase over root words and block contents, and memcheck's clique pass
 * that splits lost blocks into definitely and indirectly lost. It touches no
 * preload state, so tests/unit/test_leak.c drives it on synthetic memory.
 * leak_roots.c finds the roots (module data, thread stacks, registers, TLS,
 * other client mappings) and emits the records; leak_stop.c stops the
 * other threads and saves their registers.
 * Algorithm, roots and differences from valgrind: docs/leaks.md.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMTRACE_LEAK_H
#define MEMTRACE_LEAK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/ucontext.h>

/* Linkage of the graph functions: hidden inside libmemtrace.so; the unit test
 * defines it as `static` before including leak.c so that it owns a private
 * copy whatever the preload library links. */
#ifndef LEAK_API
#define LEAK_API __attribute__((visibility("hidden")))
#endif

/* Mark states, in memcheck's terms (mc_leakcheck.c "Reachedness"). A block
 * only ever moves up the list UNREACHED -> POSSIBLE -> REACHABLE during the
 * mark phase; the clique phase turns UNREACHED into INDIRECT. */
enum leak_state {
    LEAK_ST_UNREACHED = 0, /* no pointer found (yet) */
    LEAK_ST_POSSIBLE = 1,  /* reached only through an interior pointer or a possible block */
    LEAK_ST_REACHABLE = 2, /* start pointer from a root or a reachable block */
    LEAK_ST_INDIRECT = 3,  /* reached only from a lost block (clique member) */
};
#define LEAK_ST_MASK 0x3u       /* state bits of leak_graph.state[i] */
#define LEAK_ST_NOSCAN 0x80u    /* block memory not readable: classify, never scan */

/* An address range [start, end). */
struct leak_range {
    uint64_t start, end;
};

/* memcheck's --leak-check-heuristics, all on by default as in valgrind:
 * an interior pointer of one of these shapes counts as a start pointer. */
#define LEAK_HEUR_STDSTRING 0x1u /* block+24: old-ABI std::string rep */
#define LEAK_HEUR_LENGTH64 0x2u  /* block+8, first word == size - 8 */
#define LEAK_HEUR_NEWARRAY 0x4u  /* block+8, first word divides size - 8 */
#define LEAK_HEUR_MULTI 0x8u     /* a vtable pointer at ptr and at the block start */
#define LEAK_HEUR_ALL 0xfu

/* One live block: requested size only, as memcheck scans (never usable). */
struct leak_block {
    uint64_t addr; /* start address returned to the program */
    uint64_t size; /* requested bytes */
};

/* Slot of the start-address hash: block index + 1 (0 = empty) and the low
 * half of its address, so most probes never touch the blocks array. */
struct leak_hash_ent {
    uint32_t idx1;
    uint32_t addr_lo;
};

/* The graph over one scan. Every array is borrowed from the caller, which
 * sizes them for n blocks (see leak_graph_bytes()); nothing is allocated. */
struct leak_graph {
    struct leak_block *blocks; /* borrowed; sorted by addr after leak_graph_init */
    uint8_t *state;            /* borrowed; n entries, enum leak_state | LEAK_ST_NOSCAN */
    uint32_t *work;            /* borrowed; 2n + 2 entries: the explicit mark stack */
    uint64_t *top;             /* borrowed; every 64th block start, for the search */
    uint64_t n_top;            /* entries in top */
    struct leak_hash_ent *hash; /* borrowed; leak_graph_hash_len(n) slots */
    uint64_t hash_mask;        /* slots - 1 (a power of two) */
    unsigned hash_shift;       /* 64 - log2(slots) */
    uint64_t n;                /* blocks */
    uint64_t n_work;           /* entries on the mark stack */
    uint64_t cap_work;         /* capacity of work */
    uint64_t lo;               /* lowest block start: quick reject */
    uint64_t span;             /* highest block end - lo: a word w is a candidate
                                  only if w - lo < span (unsigned) */
    uint64_t clique;           /* leader index in the clique pass, UINT64_MAX in marking */
    unsigned heuristics;       /* LEAK_HEUR_* in force (leak_graph_init: all) */
    const struct leak_range *file_r; /* borrowed, sorted: readable file mappings */
    uint32_t n_file_r;
    const struct leak_range *file_x; /* borrowed, sorted: executable file mappings */
    uint32_t n_file_x;
    uint64_t words_scanned;    /* statistics: aligned words looked at */
};

/* Entries of the top-level index leak_graph_init needs for n blocks. */
LEAK_API uint64_t leak_graph_top_len(uint64_t n);

/* Slots of the start-address hash leak_graph_init needs for n blocks. */
LEAK_API uint64_t leak_graph_hash_len(uint64_t n);

/* Sorts blocks (n entries) by address using tmp (n entries of scratch) and
 * sets up g over the caller's arrays. work must hold 2n + 2 entries (it may
 * alias tmp: the sort is done before it is used), top leak_graph_top_len(n),
 * hash leak_graph_hash_len(n). n must be below 2^32 - 1. Cannot fail. */
LEAK_API void leak_graph_init(struct leak_graph *g, struct leak_block *blocks, uint64_t n,
                              struct leak_block *tmp, uint8_t *state, uint32_t *work,
                              uint64_t *top, struct leak_hash_ent *hash);

/* Gives the graph the file mappings the multiple-inheritance heuristic
 * needs to recognise a vtable (a readable file mapping whose words point
 * into executable file mappings). Without them that heuristic never fires. */
LEAK_API void leak_graph_set_files(struct leak_graph *g, const struct leak_range *file_r,
                                   uint32_t n_file_r, const struct leak_range *file_x,
                                   uint32_t n_file_x);

/* Index of the block containing ptr (start or interior), or -1. A zero-sized
 * block is hit only by its exact start. OUT: *is_start = ptr == block start. */
LEAK_API int64_t leak_graph_find(const struct leak_graph *g, uint64_t ptr, int *is_start);

/* Treats every 8-byte aligned word of [start, end) as a root pointer. The
 * range must be readable. Blocks found are queued; call leak_graph_mark(). */
LEAK_API void leak_graph_scan_root(struct leak_graph *g, uint64_t start, uint64_t end);

/* Treats one value (a saved register) as a root pointer. */
LEAK_API void leak_graph_root_word(struct leak_graph *g, uint64_t word);

/* Drains the mark stack: scans the contents of every queued block and
 * upgrades the blocks they point to, as memcheck does. */
LEAK_API void leak_graph_mark(struct leak_graph *g);

/* After marking: groups the still unreached blocks into cliques, in address
 * order; each clique's leader stays definitely lost, its members become
 * indirectly lost (memcheck's rule, including the merge of an earlier clique
 * into a later one that reaches it). */
LEAK_API void leak_graph_cliques(struct leak_graph *g);

/* enum mt_leak_class of block idx once leak_graph_cliques() ran. */
LEAK_API uint8_t leak_graph_class(const struct leak_graph *g, uint64_t idx);

/* ------------------------------------------------------------------ *
 * leak_stop.c: stopping the other threads (hidden, not part of the graph)
 * ------------------------------------------------------------------ */

/* One thread of the process as the stop handshake saw it. */
struct leak_thread {
    _Atomic int32_t tid;    /* kernel tid */
    _Atomic uint32_t state; /* leak_stop.c's enum leak_th_state */
    uint64_t sp;            /* stack pointer when stopped, 0 = unknown */
    uint64_t fs;            /* thread pointer (TCB), 0 = unknown */
    uint64_t regs[NGREG];   /* general registers when stopped */
    uint32_t has_regs;      /* regs valid */
    uint32_t pad;
};

/* Stops every thread but the caller (design notes in leak_stop.c). buf is
 * scratch of buf_bytes (>= 4 KiB) for /proc reads. 0, or -errno when the
 * signal handler could not be installed (then nothing was stopped). */
int leak_stop_world(char *buf, size_t buf_bytes);
/* Releases the stopped threads and restores the program's signal action. */
void leak_start_world(void);
/* Threads seen by the last leak_stop_world(), and slot idx of them. */
uint32_t leak_stop_n(void);
const struct leak_thread *leak_stop_at(uint32_t idx);
/* CLOCK_MONOTONIC, ns. */
uint64_t leak_now_ns(void);
/* /proc parsing: hex at *p (optional 0x), advancing *p; skip a field and
 * the spaces after it. */
uint64_t leak_parse_hex(const char **p);
const char *leak_parse_skip(const char *s);

/* The scan itself (leak_roots.c). Called by the preload's exit handler,
 * through a weak reference, after MT_REC_EXIT and only at a normal exit.
 * Context: the exiting thread, program exit handlers done, other threads may
 * still run. Never allocates through malloc, never uses stdio; on any
 * internal failure it emits nothing rather than a partial classification. */
void leak_scan_run(void);

#endif /* MEMTRACE_LEAK_H */
