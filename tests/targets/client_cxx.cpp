/*
 * client_cxx.cpp — memtrace.h from C++: a typed free-list pool (test target)
 *
 * Ground truth, checked by tests/e2e/client_cxx.sh: pool "nodes" hands out
 * 3 Node chunks (sizeof(Node) bytes each) from a new[]'d superblock, frees
 * 2, and the last one stays live to the end (a leak of pool:nodes); one
 * marker "cxx". Output and exit status (0) are the same without memtrace.
 *
 * SPDX-License-Identifier: MIT
 */
#include <memtrace/memtrace.h>

#include <cstdio>
#include <new>

struct Node {
    long value;
    Node *next;
};

class NodePool {
public:
    NodePool() : h_(memtrace_pool_create("nodes")), store_(new unsigned char[sizeof(Node) * 8])
    {
        memtrace_pool_superblock(h_, store_, sizeof(Node) * 8);
    }
    Node *make(long v)
    {
        void *slot = store_ + sizeof(Node) * used_++;
        memtrace_pool_alloc(h_, slot, sizeof(Node));
        return new (slot) Node{v, nullptr};
    }
    void drop(Node *n)
    {
        memtrace_pool_free(h_, n);
        n->~Node();
    }

private:
    memtrace_pool_t h_;
    unsigned char *store_;
    unsigned used_ = 0;
};

static NodePool *pool;

int main()
{
    pool = new NodePool();
    Node *a = pool->make(1), *b = pool->make(2), *c = pool->make(3);
    memtrace_mark("cxx");
    long sum = a->value + b->value + c->value;
    pool->drop(a);
    pool->drop(b);
    std::printf("cxx sum %ld\n", sum);
    return 0;
}
