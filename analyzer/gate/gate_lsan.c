/*
 * gate_lsan.c — a target's own __lsan_default_suppressions(), read from its ELF
 *
 * Programs built for LeakSanitizer may define `const char
 * *__lsan_default_suppressions(void)` returning a constant string of
 * suppressions. memtrace never runs code of the target for this: it finds
 * the function's symbol (.symtab, else .dynsym), decodes the first
 * instructions of its body for the address it loads into the return
 * register, and reads the NUL-terminated string there from the file.
 *
 * Design notes
 *   1. Recognised loads (x86-64, what GCC and Clang emit for `return "...";`
 *      at -O0 to -O3, PIE or not): `lea r64, [rip + disp32]` (REX.W 8D /r,
 *      mod 00 r/m 101), `mov r32, imm32` (B8+r) and `mov r/m64, imm32`
 *      (REX.W C7 /0, mod 11). The first one whose target lies inside a
 *      non-executable allocated section and starts a NUL-terminated string
 *      is taken. Other architectures, or a function that builds its string
 *      at run time, give MT_ENOTFOUND, which `check` reports as a warning.
 *   2. Only the main executable (each process image's exe) is read, as
 *      LeakSanitizer calls the definition the executable provides.
 *
 * SPDX-License-Identifier: MIT
 */
#include "gate/gate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gelf.h>
#include <libelf.h>

#include "memtrace/error.h"

#define GATE_LSAN_SYM "__lsan_default_suppressions"
#define GATE_LSAN_SCAN                                                                             \
    64 /* bytes of the body decoded: the load comes within a few instructions                      \
        */

/* Finds the function symbol in one symbol table section. 1 found. */
static int gate_lsan_sym_in(Elf *e, Elf_Scn *scn, GElf_Shdr *sh, GElf_Sym *out)
{
    Elf_Data *d = elf_getdata(scn, NULL);
    if (!d || !sh->sh_entsize) return 0;
    size_t n = sh->sh_size / sh->sh_entsize;
    for (size_t i = 0; i < n; i++) {
        GElf_Sym sym;
        if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx == SHN_UNDEF) continue;
        if (GELF_ST_TYPE(sym.st_info) != STT_FUNC) continue;
        const char *name = elf_strptr(e, sh->sh_link, sym.st_name);
        if (name && !strcmp(name, GATE_LSAN_SYM)) {
            *out = sym;
            return 1;
        }
    }
    return 0;
}

static int gate_lsan_find_sym(Elf *e, GElf_Sym *out)
{
    static const Elf64_Word types[] = {SHT_SYMTAB, SHT_DYNSYM};
    for (size_t t = 0; t < 2; t++) {
        for (Elf_Scn *scn = NULL; (scn = elf_nextscn(e, scn));) {
            GElf_Shdr sh;
            if (gelf_getshdr(scn, &sh) && sh.sh_type == types[t] &&
                gate_lsan_sym_in(e, scn, &sh, out))
                return 1;
        }
    }
    return 0;
}

/* The bytes at vaddr in an allocated section, and how many follow.
 * exec: 1 code sections only, 0 non-code only. NULL if none. */
static const unsigned char *gate_lsan_at(Elf *e, uint64_t vaddr, int exec, size_t *avail)
{
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(e, scn));) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC)) continue;
        if (sh.sh_type == SHT_NOBITS || !!(sh.sh_flags & SHF_EXECINSTR) != exec) continue;
        if (vaddr < sh.sh_addr || vaddr >= sh.sh_addr + sh.sh_size) continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        uint64_t off = vaddr - sh.sh_addr;
        if (!d || !d->d_buf || off >= d->d_size) return NULL;
        *avail = d->d_size - off;
        return (const unsigned char *)d->d_buf + off;
    }
    return NULL;
}

/* A copy of the NUL-terminated string at vaddr, or NULL. */
static char *gate_lsan_string(Elf *e, uint64_t vaddr)
{
    size_t avail = 0;
    const unsigned char *p = gate_lsan_at(e, vaddr, 0, &avail);
    const unsigned char *nul = p ? memchr(p, 0, avail) : NULL;
    return nul ? strndup((const char *)p, (size_t)(nul - p)) : NULL;
}

static int32_t gate_le32(const unsigned char *p)
{
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24);
}

/* Decodes the body for the string's address (design note 1). */
static char *gate_lsan_decode(Elf *e, uint64_t fn, const unsigned char *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t target = 0;
        int rex_w = (c[i] & 0xf8) == 0x48; /* REX with W set */
        if (rex_w && i + 7 <= n && c[i + 1] == 0x8d && (c[i + 2] & 0xc7) == 0x05)
            target = fn + i + 7 + (uint64_t)(int64_t)gate_le32(c + i + 3);
        else if (rex_w && i + 7 <= n && c[i + 1] == 0xc7 && (c[i + 2] & 0xf8) == 0xc0)
            target = (uint64_t)(int64_t)gate_le32(c + i + 3);
        else if ((c[i] & 0xf8) == 0xb8 && i + 5 <= n)
            target = (uint32_t)gate_le32(c + i + 1);
        char *s = target ? gate_lsan_string(e, target) : NULL;
        if (s) return s;
    }
    return NULL;
}

int gate_lsan_read(const char *path, char **out, struct mt_errbuf *eb)
{
    *out = NULL;
    elf_version(EV_CURRENT);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int rc = -errno;
        mt_errbuf_set(eb, "%s: %s", path, strerror(errno));
        return rc;
    }
    Elf *e = elf_begin(fd, ELF_C_READ, NULL);
    int rc = 0;
    GElf_Sym sym;
    if (e && elf_kind(e) == ELF_K_ELF && gate_lsan_find_sym(e, &sym)) {
        size_t avail = 0;
        const unsigned char *code = gate_lsan_at(e, sym.st_value, 1, &avail);
        size_t n = sym.st_size && sym.st_size < avail ? sym.st_size : avail;
        if (code)
            *out = gate_lsan_decode(e, sym.st_value, code, n < GATE_LSAN_SCAN ? n : GATE_LSAN_SCAN);
        if (!*out) {
            mt_errbuf_set(eb, "%s: cannot find the string %s() returns", path, GATE_LSAN_SYM);
            rc = MT_ENOTFOUND;
        }
    }
    if (e) elf_end(e);
    close(fd);
    return rc;
}
