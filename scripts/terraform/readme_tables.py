"""The module READMEs' inputs, outputs and saved queries tables, made from variables.tf,
outputs.tf and the leading comment of each template in queries/: the eventkeeper module's and
its lambda-function submodule's (which has no queries).

`python readme_tables.py --write` rewrites the tables between the `<!-- inputs:start -->` /
`<!-- outputs:start -->` / `<!-- queries:start -->` markers; test_module.py fails when a
committed README differs.
"""

from __future__ import annotations

import json
import re
import sys

from tf_module import FUNCTION_DIR, MODULE_DIR, Module, expression

README = MODULE_DIR / "README.md"
# Each README with tables, and its module's directory.
READMES = {README: MODULE_DIR, FUNCTION_DIR / "README.md": FUNCTION_DIR}


def _type(value) -> str:
    text = expression(value) if isinstance(value, str) else None
    text = text if text is not None else str(value)
    if text.startswith("object("):
        return "object({...})"
    return text


def _default(variable: dict) -> str:
    if "default" not in variable:
        return "**required**"
    value = variable["default"]
    if value is None:
        return "`null`"
    if isinstance(value, str):
        return f'`"{value}"`'
    return f"`{json.dumps(value)}`"


def _cell(text: str) -> str:
    heredoc = re.fullmatch(r"<<-?(\w+)\n(.*)\n\s*\1\s*", text, flags=re.S)
    text = heredoc.group(2) if heredoc else text
    text = re.sub(r"\s+", " ", text.strip())
    return text.replace("|", "\\|").replace('\\"', '"')


def tables(module: Module) -> dict[str, str]:
    inputs = ["| name | description | type | default |", "|---|---|---|---|"]
    for block in module.blocks("variable"):
        for name, variable in block.items():
            inputs.append(f"| `{name}` | {_cell(variable.get('description', ''))} | "
                          f"`{_type(variable.get('type', 'any'))}` | {_default(variable)} |")
    outputs = ["| name | description |", "|---|---|"]
    for block in module.blocks("output"):
        for name, output in block.items():
            outputs.append(f"| `{name}` | {_cell(output.get('description', ''))} |")
    found = {"inputs": "\n".join(inputs), "outputs": "\n".join(outputs)}
    if (module.directory / "queries").is_dir():
        found["queries"] = queries_table()
    return found


def queries_table() -> str:
    """Each saved query's name and what it answers (its template's leading `#` comment)."""
    rows = ["| saved query `eventkeeper/<cluster>/…` | answers |", "|---|---|"]
    for path in sorted((MODULE_DIR / "queries").glob("*.tftpl")):
        comment = []
        for line in path.read_text().splitlines():
            if not line.startswith("#"):
                break
            comment.append(line.lstrip("# "))
        rows.append(f"| `{path.stem}` | {_cell(' '.join(comment))} |")
    return "\n".join(rows)


def render(readme: str, module: Module) -> str:
    for marker, table in tables(module).items():
        pattern = re.compile(rf"(<!-- {marker}:start -->\n)(?:.*?\n)?(<!-- {marker}:end -->)", re.S)
        if not pattern.search(readme):
            raise SystemExit(f"README.md has no <!-- {marker}:start/end --> markers")
        readme = pattern.sub(lambda m: m.group(1) + table + "\n" + m.group(2), readme)
    return readme


def main(argv: list[str]) -> int:
    stale = False
    for readme, directory in READMES.items():
        current = readme.read_text()
        wanted = render(current, Module(directory))
        if "--write" in argv:
            readme.write_text(wanted)
        elif current != wanted:
            print(f"{readme} tables are stale: run python scripts/terraform/readme_tables.py --write")
            stale = True
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
