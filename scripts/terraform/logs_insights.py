"""A small checker for CloudWatch Logs Insights queries over eventkeeper records.

It does not run queries (moto ignores `filter`/`stats`), it reads them: the text is tokenised,
split into commands on `|`, and every field name a command uses is resolved. A field is valid
when it is

- one of the fields CloudWatch adds (`@timestamp`, `@message`, ...);
- one of the shipper's own fields (`kubernetes.*`, which Fluent Bit and Vector add);
- the configured prefix (`log_processed.`, `data.` or nothing) followed by a path that exists in
  schema v1 (`docs/schema/event-v1.json`), e.g. `involvedObject.name`, `metadata.labels.app`;
- a name the query itself made earlier (`as alias`, a `parse` capture).

Unknown commands, unbalanced quotes, parentheses or regexes, a command other than `limit` after
`dedup`, and a field outside the above are errors. `check(query, schema, prefix)` returns the list of problems (empty when the query is good).
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from pathlib import Path

COMMANDS = {
    "fields", "display", "filter", "stats", "sort", "limit", "parse", "dedup", "pattern",
    "unmask", "diff",
}
# Fields every CloudWatch Logs event has, whatever wrote it.
CLOUDWATCH_FIELDS = {"@timestamp", "@message", "@logStream", "@log", "@ingestionTime", "@ptr"}
# Fields the shippers add next to a record (Fluent Bit's kubernetes filter, Vector's source).
SHIPPER_ROOTS = ("kubernetes.",)
KEYWORDS = {"and", "or", "not", "in", "like", "as", "by", "asc", "desc", "true", "false", "null"}
FUNCTIONS = {
    # stats
    "avg", "count", "count_distinct", "max", "min", "pct", "stddev", "sum", "earliest", "latest",
    "sortsFirst", "sortsLast",
    # general
    "bin", "ispresent", "isempty", "isblank", "coalesce", "greatest", "least", "concat", "ltrim",
    "rtrim", "trim", "strlen", "toupper", "tolower", "substr", "replace", "strcontains", "abs",
    "ceil", "floor", "log", "sqrt", "datefloor", "dateceil", "fromMillis", "toMillis", "now",
    "isValidIp", "isValidIpV4", "isValidIpV6", "isIpInSubnet", "isIpv4InSubnet",
    "isIpv6InSubnet", "jsonParse", "unnest",
}
OPERATORS = ["=~", "!=", "<=", ">=", "=", "<", ">", "+", "-", "*", "/", "%", "^", ",", "(", ")",
             "|", "[", "]"]
_DURATION = re.compile(r"\d+(ms|s|m|h|d|w|mo|q|y|sec|min|hr)\b")
_NUMBER = re.compile(r"\d+(\.\d+)?")
_IDENT = re.compile(r"@?[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*")
# Tried in this order: `5m` is a duration before it is a number.
_WORDS = (("duration", _DURATION), ("number", _NUMBER), ("ident", _IDENT))


@dataclasses.dataclass
class Token:
    kind: str  # ident, string, regex, number, duration, op, backtick
    text: str
    pos: int

    def nesting(self) -> int:
        """How the token changes the depth of parentheses and brackets: +1, -1 or 0."""
        if self.kind == "op" and self.text in "([":
            return 1
        if self.kind == "op" and self.text in ")]":
            return -1
        return 0


class QueryError(ValueError):
    """The text cannot be tokenised (unbalanced quotes, regex or backticks)."""


def tokenize(query: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    n = len(query)
    while i < n:
        c = query[i]
        if c.isspace():
            i += 1
            continue
        if c == "#":  # a comment runs to the end of the line
            end = query.find("\n", i)
            i = n if end < 0 else end
            continue
        if c in "\"'`":
            end = _closing(query, i, c)
            kind = "backtick" if c == "`" else "string"
            tokens.append(Token(kind, query[i + 1:end], i))
            i = end + 1
            continue
        if c == "/" and _regex_allowed(tokens):
            end = _closing(query, i, "/")
            tokens.append(Token("regex", query[i + 1:end], i))
            i = end + 1
            continue
        word = next(((kind, m) for kind, pattern in _WORDS if (m := pattern.match(query, i))), None)
        if word:
            kind, m = word
            tokens.append(Token(kind, m.group(0), i))
            i = m.end()
            continue
        for op in OPERATORS:
            if query.startswith(op, i):
                tokens.append(Token("op", op, i))
                i += len(op)
                break
        else:
            raise QueryError(f"unexpected character {c!r} at {i}")
    return tokens


def _closing(query: str, start: int, quote: str) -> int:
    i = start + 1
    while i < len(query):
        if query[i] == "\\":
            i += 2
            continue
        if query[i] == quote:
            return i
        i += 1
    what = {"/": "regex", "`": "backtick"}.get(quote, "quote")
    raise QueryError(f"unbalanced {what} {quote} at {start}")


def _regex_allowed(tokens: list[Token]) -> bool:
    """A `/` starts a regex after an operator, `like`, `(`, `,` or a command; else it divides."""
    if not tokens:
        return True
    last = tokens[-1]
    if len(tokens) >= 2 and tokens[-2].kind == "ident" and tokens[-2].text == "parse":
        return True  # parse FIELD /regex/
    if last.kind == "op":
        return last.text not in (")", "]")
    return last.kind == "ident" and (last.text in ("like", "parse") or last.text in COMMANDS)


def split_commands(tokens: list[Token]) -> list[list[Token]]:
    commands: list[list[Token]] = [[]]
    for token in tokens:
        if token.kind == "op" and token.text == "|":
            commands.append([])
        else:
            commands[-1].append(token)
    return commands


class Schema:
    """The field paths of schema v1, as Logs Insights flattens them (`a.b`, `a.0`)."""

    def __init__(self, document: dict):
        self.document = document

    @classmethod
    def load(cls, path: Path) -> "Schema":
        return cls(json.loads(path.read_text()))

    def _resolve(self, node: dict) -> list[dict]:
        """The object schemas a node stands for, through `$ref`, `anyOf` and `oneOf`."""
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            return self._resolve(self.document["$defs"][name])
        out = []
        for key in ("anyOf", "oneOf"):
            for branch in node.get(key, []):
                out.extend(self._resolve(branch))
        if not out:
            out.append(node)
        return out

    def has(self, path: str) -> bool:
        return self._has(self.document, path.split("."))

    def _has(self, node: dict, parts: list[str]) -> bool:
        if not parts:
            return True
        for branch in self._resolve(node):
            props = branch.get("properties", {})
            if parts[0] in props and self._has(props[parts[0]], parts[1:]):
                return True
            extra = branch.get("additionalProperties")
            if isinstance(extra, dict) and self._has(extra, parts[1:]):
                return True  # a map (labels, annotations): any key
            if branch.get("type") == "array" and parts[0].isdigit():
                if self._has(branch.get("items", {}), parts[1:]):
                    return True
        return False

    def top_level(self) -> dict:
        return self.document["properties"]


def check(query: str, schema: Schema, prefix: str) -> list[str]:
    """Every problem in `query` for records under `prefix`; empty when the query is good."""
    try:
        tokens = tokenize(query)
    except QueryError as error:
        return [str(error)]
    problems: list[str] = []
    depth = 0
    for token in tokens:
        depth += token.nesting()
        if depth < 0:
            return [f"unbalanced ')' at {token.pos}"]
    if depth:
        return ["unbalanced '(': not closed"]
    made: set[str] = set()
    after_stats: set[str] | None = None
    after_dedup = False
    for command in split_commands(tokens):
        if not command:
            problems.append("empty command (a '|' with nothing after it)")
            continue
        head = command[0]
        if head.kind != "ident" or head.text not in COMMANDS:
            problems.append(f"unknown command {head.text!r} at {head.pos}")
            continue
        if after_dedup and head.text != "limit":
            problems.append(f"{head.text} at {head.pos} after dedup: only limit may follow dedup")
        after_dedup = after_dedup or head.text == "dedup"
        if after_stats is not None:
            # After stats, only its aggregates and groups exist.
            problems.extend(_check_after_stats(head.text, command[1:], after_stats))
            made |= {t.text for t in command[1:] if t.kind == "ident"}
            continue
        problems.extend(_check_command(head.text, command[1:], schema, prefix, made))
        if head.text == "stats":
            after_stats = stats_outputs(command[1:])
    return problems


def stats_outputs(args: list[Token]) -> set[str]:
    """The columns a stats command leaves: its aliases and the fields it groups by."""
    outputs = set()
    depth = 0
    for i, token in enumerate(args):
        if token.kind == "op" and token.text == "(":
            depth += 1
        elif token.kind == "op" and token.text == ")":
            depth -= 1
        elif token.kind == "ident" and token.text == "as" and i + 1 < len(args):
            outputs.add(args[i + 1].text)
        elif (depth == 0 and token.kind in ("ident", "backtick") and token.text not in KEYWORDS
              and i > 0 and args[i - 1].text in ("by", ",")
              and "by" in [t.text for t in args[:i]]):
            outputs.add(token.text)
    return outputs


def _check_after_stats(name: str, args: list[Token], available: set[str]) -> list[str]:
    problems = []
    for i, token in enumerate(args):
        if token.kind not in ("ident", "backtick") or token.text in KEYWORDS:
            continue
        if i > 0 and args[i - 1].text == "as":
            available.add(token.text)
            continue
        nxt = args[i + 1] if i + 1 < len(args) else None
        if token.kind == "ident" and nxt is not None and nxt.kind == "op" and nxt.text == "(":
            continue
        if token.text not in available:
            problems.append(f"{name}: {token.text!r} at {token.pos} does not exist after stats "
                            f"(it leaves {sorted(available)})")
    return problems


def _check_command(name, args, schema, prefix, made) -> list[str]:
    problems = []
    if name == "limit":
        if len(args) != 1 or args[0].kind != "number":
            problems.append("limit takes one number")
        return problems
    if name == "parse":
        # parse FIELD /regex with (?<name>...)/  or  parse FIELD "glob * *" as a, b
        if not args:
            return ["parse needs a field"]
        problems.extend(_check_field(args[0], schema, prefix, made))
        rest = args[1:]
        if rest and rest[0].kind == "regex":
            made.update(re.findall(r"\(\?<([A-Za-z_][A-Za-z0-9_]*)>", rest[0].text))
            if not re.search(r"\(\?<", rest[0].text):
                problems.append("parse with a regex needs named captures (?<name>...)")
        elif rest and rest[0].kind == "string":
            if len(rest) < 2 or rest[1].text != "as":
                problems.append("parse with a glob needs `as name, ...`")
            made.update(t.text for t in rest[2:] if t.kind == "ident")
        else:
            problems.append("parse needs a regex or a glob pattern")
        return problems
    # Names made by `as` count from here on (stats ... as n | sort n), also within the command.
    for i, token in enumerate(args):
        if token.kind == "ident" and token.text == "as" and i + 1 < len(args):
            made.add(args[i + 1].text)
    for i, token in enumerate(args):
        if token.kind not in ("ident", "backtick"):
            continue
        if token.kind == "ident" and token.text in KEYWORDS:
            continue
        if i > 0 and args[i - 1].kind == "ident" and args[i - 1].text == "as":
            continue  # the alias itself
        nxt = args[i + 1] if i + 1 < len(args) else None
        if token.kind == "ident" and nxt is not None and nxt.kind == "op" and nxt.text == "(":
            if token.text not in FUNCTIONS:
                problems.append(f"unknown function {token.text!r} at {token.pos}")
            continue
        problems.extend(_check_field(token, schema, prefix, made))
    return problems


def _check_field(token, schema, prefix, made) -> list[str]:
    name = token.text
    if name in made or name in CLOUDWATCH_FIELDS:
        return []
    if name.startswith("@"):
        return [f"unknown CloudWatch field {name!r} at {token.pos}"]
    if name.startswith(SHIPPER_ROOTS) and not (prefix and name.startswith(prefix)):
        return []
    if prefix:
        if not name.startswith(prefix):
            return [f"field {name!r} at {token.pos} lacks the prefix {prefix!r}"]
        name = name[len(prefix):]
    if not schema.has(name):
        return [f"field {name!r} at {token.pos} is not in schema v1"]
    return []


def main(argv: list[str]) -> int:
    """`logs_insights.py SCHEMA PREFIX < query`: print problems, exit 1 when there are any."""
    schema = Schema.load(Path(argv[1]))
    problems = check(sys.stdin.read(), schema, argv[2] if len(argv) > 2 else "")
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
