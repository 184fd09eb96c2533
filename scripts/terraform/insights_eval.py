"""Run the `filter` and `parse` commands of a Logs Insights query on records, in Python.

moto ignores Logs Insights filters, so this is how the tests show that a saved query selects the
records it is meant to (the seed scenarios in docs/schema.md). It covers what our queries use:
`and`, `or`, `not`, `=`, `!=`, `<`, `>`, `<=`, `>=`, `in [...]`, `like /re/` or `like "text"`,
`=~`, `ispresent()`, `strcontains()`, and `parse FIELD /(?<name>...)/`. Other commands (stats,
sort, fields, limit) are not run: `select` returns the records the filters keep, with the parsed
fields added.
"""

from __future__ import annotations

import re

from logs_insights import Token, split_commands, tokenize


def flatten(record: dict, prefix: str = "") -> dict:
    """Logs Insights' view of a JSON event: nested keys joined with dots."""
    out = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}."))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    out.update(flatten(item, f"{name}.{i}."))
                else:
                    out[f"{name}.{i}"] = item
        else:
            out[name] = value
    return out


def _regex(text: str) -> re.Pattern:
    return re.compile(text.replace("(?<", "(?P<").replace("(?P<=", "(?<=").replace("(?P<!", "(?<!"))


class _Parser:
    def __init__(self, tokens: list[Token], event: dict):
        self.tokens = tokens
        self.pos = 0
        self.event = event

    def peek(self, offset: int = 0) -> Token | None:
        i = self.pos + offset
        return self.tokens[i] if i < len(self.tokens) else None

    def take(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text:
            raise ValueError(f"expected {text!r} at {token.pos}, got {token.text!r}")

    def parse(self):
        value = self.or_()
        if self.peek() is not None:
            raise ValueError(f"unexpected {self.peek().text!r}")
        return value

    def or_(self):
        value = self.and_()
        while self.peek() is not None and self.peek().text == "or":
            self.take()
            right = self.and_()
            value = bool(value) or bool(right)
        return value

    def and_(self):
        value = self.not_()
        while self.peek() is not None and self.peek().text == "and":
            self.take()
            right = self.not_()
            value = bool(value) and bool(right)
        return value

    def not_(self):
        if self.peek() is not None and self.peek().text == "not":
            self.take()
            return not bool(self.not_())
        return self.comparison()

    def comparison(self):
        left = self.operand()
        token = self.peek()
        if token is None or token.text not in ("=", "!=", "<", ">", "<=", ">=", "in", "like",
                                                "=~", "not"):
            return left
        negate = False
        if token.text == "not":
            self.take()
            negate = True
            token = self.peek()
        op = self.take().text
        right = self.operand()
        if op in ("like", "=~"):
            pattern = right if isinstance(right, re.Pattern) else re.compile(re.escape(str(right)))
            result = left is not None and pattern.search(str(left)) is not None
        elif op == "in":
            result = left in right
        elif left is None or right is None:
            result = op == "!=" and (left is None) != (right is None)
        else:
            result = {"=": left == right, "!=": left != right, "<": left < right,
                      ">": left > right, "<=": left <= right, ">=": left >= right}[op]
        return (not result) if negate else result

    def operand(self):
        token = self.take()
        if token.kind == "string":
            return token.text
        if token.kind == "regex":
            return _regex(token.text)
        if token.kind == "number":
            return float(token.text) if "." in token.text else int(token.text)
        if token.text == "(":
            value = self.or_()
            self.expect(")")
            return value
        if token.text == "[":
            items = []
            while self.peek().text != "]":
                items.append(self.operand())
                if self.peek().text == ",":
                    self.take()
            self.take()
            return items
        if token.kind == "ident" and self.peek() is not None and self.peek().text == "(":
            self.take()
            args = []
            while self.peek().text != ")":
                if token.text == "ispresent":
                    args.append(self.take().text)
                else:
                    args.append(self.operand())
                if self.peek().text == ",":
                    self.take()
            self.take()
            return self.call(token.text, args)
        if token.kind in ("ident", "backtick"):
            return self.event.get(token.text)
        raise ValueError(f"cannot evaluate {token.text!r} at {token.pos}")

    def call(self, name: str, args: list):
        if name == "ispresent":
            return args[0] in self.event
        if name == "strcontains":
            return 1 if args[0] is not None and str(args[1]) in str(args[0]) else 0
        raise ValueError(f"function {name} is not supported here")


def select(query: str, records: list[dict]) -> list[dict]:
    """The (flattened) records every `filter` of the query keeps, with `parse` fields added."""
    kept = []
    for record in records:
        event = flatten(record)
        keep = True
        for command in split_commands(tokenize(query)):
            head, args = command[0].text, command[1:]
            if head == "filter":
                if not _Parser(args, event).parse():
                    keep = False
                    break
            elif head == "parse" and len(args) >= 2 and args[1].kind == "regex":
                match = _regex(args[1].text).search(str(event.get(args[0].text, "")))
                for name in re.findall(r"\(\?<([A-Za-z_]\w*)>", args[1].text):
                    event[name] = match.group(name) if match else None
            elif head == "stats":
                break
        if keep:
            kept.append(event)
    return kept
