#!/usr/bin/env bash
# tests/e2e/preload_exports.sh — libmemtrace.so exports exactly the names it
# interposes (STYLE.md 16, docs/preload.md "Exports"): every allocator entry
# point and operator new/delete form, nothing else but memtrace_* client API.
# Compares `nm -D --defined-only` of the built library with the allowlist
# below and with preload/exports.map, and checks the library really
# interposes: a preloaded program's malloc resolves into it.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

: "${MT_PRELOAD:?run through ctest}"
[ -f "$MT_PRELOAD" ] || fail "no preload library at $MT_PRELOAD"
command -v nm >/dev/null || skip "nm (binutils) not installed"

allow=(malloc free calloc realloc reallocarray posix_memalign aligned_alloc memalign
  valloc pvalloc malloc_usable_size
  _Znwm _ZnwmRKSt9nothrow_t _ZnwmSt11align_val_t _ZnwmSt11align_val_tRKSt9nothrow_t
  _Znam _ZnamRKSt9nothrow_t _ZnamSt11align_val_t _ZnamSt11align_val_tRKSt9nothrow_t
  _ZdlPv _ZdlPvm _ZdlPvSt11align_val_t _ZdlPvmSt11align_val_t
  _ZdlPvRKSt9nothrow_t _ZdlPvSt11align_val_tRKSt9nothrow_t
  _ZdaPv _ZdaPvm _ZdaPvSt11align_val_t _ZdaPvmSt11align_val_t
  _ZdaPvRKSt9nothrow_t _ZdaPvSt11align_val_tRKSt9nothrow_t)
printf '%s\n' "${allow[@]}" | sort > "$T/allow"

nm -D --defined-only "$MT_PRELOAD" | awk '{print $NF}' | sed 's/@.*//' | sort -u > "$T/exported"
[ -s "$T/exported" ] || fail "nm found no dynamic symbols in $MT_PRELOAD"

# nothing beyond the allowlist, except the memtrace_* client API
extra=$(comm -13 "$T/allow" "$T/exported" | grep -v '^memtrace_' || true)
[ -z "$extra" ] || fail "exported but not allowed: $(echo $extra)"
# every interposed name is really exported (a missing one would go untraced)
missing=$(comm -23 "$T/allow" "$T/exported")
[ -z "$missing" ] || fail "interposed name not exported: $(echo $missing)"

# the client API of include/memtrace/memtrace.h is exported, every entry
client=(memtrace_impl_running memtrace_impl_pool_create memtrace_impl_pool_destroy
  memtrace_impl_pool_alloc memtrace_impl_pool_free memtrace_impl_pool_reset
  memtrace_impl_pool_superblock memtrace_impl_pool_superblock_release memtrace_impl_mark
  memtrace_impl_pause memtrace_impl_resume memtrace_impl_leak_check memtrace_impl_ignore_object)
for f in "${client[@]}"; do
    grep -qx "$f" "$T/exported" || fail "client API $f not exported"
    grep -q "$f(" "$MT_SRC_DIR/include/memtrace/memtrace.h" || fail "$f not declared in memtrace.h"
done
extra=$(grep '^memtrace_' "$T/exported" | grep -vxF -f <(printf '%s\n' "${client[@]}") || true)
[ -z "$extra" ] || fail "memtrace_* exported but not client API: $(echo $extra)"

# exports.map, the version script, names the same set
map="$MT_SRC_DIR/preload/exports.map"
sed -n '/global:/,/local:/p' "$map" | sed 's,/\*.*\*/,,g' | tr ';' '\n' |
  sed 's/global://; s/local:.*//; s/[[:space:]]//g' | grep -v '^$' | grep -v '^memtrace_\*$' |
  sort > "$T/map"
diff -u "$T/allow" "$T/map" > "$T/map.diff" || { cat "$T/map.diff" >&2; fail "exports.map differs from the allowlist"; }

# the library interposes: with it preloaded and no session, a program runs
# normally (pass-through) and its malloc symbol binds into libmemtrace.so
out=$(LD_PRELOAD="$MT_PRELOAD" LD_DEBUG=bindings /bin/true 2>&1 | grep "normal symbol \`malloc'" | head -1)
case "$out" in
*libmemtrace.so*) ;;
*) fail "malloc does not bind to the preload: '$out'" ;;
esac
pass
