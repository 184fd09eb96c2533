"""The eventkeeper Terraform module as python-hcl2 reads it, with the quoting taken off.

python-hcl2 (8.x) keeps the quotes of labels and string literals (`"\"aws_s3_bucket\""`) and
writes expressions as `${...}`. `load_module` returns every block of every `.tf` file with
labels and literal strings unquoted, so a test can say `module.resource("aws_lambda_function",
"catchup")["runtime"] == "provided.al2023"`.
"""

from __future__ import annotations

import re
from pathlib import Path

import hcl2

ROOT = Path(__file__).resolve().parents[2]
MODULE_DIR = ROOT / "infra/terraform/modules/eventkeeper"


def unquote(value):
    if isinstance(value, str):
        if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
            return value[1:-1]
        return value
    if isinstance(value, list):
        return [unquote(v) for v in value]
    if isinstance(value, dict):
        return {unquote(k): unquote(v) for k, v in value.items()
                if k not in ("__is_block__", "__comments__", "__inline_comments__")}
    return value


class Module:
    def __init__(self, directory: Path = MODULE_DIR):
        self.directory = directory
        self.files = {}
        for path in sorted(directory.glob("*.tf")):
            with path.open() as handle:
                self.files[path.name] = unquote(hcl2.load(handle))

    def blocks(self, kind: str):
        for document in self.files.values():
            for block in document.get(kind, []):
                yield block

    def _labelled(self, kind: str, type_: str, name: str) -> dict:
        found = [b[type_][name] for b in self.blocks(kind) if type_ in b and name in b[type_]]
        if len(found) != 1:
            raise KeyError(f"{kind} {type_}.{name}: found {len(found)}")
        return found[0]

    def resource(self, type_: str, name: str) -> dict:
        return self._labelled("resource", type_, name)

    def data(self, type_: str, name: str) -> dict:
        return self._labelled("data", type_, name)

    def resources_of(self, type_: str) -> dict:
        out = {}
        for block in self.blocks("resource"):
            out.update(block.get(type_, {}))
        return out

    def variable(self, name: str) -> dict:
        found = [b[name] for b in self.blocks("variable") if name in b]
        if len(found) != 1:
            raise KeyError(f"variable {name}: found {len(found)}")
        return found[0]

    def local(self, name: str):
        found = [b[name] for b in self.blocks("locals") if name in b]
        if len(found) != 1:
            raise KeyError(f"local {name}: found {len(found)}")
        return found[0]

    def text(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.directory.glob("*.tf")))


def policy_statements(document: dict) -> list[dict]:
    """Static and dynamic statements of an aws_iam_policy_document, each with `dynamic` set to
    the for_each expression of its dynamic block (None for a static one)."""
    out = [dict(s, dynamic=None) for s in document.get("statement", [])]
    for block in document.get("dynamic", []):
        for label, body in block.items():
            if label == "statement":
                for content in body.get("content", []):
                    out.append(dict(content, dynamic=body.get("for_each")))
    return out


def expression(value: str) -> str | None:
    """The inside of a whole-value `${...}` expression, else None."""
    match = re.fullmatch(r"\$\{(.*)\}", value, flags=re.S) if isinstance(value, str) else None
    return match.group(1) if match else None
