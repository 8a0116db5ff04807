#!/usr/bin/env bash
# Copies Debian's libjemalloc_pic.a with every symbol that would replace a C
# library or libstdc++ allocator function (malloc, free, operator new, ...)
# renamed to mga_je_<name>. Linked into our programs, jemalloc is then reachable
# only through its own API (mallocx, sdallocx, mallctl) and glibc malloc stays
# the process allocator. Usage: jemalloc_private.sh IN.a OUT.a LIBC.so
set -euo pipefail
in=$1 out=$2 libc=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
nm -g --defined-only "$in" 2>/dev/null | awk 'NF == 3 {print $3}' | sort -u >"$work/defined"
nm -D --defined-only "$libc" | awk '{print $3}' | sed 's/@.*//' | sort -u >"$work/libc"
{
  comm -12 "$work/defined" "$work/libc"
  grep -E '^_Z(nw|na|dl|da)' "$work/defined" || true
} | sort -u | awk '{print $1, "mga_je_" $1}' >"$work/renames"
[ -s "$work/renames" ] || { echo "jemalloc_private.sh: nothing to rename in $in" >&2; exit 1; }
objcopy --redefine-syms="$work/renames" "$in" "$out.tmp"
mv "$out.tmp" "$out"
