/*
 * trace_format.h — the records memtrace writes: ring records and the trace file around them
 *
 * Every part of memtrace speaks these records. The preload writes them into its
 * shared-memory rings (ring.h); the collector copies ring bytes into blocks of
 * the trace file (packed, see below); the analyzer reads them back. One record
 * layout for ring and file means the collector never has to judge a record.
 *
 * Invariants:
 *   - every record starts with struct mt_rec_hdr; len is the whole record in
 *     bytes, a multiple of 8 (MT_REC_ALIGN), at least sizeof(struct mt_rec_hdr);
 *   - every record written by the preload except MT_REC_PAD carries a sequence
 *     number; within one process image (pid, gen) sequence numbers are dense
 *     from 0, so a reader can restore the exact global order with a bounded
 *     reorder window; holes appear only at the end of a stream (a process
 *     killed in the middle of writing a record);
 *   - records are little-endian x86_64 native; all integers fixed width.
 *
 * Contract page: docs/trace-format.md. Change both together and bump
 * MT_TRACE_VERSION when a layout changes.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMTRACE_TRACE_FORMAT_H
#define MEMTRACE_TRACE_FORMAT_H

#include <stdint.h>

/* ------------------------------------------------------------------ *
 * Trace file
 *
 *   struct mt_file_hdr              (uncompressed, at offset 0)
 *   zstd frame, zstd frame, ...     (each independent, each decompresses to
 *                                    a whole number of blocks)
 *
 * A block is struct mt_block_hdr followed by len bytes of records. A block
 * never straddles two frames, so a file cut short is readable up to its last
 * complete frame. Since version 2 the records of a block are stored packed
 * (varint deltas, docs/trace-format.md "Packed blocks"); len still counts
 * the plain record bytes, which is what a reader hands out.
 * ------------------------------------------------------------------ */

#define MT_FILE_MAGIC "MEMTRACE"  /* 8 bytes, no NUL */
#define MT_TRACE_VERSION 2u       /* bump on any layout change; 2: packed blocks */
#define MT_TRACE_VERSION_PLAIN 1u /* blocks stored as plain records; still read */

struct mt_file_hdr {
    char magic[8];          /* MT_FILE_MAGIC */
    uint32_t version;       /* MT_TRACE_VERSION */
    uint32_t hdr_size;      /* sizeof(struct mt_file_hdr), for forward compat */
    uint64_t start_mono_ns; /* CLOCK_MONOTONIC at session start, ns */
    uint64_t start_real_ns; /* CLOCK_REALTIME at session start, ns since epoch */
    uint32_t root_pid;      /* pid of the program memtrace spawned */
    uint32_t flags;         /* MT_FILE_F_* */
    uint64_t reserved[4];   /* zero */
};
_Static_assert(sizeof(struct mt_file_hdr) == 72, "mt_file_hdr reaches disk");

#define MT_FILE_F_LOSSY 0x1u /* session ran with --lossy */

#define MT_BLOCK_MAGIC 0x4b4c424du /* "MBLK" little-endian */
#define MT_RING_COLLECTOR 0xffffffffu /* block.ring for records the collector wrote */

struct mt_block_hdr {
    uint32_t magic; /* MT_BLOCK_MAGIC */
    uint32_t pid;   /* process the records belong to (0 for session-wide) */
    uint32_t gen;   /* exec generation of that pid: 0, then +1 per execve */
    uint32_t ring;  /* ring index inside the process file, or MT_RING_COLLECTOR */
    uint64_t len;   /* bytes of records following this header */
};
_Static_assert(sizeof(struct mt_block_hdr) == 24, "mt_block_hdr reaches disk");

/* ------------------------------------------------------------------ *
 * Records
 * ------------------------------------------------------------------ */

#define MT_REC_ALIGN 8u /* every record's len is a multiple of this */

enum mt_rec_kind {
    MT_REC_PAD = 0,       /* filler to the end of a ring; no seq; skip */
    MT_REC_PROCESS = 1,   /* a process image started tracing */
    MT_REC_EXIT = 2,      /* the process image ended normally (exit/return) */
    MT_REC_THREAD = 3,    /* a thread was seen first, or ended, or renamed */
    MT_REC_MODULE = 4,    /* a module (exe or shared object) is mapped */
    MT_REC_MODULE_UNLOAD = 5, /* a module was dlclose'd */
    MT_REC_STACK = 6,     /* a new interned stack */
    MT_REC_ALLOC = 7,     /* an allocation returned */
    MT_REC_FREE = 8,      /* a block is about to be released */
    MT_REC_ERROR = 9,     /* a memory error (double/invalid/mismatched free) */
    MT_REC_MALLINFO = 10, /* glibc mallinfo2 figures, on the collector's request */
    MT_REC_LEAK_BEGIN = 11, /* exit-time reachability scan starts */
    MT_REC_LEAK = 12,     /* classification of live blocks (array) */
    MT_REC_LEAK_END = 13, /* scan done */
    MT_REC_SEQ_SKIP = 14, /* a seq that was taken but carries no event */
    /* client API records (memtrace.h; appended after version 1's kinds) */
    MT_REC_POOL = 15,       /* a pool was created, reset or destroyed */
    MT_REC_POOL_CHUNK = 16, /* a chunk or superblock of a pool came or went */
    MT_REC_CLIENT = 17,     /* marker, pause/resume, leak check, ignored object */
    /* collector-written records (block.ring == MT_RING_COLLECTOR): no seq */
    MT_REC_SESSION = 32,  /* command line and options of the session */
    MT_REC_RSS = 33,      /* RSS sample of one process */
    MT_REC_PROC_END = 34, /* the collector saw a process image end */
    MT_REC_STATS = 35,    /* collector totals at the end of the session */
    MT_REC_KIND_MAX
};

/* Allocation families. An ALLOC and a FREE of one block must agree, else the
 * free is a mismatch (docs/trace-format.md lists the pairs). */
enum mt_family {
    MT_FAM_MALLOC = 0,   /* malloc, calloc, realloc, reallocarray, free */
    MT_FAM_NEW = 1,      /* operator new / delete (incl. sized, nothrow) */
    MT_FAM_NEW_ARRAY = 2,/* operator new[] / delete[] */
    MT_FAM_ALIGNED = 3,  /* posix_memalign, aligned_alloc, memalign, valloc,
                            pvalloc; released by free */
    MT_FAM_NEW_ALIGNED = 4,       /* operator new(size, align_val_t) */
    MT_FAM_NEW_ARRAY_ALIGNED = 5, /* operator new[](size, align_val_t) */
    MT_FAM_COUNT
};

/* Which entry point made the record (finer than family, for reports and
 * for the tests that check every interposed function is seen). */
enum mt_api {
    MT_API_MALLOC = 0, MT_API_CALLOC, MT_API_REALLOC, MT_API_REALLOCARRAY,
    MT_API_FREE, MT_API_POSIX_MEMALIGN, MT_API_ALIGNED_ALLOC, MT_API_MEMALIGN,
    MT_API_VALLOC, MT_API_PVALLOC, MT_API_NEW, MT_API_NEW_NOTHROW,
    MT_API_NEW_ALIGNED, MT_API_NEW_ALIGNED_NOTHROW, MT_API_NEW_ARRAY,
    MT_API_NEW_ARRAY_NOTHROW, MT_API_NEW_ARRAY_ALIGNED,
    MT_API_NEW_ARRAY_ALIGNED_NOTHROW, MT_API_DELETE, MT_API_DELETE_SIZED,
    MT_API_DELETE_ALIGNED, MT_API_DELETE_SIZED_ALIGNED, MT_API_DELETE_NOTHROW,
    MT_API_DELETE_ALIGNED_NOTHROW, MT_API_DELETE_ARRAY, MT_API_DELETE_ARRAY_SIZED,
    MT_API_DELETE_ARRAY_ALIGNED, MT_API_DELETE_ARRAY_SIZED_ALIGNED,
    MT_API_DELETE_ARRAY_NOTHROW, MT_API_DELETE_ARRAY_ALIGNED_NOTHROW,
    MT_API_COUNT
};

struct mt_rec_hdr {
    uint16_t kind;  /* enum mt_rec_kind */
    uint16_t flags; /* kind-specific MT_*_F_* bits */
    uint32_t len;   /* whole record, bytes, multiple of MT_REC_ALIGN */
};
_Static_assert(sizeof(struct mt_rec_hdr) == 8, "record header");

/* Every seq-carrying record starts with this. */
struct mt_rec_common {
    struct mt_rec_hdr hdr;
    uint64_t seq;  /* dense per (pid, gen), from 0 */
    uint64_t t_ns; /* CLOCK_MONOTONIC, ns */
};
_Static_assert(sizeof(struct mt_rec_common) == 24, "common prefix");

/* MT_REC_PROCESS: first record of every process image. Followed by
 * exe_len bytes of the executable path and argv_len bytes of argv, each arg
 * NUL-terminated, then zero padding to MT_REC_ALIGN. */
#define MT_PROC_F_FORKED 0x1u /* started by fork: inherits parent's stacks/modules */
#define MT_PROC_F_EXEC 0x2u   /* gen > 0: replaced an earlier image of this pid */
struct mt_rec_process {
    struct mt_rec_common c;
    uint32_t pid;
    uint32_t ppid;
    uint32_t gen;             /* exec generation of this pid */
    uint32_t parent_gen;      /* gen of the parent image we forked from */
    uint32_t stack_watermark; /* stack ids < this come from the parent (fork) */
    uint32_t module_watermark;/* module ids < this come from the parent (fork) */
    uint32_t exe_len;         /* bytes of exe path incl. NUL */
    uint32_t argv_len;        /* bytes of argv block */
    uint64_t start_real_ns;   /* CLOCK_REALTIME at start */
    uint32_t max_depth;       /* configured unwind depth */
    uint32_t opt_flags;       /* MT_OPT_* the preload runs with */
    /* char exe[exe_len]; char argv[argv_len]; */
};
_Static_assert(sizeof(struct mt_rec_process) == 72, "mt_rec_process");

#define MT_OPT_LOSSY 0x1u       /* drops instead of waiting on a full ring */
#define MT_OPT_FREE_STACKS 0x2u /* FREE records carry a stack id */
/* No live-pointer table (run --no-errors, MEMTRACE_NO_ERRORS=1): frees are
 * not judged (no ERROR records for malloc/new blocks) and no exit leak
 * scan runs. A trace without the bit (older writers too) was checked. */
#define MT_OPT_NO_ERRORS 0x4u

/* MT_REC_EXIT: the image is ending through exit() or return from main. */
struct mt_rec_exit {
    struct mt_rec_common c;
    int32_t status;  /* the value passed to exit() */
    uint32_t pad;
};
_Static_assert(sizeof(struct mt_rec_exit) == 32, "mt_rec_exit");

/* MT_REC_THREAD. flags: MT_THREAD_F_*. */
#define MT_THREAD_F_START 0x1u /* first event from this thread */
#define MT_THREAD_F_END 0x2u   /* thread is exiting */
struct mt_rec_thread {
    struct mt_rec_common c;
    uint32_t tid;
    uint32_t pad;
    char name[16];  /* prctl(PR_GET_NAME) at the time, NUL-terminated */
};
_Static_assert(sizeof(struct mt_rec_thread) == 48, "mt_rec_thread");

/* MT_REC_MODULE. Followed by n_segments struct mt_segment, then path_len
 * bytes of path (NUL-terminated), then padding. */
struct mt_segment {
    uint64_t vaddr;  /* p_vaddr of the PT_LOAD (add load_bias for runtime) */
    uint64_t memsz;  /* p_memsz, bytes */
    uint64_t offset; /* p_offset in the file */
    uint32_t flags;  /* p_flags (PF_R/PF_W/PF_X) */
    uint32_t pad;
};
_Static_assert(sizeof(struct mt_segment) == 32, "mt_segment");

struct mt_rec_module {
    struct mt_rec_common c;
    uint32_t module_id;    /* per process, from 0; never reused */
    uint32_t n_segments;
    uint64_t load_bias;    /* dlpi_addr */
    uint32_t path_len;     /* incl. NUL; path "" for the main exe is replaced
                              by /proc/self/exe's target */
    uint32_t build_id_len; /* bytes used in build_id, 0 when none */
    uint8_t build_id[40];  /* NT_GNU_BUILD_ID descriptor */
    /* struct mt_segment seg[n_segments]; char path[path_len]; */
};
_Static_assert(sizeof(struct mt_rec_module) == 88, "mt_rec_module");

struct mt_rec_module_unload {
    struct mt_rec_common c;
    uint32_t module_id;
    uint32_t pad;
};
_Static_assert(sizeof(struct mt_rec_module_unload) == 32, "mt_rec_module_unload");

/* MT_REC_STACK: followed by n_frames uint64_t return addresses, innermost
 * first, raw (not adjusted by -1; the symbolizer does that). */
struct mt_rec_stack {
    struct mt_rec_common c;
    uint32_t stack_id; /* per process, from 1; 0 means "no stack" */
    uint32_t n_frames;
    /* uint64_t frames[n_frames]; */
};
_Static_assert(sizeof(struct mt_rec_stack) == 32, "mt_rec_stack");

/* MT_REC_ALLOC. flags: MT_ALLOC_F_*. */
#define MT_ALLOC_F_REALLOC 0x1u /* result of realloc/reallocarray; the FREE of
                                   the old block (if it moved) precedes it */
struct mt_rec_alloc {
    struct mt_rec_common c;
    uint64_t addr;     /* returned pointer */
    uint64_t size;     /* requested bytes (calloc: nmemb*size) */
    uint64_t usable;   /* malloc_usable_size(addr) */
    uint32_t stack_id; /* 0 if unwinding failed */
    uint32_t tid;
    uint8_t family;    /* enum mt_family */
    uint8_t api;       /* enum mt_api */
    uint16_t pad0;
    uint32_t pad1;
};
_Static_assert(sizeof(struct mt_rec_alloc) == 64, "mt_rec_alloc");

/* MT_REC_FREE: written before the real free is called, so that an address
 * the allocator reuses is always seen freed before it is seen allocated. */
#define MT_FREE_F_REALLOC 0x1u /* the release half of a moving realloc */
struct mt_rec_free {
    struct mt_rec_common c;
    uint64_t addr;
    uint32_t tid;
    uint32_t stack_id; /* with MT_OPT_FREE_STACKS, else 0 */
    uint8_t family;    /* family implied by the releasing call */
    uint8_t api;       /* enum mt_api */
    uint16_t pad0;
    uint32_t pad1;
};
_Static_assert(sizeof(struct mt_rec_free) == 48, "mt_rec_free");

/* MT_REC_ERROR: a release that memtrace judged wrong. For kinds that are not
 * "live", the real free was NOT called and the program went on. */
enum mt_error_kind {
    MT_ERR_NOT_LIVE = 1,     /* freed pointer is not a live block: the analyzer
                                refines it to double free / invalid free
                                (stack, global, interior, never allocated) */
    MT_ERR_MISMATCH = 2,     /* block released by the wrong family; freed anyway */
    MT_ERR_REALLOC_NOT_LIVE = 3, /* realloc of a pointer that is not live; the
                                    call returned NULL, nothing was freed */
};
struct mt_rec_error {
    struct mt_rec_common c;
    uint64_t addr;           /* the pointer passed in */
    uint32_t tid;
    uint32_t stack_id;       /* stack of the erroneous call */
    uint32_t alloc_stack_id; /* MISMATCH: the block's allocation stack */
    uint8_t kind;            /* enum mt_error_kind */
    uint8_t family;          /* family implied by the erroneous call */
    uint8_t alloc_family;    /* MISMATCH: the block's family */
    uint8_t api;             /* enum mt_api of the erroneous call */
    uint64_t alloc_size;     /* MISMATCH: the block's requested size */
};
_Static_assert(sizeof(struct mt_rec_error) == 56, "mt_rec_error");

/* MT_REC_MALLINFO: written by the target when the collector asks (ring.h). */
struct mt_rec_mallinfo {
    struct mt_rec_common c;
    uint64_t arena;    /* mallinfo2: non-mmapped space from the system, bytes */
    uint64_t ordblks;  /* free chunks */
    uint64_t hblks;    /* mmapped chunks */
    uint64_t hblkhd;   /* bytes in mmapped chunks */
    uint64_t uordblks; /* bytes in use */
    uint64_t fordblks; /* free bytes held */
    uint64_t keepcost; /* releasable top bytes */
};
_Static_assert(sizeof(struct mt_rec_mallinfo) == 80, "mt_rec_mallinfo");

/* Reachability classes, as valgrind memcheck names them. */
enum mt_leak_class {
    MT_LEAK_DEFINITE = 1,
    MT_LEAK_INDIRECT = 2,
    MT_LEAK_POSSIBLE = 3,
    MT_LEAK_REACHABLE = 4,
};

/* MT_REC_LEAK_BEGIN / MT_REC_LEAK_END. */
struct mt_rec_leak_mark {
    struct mt_rec_common c;
    uint64_t n_blocks;  /* live blocks scanned (END: blocks classified) */
    uint64_t n_bytes;   /* their requested bytes */
    uint64_t duration_ns; /* END only: time the scan took */
};
_Static_assert(sizeof(struct mt_rec_leak_mark) == 48, "mt_rec_leak_mark");

/* MT_REC_LEAK: up to a ring's worth of classified blocks. Followed by n
 * struct mt_leak_entry. Every live block at scan time gets exactly one. */
struct mt_leak_entry {
    uint64_t addr;
    uint8_t cls;   /* enum mt_leak_class */
    uint8_t pad[7];
};
_Static_assert(sizeof(struct mt_leak_entry) == 16, "mt_leak_entry");
struct mt_rec_leak {
    struct mt_rec_common c;
    uint32_t n;
    uint32_t pad;
};
_Static_assert(sizeof(struct mt_rec_leak) == 32, "mt_rec_leak");

struct mt_rec_seq_skip {
    struct mt_rec_common c;
};

/* ---- client API records (include/memtrace/memtrace.h) ---- */

/* MT_REC_POOL. CREATE is followed by name_len bytes of name (NUL-terminated),
 * then padding. A pool id is per process image, from 1, never reused. */
enum mt_pool_event {
    MT_POOL_CREATE = 1,
    MT_POOL_RESET = 2,   /* every live chunk released at once */
    MT_POOL_DESTROY = 3, /* chunks still live are leaks of the pool */
};
struct mt_rec_pool {
    struct mt_rec_common c;
    uint32_t pool_id;
    uint32_t tid;
    uint32_t stack_id;  /* stack of the call */
    uint16_t event;     /* enum mt_pool_event */
    uint16_t name_len;  /* CREATE: bytes of name incl. NUL; else 0 */
    /* char name[name_len]; */
};
_Static_assert(sizeof(struct mt_rec_pool) == 40, "mt_rec_pool");

/* MT_REC_POOL_CHUNK. flags: MT_CHUNK_F_*. */
enum mt_chunk_op {
    MT_CHUNK_ALLOC = 1,      /* the pool handed out [addr, addr + size) */
    MT_CHUNK_FREE = 2,       /* the program gave the chunk at addr back */
    MT_CHUNK_SB_ADD = 3,     /* the pool holds [addr, addr + size) from below */
    MT_CHUNK_SB_RELEASE = 4, /* the pool gave that superblock back */
};
#define MT_CHUNK_F_NOT_LIVE 0x1u /* FREE / SB_RELEASE: addr was not live in the
                                    pool (double or invalid free); nothing changed */
#define MT_CHUNK_F_MALLOC_SB 0x2u /* SB_ADD: addr is a live malloc block, which
                                     stops counting as a heap block of its own */
struct mt_rec_pool_chunk {
    struct mt_rec_common c;
    uint64_t addr;
    uint64_t size;           /* ALLOC/SB_ADD: bytes; FREE: the chunk's size, 0 if not live */
    uint32_t pool_id;
    uint32_t tid;
    uint32_t stack_id;       /* ALLOC/SB_*: the call's stack; FREE: with
                                MT_OPT_FREE_STACKS or NOT_LIVE, else 0 */
    uint32_t alloc_stack_id; /* FREE: the chunk's allocation stack, 0 if not live */
    uint8_t op;              /* enum mt_chunk_op */
    uint8_t pad[7];
};
_Static_assert(sizeof(struct mt_rec_pool_chunk) == 64, "mt_rec_pool_chunk");

/* MT_REC_CLIENT. MARK is followed by label_len bytes of label (NUL-terminated),
 * then padding. A leak check is LEAK_CHECK (flags 0), then the scan's
 * LEAK_BEGIN / LEAK... / LEAK_END records, then LEAK_CHECK with
 * MT_CLIENT_F_DONE; a check whose scan failed has no LEAK_BEGIN. */
enum mt_client_op {
    MT_CLIENT_MARK = 1,       /* a named point on the timeline */
    MT_CLIENT_PAUSE = 2,      /* recording of new allocations paused */
    MT_CLIENT_RESUME = 3,     /* and resumed */
    MT_CLIENT_LEAK_CHECK = 4, /* on-demand leak check number addr */
    MT_CLIENT_IGNORE = 5,     /* block at addr is not a leak, whatever the scan says */
};
#define MT_CLIENT_F_DONE 0x1u     /* LEAK_CHECK: the check ended */
#define MT_CLIENT_F_NOT_LIVE 0x2u /* IGNORE: addr is no live block or chunk */
struct mt_rec_client {
    struct mt_rec_common c;
    uint64_t addr;       /* IGNORE: the block; LEAK_CHECK: check number from 1 */
    uint32_t tid;
    uint32_t stack_id;   /* stack of the call */
    uint16_t op;         /* enum mt_client_op */
    uint16_t label_len;  /* MARK: bytes of label incl. NUL; else 0 */
    uint32_t pad;
    /* char label[label_len]; */
};
_Static_assert(sizeof(struct mt_rec_client) == 48, "mt_rec_client");

/* ---- collector-written records (no seq, t_ns is still monotonic) ---- */

/* MT_REC_SESSION: followed by argv_len bytes: the command, each arg
 * NUL-terminated. */
struct mt_rec_session {
    struct mt_rec_hdr hdr;
    uint64_t t_ns;
    uint32_t argv_len;
    uint32_t max_depth;
    uint32_t opt_flags;   /* MT_OPT_* */
    uint32_t sample_period_us;
};
_Static_assert(sizeof(struct mt_rec_session) == 32, "mt_rec_session");

struct mt_rec_rss {
    struct mt_rec_hdr hdr;
    uint64_t t_ns;
    uint32_t pid;
    uint32_t gen;
    uint64_t rss;  /* resident bytes (statm resident * page size) */
};
_Static_assert(sizeof(struct mt_rec_rss) == 32, "mt_rec_rss");

/* MT_REC_PROC_END: how the collector saw a process image end. */
enum mt_end_how {
    MT_END_EXITED = 1,   /* status = exit code */
    MT_END_SIGNALED = 2, /* status = signal number */
    MT_END_EXEC = 3,     /* replaced by exec (a gen+1 image exists) */
    MT_END_VANISHED = 4, /* gone, status unknown (not our child) */
};
struct mt_rec_proc_end {
    struct mt_rec_hdr hdr;
    uint64_t t_ns;
    uint32_t pid;
    uint32_t gen;
    uint32_t how;     /* enum mt_end_how */
    int32_t status;
    uint64_t dropped; /* events the preload dropped (lossy mode) */
    uint32_t degraded; /* MT_DEGRADED_* bits from ring.h */
    uint32_t pad;
};
_Static_assert(sizeof(struct mt_rec_proc_end) == 48, "mt_rec_proc_end");

struct mt_rec_stats {
    struct mt_rec_hdr hdr;
    uint64_t t_ns;
    uint64_t bytes_drained;  /* ring bytes copied into the trace */
    uint64_t n_processes;
    uint64_t waits;          /* reserved: producer waits are counted in-target */
};
_Static_assert(sizeof(struct mt_rec_stats) == 40, "mt_rec_stats");

#endif /* MEMTRACE_TRACE_FORMAT_H */
