#!/bin/sh
# Builds the harness's own benchmark programs: <name>.c -> <name>.wasm (committed, so running
# the harness needs no C toolchain) and native/<name>.gcc (gitignored; the harness builds it
# itself when missing). Needs Debian's clang-19, lld-19 and wasi-libc (see
# scripts/build-wasi-fixtures.sh). Environment: CLANG (default clang-19), GCC (default gcc),
# WASI_SYSROOT (default /usr).
#
# -msimd128 lets clang vectorise into Wasm SIMD; -ffp-contract=off keeps a*b+c two roundings
# everywhere (no FMA on any side), so float results match bit for bit; --strip-debug drops
# libc's DWARF (the name section stays, so traps still name functions).
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-clang-19}
GCC=${GCC:-gcc}
SYSROOT=${WASI_SYSROOT:-/usr}
mkdir -p native
for src in *.c; do
    name=${src%.c}
    "$CLANG" --target=wasm32-wasi --sysroot="$SYSROOT" -O2 -msimd128 -ffp-contract=off \
        -Wall -Wextra -Werror -Wl,--strip-debug -o "$name.wasm" "$src"
    "$GCC" -O2 -ffp-contract=off -Wall -Wextra -Werror -o "native/$name.gcc" "$src"
    echo "built bench/programs/$name.wasm and native/$name.gcc"
done
