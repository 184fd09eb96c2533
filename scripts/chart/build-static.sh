#!/usr/bin/env bash
# Builds static (musl) release binaries (by default eventkeeper-emitter, the one the container
# image ships; the release also builds the Lambdas and the kubectl plugin with it) and proves
# each is static. scripts/release/build.sh (the release workflow, `make image`) and
# `make emitter-static` (part of `make test`) both call it, so the image's binary is built the
# same way on every CI run.
#
#   scripts/chart/build-static.sh [RUST_TARGET [BIN...]]
#                                   (defaults: x86_64-unknown-linux-musl, eventkeeper-emitter)
#
# Needs `cargo-zigbuild` and `python-zig` (PyPI `cargo-zigbuild`, `ziglang`) on PATH: zig is the
# C compiler and linker for every musl target, so aws-lc's C code cross-compiles for arm64 too.
set -euo pipefail

target=${1:-x86_64-unknown-linux-musl}
shift || true
bins=("${@:-eventkeeper-emitter}")
cd "$(dirname "$0")/../.."

if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$target"; then
    rustup target add "$target"
fi

# Each binary's package, so features unify only across the packages built here.
package_of() {
    case "$1" in
        eventkeeper-emitter) echo eventkeeper-emitter ;;
        eventkeeper-catchup) echo eventkeeper-catchup ;;
        eventkeeper-notify) echo eventkeeper-notify ;;
        kubectl-eventkeeper) echo eventkeeper-history ;;
        *) echo "build-static: unknown binary '$1'" >&2; exit 2 ;;
    esac
}
bin_flags=()
for name in "${bins[@]}"; do bin_flags+=(-p "$(package_of "$name")" --bin "$name"); done
# One cargo invocation for all of them: shared dependencies compile once.
cargo zigbuild --release --locked --target "$target" "${bin_flags[@]}"

for name in "${bins[@]}"; do
    bin="${CARGO_TARGET_DIR:-target}/$target/release/$name"
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
done
