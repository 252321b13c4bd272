/*
 * gate_rule.c — the gate's rules: one per leak class and per memory error kind
 *
 * The ids are public (SARIF ruleId, --fail-on, JUnit test names) and listed
 * in docs/ci.md; CWE numbers follow MITRE's definitions. Leak classes and
 * error kinds are spelled as the database stores them (docs/schema.md).
 *
 * SPDX-License-Identifier: MIT
 */
#include "gate/gate.h"

#include <string.h>

static const struct gate_rule_info gate_rules[GATE_R_COUNT] = {
    [GATE_R_LEAK_DEFINITE] = {"leak-definite", "definite", "leak", "DefinitelyLostMemory",
                              "definitely lost",
                              "A heap block is still allocated at exit and nothing points to it.",
                              "401"},
    [GATE_R_LEAK_INDIRECT] = {"leak-indirect", "indirect", "leak", "IndirectlyLostMemory",
                              "indirectly lost",
                              "A heap block is reachable only from lost blocks at exit.", "401"},
    [GATE_R_LEAK_POSSIBLE] = {"leak-possible", "possible", "leak", "PossiblyLostMemory",
                              "possibly lost",
                              "A heap block is referenced at exit only by pointers into its "
                              "interior.",
                              "401"},
    [GATE_R_LEAK_REACHABLE] = {"leak-reachable", "reachable", "leak", "StillReachableMemory",
                               "still reachable",
                               "A heap block is never freed but still referenced at exit.", "401"},
    [GATE_R_LEAK_UNCLASSIFIED] = {"leak-unclassified", "unclassified", "leak", "UnfreedMemory",
                                  "not freed (unclassified)",
                                  "A heap block is not freed when the process ended without a "
                                  "leak scan (crash or _exit).",
                                  "401"},
    [GATE_R_DOUBLE_FREE] = {"double-free", "double_free", "double-free", "DoubleFree",
                            "double free", "A heap block is freed twice.", "415"},
    [GATE_R_INVALID_FREE] = {"invalid-free", "invalid_free", "invalid-free", "InvalidFree",
                             "invalid free",
                             "A pointer that is not the start of a live heap block is freed.",
                             "763,590,761"},
    [GATE_R_MISMATCHED_FREE] = {"mismatched-free", "mismatched_free", "mismatched-free",
                                "MismatchedFree", "mismatched free",
                                "A block is released by a function of another family "
                                "(malloc/delete, new/free, new[]/delete).",
                                "762"},
    [GATE_R_REALLOC_OF_FREED] = {"realloc-of-freed", "realloc_of_freed", "realloc-of-freed",
                                 "ReallocOfFreed", "realloc of a freed block",
                                 "realloc is called on a block that was already freed.", "416,763"},
    [GATE_R_INVALID_REALLOC] = {"invalid-realloc", "invalid_realloc", "invalid-realloc",
                                "InvalidRealloc", "invalid realloc",
                                "realloc is called on a pointer that is not a live heap block.",
                                "763"},
};

const struct gate_rule_info *gate_rule(enum gate_rule r)
{
    return &gate_rules[r];
}

/* Equal ignoring the difference between '-' and '_'. */
static int gate_word_eq(const char *a, size_t len, const char *b)
{
    if (strlen(b) != len) return 0;
    for (size_t i = 0; i < len; i++) {
        char x = a[i] == '_' ? '-' : a[i], y = b[i] == '_' ? '-' : b[i];
        if (x != y) return 0;
    }
    return 1;
}

/* The mask one word of --fail-on stands for, 0 if unknown. */
static unsigned gate_word_mask(const char *w, size_t len)
{
    static const struct {
        const char *word;
        unsigned mask;
    } groups[] = {
        {"all", GATE_MASK_LEAKS | GATE_MASK_ERRORS},
        {"errors", GATE_MASK_ERRORS},
        {"leaks", GATE_MASK_LEAKS},
        {"default", GATE_MASK_DEFAULT},
    };
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
        if (gate_word_eq(w, len, groups[i].word)) return groups[i].mask;
    for (int r = 0; r < GATE_R_COUNT; r++)
        if (gate_word_eq(w, len, gate_rules[r].id) || gate_word_eq(w, len, gate_rules[r].db_name))
            return GATE_MASK(r);
    return 0;
}

int gate_parse_fail_on(const char *list, unsigned *mask, struct mt_errbuf *eb)
{
    unsigned m = 0;
    const char *p = list;
    for (;;) {
        size_t len = strcspn(p, ",");
        if (len == 4 && !strncmp(p, "none", 4)) {
            /* nothing: only the limits judge */
        } else {
            unsigned w = len ? gate_word_mask(p, len) : 0;
            if (!w) {
                mt_errbuf_set(eb, "unknown class or kind '%.*s'", (int)len, p);
                return -1;
            }
            m |= w;
        }
        if (!p[len]) break;
        p += len + 1;
    }
    *mask = m;
    return 0;
}
