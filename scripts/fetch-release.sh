#!/usr/bin/env bash
# Downloads the Lambda zips of a released version (the catch-up, and the notifier) and verifies
# them against the release's SHA256SUMS, for the Terraform modules' `lambda_zip_path`.
#
#   scripts/fetch-release.sh VERSION [DIR]     (VERSION like 0.1.0; DIR default: ./eventkeeper-VERSION)
#
# Prints the verified zips' paths, one a line, and exits non-zero (downloading nothing usable)
# when a file is missing or its checksum differs. Needs curl and sha256sum.
#
# Environment:
#   EVENTKEEPER_RELEASE_URL   base URL of the release's files (default: the GitHub release,
#                             https://github.com/eventkeeper/eventkeeper/releases/download/vVERSION)
#   EVENTKEEPER_ARCHES        architectures to fetch (default: "amd64 arm64")
#   EVENTKEEPER_FUNCTIONS     functions to fetch (default: "catchup notify"; "catchup" alone
#                             when the notifications module is not used)
#
# File names as scripts/release/build.sh writes them: eventkeeper-FUNCTION-VERSION-linux-ARCH.zip.
set -euo pipefail

die() { echo "fetch-release: $*" >&2; exit 1; }

(($# >= 1 && $# <= 2)) || die "usage: $0 VERSION [DIR]"
version=${1#v}
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]] || die "'$1' is not a version like 0.1.0"
dir=${2:-eventkeeper-$version}
base=${EVENTKEEPER_RELEASE_URL:-https://github.com/eventkeeper/eventkeeper/releases/download/v$version}
read -r -a arches <<<"${EVENTKEEPER_ARCHES:-amd64 arm64}"
read -r -a functions <<<"${EVENTKEEPER_FUNCTIONS:-catchup notify}"
for function in "${functions[@]}"; do
    [[ "$function" == catchup || "$function" == notify ]] || die "unknown function '$function' (catchup or notify)"
done

mkdir -p "$dir"
partial=$(mktemp -d "$dir/.partial.XXXXXX")
trap 'rm -rf "$partial"' EXIT

fetch() {
    curl --fail --silent --show-error --location --proto '=https,http' --retry 3 \
        -o "$partial/$1" "$base/$1" || die "cannot download $base/$1"
}

fetch SHA256SUMS
names=()
for function in "${functions[@]}"; do
    for arch in "${arches[@]}"; do
        name=eventkeeper-$function-$version-linux-$arch.zip
        grep -q "  $name\$" "$partial/SHA256SUMS" || die "SHA256SUMS of $version lists no $name"
        fetch "$name"
        names+=("$name")
    done
done
(cd "$partial" && grep -E "  ($(IFS='|'; echo "${names[*]//./\\.}"))\$" SHA256SUMS | sha256sum --check --strict --quiet) \
    || die "checksum mismatch: the downloaded files are not the release's (nothing kept)"

for name in "${names[@]}"; do
    mv "$partial/$name" "$dir/$name"
    echo "$dir/$name"
done
mv "$partial/SHA256SUMS" "$dir/SHA256SUMS"
