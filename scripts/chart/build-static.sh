#!/usr/bin/env bash
# Builds the static (musl) release binary of eventkeeper-emitter that the container image ships,
# and proves it is static. scripts/release/build.sh (the release workflow, `make image`) and
# `make emitter-static` (part of `make test`) both call it, so the image's binary is built the
# same way on every CI run.
#
#   scripts/chart/build-static.sh [RUST_TARGET]     (default x86_64-unknown-linux-musl)
#
# Needs `cargo-zigbuild` and `python-zig` (PyPI `cargo-zigbuild`, `ziglang`) on PATH: zig is the
# C compiler and linker for every musl target, so aws-lc's C code cross-compiles for arm64 too.
set -euo pipefail

target=${1:-x86_64-unknown-linux-musl}
cd "$(dirname "$0")/../.."

if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$target"; then
    rustup target add "$target"
fi

cargo zigbuild --release --locked --target "$target" -p eventkeeper-emitter

bin="${CARGO_TARGET_DIR:-target}/$target/release/eventkeeper-emitter"
fail() { echo "build-static: $bin: $*" >&2; exit 1; }
[[ -x "$bin" ]] || fail "not built"
if command -v readelf >/dev/null; then
    readelf -lW "$bin" | grep -q 'INTERP' && fail "has an ELF interpreter: not a static binary"
    readelf -dW "$bin" | grep -q '(NEEDED)' && fail "needs shared libraries: not a static binary"
else
    echo "build-static: readelf not found, static linking NOT verified" >&2
fi
# Run it where the architecture allows: a static binary starts in an empty root (scratch,
# distroless/static) only if this works.
if [[ "$target" == "$(uname -m)"-* ]]; then
    "$bin" --version >/dev/null || fail "does not run"
fi
echo "build-static: $bin is static ($(stat -c %s "$bin") bytes)"
