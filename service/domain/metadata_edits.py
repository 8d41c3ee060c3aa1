"""Changing documents' metadata as RAGFlow does: the batch update of `meta_fields` (updates, deletes, a
selector), the splitting of combined list values every save applies, and a document's metadata settings.

Values compare as Python's str() of them, and lists stay free of repeats by that spelling, as in RAGFlow.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Dataset, Document
from service.domain.metadata import matching_documents
from service.errors import NotFound

DELIMITERS = re.compile(r"[、,，;；|]+")


def deduped(values: list[Any]) -> list[Any]:
    """Each value once by its str() spelling, first occurrence kept."""
    seen: set[str] = set()
    kept = []
    for value in values:
        if str(value) not in seen:
            seen.add(str(value))
            kept.append(value)
    return kept


def split_combined(meta: dict[str, Any]) -> dict[str, Any]:
    """A list's text items split at the delimiters an extractor tends to join values with
    (`"a、b, c"` → `a`, `b`, `c`), then deduplicated; other values untouched. RAGFlow does this on every save."""
    result = {}
    for key, value in meta.items():
        if not isinstance(value, list):
            result[key] = value
            continue
        items: list[Any] = []
        for item in value:
            parts = [part.strip() for part in DELIMITERS.split(item.strip())] if isinstance(item, str) else []
            parts = [part for part in parts if part]
            items.extend(parts or [item])
        result[key] = deduped(items)
    return result


@dataclass
class MetadataChanges:
    """`updates`: `{key, value, match?}` set (a list gains the value; with `match`, only matching values are
    replaced); `deletes`: `{key, value?}` remove the key, or just that value of it."""

    updates: list[dict[str, Any]] = field(default_factory=list)
    deletes: list[dict[str, Any]] = field(default_factory=list)


def _same(a: Any, b: Any) -> bool:
    return str(a) == str(b)


def _update(meta: dict[str, Any], key: str, value: Any, match: Any) -> bool:
    """One update; True when it changed something."""
    matching = match is not None and match != ""
    if key not in meta:
        if matching:
            return False
        meta[key] = deduped(value) if isinstance(value, list) else value
        return True
    current = meta[key]
    if isinstance(current, list):
        if not matching:
            meta[key] = deduped(current + (value if isinstance(value, list) else [value]))
            return True
        if not any(_same(item, match) for item in current):
            return False
        meta[key] = deduped([value if _same(item, match) else item for item in current])
        return True
    if matching and not _same(current, match):
        return False
    meta[key] = value
    return True


def _delete(meta: dict[str, Any], key: str, value: Any) -> bool:
    """One delete; True when it changed something. A list emptied by it loses the key."""
    if key not in meta:
        return False
    current = meta[key]
    if isinstance(current, list) and value is not None:
        kept = [item for item in current if not _same(item, value)]
        if len(kept) == len(current):
            return False
        if kept:
            meta[key] = kept
        else:
            del meta[key]
        return True
    if value is None or isinstance(current, list) or _same(current, value):
        del meta[key]
        return True
    return False


def edited(original: dict[str, Any], changes: MetadataChanges) -> dict[str, Any] | None:
    """The metadata after the changes, ready to store; None when they leave it as it was."""
    meta = copy.deepcopy(original)
    changed = False
    for item in changes.updates:
        changed = _update(meta, item["key"], item.get("value"), item.get("match")) or changed
    for item in changes.deletes:
        changed = _delete(meta, item["key"], item.get("value")) or changed
    return split_combined(meta) if changed and meta != original else None


async def _targets(
    db: AsyncSession, dataset: Dataset, document_ids: list[str] | None, condition: dict[str, Any] | None
) -> list[str]:
    """The named documents (all of the dataset's, or refused), narrowed by the condition when one is given.
    With no ids, the condition alone selects (RAGFlow's Python route would select nothing)."""
    named = list(dict.fromkeys(document_ids or []))
    if named:
        query = select(Document.id).where(Document.dataset_id == dataset.id, Document.id.in_(named))
        known = set(await db.scalars(query))
        if unknown := [document_id for document_id in named if document_id not in known]:
            raise NotFound(f"These documents do not belong to dataset {dataset.id}: {', '.join(unknown)}")
    if not condition:
        return named
    matching = await matching_documents(db, [dataset.id], condition)
    if not named:
        return matching
    passed = set(matching)
    return [document_id for document_id in named if document_id in passed]


async def update_metadata(
    db: AsyncSession,
    dataset: Dataset,
    document_ids: list[str] | None,
    condition: dict[str, Any] | None,
    changes: MetadataChanges,
) -> tuple[int, int]:
    """Apply the changes to each selected document; (how many changed, how many were selected). Rows are
    locked while they change, so two batches on one document cannot lose each other's keys."""
    targets = await _targets(db, dataset, document_ids, condition)
    if not targets:
        return 0, 0
    query = select(Document).where(Document.dataset_id == dataset.id, Document.id.in_(targets))
    # The rows as locked now, not as this session may have read them before (a concurrent batch's keys kept).
    query = query.order_by(Document.id).with_for_update().execution_options(populate_existing=True)
    updated = 0
    for document in await db.scalars(query):
        if (meta := edited(document.meta_fields or {}, changes)) is not None:
            document.meta_fields = meta
            updated += 1
    await db.flush()
    return updated, len(targets)


def _merged(old: Any, new: Any) -> Any:
    """`new` laid over `old`: objects merge key by key, anything else is replaced."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return new
    return {**old, **{key: _merged(old.get(key), value) for key, value in new.items()}}


async def document_in(db: AsyncSession, dataset: Dataset, document_id: str) -> Document:
    """The dataset's document, refused in the words of RAGFlow's metadata-config route."""
    document = await db.get(Document, document_id)
    if document is None or document.dataset_id != dataset.id:
        raise NotFound(f"Document {document_id} not found in dataset {dataset.id}")
    return document


async def set_document_metadata_config(db: AsyncSession, document: Document, metadata: Any) -> Document:
    """A document's own metadata settings, kept in its parser_config under `metadata`."""
    document.parser_config = _merged(document.parser_config or {}, {"metadata": metadata})
    await db.flush()
    await db.refresh(document)
    return document
