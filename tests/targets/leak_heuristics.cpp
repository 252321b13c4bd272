/*
 * leak_heuristics.cpp — blocks held only through interior pointers memcheck explains
 *
 * Leak-scan ground truth for tests/e2e/leaks_valgrind.sh. memcheck (and so
 * memtrace) counts these interior pointers as start pointers, so the blocks
 * are still reachable, not possibly lost (--leak-check-heuristics=all):
 *   newarray             new Obj[5] of a type with a destructor: the program
 *                        holds block + 8, past the element count (48 bytes)
 *   multipleinheritance  a C : A, B held as B* (block + 16), vtable pointers
 *                        at the block start and at the pointer (40 bytes)
 *   length64             a buffer whose first word is its length (108 bytes)
 *   stdstring            the old-ABI std::string layout: length, capacity,
 *                        refcount, then the characters (64 bytes)
 * One control block (64 bytes) is held at + 8 with a first word that fits
 * no heuristic: possibly lost.
 * Expected verdicts (libstdc++'s emergency exception pool and glibc's
 * stdout buffer add 2 still reachable blocks in both tools):
 *   still reachable  4 blocks  260 bytes  (program's)
 *   possibly lost    1 block    64 bytes
 * Prints "done" last.
 *
 * SPDX-License-Identifier: MIT
 */
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

struct Obj {
    long v = 1;
    ~Obj() { v = 0; }
};
struct A {
    virtual ~A() {}
    long a = 1;
};
struct B {
    virtual ~B() {}
    long b = 2;
};
struct C : A, B {
    long c = 3;
};

static Obj *objs;         /* block + 8 */
static B *as_b;           /* block + 16 */
static char *len_data;    /* block + 8 */
static char *str_chars;   /* block + 24 */
static char *control;     /* block + 8 */

static __attribute__((noinline)) void scrub_stack()
{
    volatile char pad[16384];
    memset((char *)pad, 0, sizeof(pad));
}

static __attribute__((noinline)) void build()
{
    objs = new Obj[5];
    as_b = new C;
    uint64_t *lb = static_cast<uint64_t *>(calloc(1, 108));
    lb[0] = 100;
    len_data = reinterpret_cast<char *>(lb + 1);
    uint64_t *rep = static_cast<uint64_t *>(calloc(1, 64));
    rep[0] = 10; /* length */
    rep[1] = 39; /* capacity: 24 + 39 + 1 == 64 */
    memcpy(rep + 3, "heuristic", 10);
    str_chars = reinterpret_cast<char *>(rep + 3);
    uint64_t *ctl = static_cast<uint64_t *>(calloc(1, 64));
    ctl[0] = 5; /* 56 % 5 != 0 and 5 != 56: no heuristic */
    control = reinterpret_cast<char *>(ctl + 1);
}

int main()
{
    build();
    scrub_stack();
    std::printf("done %ld\n", objs[0].v + as_b->b);
    return 0;
}
