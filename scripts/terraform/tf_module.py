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
# The function, its log group, role and dead-letter queue, shared by both modules.
FUNCTION_DIR = MODULE_DIR / "modules/lambda-function"


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

    def call(self, name: str) -> dict:
        """The arguments of `module "name"`."""
        found = [b[name] for b in self.blocks("module") if name in b]
        if len(found) != 1:
            raise KeyError(f"module {name}: found {len(found)}")
        return found[0]

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


def policy_document_statements(module: Module, name: str) -> list[dict]:
    """The statements of an aws_iam_policy_document, with those of its source_policy_documents
    (the caller's document a submodule receives as var.policy_json is the caller's to follow)."""
    document = module.data("aws_iam_policy_document", name)
    statements = policy_statements(document)
    for source in document.get("source_policy_documents", []):
        if source == "${var.policy_json}":
            continue
        match = re.fullmatch(r"\$\{data\.aws_iam_policy_document\.(\w+)\.json\}", source)
        if not match:
            raise ValueError(f"{name}: cannot follow source policy {source}")
        statements.extend(policy_document_statements(module, match.group(1)))
    return statements


def function_policy_statements(module: Module, call: str) -> list[dict]:
    """Every statement of the role of the function `module "call"` creates through the
    lambda-function submodule: the caller's document (policy_json) and the submodule's own."""
    source = module.call(call)["policy_json"]
    match = re.fullmatch(r"\$\{data\.aws_iam_policy_document\.(\w+)\.json\}", source)
    if not match:
        raise ValueError(f"module {call}: cannot follow policy_json {source}")
    return (policy_document_statements(module, match.group(1))
            + policy_document_statements(Module(FUNCTION_DIR), "this"))


def expression(value: str) -> str | None:
    """The inside of a whole-value `${...}` expression, else None."""
    match = re.fullmatch(r"\$\{(.*)\}", value, flags=re.S) if isinstance(value, str) else None
    return match.group(1) if match else None


def _locals_blocks(directory: Path) -> str:
    blocks = []
    for path in sorted(directory.glob("*.tf")):
        text = path.read_text()
        for match in re.finditer(r"^locals \{", text, flags=re.M):
            i, depth = match.end(), 1
            while depth:
                depth += {"{": 1, "}": -1}.get(text[i], 0)
                i += 1
            blocks.append(text[match.start():i])
    return "\n\n".join(blocks)


def evaluate_locals(variables: dict[str, str], directory: Path = MODULE_DIR) -> dict:
    """Every `local` of the module as Terraform itself computes it for these variables.

    No provider can be installed here, so references to resources and data sources are replaced
    by strings ("stub:aws_x.y.attr"); everything else (templatefile, jsonencode, conditionals,
    for expressions) is real Terraform, run with `terraform apply` on a configuration that has the
    module's variables and locals as outputs and no resources."""
    import json
    import os
    import shutil
    import subprocess
    import tempfile

    text = _locals_blocks(directory)
    text = re.sub(r"\b(?:(?:data\.)?aws_[a-z0-9_]+\.[a-z0-9_]+(?:\[\d+\])?|module\.[a-z0-9_]+)"
                  r"\.[a-z0-9_]+(?:\.[a-z0-9_]+)?",
                  lambda m: f'"stub:{m.group(0)}"', text)
    names = re.findall(r"^  ([a-z_]+)\s*=", text, flags=re.M)
    outputs = "\n".join(f'output "{n}" {{\n  value = local.{n}\n}}' for n in names)
    outputs += '\noutput "dashboard_json" {\n  value = jsonencode(local.dashboard_body)\n}\n'
    env = dict(os.environ, TF_IN_AUTOMATION="1", TF_CLI_CONFIG_FILE=os.devnull)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copy(directory / "variables.tf", work)
        shutil.copy(directory / "iam-actions.json", work)
        for folder in ("queries", "dashboard"):
            shutil.copytree(directory / folder, work / folder)
        (work / "locals.tf").write_text(text + "\n" + outputs)
        args = [arg for name, value in variables.items() for arg in ("-var", f"{name}={value}")]
        for command in (["init", "-backend=false"], ["apply", "-auto-approve", *args]):
            run = subprocess.run(["terraform", *command, "-input=false", "-no-color"], cwd=work,
                                 env=env, capture_output=True, text=True)
            if run.returncode:
                raise RuntimeError(f"terraform {command[0]}: {run.stderr}{run.stdout}")
        run = subprocess.run(["terraform", "output", "-json"], cwd=work, env=env,
                             capture_output=True, text=True, check=True)
    return {name: out["value"] for name, out in json.loads(run.stdout).items()}


def preconditions(path: Path, address: str) -> str:
    """The precondition blocks of `resource "type" "name"` (address "type.name") in path, verbatim."""
    text = path.read_text()
    type_, name = address.split(".")
    start = text.index(f'resource "{type_}" "{name}"')
    body = text[start:text.index("\n}\n", start)]
    blocks = re.findall(r"^    precondition \{\n.*?^    \}\n", body, flags=re.M | re.S)
    if not blocks:
        raise ValueError(f"no precondition in {address} of {path.name}")
    return "".join(blocks)


# A value of each type, for the submodule's required inputs a plan of variables does not pass.
_PLACEHOLDERS = {"string": '"x"', "number": "1", "bool": "false", "map(string)": "{}",
                 "list(string)": "[]"}


class VariablesPlan:
    """`terraform plan` of a module's variables as they reach the lambda-function submodule: a
    root with the module's variables.tf, calling a copy of the submodule's variables.tf with the
    arguments the module passes straight through (`x = var.y`) or as literal strings, and provider-less
    `terraform_data` resources carrying the preconditions of the submodule's function and any
    of the caller's (`caller_checks`: HCL, e.g. a stubbed local and a resource). No provider is
    downloaded: variables and the builtin `terraform_data` need none."""

    def __init__(self, tmp: Path, module_dir: Path, call: str, caller_checks: str = ""):
        import json
        import os
        import shutil
        import subprocess

        self.dir, self._subprocess = tmp, subprocess
        self.env = dict(os.environ, TF_IN_AUTOMATION="1", TF_CLI_CONFIG_FILE=os.devnull)
        shutil.copy(module_dir / "variables.tf", tmp)
        (tmp / "function").mkdir()
        shutil.copy(FUNCTION_DIR / "variables.tf", tmp / "function")
        (tmp / "function/checks.tf").write_text(
            'resource "terraform_data" "function" {\n  lifecycle {\n'
            + preconditions(FUNCTION_DIR / "main.tf", "aws_lambda_function.this") + "  }\n}\n")
        arguments = {}
        for name, value in Module(module_dir).call(call).items():
            inner = expression(value) if isinstance(value, str) else None
            if inner and re.fullmatch(r"var\.\w+", inner):
                arguments[name] = inner
            elif isinstance(value, str) and "${" not in value and name != "source":
                arguments[name] = json.dumps(value)
        for block in Module(FUNCTION_DIR).blocks("variable"):
            for name, body in block.items():
                if "default" not in body and name not in arguments:
                    arguments[name] = _PLACEHOLDERS[expression(body["type"]) or body["type"]]
        lines = "".join(f"  {name} = {value}\n" for name, value in arguments.items())
        (tmp / "checks.tf").write_text(
            f'module "{call}" {{\n  source = "./function"\n{lines}}}\n\n{caller_checks}')
        subprocess.run(["terraform", "init", "-input=false", "-backend=false", "-no-color"],
                       cwd=tmp, env=self.env, check=True, capture_output=True)

    def __call__(self, **variables: str):
        args = [a for k, v in variables.items() for a in ("-var", f"{k}={v}")]
        return self._subprocess.run(
            ["terraform", "plan", "-input=false", "-lock=false", "-no-color", *args],
            cwd=self.dir, env=self.env, capture_output=True, text=True)
