"""Run a Logs Insights query on records, in Python.

moto ignores Logs Insights filters, so this is how the tests show that a saved query answers what
it is meant to (the seed scenarios in docs/schema.md). It covers what our queries use:

- `filter` with `and`, `or`, `not`, `=`, `!=`, `<`, `>`, `<=`, `>=`, `in [...]`,
  `like /re/` or `like "text"`, `=~`, `ispresent()`, `strcontains()`, `coalesce()`;
- `parse FIELD /(?<name>...)/`;
- `fields` and `display` (expressions and `as` aliases);
- `stats` with `count`, `count_distinct`, `sum`, `avg`, `min`, `max` (numbers only), `latest`,
  `earliest` (by `@timestamp`), `sortsFirst`, `sortsLast`, grouped `by` fields, aliases and
  `bin()` of `@timestamp`;
- `sort` in the documented natural order (text before numbers; within text, runs of digits
  compare as numbers: length first, then value), `dedup` and `limit`.

`select` returns the records the filters keep, with the parsed fields added (stats, sort and the
rest are not run); `run` runs the whole query and returns its result rows.
"""

from __future__ import annotations

import functools
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

    def _chain(self, word: str, operand, combine):
        """operand (word operand)*, combined left to right; both sides are always evaluated."""
        value = operand()
        while self.peek() is not None and self.peek().text == word:
            self.take()
            value = combine(value, operand())
        return value

    def or_(self):
        return self._chain("or", self.and_, lambda left, right: bool(left) or bool(right))

    def and_(self):
        return self._chain("and", self.not_, lambda left, right: bool(left) and bool(right))

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
        if token.kind == "duration":
            return token.text
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
        if name == "coalesce":
            return next((a for a in args if a is not None), None)
        if name == "bin":
            return _bin(self.event.get("@timestamp"), args[0])
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


_UNITS_MS = {"ms": 1, "s": 1000, "sec": 1000, "m": 60_000, "min": 60_000, "h": 3_600_000,
             "hr": 3_600_000, "d": 86_400_000, "w": 604_800_000}


def _bin(timestamp, period: str):
    """`bin(period)`: the start of the period `@timestamp` (milliseconds) falls in."""
    if timestamp is None:
        return None
    number, unit = re.fullmatch(r"(\d+)([a-z]+)", period).groups()
    if unit not in _UNITS_MS:
        raise ValueError(f"bin unit {unit!r} is not supported here")
    size = int(number) * _UNITS_MS[unit]
    return timestamp - timestamp % size


def _chunks(text: str) -> list[str]:
    return re.findall(r"\d+|\D+", text)


def _is_number(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    return isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value) is not None


def natural_compare(a, b) -> int:
    """Logs Insights' ascending sort order (its `sort` documentation): every non-numeric value
    before every number; text compared chunk by chunk, where a run of digits against another
    run of digits compares by length, then value, and anything else by Unicode. Absent values
    come first."""
    if a is None or b is None:
        return (a is not None) - (b is not None)
    if _is_number(a) or _is_number(b):
        if not (_is_number(a) and _is_number(b)):
            return 1 if _is_number(a) else -1
        x, y = float(a), float(b)
        if x == y:  # 01 before 1, as documented
            x, y = str(a), str(b)
        return (x > y) - (x < y)
    for x, y in zip(_chunks(str(a)), _chunks(str(b))):
        if x == y:
            continue
        if x.isdigit() and y.isdigit():
            if len(x) != len(y):
                return len(x) - len(y)
            return (int(x) > int(y)) - (int(x) < int(y))
        return (x > y) - (x < y)
    return len(_chunks(str(a))) - len(_chunks(str(b)))


_SORT_KEY = functools.cmp_to_key(natural_compare)


def _split_top(tokens: list[Token], separator: str = ",") -> list[list[Token]]:
    """The items of a comma-separated list, ignoring commas inside parentheses and brackets."""
    items: list[list[Token]] = [[]]
    depth = 0
    for token in tokens:
        depth += token.nesting()
        if depth == 0 and token.kind == "op" and token.text == separator:
            items.append([])
        else:
            items[-1].append(token)
    return [item for item in items if item]


def _named(item: list[Token]) -> tuple[list[Token], str]:
    """An expression and the column it makes: its `as` alias, else its own text."""
    if len(item) >= 3 and item[-2].kind == "ident" and item[-2].text == "as":
        return item[:-2], item[-1].text
    return item, "".join(t.text for t in item)


def _evaluate(tokens: list[Token], row: dict):
    return _Parser(tokens, row).parse()


def _aggregate(function: str, args: list[Token], rows: list[dict]):
    if function == "count" and [t.text for t in args] == ["*"]:
        return len(rows)
    values = [_evaluate(args, row) for row in rows]
    present = [v for v in values if v is not None]
    if function == "count":
        return len(present)
    if function == "count_distinct":
        return len(set(map(str, present)))
    if function in ("latest", "earliest"):
        # The value from the log event with the latest (earliest) @timestamp; a tie keeps the
        # one read last (first).
        timed = [(row.get("@timestamp") or 0, i, v) for i, (row, v) in enumerate(zip(rows, values))]
        if not timed:
            return None
        pick = max if function == "latest" else min
        return pick(timed, key=lambda t: (t[0], t[1]))[2]
    if function in ("sortsFirst", "sortsLast"):
        if not present:
            return None
        ordered = sorted(present, key=_SORT_KEY)
        return ordered[0] if function == "sortsFirst" else ordered[-1]
    if function in ("sum", "avg", "min", "max"):
        numbers = []
        for value in present:
            if not _is_number(value):
                raise ValueError(f"{function}() of {value!r}: not a number (use sortsFirst or "
                                 "sortsLast for text such as times)")
            numbers.append(float(value) if isinstance(value, str) else value)
        if not numbers:
            return None
        return {"sum": sum, "min": min, "max": max,
                "avg": lambda n: sum(n) / len(n)}[function](numbers)
    raise ValueError(f"stats function {function} is not supported here")


def _stats(args: list[Token], rows: list[dict]) -> tuple[list[dict], list[str]]:
    texts = [t.text if t.kind == "ident" else None for t in args]
    by = texts.index("by") if "by" in texts else len(args)
    aggregates = [_named(item) for item in _split_top(args[:by])]
    groups = [_named(item) for item in _split_top(args[by + 1:])]
    buckets: dict[tuple, list[dict]] = {}
    for row in rows:
        key = tuple(_evaluate(expr, row) for expr, _ in groups)
        buckets.setdefault(key, []).append(row)
    out = []
    for key, members in buckets.items():
        result = {name: value for (_, name), value in zip(groups, key)}
        for expr, name in aggregates:
            if len(expr) < 3 or expr[1].text != "(" or expr[-1].text != ")":
                raise ValueError(f"stats item {name!r} is not an aggregate function call")
            result[name] = _aggregate(expr[0].text, expr[2:-1], members)
        out.append(result)
    return out, [name for _, name in groups] + [name for _, name in aggregates]


def _sort(args: list[Token], rows: list[dict]) -> list[dict]:
    for item in reversed(_split_top(args)):
        descending = item[-1].text == "desc"
        expr = item[:-1] if item[-1].text in ("asc", "desc") else item
        rows = sorted(rows, key=lambda row: _SORT_KEY(_evaluate(expr, row)), reverse=descending)
    return rows


def _dedup(args: list[Token], rows: list[dict]) -> list[dict]:
    """Keeps the first row of each combination of values; a row missing one of them stays."""
    names = [item[0].text for item in _split_top(args)]
    seen = set()
    kept = []
    for row in rows:
        key = tuple(row.get(name) for name in names)
        if None in key:
            kept.append(row)
        elif key not in seen:
            seen.add(key)
            kept.append(row)
    return kept


def run(query: str, events: list[dict]) -> list[dict]:
    """The result rows of `query` over `events` (JSON log events, nested as CloudWatch stores
    them; `@timestamp` in milliseconds when the query needs it): the columns `fields`, `display`
    or `stats` name, or whole (flattened) events when the query names none."""
    rows = [flatten(event) for event in events]
    columns: list[str] = []
    sorted_yet = False
    for command in split_commands(tokenize(query)):
        head, args = command[0].text, command[1:]
        if head == "filter":
            rows = [row for row in rows if _evaluate(args, row)]
        elif head == "parse":
            if len(args) < 2 or args[1].kind != "regex":
                raise ValueError("only parse FIELD /regex/ is supported here")
            pattern = _regex(args[1].text)
            for row in rows:
                match = pattern.search(str(row.get(args[0].text, "")))
                for name in pattern.groupindex:
                    row[name] = match.group(name) if match else None
        elif head in ("fields", "display"):
            named = [_named(item) for item in _split_top(args)]
            for row in rows:
                for expr, name in named:
                    row[name] = _evaluate(expr, row)
            names = [name for _, name in named]
            columns = names if head == "display" else columns + [n for n in names if n not in columns]
        elif head == "stats":
            rows, columns = _stats(args, rows)
        elif head == "sort":
            rows = _sort(args, rows)
            sorted_yet = True
        elif head == "dedup":
            if not sorted_yet:  # documented: unsorted input is taken newest @timestamp first
                rows = sorted(rows, key=lambda row: _SORT_KEY(row.get("@timestamp")), reverse=True)
            rows = _dedup(args, rows)
        elif head == "limit":
            rows = rows[:int(args[0].text)]
        else:
            raise ValueError(f"command {head} is not supported here")
    if columns:
        return [{name: row.get(name) for name in columns} for row in rows]
    return rows
