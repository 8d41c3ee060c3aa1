"""Request shapes of RAGFlow's metadata routes, and the metadata checks other routes share.

Apart from `schemas.py` so that module can use the auto-metadata model for `POST/PUT /datasets` without an
import cycle (these checks need nothing from it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from service.api.ragflow.envelope import Rejected


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class AutoMetadataField(_Strict):
    """One field the auto-metadata step would extract (RAGFlow's AutoMetadataField)."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
    type: Literal["string", "list", "time"]
    description: str | None = Field(default=None, max_length=65535)
    examples: list[str] | None = None
    restrict_values: bool = False


class AutoMetadataConfig(_Strict):
    """A dataset's auto-metadata configuration (RAGFlow's AutoMetadataConfig)."""

    enabled: bool = True
    fields: list[AutoMetadataField] = Field(default_factory=list)


SCALARS = (str, int, float)  # bool is an int here, as in RAGFlow's check


def flat_meta_fields(meta_fields: dict[str, Any] | None) -> dict[str, Any] | None:
    """A document's `meta_fields` hold scalars or lists of scalars, refused in RAGFlow's words otherwise."""
    for value in (meta_fields or {}).values():
        if isinstance(value, list):
            if not all(isinstance(item, SCALARS) for item in value):
                raise PydanticCustomError("format_invalid", "The type is not supported in list: {v}", {"v": value})
        elif not isinstance(value, SCALARS):
            raise PydanticCustomError("format_invalid", "The type is not supported: {v}", {"v": value})
    return meta_fields


NOT_AN_OBJECT = "metadata_condition must be an object."


def condition_of(value: Any) -> dict[str, Any] | None:
    """A `metadata_condition` from a JSON body: RAGFlow ignores an empty or false one and refuses any other
    non-object with 102."""
    if not value:
        return None
    if not isinstance(value, dict):
        raise Rejected(NOT_AN_OBJECT)
    return value


def condition_query(raw: str | None) -> dict[str, Any] | None:
    """`?metadata_condition=<JSON>` on the document list, read as RAGFlow reads it (an absent one is `{}`)."""
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        raise Rejected(f"metadata_condition must be valid JSON: {raw}.") from None
    return condition_of(value)


@dataclass
class MetadataBatch:
    """`PATCH /datasets/{id}/documents/metadatas`: which documents, and what to set and remove."""

    document_ids: list[str] | None = None
    condition: dict[str, Any] | None = None
    updates: list[dict[str, Any]] = field(default_factory=list)
    deletes: list[dict[str, Any]] = field(default_factory=list)


def metadata_batch(body: dict[str, Any]) -> MetadataBatch:
    """The body checked in RAGFlow's order and words (all 102)."""
    selector = body.get("selector") or {}
    updates, deletes = body.get("updates") or [], body.get("deletes") or []
    if not isinstance(selector, dict):
        raise Rejected("selector must be an object.")
    if not isinstance(updates, list) or not isinstance(deletes, list):
        raise Rejected("updates and deletes must be lists.")
    condition = condition_of(selector.get("metadata_condition"))
    document_ids = selector.get("document_ids") or []
    if not isinstance(document_ids, list):
        raise Rejected("document_ids must be a list.")
    if not all(_keyed(item) and "value" in item for item in updates):
        raise Rejected("Each update requires key and value.")
    if not all(_keyed(item) for item in deletes):
        raise Rejected("Each delete requires key.")
    ids = [str(item) for item in document_ids]
    return MetadataBatch(ids or None, condition, updates, deletes)


def _keyed(item: Any) -> bool:
    """An update or delete names its key as text (RAGFlow takes any truthy key and fails on a list)."""
    return isinstance(item, dict) and isinstance(item.get("key"), str) and bool(item["key"])
