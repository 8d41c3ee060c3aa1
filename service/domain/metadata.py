"""Document metadata (`meta_fields`) as RAGFlow serves it: the `metadata_condition` filter, compiled to SQL
with bound values; a dataset's auto-metadata configuration; and the summary and flattened views.

`{"logic": "and"|"or", "conditions": [{"name", "comparison_operator", "value"}]}`. A metadata value may be a
scalar or a list (e.g. tags); a list matches when any of its elements does.
"""

from __future__ import annotations

import re
from collections import Counter
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

from service.db.models import Dataset, Document
from service.domain.matching import contains, ends_with, starts_with
from service.errors import Invalid, NotFound

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


def _storable(text: str) -> str:
    """PostgreSQL text holds neither NUL nor a lone surrogate: a condition naming one (possible from a query
    string's JSON escapes) is refused here rather than failing in the database."""
    if "\x00" in text or not _encodes(text):
        raise Invalid("metadata_condition may not contain NUL characters or unpaired surrogates")
    return text


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
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
        name, text = _storable(part["name"]), _storable(value if isinstance(value, str) else str(value))
        compiled.append(_condition(name, operator, text))
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


# --- auto-metadata configuration, kept in Dataset.auto_metadata_config --------------------------------------


def _auto_field(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": raw.get("name", ""),
        "type": raw.get("type", ""),
        "description": raw.get("description"),
        "examples": raw.get("examples"),
        "restrict_values": raw.get("restrict_values", False),
    }


def auto_metadata(dataset: Dataset) -> dict[str, Any]:
    """The configuration in RAGFlow's shape. A dataset never configured has it off; one configured without
    `enabled` has it on (RAGFlow's default when a config is given)."""
    stored = dataset.auto_metadata_config
    if not isinstance(stored, dict):
        return {"enabled": False, "fields": []}
    fields = stored.get("fields")
    listed = [_auto_field(item) for item in fields if isinstance(item, dict)] if isinstance(fields, list) else []
    return {"enabled": stored.get("enabled", True), "fields": listed}


async def set_auto_metadata(db: AsyncSession, dataset: Dataset, config: dict[str, Any]) -> dict[str, Any]:
    """Replace the configuration (Nectar keeps it; it runs no metadata extraction at parse time)."""
    dataset.auto_metadata_config = {
        "enabled": config.get("enabled", True),
        "fields": [_auto_field(item) for item in config.get("fields", [])],
    }
    await db.flush()
    return auto_metadata(dataset)


# --- what the documents of datasets hold: RAGFlow's summary and flattened views -----------------------------

TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")


async def _metas(
    db: AsyncSession, tenant_id: str, dataset_ids: list[str], document_ids: list[str] | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """(document id, meta_fields) of the datasets' documents, in id order (RAGFlow's metadata index order)."""
    query = select(Document.id, Document.meta_fields).where(
        Document.tenant_id == tenant_id, Document.dataset_id.in_(dataset_ids)
    )
    if document_ids is not None:
        query = query.where(Document.id.in_(document_ids))
    rows = await db.execute(query.order_by(Document.id))
    return [(document_id, meta if isinstance(meta, dict) else {}) for document_id, meta in rows]


def _texts(value: Any) -> list[str]:
    """The values one metadata entry counts as: a list's elements, nothing for null, each as Python's str()
    (RAGFlow's spelling: `True`, `2024`, `19.99`)."""
    return [str(item) for item in (value if isinstance(value, list) else [value]) if item is not None]


def _kind(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return "list"
    if isinstance(value, bool):
        return "string"
    if isinstance(value, int | float):
        return "number"
    return "time" if isinstance(value, str) and TIME.match(value) else "string"


async def summary(db: AsyncSession, dataset: Dataset, document_ids: list[str] | None) -> dict[str, Any]:
    """Per key: the commonest value type and each value with how many documents hold it, most first."""
    counts: dict[str, Counter[str]] = {}
    kinds: dict[str, Counter[str]] = {}
    for _, meta in await _metas(db, dataset.tenant_id, [dataset.id], document_ids):
        for key, value in meta.items():
            if kind := _kind(value):
                kinds.setdefault(key, Counter())[kind] += 1
            for text in _texts(value):
                counts.setdefault(key, Counter())[text] += 1
    return {
        key: {
            "type": kinds[key].most_common(1)[0][0] if key in kinds else "string",
            # Most documents first; ties by value, so the order does not depend on the order rows come back in.
            "values": [[text, n] for text, n in sorted(found.items(), key=lambda pair: (-pair[1], pair[0]))],
        }
        for key, found in counts.items()
    }


async def check_owned(db: AsyncSession, tenant_id: str, dataset_ids: list[str]) -> None:
    """Every id a dataset of the tenant's, else RAGFlow's refusal naming the first that is not."""
    query = select(Dataset.id).where(Dataset.tenant_id == tenant_id, Dataset.id.in_(dataset_ids))
    owned = set(await db.scalars(query))
    for dataset_id in dataset_ids:
        if dataset_id not in owned:
            raise NotFound(f"No authorization for dataset '{dataset_id}'")


async def flattened(db: AsyncSession, tenant_id: str, dataset_ids: list[str]) -> dict[str, dict[str, list[str]]]:
    """key → value → the ids of the documents holding it, over all the datasets (`check_owned` first)."""
    flat: dict[str, dict[str, list[str]]] = {}
    for document_id, meta in await _metas(db, tenant_id, dataset_ids):
        for key, value in meta.items():
            slot = flat.setdefault(key, {})
            for text in _texts(value):
                slot.setdefault(text, []).append(document_id)
    return flat
