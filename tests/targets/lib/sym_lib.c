/*
 * sym_lib.c — a shared library (libmt_sym_lib.so) for the symbolizer's test
 *
 * sym_target dlopens it, so it is loaded at a non-zero bias. sym_lib_outer
 * returns the return address of its call to sym_lib_inner, which
 * tests/unit/test_sym.c must resolve to sym_lib_outer at the SYM_MARK
 * lib_call line of this file.
 *
 * SPDX-License-Identifier: MIT
 */
__attribute__((noinline)) void *sym_lib_inner(void)
{
    return __builtin_return_address(0);
}

__attribute__((noinline)) void *sym_lib_outer(void)
{
    void *ret = sym_lib_inner(); /* SYM_MARK lib_call */
    return ret;
}
