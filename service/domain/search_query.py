"""The OpsBee LLM `search_query` language: a parser, a renderer and a compiler to SQLAlchemy expressions.

Grammar (whitespace separates tokens; none is allowed inside a term)::

    query    := or_expr | <empty>
    or_expr  := and_expr (OR and_expr)*
    and_expr := unary (AND unary)*
    unary    := '(' or_expr ')' | term
    term     := KEY ':' [op] value
    op       := '>=' | '<=' | '>' | '<'
    KEY      := [A-Za-z_][A-Za-z0-9_]*
    value    := '"' (any char; '\\"' is a quote, '\\\\' a backslash, any other '\\' is literal)* '"'
              | bare            (one or more chars other than whitespace, '(', ')' and '"')

- `AND` binds tighter than `OR`; `AND` / `OR` are case-insensitive (`and`, `Or` work too). Keys are
  case-sensitive. Adjacent terms without `AND`/`OR` are an error (the seed always spells the operator).
- `*` in a value is a wildcard only for fields declared with `wildcard=True`; it then matches any run of
  characters, case-insensitively (ILIKE). A literal `%`, `_` or `\\` in such a value stays literal. Without a
  `*` (or on other fields) a value matches exactly (`=`, case-sensitive).
- Comparison operators are accepted on `int` and `datetime` fields only.
- A datetime value is ISO 8601 (`2024-09-17`, `2024-09-17T10:00`, `2024-09-17T10:00:00.5+09:00`, `...Z`);
  without an offset it is UTC. It names a whole unit: a day, an hour, a minute, a second (or one microsecond
  when a fraction is given). `=` matches the whole unit, `>=` its start onwards, `>` after its end, `<` before
  its start, `<=` up to its end. So `created_at:2024-09-17` is that whole (UTC) day, and a timestamp copied
  from a response (seconds precision) matches the row it came from.
- Form decoding turns the `+` of an offset into a space; `2024-09-17T00:00:00 09:00` is read as `+09:00`,
  quoted or bare.

Every value reaches SQL as a bound parameter. Errors are `SearchQueryError` (an `Invalid`, so a 400) whose
message names the 0-based character position and what was expected.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import BigInteger, SmallInteger, and_, or_, true
from sqlalchemy.sql.elements import ColumnElement

from service.errors import Invalid

Op = Literal["=", ">", ">=", "<", "<="]
Kind = Literal["id", "text", "int", "datetime", "custom"]
Builder = Callable[[str, str, str], ColumnElement[bool]]

MAX_LENGTH = 10_000
MAX_DEPTH = 32
MAX_TERMS = 100

_OPS: tuple[Op, ...] = (">=", "<=", ">", "<")  # longest first
_ALL_OPS: frozenset[str] = frozenset({"=", *_OPS})
_ALLOWED_OPS: dict[str, frozenset[str]] = {
    "id": frozenset({"="}),
    "text": frozenset({"="}),
    "int": _ALL_OPS,
    "datetime": _ALL_OPS,
    "custom": frozenset({"="}),
}
_COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEYWORD = re.compile(r"(AND|OR)(?=[\s()]|$)", re.IGNORECASE)
_BARE_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T[0-9:.,]+")
_SPACE_OFFSET = re.compile(r" (\d{2}(?::?\d{2})?)(?=[\s()]|$)")
_QUOTED_SPACE_OFFSET = re.compile(r"(.*[T ]\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d+)?)?)?) (\d{2}(?::?\d{2})?)")
_TIME = re.compile(r"[T ]\d{2}(?P<m>:?\d{2}(?P<s>:?\d{2}(?P<f>[.,]\d+)?)?)?")
_INTEGER = re.compile(r"[+-]?[0-9]{1,30}")


class SearchQueryError(Invalid):
    """A malformed or unsupported search_query; `position` is the 0-based character offset of the problem."""

    def __init__(self, problem: str, position: int, hint: str = "") -> None:
        super().__init__(f"search_query: {problem} at position {position}" + (f"; {hint}" if hint else ""))
        self.position = position


@dataclass(frozen=True)
class Term:
    """`key:[op]value`. `wildcard` says the value holds a `*`; `position` is where the key starts."""

    key: str
    op: Op
    value: str
    wildcard: bool
    position: int = field(default=0, compare=False)

    @property
    def op_position(self) -> int:
        return self.position + len(self.key) + 1

    @property
    def value_position(self) -> int:
        return self.op_position + (0 if self.op == "=" else len(self.op))


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


Node = Term | And | Or


@dataclass(frozen=True)
class Field:
    """How one key compiles.

    `id` / `text` / `int` / `datetime` compare `column` with the value. `custom` calls
    `build(op, value, raw)`: `op` is `"="`, or `"like"` when the field has `wildcard=True` and the value holds
    a `*`; `value` is then an ILIKE pattern (`*` → `%`, `%` `_` `\\` escaped with `\\`), otherwise the value
    itself; `raw` is always the value as written (quotes and escapes removed). `compare(column, op, value)`
    builds the matching condition for any column. `build` may raise `ValueError` to reject a value.
    """

    kind: Kind
    column: Any = None
    wildcard: bool = False
    build: Builder | None = None

    def __post_init__(self) -> None:
        if self.kind == "custom" and self.build is None:
            raise ValueError("a custom field needs build")
        if self.kind != "custom" and self.column is None:
            raise ValueError(f"a {self.kind} field needs column")
        if self.wildcard and self.kind not in ("text", "custom"):
            raise ValueError("only text and custom fields take wildcards")


# ---------------------------------------------------------------- parsing


def _is_delimiter(char: str) -> bool:
    return char.isspace() or char in '()"'


def _describe(text: str, pos: int) -> str:
    if pos >= len(text):
        return "end of query"
    if _is_delimiter(text[pos]):
        return repr(text[pos]) if not text[pos].isspace() else "whitespace"
    end = pos
    while end < len(text) and not _is_delimiter(text[end]):
        end += 1
    word = text[pos:end]
    return repr(word if len(word) <= 24 else word[:24] + "…")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0
        self.terms = 0

    def fail(self, expected: str) -> SearchQueryError:
        return SearchQueryError(f"unexpected {_describe(self.text, self.pos)}", self.pos, f"expected {expected}")

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def keyword(self, word: str) -> bool:
        """Consumes `word` (AND / OR, any case) if it comes next."""
        self.skip_space()
        match = _KEYWORD.match(self.text, self.pos)
        if match is None or match.group(1).upper() != word:
            return False
        self.pos = match.end()
        return True

    def query(self) -> Node:
        self.skip_space()
        if self.pos == len(self.text):
            return And(())
        node = self.or_expr()
        self.skip_space()
        if self.pos < len(self.text):
            raise self.fail(self.after_term_expectation())
        return node

    def after_term_expectation(self) -> str:
        if self.text[self.pos] == ")":
            return "AND, OR or end of query (no '(' to close)"
        key = _KEY.match(self.text, self.pos)
        if key is not None and self.text.startswith(":", key.end()):
            return "AND or OR between terms"
        return "AND, OR or end of query"

    def or_expr(self) -> Node:
        items = [self.and_expr()]
        while self.keyword("OR"):
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expr(self) -> Node:
        items = [self.unary()]
        while self.keyword("AND"):
            items.append(self.unary())
        return items[0] if len(items) == 1 else And(tuple(items))

    def unary(self) -> Node:
        self.skip_space()
        if not self.text.startswith("(", self.pos):
            return self.term()
        opened = self.pos
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise SearchQueryError(f"parentheses nested deeper than {MAX_DEPTH}", opened)
        self.pos += 1
        node = self.or_expr()
        self.skip_space()
        if not self.text.startswith(")", self.pos):
            raise self.fail(f"AND, OR or ')' to close the '(' at position {opened}")
        self.pos += 1
        self.depth -= 1
        return node

    def term(self) -> Term:
        start = self.pos
        key = _KEY.match(self.text, start)
        if key is None or not self.text.startswith(":", key.end()):
            raise self.fail("a term (key:value)")
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise SearchQueryError(f"more than {MAX_TERMS} terms", start)
        self.pos = key.end() + 1
        op = self.op()
        value = self.value(f"a value after '{key.group()}:{'' if op == '=' else op}'")
        return Term(key.group(), op, value, "*" in value, start)

    def op(self) -> Op:
        for op in _OPS:
            if self.text.startswith(op, self.pos):
                self.pos += len(op)
                return op
        return "="

    def value(self, expected: str) -> str:
        if self.text.startswith('"', self.pos):
            return self.quoted()
        start = self.pos
        while self.pos < len(self.text) and not _is_delimiter(self.text[self.pos]):
            self.pos += 1
        if self.pos == start:
            raise self.fail(expected)
        return self.space_offset(self.text[start : self.pos])

    def space_offset(self, bare: str) -> str:
        """`2024-09-17T00:00:00 09:00` (a form-decoded `+`) → `2024-09-17T00:00:00+09:00`."""
        if not _BARE_DATETIME.fullmatch(bare):
            return bare
        match = _SPACE_OFFSET.match(self.text, self.pos)
        if match is None:
            return bare
        self.pos = match.end()
        return f"{bare}+{match.group(1)}"

    def quoted(self) -> str:
        opened = self.pos
        self.pos += 1
        chars: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == '"':
                self.pos += 1
                return "".join(chars)
            if char == "\\" and self.pos + 1 < len(self.text) and self.text[self.pos + 1] in '"\\':
                self.pos += 1
                char = self.text[self.pos]
            chars.append(char)
            self.pos += 1
        raise SearchQueryError("unterminated quoted value", opened, "expected a closing '\"'")


def parse(query: str) -> Node:
    """The AST of `query`; an empty/blank query is `And(())` (matches everything). Raises SearchQueryError."""
    if len(query) > MAX_LENGTH:
        raise SearchQueryError(f"query longer than {MAX_LENGTH} characters", MAX_LENGTH)
    return _Parser(query).query()


# ---------------------------------------------------------------- rendering


def _render_value(value: str) -> str:
    bare = value and not any(_is_delimiter(c) for c in value) and value[0] not in "<>="
    if bare:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(node: Node) -> str:
    """Query text that parses back to `node` (compound children are always parenthesised)."""
    if isinstance(node, Term):
        return f"{node.key}:{'' if node.op == '=' else node.op}{_render_value(node.value)}"
    joiner = " AND " if isinstance(node, And) else " OR "
    return joiner.join(render(i) if isinstance(i, Term) else f"({render(i)})" for i in node.items)


# ---------------------------------------------------------------- compiling


def like_pattern(value: str) -> str:
    """An ILIKE pattern (escape character `\\`) where `*` matches anything and all else is literal."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return re.sub(r"\*+", "%", escaped)


def compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    """`column <op> value` with `value` bound; `like` is a case-insensitive match against a `like_pattern`."""
    if op != "like" and op not in _COMPARISONS:
        raise ValueError(f"unknown operator {op!r}")
    condition: ColumnElement[bool] = (
        column.ilike(value, escape="\\") if op == "like" else _COMPARISONS[op](column, value)
    )
    return condition


def _int_limit(column: Any) -> int:
    column_type = getattr(column, "type", None)
    if isinstance(column_type, BigInteger):
        return 2**63
    return 2**15 if isinstance(column_type, SmallInteger) else 2**31


def _compile_int(term: Term, spec: Field) -> ColumnElement[bool]:
    if not _INTEGER.fullmatch(term.value):
        raise SearchQueryError(f"invalid number {term.value!r} for {term.key}", term.value_position)
    number = int(term.value)
    limit = _int_limit(spec.column)
    if not -limit <= number < limit:
        raise SearchQueryError(f"number {term.value!r} out of range for {term.key}", term.value_position)
    return compare(spec.column, term.op, number)


def _unit(text: str) -> timedelta:
    """The span a datetime value names: its least significant component."""
    match = _TIME.search(text)
    if match is None or match["f"]:
        return timedelta(microseconds=1)
    if match["s"]:
        return timedelta(seconds=1)
    return timedelta(minutes=1) if match["m"] else timedelta(hours=1)


def _end(start: datetime, unit: timedelta) -> datetime:
    """`start + unit`, or the last representable moment when that is past year 9999."""
    try:
        return start + unit
    except OverflowError:
        return datetime.max.replace(tzinfo=start.tzinfo)


def parse_datetime_range(text: str) -> tuple[datetime, datetime]:
    """[start, end) named by an ISO 8601 date or datetime (naive = UTC). Raises ValueError."""
    text = text.strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return start, _end(start, timedelta(days=1))
    text = _QUOTED_SPACE_OFFSET.sub(r"\1+\2", text) if _QUOTED_SPACE_OFFSET.fullmatch(text) else text
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment, _end(moment, _unit(text))


def _compile_datetime(term: Term, spec: Field) -> ColumnElement[bool]:
    try:
        start, end = parse_datetime_range(term.value)
    except ValueError:
        raise SearchQueryError(
            f"invalid date {term.value!r} for {term.key}", term.value_position, "expected an ISO 8601 date or datetime"
        ) from None
    column = spec.column
    if term.op == "=":
        return and_(column >= start, column < end)
    bounds: dict[str, ColumnElement[bool]] = {
        ">=": column >= start,
        ">": column >= end,
        "<": column < start,
        "<=": column < end,
    }
    return bounds[term.op]


def _compile_text(term: Term, spec: Field) -> ColumnElement[bool]:
    if spec.wildcard and term.wildcard:
        return compare(spec.column, "like", like_pattern(term.value))
    return compare(spec.column, "=", term.value)


def _compile_custom(term: Term, spec: Field) -> ColumnElement[bool]:
    like = spec.wildcard and term.wildcard
    assert spec.build is not None
    try:
        return spec.build("like" if like else term.op, like_pattern(term.value) if like else term.value, term.value)
    except ValueError as error:
        raise SearchQueryError(
            f"invalid value {term.value!r} for {term.key}", term.value_position, str(error)
        ) from None


_COMPILERS: dict[str, Callable[[Term, Field], ColumnElement[bool]]] = {
    "id": _compile_text,
    "text": _compile_text,
    "int": _compile_int,
    "datetime": _compile_datetime,
    "custom": _compile_custom,
}


def _compile_term(term: Term, fields: Mapping[str, Field]) -> ColumnElement[bool]:
    spec = fields.get(term.key)
    if spec is None:
        known = ", ".join(sorted(fields))
        raise SearchQueryError(f"unknown key {term.key!r}", term.position, f"known keys: {known}")
    if term.op not in _ALLOWED_OPS[spec.kind]:
        raise SearchQueryError(f"{term.op!r} is not allowed for {term.key}", term.op_position)
    return _COMPILERS[spec.kind](term, spec)


def compile_node(node: Node, fields: Mapping[str, Field]) -> ColumnElement[bool]:
    """The SQL condition for a parsed query; an empty `And` (the empty query) is `true()`."""
    if isinstance(node, Term):
        return _compile_term(node, fields)
    if not node.items:
        return true()
    parts = [compile_node(item, fields) for item in node.items]
    return and_(*parts) if isinstance(node, And) else or_(*parts)


def compile_query(query: str, fields: Mapping[str, Field]) -> ColumnElement[bool]:
    """Parses `query` and compiles it against `fields` (key → Field). Raises SearchQueryError."""
    return compile_node(parse(query), fields)
