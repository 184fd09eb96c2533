#!/usr/bin/env bash
# The release's build steps, one script for `make image`, `make test` and
# .github/workflows/release.yml, so the workflow and the Makefile cannot drift.
#
#   scripts/release/build.sh binaries ARCH...        static emitter binaries (amd64, arm64),
#                                                     staged in target/dist/image-context/linux-ARCH/
#   scripts/release/build.sh image VERSION REVISION  the emitter image for every staged
#                                                     architecture, as a manifest list, saved as an
#                                                     OCI layout in target/dist/image/oci (tag VERSION)
#   scripts/release/build.sh version                  the workspace version (Cargo.toml)
#   scripts/release/build.sh lambda ARCH...           static catch-up and notifier binaries, packed
#                                                     as Lambda zips (provided.al2023: one `bootstrap`):
#                                                     release/eventkeeper-{catchup,notify}-VERSION-linux-ARCH.zip
#   scripts/release/build.sh plugin ARCH...           static kubectl-eventkeeper binaries, packed as
#                                                     release/kubectl-eventkeeper-VERSION-linux-ARCH.tar.gz,
#                                                     and the krew manifest release/eventkeeper.yaml
#   scripts/release/build.sh pack-lambda ARCH... and pack-plugin ARCH...
#                                                     the packing steps alone, from binaries staged in
#                                                     target/dist/stage/linux-ARCH/ (what `lambda` and
#                                                     `plugin` run after building; tested offline)
#   scripts/release/build.sh module                   release/eventkeeper-terraform-module-VERSION.tar.gz
#   scripts/release/build.sh chart DIGEST             the chart with version = appVersion = VERSION
#                                                     and image.digest = DIGEST, packaged as
#                                                     release/eventkeeper-VERSION.tgz
#   scripts/release/build.sh sums DIR                 SHA256SUMS of the files in DIR
#
# Release file names are defined here and read by scripts/fetch-release.sh: keep them in step.
#
# Environment:
#   RELEASE_REQUIRE_ALL_ARCHES=1   an architecture that cannot be built fails (the workflow sets
#                                  it); otherwise it is skipped with a visible SKIPPED line
#   BUILDAH                        the buildah command (default: buildah with vfs storage under
#                                  $DIST/buildah, so no daemon, no shared state, no root config)
#   DIST                           output directory (default: target/dist)
set -euo pipefail

cd "$(dirname "$0")/../.."
DIST=${DIST:-target/dist}
CONTEXT=$DIST/image-context
STAGE=$DIST/stage
LAMBDAS=(eventkeeper-catchup eventkeeper-notify)
PLUGIN=kubectl-eventkeeper
IMAGE_NAME=eventkeeper-emitter
STORAGE=${BUILDAH_STORAGE:-$(realpath -m "$DIST")/buildah}
# buildah needs root here (chroot isolation); CI runners give it through passwordless sudo.
AS_ROOT=()
((EUID == 0)) || AS_ROOT=(sudo -n)
read -r -a BUILDAH <<<"${BUILDAH:-${AS_ROOT[*]} buildah --root $STORAGE/root --runroot $STORAGE/run --storage-driver vfs}"

say() { echo "release-build: $*" >&2; }
die() { say "$*"; exit 1; }

rust_target() {
    case "$1" in
        amd64) echo x86_64-unknown-linux-musl ;;
        arm64) echo aarch64-unknown-linux-musl ;;
        *) die "unknown architecture '$1' (amd64 or arm64)" ;;
    esac
}

# Static musl binaries for every architecture: zig cross-compiles the C code, no emulation.
target_installable() {
    if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$2" \
        && ! rustup target add "$2" >/dev/null 2>&1; then
        skip_or_fail "$1: rustup cannot install the $2 standard library here"
        return 1
    fi
}

# Builds BIN... for ARCH once (one cargo invocation) and stages them in $STAGE/linux-ARCH/.
stage_static() {
    local arch=$1 target bin
    shift
    # Called where `set -e` does not apply (`stage_static ... && ...`): fail explicitly.
    target=$(rust_target "$arch") || exit 1
    target_installable "$arch" "$target" || return 1
    scripts/chart/build-static.sh "$target" "$@"
    for bin in "$@"; do
        install -D -m 0555 "${CARGO_TARGET_DIR:-target}/$target/release/$bin" "$STAGE/linux-$arch/$bin"
    done
}

staged() {
    [[ -x "$STAGE/linux-$1/$2" ]] || die "no $2 staged for $1 in $STAGE/linux-$1 (build it first)"
}

skip_or_fail() {
    if [[ "${RELEASE_REQUIRE_ALL_ARCHES:-0}" == 1 ]]; then
        die "$1"
    fi
    echo "release-build: SKIPPED $1"
}

cmd_binaries() {
    (($# > 0)) || die "binaries: name at least one architecture"
    for arch in "$@"; do
        local target bin
        target=$(rust_target "$arch")
            target_installable "$arch" "$target" || continue
        scripts/chart/build-static.sh "$target" eventkeeper-emitter
        bin="${CARGO_TARGET_DIR:-target}/$target/release/eventkeeper-emitter"
        install -D -m 0555 "$bin" "$CONTEXT/linux-$arch/eventkeeper-emitter"
    done
    # The one user the image names: UID/GID 65532, as distroless calls it.
    printf 'nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin\n' >"$CONTEXT/passwd"
}

cmd_image() {
    (($# == 2)) || die "image VERSION REVISION"
    local version=$1 revision=$2 created arches=() arch
    # Reproducible across rebuilds of one commit: the commit's time, not the clock's.
    created=$(git log -1 --format=%cI "$revision" 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)
    for arch in amd64 arm64; do
        if [[ -x "$CONTEXT/linux-$arch/eventkeeper-emitter" ]]; then
            arches+=("$arch")
        else
            skip_or_fail "image for $arch: no binary staged in $CONTEXT/linux-$arch (run: $0 binaries $arch)"
        fi
    done
    ((${#arches[@]} > 0)) || die "no architecture staged"
    mkdir -p "$STORAGE"
    "${BUILDAH[@]}" manifest rm "$IMAGE_NAME:$version" >/dev/null 2>&1 || true
    "${BUILDAH[@]}" manifest create "$IMAGE_NAME:$version" >/dev/null
    for arch in "${arches[@]}"; do
        "${BUILDAH[@]}" bud --isolation chroot --platform "linux/$arch" --pull=never \
            --identity-label=false --timestamp "$(date -d "$created" +%s)" \
            --build-arg VERSION="$version" --build-arg REVISION="$revision" --build-arg CREATED="$created" \
            --manifest "$IMAGE_NAME:$version" -f emitter/Dockerfile -q "$CONTEXT" >/dev/null
        say "built linux/$arch"
    done
    "${AS_ROOT[@]}" rm -rf "$DIST/image/oci"
    mkdir -p "$DIST/image"
    "${BUILDAH[@]}" manifest push --all --format oci --quiet \
        "$IMAGE_NAME:$version" "oci:$DIST/image/oci:$version"
    ((EUID == 0)) || "${AS_ROOT[@]}" chown -R "$(id -u):$(id -g)" "$DIST/image/oci"
    scripts/image/describe.py "$DIST/image/oci" "$version"
}

version() { sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1; }

cmd_version() { version; }

# build_then_pack PACK "BIN..." ARCH...: stages the binaries for every architecture that can be
# built, then packs those architectures with PACK.
build_then_pack() {
    local pack=$1 bins arch built=()
    read -r -a bins <<<"$2"
    shift 2
    for arch in "$@"; do
        stage_static "$arch" "${bins[@]}" && built+=("$arch")
    done
    ((${#built[@]} == 0)) || "$pack" "${built[@]}"
}

cmd_lambda() {
    (($# > 0)) || die "lambda: name at least one architecture"
    build_then_pack cmd_pack_lambda "${LAMBDAS[*]}" "$@"
}

# A provided.al2023 function is a zip whose `bootstrap` is the executable; fixed timestamps and
# modes make the zip (and its SHA256SUMS line) reproducible.
cmd_pack_lambda() {
    (($# > 0)) || die "pack-lambda: name at least one architecture"
    local v arch bin out
    v=$(version)
    mkdir -p "$DIST/release"
    for arch in "$@"; do
        for bin in "${LAMBDAS[@]}"; do
            staged "$arch" "$bin"
            out=$DIST/release/$bin-$v-linux-$arch.zip
            python3 - "$STAGE/linux-$arch/$bin" "$out" <<'PY'
import sys, zipfile
src, out = sys.argv[1], sys.argv[2]
info = zipfile.ZipInfo("bootstrap", date_time=(1980, 1, 1, 0, 0, 0))
info.external_attr = 0o100755 << 16
info.compress_type = zipfile.ZIP_DEFLATED
with open(src, "rb") as f, zipfile.ZipFile(out, "w") as z:
    z.writestr(info, f.read(), compresslevel=9)
PY
            echo "$out"
        done
    done
}

cmd_plugin() {
    (($# > 0)) || die "plugin: name at least one architecture"
    build_then_pack cmd_pack_plugin "$PLUGIN" "$@"
}

# One tarball per architecture (the binary and LICENSE, as krew installs it) and the krew
# manifest with each tarball's URL and SHA-256.
cmd_pack_plugin() {
    (($# > 0)) || die "pack-plugin: name at least one architecture"
    local v arch out sums=()
    v=$(version)
    mkdir -p "$DIST/release"
    for arch in "$@"; do
        staged "$arch" "$PLUGIN"
        out=$DIST/release/$PLUGIN-$v-linux-$arch.tar.gz
        cp LICENSE "$STAGE/linux-$arch/LICENSE"
        tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
            -czf "$out" -C "$STAGE/linux-$arch" "$PLUGIN" LICENSE
        sums+=("$arch=$(sha256sum "$out" | cut -d' ' -f1)")
        echo "$out"
    done
    python3 - plugins/eventkeeper.yaml "$DIST/release/eventkeeper.yaml" "$v" "${sums[@]}" <<'PY'
import re, sys
template, out, version, *sums = sys.argv[1:]
text = open(template).read()
values = {"VERSION": version}
for pair in sums:
    arch, digest = pair.split("=", 1)
    values[f"SHA256_LINUX_{arch.upper()}"] = digest
text = re.sub(r"(?m)^#.*\n", "", text)
missing = sorted(set(re.findall(r"\$\{([A-Z0-9_]+)\}", text)) - values.keys())
if missing:
    # A manifest naming an architecture without its archive would fail every krew install there.
    sys.exit(f"release-build: plugin: no archive for {', '.join(missing)}: build every architecture")
open(out, "w").write(re.sub(r"\$\{([A-Z0-9_]+)\}", lambda m: values[m.group(1)], text))
PY
    echo "$DIST/release/eventkeeper.yaml"
}

cmd_module() {
    local v
    v=$(version)
    mkdir -p "$DIST/release"
    # Only the module's own files: a user's `source` points at the unpacked directory.
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --exclude=.terraform \
        --exclude='*.tfstate*' -czf "$DIST/release/eventkeeper-terraform-module-$v.tar.gz" \
        -C infra/terraform/modules eventkeeper
    echo "$DIST/release/eventkeeper-terraform-module-$v.tar.gz"
}

cmd_chart() {
    (($# == 1)) || die "chart DIGEST (sha256:...)"
    local digest=$1 v staged
    [[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]] || die "chart: '$digest' is not a sha256:<64 hex> digest"
    v=$(version)
    staged=$DIST/chart/eventkeeper
    rm -rf "$DIST/chart"
    mkdir -p "$DIST/chart" "$DIST/release"
    cp -r charts/eventkeeper "$staged"
    sed -i "s/^version: .*/version: $v/; s/^appVersion: .*/appVersion: \"$v\"/" "$staged/Chart.yaml"
    # The digest the image push reported: users pull exactly the signed image.
    python3 - "$staged/values.yaml" "$digest" <<'PY'
import re, sys
path, digest = sys.argv[1], sys.argv[2]
text = open(path).read()
new, n = re.subn(r'(?m)^(image:\n(?:  .*\n|\s*\n|\s*#.*\n)*?  digest: )""', r'\g<1>"' + digest + '"', text)
if n != 1:
    sys.exit("release-build: chart: no `image.digest: \"\"` line in values.yaml")
open(path, "w").write(new)
PY
    if command -v helm >/dev/null; then
        helm package "$staged" --destination "$DIST/release" >&2
    else
        echo "release-build: no helm CLI here: packaged with tar (the layout \`helm package\` writes)" >&2
        tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
            -czf "$DIST/release/eventkeeper-$v.tgz" -C "$DIST/chart" eventkeeper
    fi
    echo "$DIST/release/eventkeeper-$v.tgz"
}

cmd_sums() {
    (($# == 1)) || die "sums DIR"
    local sums
    sums=$(cd "$1" && find . -maxdepth 1 -type f ! -name SHA256SUMS -printf '%P\n' | LC_ALL=C sort |
        xargs -r sha256sum)
    printf '%s\n' "$sums" >"$1/SHA256SUMS"
    cat "$1/SHA256SUMS"
}

case "${1:-}" in
    binaries | image | version | lambda | plugin | pack-lambda | pack-plugin | module | chart | sums)
        sub=${1//-/_}; shift; "cmd_$sub" "$@" ;;
    *) die "usage: $0 binaries ARCH... | image VERSION REVISION | version | lambda ARCH... | plugin ARCH... | pack-lambda ARCH... | pack-plugin ARCH... | module | chart DIGEST | sums DIR" ;;
esac
