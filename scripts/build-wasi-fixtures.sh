#!/bin/sh
# Rebuilds the WASI test programs tests/wasi/*.c into tests/wasi/*.wasm (committed, so the
# tests need no C toolchain). Needs Debian's clang-19, lld-19, wasi-libc and
# libclang-rt-19-dev-wasm32:
#   apt-get install -y clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32
# Debian's wasi-libc installs its headers in /usr/include/wasm32-wasi and its libraries in
# /usr/lib/wasm32-wasi, which clang finds with --sysroot=/usr. Environment: CLANG (default
# clang-19), WASI_SYSROOT (default /usr).
set -eu
cd "$(dirname "$0")/../tests/wasi"
CLANG=${CLANG:-clang-19}
SYSROOT=${WASI_SYSROOT:-/usr}
for src in *.c; do
    out=${src%.c}.wasm
    # -Wl,--strip-debug: the fixtures are committed; libc's debug sections would triple
    # their size. The name section stays, so traps name their function.
    "$CLANG" --target=wasm32-wasi --sysroot="$SYSROOT" -O2 -Wall -Wextra -Werror \
        -Wl,--strip-debug -o "$out" "$src"
    echo "built tests/wasi/$out"
done
