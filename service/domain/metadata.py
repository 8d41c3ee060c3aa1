"""RAGFlow's `metadata_condition`: filter documents by their `meta_fields`, compiled to SQL with bound values.

`{"logic": "and"|"or", "conditions": [{"name", "comparison_operator", "value"}]}`. A metadata value may be a
scalar or a list (e.g. tags); a list matches when any of its elements does.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Numeric,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal_column,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Document
from service.domain.matching import contains, ends_with, starts_with
from service.errors import Invalid

NUMBER = r"^\s*-?\d+(\.\d+)?\s*$"
ORDERINGS = {">": "__gt__", "<": "__lt__", "≥": "__ge__", ">=": "__ge__", "≤": "__le__", "<=": "__le__"}
OPERATORS = (
    "is", "not is", "=", "≠", "!=", "contains", "not contains", "in", "not in",
    "start with", "end with", "empty", "not empty", *ORDERINGS,
)  # fmt: skip


def _any_value(name: str, test: Any) -> ColumnElement[bool]:
    """True when the document's value for `name` (or any element, for a list) passes `test(text)`."""
    field = Document.meta_fields[name]
    elements = func.jsonb_array_elements_text(field).table_valued("value").alias("element")
    element: ColumnElement[str] = literal_column("element.value")
    scalar = and_(func.jsonb_typeof(field) != "array", test(Document.meta_fields[name].astext))
    listed = and_(func.jsonb_typeof(field) == "array", exists(select(1).select_from(elements).where(test(element))))
    return func.coalesce(or_(scalar, listed), false())  # a missing key is "no match", never NULL: NOT must flip it


def _numeric(value: str, operator: str) -> Any:
    method = ORDERINGS.get(operator, "__eq__")
    # CASE, unlike AND, fixes the order: a non-numeric value becomes NULL (no match) instead of a failed cast.
    return lambda text: getattr(case((text.op("~")(NUMBER), cast(text, Numeric))), method)(float(value))


def _condition(name: str, operator: str, value: str) -> ColumnElement[bool]:
    present = and_(Document.meta_fields.has_key(name), Document.meta_fields[name].astext != "")
    if operator == "empty":
        return not_(present)
    if operator == "not empty":
        return present
    if operator in ("not is", "≠", "!=", "not contains", "not in"):
        positive = {"not is": "is", "≠": "is", "!=": "is", "not contains": "contains", "not in": "in"}[operator]
        return not_(_condition(name, positive, value))
    if operator in ORDERINGS or (operator == "=" and _is_number(value)):
        if not _is_number(value):
            raise Invalid(f"metadata_condition: `{operator}` needs a number, got {value!r}")
        return _any_value(name, _numeric(value, operator))
    tests = {
        "is": lambda text: text == value,
        "=": lambda text: text == value,
        "contains": lambda text: contains(text, value),
        "start with": lambda text: starts_with(text, value),
        "end with": lambda text: ends_with(text, value),
        "in": lambda text: text.in_([v.strip() for v in value.split(",")]),
    }
    return _any_value(name, tests[operator])


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def compile_condition(condition: Any) -> ColumnElement[bool]:
    """Validate and compile; raises Invalid naming what is wrong."""
    if not isinstance(condition, dict):
        raise Invalid("metadata_condition must be an object.")
    logic = condition.get("logic", "and")
    if logic not in ("and", "or"):
        raise Invalid("metadata_condition.logic must be `and` or `or`")
    parts = condition.get("conditions", [])
    if not isinstance(parts, list):
        raise Invalid("metadata_condition.conditions must be a list")
    compiled = []
    for part in parts:
        if not isinstance(part, dict) or not isinstance(part.get("name"), str):
            raise Invalid("each metadata condition needs a `name`")
        operator = part.get("comparison_operator", "is")
        if operator not in OPERATORS:
            raise Invalid(f"Unsupported comparison_operator {operator!r}; use one of: {', '.join(OPERATORS)}")
        value = part.get("value", "")
        compiled.append(_condition(part["name"], operator, value if isinstance(value, str) else str(value)))
    if not compiled:
        return true()
    return and_(*compiled) if logic == "and" else or_(*compiled)


async def matching_documents(db: AsyncSession, dataset_ids: list[str], condition: Any) -> list[str]:
    where = compile_condition(condition)
    query = select(Document.id).where(Document.dataset_id.in_(dataset_ids), where)
    return list(await db.scalars(query))


async def meta_fields_of(
    db: AsyncSession, document_ids: set[str], fields: list[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Document id → its `meta_fields` (only the keys in `fields`, when given), for the ids that exist."""
    if not document_ids:
        return {}
    rows = await db.execute(select(Document.id, Document.meta_fields).where(Document.id.in_(document_ids)))
    found: dict[str, dict[str, Any]] = {}
    for document_id, meta in rows:
        meta = meta or {}
        found[document_id] = {key: meta[key] for key in fields if key in meta} if fields is not None else dict(meta)
    return found
