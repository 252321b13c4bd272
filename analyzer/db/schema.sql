-- schema.sql — the memtrace database: what `memtrace analyze` writes, what every reader queries
--
-- Embedded into the memtrace binary (analyzer/db/db_schema.c, .incbin) and run
-- once on an empty database by the loader (analyzer/db/db.c). This is a public
-- interface: people query it with the sqlite3 shell, and report/, gate/,
-- export/ and tui/ read it. Names are stable; add columns at the end, never
-- rename. Bump meta.schema_version on any change. Documented in docs/schema.md.
--
-- Conventions:
--   * times `*_ns` are nanoseconds since the session start (trace header
--     start_mono_ns); `*_real_ns` are wall-clock ns since the epoch;
--   * sizes are bytes; addresses are integers (target addresses);
--   * a process image is one row of `processes` (pid + exec generation);
--     every per-process row carries proc_id, never a bare pid;
--   * stack_id is global: equal frame contents give the same id, across
--     processes; stack_id 0 means "no stack" (unwinding failed or unknown);
--   * enumerations are stored as text (family 'malloc', api 'operator_new',
--     kind 'double_free'...) so queries read naturally.
--
-- SPDX-License-Identifier: MIT

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,   -- schema_version, memtrace_version, analyzed_real_ns, ...
    value TEXT
);

CREATE TABLE session (
    id                 INTEGER PRIMARY KEY CHECK (id = 1), -- exactly one row
    command            TEXT,    -- the program as given (argv[0])
    argv               TEXT,    -- the whole command line, args separated by spaces
    start_real_ns      INTEGER, -- wall clock at session start
    start_mono_ns      INTEGER, -- CLOCK_MONOTONIC at session start (origin of *_ns)
    duration_ns        INTEGER, -- last timestamp seen
    trace_path         TEXT,    -- the trace this database was made from
    root_pid           INTEGER, -- pid of the program memtrace spawned
    max_depth          INTEGER, -- configured unwind depth
    options            TEXT,    -- preload options, comma separated: lossy, free_stacks, no_errors
    sample_period_us   INTEGER, -- RSS/mallinfo sampling period
    truncated          INTEGER, -- 1 if the trace ended inside a frame (analyzed up to it)
    truncated_offset   INTEGER, -- first unusable byte of a truncated trace, else NULL
    seq_holes          INTEGER, -- sequence numbers missing at ends of streams
    dropped            INTEGER, -- events dropped in --lossy mode, all processes
    n_events           INTEGER, -- records analyzed
    n_processes        INTEGER,
    allocations_stored INTEGER, -- 0 when analyzed with --no-allocations
    peak_heap_bytes    INTEGER, -- session total peak (docs/metrics.md: total over processes)
    peak_heap_ns       INTEGER,
    peak_rss_bytes     INTEGER, -- largest RSS sample of any process
    peak_rss_ns        INTEGER,
    n_allocs           INTEGER, -- all processes
    alloc_bytes        INTEGER, -- requested bytes, all processes
    n_frees            INTEGER,
    n_temporary        INTEGER,
    n_errors           INTEGER,
    unmatched_frees    INTEGER, -- frees of blocks the analysis never saw allocated
                                -- (inherited across fork, or before a trace hole)
    analysis_ns        INTEGER, -- time the analysis took
    errors_checked     INTEGER  -- 1 if every image had the live table (frees judged, leak
                                -- scan possible); 0 if one did not (processes.errors_checked)
);

CREATE TABLE processes (
    proc_id          INTEGER PRIMARY KEY, -- 1, 2, ... in order of appearance
    pid              INTEGER NOT NULL,
    gen              INTEGER NOT NULL,    -- exec generation of pid: 0, then +1 per execve
    ppid             INTEGER,
    parent_proc_id   INTEGER REFERENCES processes(proc_id), -- image forked from / exec'd from; NULL for the root
    forked           INTEGER,             -- 1 if started by fork (inherits parent's stacks)
    exe              TEXT,
    argv             TEXT,                -- args separated by spaces
    start_ns         INTEGER,
    start_real_ns    INTEGER,
    end_ns           INTEGER,             -- last event or end record
    end_how          TEXT,                -- 'exited' | 'signaled' | 'exec' | 'vanished' | NULL (unknown)
    exit_status      INTEGER,             -- exit code when end_how = 'exited' (or exit() seen)
    exit_signal      INTEGER,             -- signal number when end_how = 'signaled'
    normal_exit      INTEGER,             -- 1 if the image called exit()/returned from main
    leak_scan        INTEGER,             -- 1 if the exit-time reachability scan completed
    leak_scan_ns     INTEGER,             -- its duration
    dropped          INTEGER,             -- events dropped (lossy mode)
    degraded         INTEGER,             -- MT_DEGRADED_* bits the preload reported
    max_depth        INTEGER,
    n_allocs         INTEGER,
    alloc_bytes      INTEGER,
    n_frees          INTEGER,
    n_temporary      INTEGER,
    n_errors         INTEGER,
    peak_heap_bytes  INTEGER,             -- max live requested bytes (docs/metrics.md)
    peak_heap_blocks INTEGER,             -- live blocks at that moment
    peak_heap_ns     INTEGER,
    peak_heap_seq    INTEGER,             -- seq of the event that reached the peak
    peak_rss_bytes   INTEGER,
    peak_rss_ns      INTEGER,
    end_live_bytes   INTEGER,             -- still live at the end of the image
    end_live_blocks  INTEGER,
    errors_checked   INTEGER,             -- 0: recorded with --no-errors (MT_OPT_NO_ERRORS):
                                          -- frees not judged, no leak scan; NULL: no PROCESS record
    UNIQUE (pid, gen)
);

CREATE TABLE threads (
    proc_id     INTEGER NOT NULL REFERENCES processes(proc_id),
    tid         INTEGER NOT NULL,
    name        TEXT,
    start_ns    INTEGER,
    end_ns      INTEGER,       -- NULL if no end was seen
    n_allocs    INTEGER,
    alloc_bytes INTEGER,
    n_frees     INTEGER,
    PRIMARY KEY (proc_id, tid)
);

-- One row per distinct file (path + build id), shared by processes.
CREATE TABLE modules (
    module_id INTEGER PRIMARY KEY,
    path      TEXT NOT NULL,
    build_id  TEXT,            -- hex, NULL when none
    is_memtrace INTEGER        -- 1 for libmemtrace.so (its frames are stripped)
);

-- Where a module was mapped in a process image.
CREATE TABLE process_modules (
    proc_id   INTEGER NOT NULL REFERENCES processes(proc_id),
    local_id  INTEGER NOT NULL,  -- the module id in the trace
    module_id INTEGER NOT NULL REFERENCES modules(module_id),
    load_bias INTEGER,
    lo        INTEGER,           -- lowest mapped address (load_bias + min vaddr)
    hi        INTEGER,           -- end of the highest segment (exclusive)
    load_ns   INTEGER,
    unload_ns INTEGER,           -- NULL if never unloaded
    segments  TEXT,              -- vaddr:memsz:flags,... as in the trace
    PRIMARY KEY (proc_id, local_id)
);

-- A symbolized code location. One return address may give several rows
-- (an inlined chain): the inlined ones have inlined = 1 and sit above
-- their containing function in stack_frames.
CREATE TABLE frames (
    frame_id      INTEGER PRIMARY KEY,
    function      TEXT,      -- demangled; NULL when unknown
    file          TEXT,      -- source file; NULL when unknown
    line          INTEGER,   -- 0 when unknown
    col           INTEGER,   -- 0 when unknown
    module_id     INTEGER REFERENCES modules(module_id), -- NULL if the pc was in no known module
    module_offset INTEGER,   -- pc - load_bias (the raw pc when module_id is NULL)
    inlined       INTEGER    -- 1 if inlined into the next frame of the stack
);

CREATE TABLE stacks (
    stack_id      INTEGER PRIMARY KEY, -- 0 = no stack
    n_frames      INTEGER,             -- rows in stack_frames
    leaf_frame_id INTEGER REFERENCES frames(frame_id) -- depth 0: the allocating call
);

-- depth 0 is the innermost frame after memtrace's own frames were stripped:
-- the call to malloc/new/... in the program (or the library that called it).
CREATE TABLE stack_frames (
    stack_id INTEGER NOT NULL REFERENCES stacks(stack_id),
    depth    INTEGER NOT NULL,
    frame_id INTEGER NOT NULL REFERENCES frames(frame_id),
    PRIMARY KEY (stack_id, depth)
) WITHOUT ROWID;

-- Per call site (stack) and process: the aggregates of docs/metrics.md.
CREATE TABLE sites (
    proc_id              INTEGER NOT NULL REFERENCES processes(proc_id),
    stack_id             INTEGER NOT NULL REFERENCES stacks(stack_id),
    n_allocs             INTEGER,
    alloc_bytes          INTEGER, -- requested, summed
    usable_bytes         INTEGER, -- malloc_usable_size, summed
    n_frees              INTEGER,
    n_temporary          INTEGER,
    max_live_bytes       INTEGER, -- this site's own maximum
    peak_bytes           INTEGER, -- live at the process's peak (processes.peak_heap_seq)
    peak_blocks          INTEGER,
    end_live_bytes       INTEGER, -- still live at the end (leaked or not classified)
    end_live_blocks      INTEGER,
    leak_definite_blocks INTEGER,
    leak_definite_bytes  INTEGER,
    leak_indirect_blocks INTEGER,
    leak_indirect_bytes  INTEGER,
    leak_possible_blocks INTEGER,
    leak_possible_bytes  INTEGER,
    leak_reachable_blocks INTEGER,
    leak_reachable_bytes INTEGER,
    leak_unclassified_blocks INTEGER,
    leak_unclassified_bytes  INTEGER,
    lifetime_sum_ns      INTEGER, -- over freed blocks; mean = lifetime_sum_ns / n_frees
    PRIMARY KEY (proc_id, stack_id)
) WITHOUT ROWID;

-- Every allocation (omitted with --no-allocations). A realloc that moves
-- ends one row (free_api 'realloc') and starts another (realloc = 1).
CREATE TABLE allocations (
    alloc_id   INTEGER PRIMARY KEY,
    proc_id    INTEGER NOT NULL,
    tid        INTEGER,
    addr       INTEGER,
    size       INTEGER,  -- requested
    usable     INTEGER,
    family     TEXT,     -- malloc | new | new[] | aligned | new_aligned | new[]_aligned
    api        TEXT,     -- malloc | calloc | realloc | ... | new | new[] ...
    realloc    INTEGER,  -- 1 if made by realloc/reallocarray
    stack_id   INTEGER,  -- the site
    alloc_seq  INTEGER,
    alloc_ns   INTEGER,
    free_seq   INTEGER,  -- NULL while never freed
    free_ns    INTEGER,
    free_tid   INTEGER,
    free_api   TEXT,
    free_stack_id INTEGER, -- with --free-stacks
    temporary  INTEGER,  -- 1 if freed by the allocating thread before it allocated again
    leak_class TEXT      -- definite | indirect | possible | reachable | unclassified; NULL if freed
);

-- Memory errors, refined (docs/metrics.md, "Memory errors").
CREATE TABLE errors (
    error_id       INTEGER PRIMARY KEY,
    proc_id        INTEGER NOT NULL REFERENCES processes(proc_id),
    tid            INTEGER,
    seq            INTEGER,
    t_ns           INTEGER,
    kind           TEXT,    -- double_free | invalid_free | mismatched_free | realloc_of_freed | invalid_realloc
    subkind        TEXT,    -- invalid_*: stack | global | interior | unknown; else NULL
    addr           INTEGER, -- the pointer passed in
    size           INTEGER, -- requested size of the block concerned, where known
    api            TEXT,    -- the erroneous call (free, delete, delete[], realloc...)
    family         TEXT,    -- family implied by that call
    alloc_family   TEXT,    -- family of the block, where known
    stack_id       INTEGER, -- stack of the erroneous call
    alloc_stack_id INTEGER, -- where the block was allocated, where known
    free_stack_id  INTEGER, -- double free: the first free's stack (needs --free-stacks)
    alloc_id       INTEGER, -- the allocations row of the block, where known
    block_addr     INTEGER, -- interior: start of the live block the pointer is inside
    module_id      INTEGER  -- global: module whose segment holds addr
);

-- Sampled over time, per process (the collector's period, default 10 ms).
-- Heap figures are exact at the end of each interval; RSS and mallinfo2
-- are the last sample inside it (NULL if none).
CREATE TABLE timeline (
    proc_id        INTEGER NOT NULL REFERENCES processes(proc_id),
    t_ns           INTEGER NOT NULL, -- end of the interval
    heap_bytes     INTEGER,          -- live requested bytes
    heap_blocks    INTEGER,
    heap_max_bytes INTEGER,          -- maximum inside the interval
    n_allocs       INTEGER,          -- in the interval
    n_frees        INTEGER,
    alloc_bytes    INTEGER,
    allocs_per_s   REAL,
    rss_bytes      INTEGER,
    arena          INTEGER,          -- mallinfo2
    ordblks        INTEGER,
    hblks          INTEGER,
    hblkhd         INTEGER,
    uordblks       INTEGER,
    fordblks       INTEGER,
    keepcost       INTEGER,
    PRIMARY KEY (proc_id, t_ns)
) WITHOUT ROWID;

-- log2 histograms: bucket b holds values v with bit length b
-- (b = 0: v = 0; b >= 1: 2^(b-1) <= v < 2^b); lo/hi are inclusive bounds.
-- stack_id NULL = all sites of the process.
CREATE TABLE histograms (
    proc_id  INTEGER NOT NULL REFERENCES processes(proc_id),
    stack_id INTEGER,          -- NULL: whole process
    kind     TEXT NOT NULL,    -- 'size' (requested bytes) | 'lifetime' (ns, freed blocks only)
    bucket   INTEGER NOT NULL,
    lo       INTEGER,
    hi       INTEGER,
    count    INTEGER,
    bytes    INTEGER           -- requested bytes of the blocks counted
);

-- The three fragmentation figures (docs/metrics.md), at the peak, at the
-- end of each process and periodically.
CREATE TABLE fragmentation (
    proc_id          INTEGER NOT NULL REFERENCES processes(proc_id),
    t_ns             INTEGER,
    seq              INTEGER, -- state after this event
    at               TEXT,    -- 'peak' | 'end' | 'sample'
    external         REAL,    -- 1 - largest_gap / free_bytes; 0 when free_bytes = 0
    internal         REAL,    -- (usable - requested) / usable
    retention        REAL,    -- fordblks / (arena + hblkhd), last mallinfo2; NULL if none
    live_bytes       INTEGER,
    usable_bytes     INTEGER,
    free_bytes       INTEGER, -- gaps inside heap ranges
    largest_gap      INTEGER,
    n_ranges         INTEGER,
    span_bytes       INTEGER  -- total extent of the heap ranges
);

-- Points on the timeline set through the client API (memtrace.h): a
-- memtrace_mark("label"), or a pause/resume of recording. seq orders them
-- with the allocations of the same process (allocations.alloc_seq).
CREATE TABLE markers (
    marker_id INTEGER PRIMARY KEY,
    proc_id   INTEGER REFERENCES processes(proc_id),
    name      TEXT,              -- the label; 'pause' / 'resume' for those kinds
    seq       INTEGER,
    t_ns      INTEGER,
    tid       INTEGER,
    kind      TEXT DEFAULT 'mark', -- 'mark' | 'pause' | 'resume'
    stack_id  INTEGER            -- where the call was made
);

-- Pools declared through the client API, one row per pool and process
-- image. Live = chunks handed out and not freed; held = superblocks the
-- pool declared; waste = held - live (docs/client-api.md, "Figures").
CREATE TABLE pools (
    proc_id          INTEGER NOT NULL REFERENCES processes(proc_id),
    pool_id          INTEGER NOT NULL, -- the handle (per process image, from 1)
    name             TEXT,
    family           TEXT,    -- 'pool:<name>', as in allocations.family
    create_stack_id  INTEGER,
    create_seq       INTEGER,
    create_ns        INTEGER,
    destroy_seq      INTEGER, -- NULL if never destroyed
    destroy_ns       INTEGER,
    n_allocs         INTEGER, -- chunks handed out
    alloc_bytes      INTEGER,
    n_frees          INTEGER, -- chunks given back one by one
    n_resets         INTEGER,
    n_errors         INTEGER, -- double / invalid frees of chunks
    n_superblocks    INTEGER, -- superblocks declared
    peak_live_bytes  INTEGER, -- maximum of live chunk bytes
    peak_live_chunks INTEGER,
    peak_live_ns     INTEGER,
    peak_live_seq    INTEGER,
    peak_held_bytes  INTEGER, -- held at that moment
    peak_waste_bytes INTEGER, -- peak_held_bytes - peak_live_bytes
    max_held_bytes   INTEGER, -- maximum of held bytes
    max_held_ns      INTEGER,
    end_live_bytes   INTEGER, -- at destroy, or at the end of the image
    end_live_chunks  INTEGER,
    end_held_bytes   INTEGER,
    leaked_chunks    INTEGER, -- live at destroy or at the end (also in allocations/sites)
    leaked_bytes     INTEGER,
    PRIMARY KEY (proc_id, pool_id)
) WITHOUT ROWID;

-- Per pool over time: the state at the end of each timeline interval in
-- which the pool changed (same t_ns grid as timeline).
CREATE TABLE pool_timeline (
    proc_id        INTEGER NOT NULL REFERENCES processes(proc_id),
    pool_id        INTEGER NOT NULL,
    t_ns           INTEGER NOT NULL,
    live_bytes     INTEGER,
    live_chunks    INTEGER,
    held_bytes     INTEGER,
    max_live_bytes INTEGER, -- maximum inside the interval
    PRIMARY KEY (proc_id, pool_id, t_ns)
) WITHOUT ROWID;

-- On-demand leak checks (memtrace_leak_check()), each stored apart from the
-- exit-time classification: totals per class, and per site below.
CREATE TABLE leak_checks (
    check_id         INTEGER PRIMARY KEY,
    proc_id          INTEGER NOT NULL REFERENCES processes(proc_id),
    check_no         INTEGER, -- the number memtrace_leak_check() returned
    seq              INTEGER, -- when the check started
    t_ns             INTEGER,
    completed        INTEGER, -- 0 if the scan produced no classification
    duration_ns      INTEGER,
    scanned_blocks   INTEGER, -- blocks and chunks classified
    scanned_bytes    INTEGER,
    definite_blocks  INTEGER,
    definite_bytes   INTEGER,
    indirect_blocks  INTEGER,
    indirect_bytes   INTEGER,
    possible_blocks  INTEGER,
    possible_bytes   INTEGER,
    reachable_blocks INTEGER,
    reachable_bytes  INTEGER
);

CREATE TABLE leak_check_sites (
    check_id INTEGER NOT NULL REFERENCES leak_checks(check_id),
    stack_id INTEGER NOT NULL,
    class    TEXT NOT NULL,  -- definite | indirect | possible | reachable
    blocks   INTEGER,
    bytes    INTEGER,
    PRIMARY KEY (check_id, stack_id, class)
) WITHOUT ROWID;


-- ---------------------------------------------------------------- views

-- The innermost frame of every stack, as "function file:line".
CREATE VIEW stack_leaf AS
SELECT s.stack_id,
       f.function, f.file, f.line, m.path AS module, f.module_offset,
       coalesce(f.function, '??') ||
         CASE WHEN f.file IS NOT NULL THEN ' ' || f.file || ':' || f.line
              ELSE ' (' || coalesce(m.path, '?') || '+0x' || printf('%x', f.module_offset) || ')' END
         AS location
FROM stacks s
LEFT JOIN frames f ON f.frame_id = s.leaf_frame_id
LEFT JOIN modules m ON m.module_id = f.module_id;

-- Every frame of every stack, readable.
CREATE VIEW stack_trace AS
SELECT sf.stack_id, sf.depth, f.function, f.file, f.line, f.inlined,
       m.path AS module, f.module_offset
FROM stack_frames sf
JOIN frames f ON f.frame_id = sf.frame_id
LEFT JOIN modules m ON m.module_id = f.module_id;

-- Sites summed over processes.
CREATE VIEW sites_total AS
SELECT stack_id,
       sum(n_allocs) AS n_allocs, sum(alloc_bytes) AS alloc_bytes,
       sum(n_frees) AS n_frees, sum(n_temporary) AS n_temporary,
       sum(peak_bytes) AS peak_bytes, sum(peak_blocks) AS peak_blocks,
       sum(end_live_bytes) AS end_live_bytes, sum(end_live_blocks) AS end_live_blocks,
       sum(leak_definite_bytes) AS leak_definite_bytes,
       sum(leak_indirect_bytes) AS leak_indirect_bytes,
       sum(leak_possible_bytes) AS leak_possible_bytes,
       sum(leak_reachable_bytes) AS leak_reachable_bytes,
       sum(leak_unclassified_bytes) AS leak_unclassified_bytes
FROM sites GROUP BY stack_id;

-- One row per (process, site, class) with leaked blocks.
CREATE VIEW leaks_by_site AS
SELECT p.pid, p.gen, s.proc_id, s.stack_id, c.class, c.blocks, c.bytes, l.location, l.function, l.file, l.line
FROM sites s
JOIN processes p ON p.proc_id = s.proc_id
JOIN (
    SELECT proc_id, stack_id, 'definite' AS class, leak_definite_blocks AS blocks, leak_definite_bytes AS bytes FROM sites
    UNION ALL SELECT proc_id, stack_id, 'indirect', leak_indirect_blocks, leak_indirect_bytes FROM sites
    UNION ALL SELECT proc_id, stack_id, 'possible', leak_possible_blocks, leak_possible_bytes FROM sites
    UNION ALL SELECT proc_id, stack_id, 'reachable', leak_reachable_blocks, leak_reachable_bytes FROM sites
    UNION ALL SELECT proc_id, stack_id, 'unclassified', leak_unclassified_blocks, leak_unclassified_bytes FROM sites
) c ON c.proc_id = s.proc_id AND c.stack_id = s.stack_id
LEFT JOIN stack_leaf l ON l.stack_id = s.stack_id
WHERE c.blocks > 0;

-- Leak totals per process and class.
CREATE VIEW leak_totals AS
SELECT pid, gen, proc_id, class, sum(blocks) AS blocks, sum(bytes) AS bytes
FROM leaks_by_site GROUP BY proc_id, class;

-- Sites by their live bytes at their process's peak.
CREATE VIEW top_sites_at_peak AS
SELECT p.pid, p.gen, s.proc_id, s.stack_id, s.peak_bytes, s.peak_blocks,
       p.peak_heap_bytes,
       CASE WHEN p.peak_heap_bytes > 0 THEN 1.0 * s.peak_bytes / p.peak_heap_bytes END AS share,
       l.location
FROM sites s
JOIN processes p ON p.proc_id = s.proc_id
LEFT JOIN stack_leaf l ON l.stack_id = s.stack_id
WHERE s.peak_bytes > 0
ORDER BY s.peak_bytes DESC;

-- Sites by number of allocations and temporaries.
CREATE VIEW top_sites_by_allocs AS
SELECT s.proc_id, s.stack_id, s.n_allocs, s.alloc_bytes, s.n_temporary, l.location
FROM sites s LEFT JOIN stack_leaf l ON l.stack_id = s.stack_id
ORDER BY s.n_allocs DESC;

-- Errors with pid and the leaf of each stack.
CREATE VIEW errors_readable AS
SELECT e.error_id, p.pid, e.tid, e.t_ns, e.kind, e.subkind, e.addr, e.size, e.api,
       e.family, e.alloc_family,
       ls.location AS at, la.location AS allocated_at, lf.location AS first_freed_at,
       e.stack_id, e.alloc_stack_id, e.free_stack_id
FROM errors e
JOIN processes p ON p.proc_id = e.proc_id
LEFT JOIN stack_leaf ls ON ls.stack_id = e.stack_id
LEFT JOIN stack_leaf la ON la.stack_id = e.alloc_stack_id
LEFT JOIN stack_leaf lf ON lf.stack_id = e.free_stack_id;

-- Whole-session log2 histograms (all processes, all sites).
CREATE VIEW size_histogram AS
SELECT bucket, lo, hi, sum(count) AS count, sum(bytes) AS bytes
FROM histograms WHERE kind = 'size' AND stack_id IS NULL GROUP BY bucket ORDER BY bucket;
CREATE VIEW lifetime_histogram AS
SELECT bucket, lo, hi, sum(count) AS count, sum(bytes) AS bytes
FROM histograms WHERE kind = 'lifetime' AND stack_id IS NULL GROUP BY bucket ORDER BY bucket;

-- Heap over time summed over the process images alive at each interval end
-- (each image contributes its latest row at or before t_ns, until its last row).
CREATE VIEW timeline_total AS
SELECT t.t_ns,
       sum(x.heap_bytes) AS heap_bytes, sum(x.heap_blocks) AS heap_blocks,
       sum(x.rss_bytes) AS rss_bytes, count(*) AS n_processes
FROM (SELECT DISTINCT t_ns FROM timeline) t
JOIN processes p
  ON t.t_ns <= (SELECT max(z.t_ns) FROM timeline z WHERE z.proc_id = p.proc_id)
JOIN timeline x ON x.proc_id = p.proc_id
 AND x.t_ns = (SELECT max(y.t_ns) FROM timeline y WHERE y.proc_id = p.proc_id AND y.t_ns <= t.t_ns)
GROUP BY t.t_ns ORDER BY t.t_ns;

INSERT INTO meta (key, value) VALUES ('schema_version', '2');

-- ---- post-load
-- Everything below runs after the tables are filled (db.c splits the file
-- at the line above): one sort per index instead of random B-tree updates
-- for every row keeps the load fast and its memory flat.
-- allocations deliberately has no secondary index: building two over 4 M
-- rows cost more than inserting them (docs/performance.md, "Analysis"), and
-- memtrace's own readers scan it once. docs/schema.md shows the ones to add
-- by hand for repeated ad-hoc queries.
CREATE INDEX histograms_site ON histograms (stack_id, kind);
CREATE INDEX frames_function ON frames (function);
