"""Render charts/eventkeeper with the real Helm v4 engine (helm-python-sdk), like `helm template`.

    python scripts/chart/render.py [--set key=value ...] [--namespace NS] [--name NAME]

prints the manifests, each as a `---` document with a `# Source:` line, as `helm template` does.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import helm_python as hp
import yaml

CHART = Path(__file__).resolve().parents[2] / "charts" / "eventkeeper"
RELEASE = "eventkeeper"
NAMESPACE = "eventkeeper"


def render(
    values: dict, *, name: str = RELEASE, namespace: str = NAMESPACE
) -> dict[str, str]:
    """Template path -> rendered text (NOTES.txt included), after the chart's schema check."""
    with hp.Chart.load(CHART) as chart:
        return chart.render(values=values, name=name, namespace=namespace, is_install=True)


def manifest_text(rendered: dict[str, str]) -> str:
    """The documents of every template except NOTES.txt, formatted as `helm template` does."""
    out = []
    for path in sorted(rendered):
        if path.endswith("NOTES.txt"):
            continue
        for doc in rendered[path].split("\n---"):
            doc = doc.strip("\n")
            if not yaml.safe_load(doc):
                continue
            out.append(f"---\n# Source: {path}\n{doc}\n")
    return "".join(out)


def documents(rendered: dict[str, str]) -> list[dict]:
    """Every Kubernetes object the release would create."""
    return [d for d in yaml.safe_load_all(manifest_text(rendered)) if d]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--name", default=RELEASE)
    parser.add_argument("--namespace", default=NAMESPACE)
    args = parser.parse_args()
    values: dict = {}
    for item in args.set:
        values = _merge(values, hp.parse_set_string(item))
    try:
        sys.stdout.write(manifest_text(render(values, name=args.name, namespace=args.namespace)))
    except hp.HelmError as err:
        print(f"render failed: {err}", file=sys.stderr)
        return 1
    return 0


def _merge(base: dict, extra: dict) -> dict:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = _merge(base[key], value)
        else:
            base[key] = value
    return base


if __name__ == "__main__":
    sys.exit(main())
