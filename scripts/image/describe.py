#!/usr/bin/env python3
"""Describes and checks the emitter image in an OCI layout: per architecture, its compressed size,
its files, its labels and its user. Exits 1 when the image holds anything but the binary and the
passwd entry, runs as root, lacks an OCI label, or exceeds the size budget.

    scripts/image/describe.py OCI_DIR TAG [--max-compressed-mb 15]

Standard library only: it runs wherever the release builds.
"""

from __future__ import annotations

import argparse
import json
import sys
import tarfile
from pathlib import Path

EXPECTED_FILES = {"etc/passwd", "eventkeeper-emitter"}
REQUIRED_LABELS = ("title", "version", "revision", "created", "source", "licenses")


def blob(layout: Path, digest: str) -> Path:
    algorithm, value = digest.split(":", 1)
    return layout / "blobs" / algorithm / value


def load(layout: Path, digest: str) -> dict:
    return json.loads(blob(layout, digest).read_text())


def manifests_for(layout: Path, tag: str) -> list[dict]:
    index = json.loads((layout / "index.json").read_text())
    tagged = [m for m in index["manifests"]
              if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag]
    if len(tagged) != 1:
        raise SystemExit(f"describe: {layout} has {len(tagged)} entries tagged {tag!r}")
    top = tagged[0]
    if top["mediaType"].endswith("image.index.v1+json") or top["mediaType"].endswith("list.v2+json"):
        return load(layout, top["digest"])["manifests"]
    return [top]


def files_of(layout: Path, layers: list[dict]) -> list[tuple[str, int, int]]:
    files = []
    for layer in layers:
        with tarfile.open(blob(layout, layer["digest"])) as tar:
            for member in tar:
                if member.isfile():
                    files.append((member.name.lstrip("./"), member.size, member.mode))
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("layout", type=Path)
    parser.add_argument("tag")
    parser.add_argument("--max-compressed-mb", type=float, default=15.0)
    args = parser.parse_args()

    problems = []
    for entry in manifests_for(args.layout, args.tag):
        manifest = load(args.layout, entry["digest"])
        config = load(args.layout, manifest["config"]["digest"])
        arch = f"{config['os']}/{config['architecture']}"
        compressed = manifest["config"]["size"] + sum(l["size"] for l in manifest["layers"])
        files = files_of(args.layout, manifest["layers"])
        labels = config["config"].get("Labels", {})
        user = config["config"].get("User", "")
        print(f"image {arch} {entry['digest']}")
        print(f"  compressed size: {compressed} bytes ({compressed / 1e6:.1f} MB) in {len(manifest['layers'])} layers")
        print(f"  user {user}, entrypoint {config['config'].get('Entrypoint')}, cmd {config['config'].get('Cmd')}")
        for name, size, mode in sorted(files):
            print(f"  file /{name} {size} bytes mode {mode:o}")
        for key in REQUIRED_LABELS:
            print(f"  label org.opencontainers.image.{key}={labels.get('org.opencontainers.image.' + key, '')}")

        names = {name for name, _, _ in files}
        if names != EXPECTED_FILES:
            problems.append(f"{arch}: files {sorted(names)}, expected exactly {sorted(EXPECTED_FILES)}")
        if user.split(":")[0] in ("", "0", "root"):
            problems.append(f"{arch}: runs as {user or 'root'}; expected 65532")
        missing = [k for k in REQUIRED_LABELS if not labels.get("org.opencontainers.image." + k)]
        if missing:
            problems.append(f"{arch}: labels missing: {missing}")
        if compressed > args.max_compressed_mb * 1e6:
            problems.append(f"{arch}: {compressed} bytes compressed, budget {args.max_compressed_mb} MB")
    for problem in problems:
        print(f"describe: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
