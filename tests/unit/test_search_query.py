"""The search_query language: parser, renderer and compiler (no database: compiled SQL is inspected)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    exists,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import ColumnElement

from service.domain.search_query import (
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_TERMS,
    And,
    Field,
    Node,
    Op,
    Or,
    SearchQueryError,
    Term,
    compare,
    compile_query,
    like_pattern,
    parse,
    parse_datetime_range,
    render,
)
from service.errors import Invalid

metadata = MetaData()
messages = Table(
    "messages",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("input_text", Text),
    Column("output_text", Text),
    Column("input_token_count", Integer),
    Column("big_count", BigInteger),
    Column("small_count", SmallInteger),
    Column("created_at", DateTime(timezone=True)),
)
tags = Table("tags", metadata, Column("id", String(32), primary_key=True), Column("name", String(255)))
message_tags = Table("message_tags", metadata, Column("message_id", String(32)), Column("tag_id", String(32)))
history_metadata = Table(
    "history_metadata", metadata, Column("message_id", String(32)), Column("key", Text), Column("value", Text)
)

JST = timezone(timedelta(hours=9))
DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


def tag_name(op: str, value: str, raw: str) -> ColumnElement[bool]:
    joined = message_tags.join(tags, tags.c.id == message_tags.c.tag_id)
    condition = compare(tags.c.name, op, value)
    return exists(select(1).select_from(joined).where(message_tags.c.message_id == messages.c.id, condition))


def metadata_key(op: str, value: str, raw: str) -> ColumnElement[bool]:
    condition = compare(history_metadata.c.key, op, value)
    return exists(select(1).where(history_metadata.c.message_id == messages.c.id, condition))


FIELDS = {
    "history_id": Field("id", messages.c.id),
    "input_text": Field("text", messages.c.input_text, wildcard=True),
    "output_text": Field("text", messages.c.output_text, wildcard=True),
    "plain_text": Field("text", messages.c.output_text),
    "input_token_count": Field("int", messages.c.input_token_count),
    "big_count": Field("int", messages.c.big_count),
    "small_count": Field("int", messages.c.small_count),
    "created_at": Field("datetime", messages.c.created_at),
    "tag_name": Field("custom", build=tag_name, wildcard=True),
    "metadata_key": Field("custom", build=metadata_key),
}


def sql(query: str, fields: dict[str, Field] = FIELDS) -> tuple[str, dict[str, Any]]:
    compiled = compile_query(query, fields).compile(dialect=DIALECT)
    return str(compiled), dict(compiled.params)


def t(key: str, value: str, op: str = "=") -> Term:
    return Term(key, op, value, "*" in value)  # type: ignore[arg-type]


def error(query: str, fields: dict[str, Field] = FIELDS) -> SearchQueryError:
    with pytest.raises(SearchQueryError) as caught:
        compile_query(query, fields)
    return caught.value


# ---------------------------------------------------------------- parser


def test_single_term_and_positions() -> None:
    node = parse("  input_token_count:>=10")
    assert node == t("input_token_count", "10", ">=")
    assert isinstance(node, Term)
    assert (node.position, node.op_position, node.value_position) == (2, 20, 22)


@pytest.mark.parametrize("op", [">=", "<=", ">", "<"])
def test_every_comparison_operator(op: str) -> None:
    assert parse(f"n:{op}5") == t("n", "5", op)


def test_and_binds_tighter_than_or() -> None:
    a, b, c = t("a", "1"), t("b", "2"), t("c", "3")
    assert parse("a:1 OR b:2 AND c:3") == Or((a, And((b, c))))
    assert parse("a:1 AND b:2 OR c:3") == Or((And((a, b)), c))
    assert parse("a:1 AND b:2 AND c:3") == And((a, b, c))
    assert parse("a:1 OR b:2 OR c:3") == Or((a, b, c))


def test_parentheses_group() -> None:
    a, b, c = t("a", "1"), t("b", "2"), t("c", "3")
    assert parse("(a:1 OR b:2) AND c:3") == And((Or((a, b)), c))
    assert parse("((a:1))") == a
    assert parse("(a:1)AND(b:2 OR (c:3))") == And((a, Or((b, c))))
    assert parse("(a:1 AND b:2) AND c:3") == And((And((a, b)), c))


def test_operators_are_case_insensitive_but_must_be_words() -> None:
    assert parse("a:1 and b:2 Or c:3") == Or((And((t("a", "1"), t("b", "2"))), t("c", "3")))
    assert parse("and:1 AND or:2") == And((t("and", "1"), t("or", "2")))
    assert parse("a:AND") == t("a", "AND")


def test_whitespace_is_free_between_tokens() -> None:
    assert parse("\t( a:1\nAND  b:2 )  ") == And((t("a", "1"), t("b", "2")))


def test_quoted_values() -> None:
    assert parse('input_text:"hello world"') == t("input_text", "hello world")
    assert parse('input_text:"say \\"hi\\""') == t("input_text", 'say "hi"')
    assert parse('input_text:"a AND b) OR (c:d"') == t("input_text", "a AND b) OR (c:d")
    assert parse('input_text:"back\\\\slash \\n"') == t("input_text", "back\\slash \\n")
    assert parse('input_text:""') == t("input_text", "")
    assert parse('n:>="10"') == t("n", "10", ">=")
    assert parse('n:">=10"') == t("n", ">=10")


def test_bare_values_may_hold_colons_and_symbols() -> None:
    assert parse("url:https://x.example/a?b=c") == t("url", "https://x.example/a?b=c")
    assert parse("created_at:2024-09-17T00:00:00+09:00") == t("created_at", "2024-09-17T00:00:00+09:00")
    assert parse("k:日本語") == t("k", "日本語")


def test_wildcard_flag() -> None:
    assert parse('input_text:"ABEJA*"') == Term("input_text", "=", "ABEJA*", True)
    assert parse("input_text:ABEJA") == Term("input_text", "=", "ABEJA", False)


def test_form_decoded_plus_in_a_bare_datetime_is_restored() -> None:
    assert parse("created_at:>=2024-09-17T00:00:00 09:00") == t("created_at", "2024-09-17T00:00:00+09:00", ">=")
    assert parse("(created_at:2024-09-17T00:00 0900)") == t("created_at", "2024-09-17T00:00+0900")
    node = parse("created_at:>=2024-09-17T00:00:00 09:00 AND n:1")
    assert node == And((t("created_at", "2024-09-17T00:00:00+09:00", ">="), t("n", "1")))


def test_empty_query_is_an_empty_and() -> None:
    assert parse("") == And(())
    assert parse(" \t\n") == And(())
    assert render(And(())) == ""


@pytest.mark.parametrize(
    ("query", "position", "fragment"),
    [
        ("a:1 b:2", 4, "unexpected 'b:2' at position 4; expected AND or OR between terms"),
        ("a:1 AND b:2)", 11, "unexpected ')' at position 11; expected AND, OR or end of query"),
        ("(a:1 AND b:2", 12, "expected AND, OR or ')' to close the '(' at position 0"),
        ("()", 1, "unexpected ')' at position 1; expected a term (key:value)"),
        ("a:", 2, "unexpected end of query at position 2; expected a value after 'a:'"),
        ("n:>= 5", 4, "unexpected whitespace at position 4; expected a value after 'n:>='"),
        ("a :1", 0, "unexpected 'a' at position 0; expected a term (key:value)"),
        ('a:"open', 2, "unterminated quoted value at position 2"),
        ("1234567890125", 0, "unexpected '1234567890125' at position 0; expected a term (key:value)"),
        ("a:1 AND", 7, "unexpected end of query at position 7; expected a term (key:value)"),
        ("a:1 OR OR b:2", 7, "unexpected 'OR' at position 7"),
        ("NOT a:1", 0, "unexpected 'NOT' at position 0"),
        ('a:1 "b"', 4, "unexpected '\"' at position 4; expected AND, OR or end of query"),
        ('a:x"y', 3, "unexpected '\"' at position 3"),
        ("a:1 AND (b:2 OR c:3))", 20, "unexpected ')' at position 20"),
    ],
)
def test_syntax_errors_name_the_position(query: str, position: int, fragment: str) -> None:
    with pytest.raises(SearchQueryError) as caught:
        parse(query)
    assert caught.value.position == position
    assert caught.value.message.startswith("search_query: ")
    assert fragment in caught.value.message


def test_error_is_an_invalid_with_the_message() -> None:
    problem = error("a:1)")
    assert isinstance(problem, Invalid)
    assert str(problem) == problem.message


def test_limits() -> None:
    deep = "(" * (MAX_DEPTH + 1) + "a:1" + ")" * (MAX_DEPTH + 1)
    assert "nested deeper" in error(deep).message
    assert parse("(" * MAX_DEPTH + "a:1" + ")" * MAX_DEPTH) == t("a", "1")
    assert "more than" in error(" OR ".join(["a:1"] * (MAX_TERMS + 1))).message
    assert "longer than" in error("a:" + "x" * MAX_LENGTH).message


def test_render_round_trips_awkward_values() -> None:
    for value in ["", "a b", 'q"q', "back\\", ">=5", "=x", "<", "(x)", "日本", "*"]:
        term = t("k", value, ">")
        assert parse(render(term)) == term


# ---------------------------------------------------------------- compiler


def test_seed_history_example() -> None:
    query = 'input_text:"ABEJA*" AND input_token_count:>=10 AND metadata_key:metadata1 AND metadata_key:metadata2'
    text, params = sql(query)
    assert "messages.input_text ILIKE %(input_text_1)s" in text
    assert "ESCAPE '\\'" in text
    assert "messages.input_token_count >= %(input_token_count_1)s" in text
    assert text.count("EXISTS") == 2
    assert params["input_text_1"] == "ABEJA%"
    assert params["input_token_count_1"] == 10
    assert {"metadata1", "metadata2"} <= set(params.values())
    for value in ("ABEJA", "metadata1", "metadata2", "10"):
        assert value not in text


def test_seed_dataset_items_example() -> None:
    fields = {
        "input_values": Field("text", messages.c.input_text, wildcard=True),
        "created_at": Field("datetime", messages.c.created_at),
        "metadata_keys": Field("custom", build=metadata_key),
    }
    query = 'input_values:"ABEJA*" AND created_at:>="2024-09-17T00:00:00" AND metadata_keys:metadata1'
    text, params = sql(query, fields)
    assert "messages.created_at >= %(created_at_1)s" in text
    assert params["created_at_1"] == datetime(2024, 9, 17, tzinfo=UTC)
    assert "2024" not in text


def test_text_exact_and_wildcard() -> None:
    assert sql("input_text:ABEJA") == ("messages.input_text = %(input_text_1)s::VARCHAR", {"input_text_1": "ABEJA"})
    text, params = sql("output_text:*a*b**")
    assert "ILIKE" in text
    assert params == {"output_text_1": "%a%b%"}


def test_wildcard_is_literal_on_fields_without_it() -> None:
    assert sql("plain_text:a*")[1] == {"output_text_1": "a*"}
    assert sql("history_id:12*")[1] == {"id_1": "12*"}


def test_like_metacharacters_stay_literal() -> None:
    assert like_pattern("50%_\\*") == "50\\%\\_\\\\%"
    assert sql('input_text:"50%_off*"')[1] == {"input_text_1": "50\\%\\_off%"}
    assert sql('input_text:"50%"')[1] == {"input_text_1": "50%"}  # no `*`: plain equality, `%` untouched


def test_keys_are_case_sensitive_and_unknown_keys_are_listed() -> None:
    problem = error("input_text:x OR foo:1")
    assert problem.position == 16
    assert problem.message.startswith(
        "search_query: unknown key 'foo' at position 16; known keys: big_count, created_at"
    )
    assert error("Input_text:x").message.startswith("search_query: unknown key 'Input_text'")


@pytest.mark.parametrize("op", [">=", "<=", ">", "<"])
def test_comparisons_are_refused_on_text_id_and_custom(op: str) -> None:
    for key in ("input_text", "history_id", "tag_name"):
        problem = error(f"a_long:1 OR {key}:{op}x", {**FIELDS, "a_long": FIELDS["history_id"]})
        assert problem.message == f"search_query: '{op}' is not allowed for {key} at position {12 + len(key) + 1}"


@pytest.mark.parametrize(("op", "sql_op"), [("", "="), (">=", ">="), ("<=", "<="), (">", ">"), ("<", "<")])
def test_int_operators(op: str, sql_op: str) -> None:
    text, params = sql(f"input_token_count:{op}-7")
    assert f"messages.input_token_count {sql_op} %(input_token_count_1)s" in text
    assert params == {"input_token_count_1": -7}


@pytest.mark.parametrize(
    ("query", "position", "fragment"),
    [
        ("input_token_count:abc", 18, "invalid number 'abc' for input_token_count"),
        ("input_token_count:>=1.5", 20, "invalid number '1.5'"),
        ("input_token_count:1_000", 18, "invalid number '1_000'"),
        ("input_token_count:١٢", 18, "invalid number"),
        ("input_token_count:2147483648", 18, "out of range"),
        ("small_count:40000", 12, "out of range"),
        ("big_count:" + "9" * 40, 10, "invalid number"),
    ],
)
def test_bad_numbers(query: str, position: int, fragment: str) -> None:
    problem = error(query)
    assert problem.position == position
    assert fragment in problem.message


def test_number_ranges_follow_the_column_type() -> None:
    assert sql("big_count:2147483648")[1] == {"big_count_1": 2147483648}
    assert sql("input_token_count:+2147483647")[1] == {"input_token_count_1": 2147483647}


def _bounds(query: str) -> tuple[str, list[datetime]]:
    text, params = sql(query)
    return text, [params[k] for k in sorted(params)]


def test_a_bare_date_names_the_whole_utc_day() -> None:
    day, next_day = datetime(2024, 9, 17, tzinfo=UTC), datetime(2024, 9, 18, tzinfo=UTC)
    text, values = _bounds("created_at:2024-09-17")
    assert "created_at >= %(created_at_1)s" in text and "created_at < %(created_at_2)s" in text
    assert values == [day, next_day]
    cases = {">=": (">=", day), ">": (">=", next_day), "<": ("<", day), "<=": ("<", next_day)}
    for op, (sql_op, bound) in cases.items():
        text, values = _bounds(f"created_at:{op}2024-09-17")
        assert text == f"messages.created_at {sql_op} %(created_at_1)s::TIMESTAMP WITH TIME ZONE"
        assert values == [bound]


def test_datetimes_name_their_least_significant_unit() -> None:
    start = datetime(2024, 9, 17, 10, 0, tzinfo=JST)
    assert parse_datetime_range("2024-09-17T10+09:00") == (start, start + timedelta(hours=1))
    assert parse_datetime_range("2024-09-17T10:00+09:00") == (start, start + timedelta(minutes=1))
    assert parse_datetime_range("2024-09-17T10:00:00+09:00") == (start, start + timedelta(seconds=1))
    assert parse_datetime_range("2024-09-17T10:00:00.000+09:00") == (start, start + timedelta(microseconds=1))
    assert parse_datetime_range("2024-09-17T01:00:00Z")[0] == start
    assert parse_datetime_range("2024-09-17T01:00:00")[0] == start  # naive is UTC


def test_the_last_day_representable_is_still_a_valid_date() -> None:
    start, end = parse_datetime_range("9999-12-31")
    assert start == datetime(9999, 12, 31, tzinfo=UTC)
    assert end == datetime.max.replace(tzinfo=UTC)
    assert parse_datetime_range("9999-12-31T23:59:59.999999")[1] == datetime.max.replace(tzinfo=UTC)


def test_plus_offset_arriving_as_a_space() -> None:
    want = datetime(2024, 9, 17, tzinfo=JST)
    assert parse_datetime_range("2024-09-17T00:00:00 09:00")[0] == want
    assert parse_datetime_range("2024-09-17T00:00:00.25 0900")[0] == want + timedelta(microseconds=250000)
    assert parse_datetime_range("2024-09-17 10:00")[0] == datetime(2024, 9, 17, 10, tzinfo=UTC)  # a space separator
    for query in ('created_at:>="2024-09-17T00:00:00 09:00"', "created_at:>=2024-09-17T00:00:00 09:00"):
        assert sql(query)[1] == {"created_at_1": want}


@pytest.mark.parametrize("value", ["2024-13-01", "yesterday", "2024-09-17T25:00", "0000-01-01", "2024-09-17T10:00 9"])
def test_bad_dates(value: str) -> None:
    problem = error(f'created_at:>"{value}"')
    assert problem.position == 12
    assert problem.message == (
        f"search_query: invalid date {value!r} for created_at at position 12; expected an ISO 8601 date or datetime"
    )


def test_custom_fields_get_op_pattern_and_raw() -> None:
    calls: list[tuple[str, str, str]] = []

    def build(op: str, value: str, raw: str) -> ColumnElement[bool]:
        calls.append((op, value, raw))
        return compare(tags.c.name, op, value)

    fields = {"w": Field("custom", build=build, wildcard=True), "p": Field("custom", build=build)}
    compile_query('w:"a_*" AND w:b AND p:c*', fields)
    assert calls == [("like", "a\\_%", "a_*"), ("=", "b", "b"), ("=", "c*", "c*")]
    assert "EXISTS (SELECT 1" in sql("tag_name:red*")[0]


def test_custom_builders_may_reject_a_value() -> None:
    def build(op: str, value: str, raw: str) -> ColumnElement[bool]:
        raise ValueError("ids are digits")

    problem = error("tag_id:abc", {"tag_id": Field("custom", build=build)})
    assert problem.message == "search_query: invalid value 'abc' for tag_id at position 7; ids are digits"


def test_empty_query_compiles_to_true() -> None:
    assert sql("") == ("true", {})
    assert sql("   ") == ("true", {})


def test_boolean_structure_is_kept() -> None:
    text, _ = sql("history_id:a OR history_id:b AND (history_id:c OR history_id:d)")
    assert text.count(" OR ") == 2 and text.count(" AND ") == 1
    assert "(messages.id = %(id_3)s::VARCHAR OR messages.id = %(id_4)s::VARCHAR)" in text


def test_field_configuration_is_checked() -> None:
    with pytest.raises(ValueError):
        Field("custom")
    with pytest.raises(ValueError):
        Field("text")
    with pytest.raises(ValueError):
        Field("int", messages.c.input_token_count, wildcard=True)
    with pytest.raises(ValueError):
        compare(messages.c.id, "!=", "x")


def test_injection_is_one_bound_parameter() -> None:
    payload = "x' OR 1=1; DROP TABLE messages; --"
    text, params = sql(f'input_text:"{payload}"')
    assert text == "messages.input_text = %(input_text_1)s::VARCHAR"
    assert params == {"input_text_1": payload}


# ---------------------------------------------------------------- properties

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
terms = st.builds(
    lambda key, op, value: Term(key, op, value, "*" in value),
    keys,
    st.sampled_from(["=", ">", ">=", "<", "<="]),
    st.text(max_size=12),
)


def _compound(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    items = st.lists(children, min_size=2, max_size=3).map(tuple)
    return st.builds(And, items) | st.builds(Or, items)


trees = st.recursive(terms, _compound, max_leaves=8)


@FAST
@given(trees)
def test_render_then_parse_is_identity(tree: Node) -> None:
    assert parse(render(tree)) == tree


TOKENS = [
    "input_text:",
    "input_token_count:",
    "created_at:",
    "tag_name:",
    "foo:",
    ">=",
    "<",
    ">",
    "AND",
    "or",
    " ",
    "(",
    ")",
    '"',
    "\\",
    "*",
    "%",
    "1",
    "x",
    "2024-09-17",
    "T00:00:00",
    "+09:00",
    " 09:00",
    ":",
]
query_text = st.text(max_size=60) | st.lists(st.sampled_from(TOKENS), max_size=20).map("".join)


@FAST
@given(query_text)
def test_arbitrary_text_only_ever_raises_search_query_error(query: str) -> None:
    try:
        expression = compile_query(query, FIELDS)
    except SearchQueryError as problem:
        assert 0 <= problem.position <= len(query)
        assert problem.message.startswith("search_query: ")
        return
    expression.compile(dialect=DIALECT)


@FAST
@given(st.text(max_size=40).filter(lambda v: "*" not in v))
def test_any_value_is_exactly_one_bound_parameter(value: str) -> None:
    query = render(Term("input_text", "=", value, False))
    text, params = sql(query)
    assert text == "messages.input_text = %(input_text_1)s::VARCHAR"
    assert params == {"input_text_1": value}


VALID_VALUES: dict[str, st.SearchStrategy[str]] = {
    "history_id": st.text(max_size=10),
    "input_text": st.text(max_size=10),
    "plain_text": st.text(max_size=10),
    "input_token_count": st.integers(-(2**31), 2**31 - 1).map(str),
    "created_at": st.datetimes(timezones=st.timezones() | st.none()).map(lambda d: d.isoformat()) | st.dates().map(str),
    "tag_name": st.text(max_size=10),
}
COMPARABLE = {"input_token_count", "created_at"}


@st.composite
def valid_terms(draw: st.DrawFn) -> Term:
    key = draw(st.sampled_from(sorted(VALID_VALUES)))
    ops: list[Op] = ["=", ">", ">=", "<", "<="] if key in COMPARABLE else ["="]
    op = draw(st.sampled_from(ops))
    value = draw(VALID_VALUES[key])
    return Term(key, op, value, "*" in value)


@FAST
@given(st.recursive(valid_terms(), _compound, max_leaves=6))
def test_well_formed_queries_compile_with_every_value_bound(tree: Node) -> None:
    compiled = compile_query(render(tree), FIELDS).compile(dialect=DIALECT)
    assert len(compiled.params) >= _count_terms(tree)


def _count_terms(node: Node) -> int:
    return 1 if isinstance(node, Term) else sum(_count_terms(item) for item in node.items)
