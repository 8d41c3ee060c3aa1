"""Query strings, uploads and downloads of the RAGFlow family's routes, for the published OpenAPI document
(openapi.py and draft/openapi.py share them). Each mirrors the reader named beside it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from service.api.openapi import ANY_MEDIA, BINARY, Op, Param
from service.api.ragflow.schemas import MAX_PAGE_SIZE
from service.domain.ingestion_logs import LOG_TYPES, ORDER_COLUMNS

# A run state by name or by RAGFlow's digit (documents.RUN_CODES; tests/unit/test_openapi_schema.py compares).
RunState = Literal["UNSTART", "RUNNING", "CANCEL", "DONE", "FAIL", "0", "1", "2", "3", "4"]

PAGE = (
    Param("page", Annotated[int, Field(ge=1)], "from 1; anything else means 1"),
    Param("page_size", Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)], "default 30"),
)
DESC = Param("desc", bool, "descending (the default); only `false` turns it off")
TEXT_FILTERS = (Param("id", str), Param("name", str))


def order(*columns: str) -> Param:
    """`orderby`, one of `columns`."""
    return Param("orderby", Literal[columns], "default create_time")


DATASET_IDS = Param("dataset_ids", str, "comma-separated dataset ids", required=True)
DOCUMENT_LIST = (
    *PAGE,
    order("create_time", "update_time", "name"),
    DESC,
    Param("keywords", str),
    *TEXT_FILTERS,
    Param("run", list[RunState], "repeatable: any of these run states"),
    Param("suffix", list[str], "repeatable: any of these file suffixes"),
    Param("metadata_condition", str, "a JSON object filtering on the documents' meta_fields"),
    Param("create_time_from", int, "epoch ms; 0 means none"),
    Param("create_time_to", int, "epoch ms; 0 means none"),
)
SESSION_LIST = (*PAGE, order("create_time", "update_time", "name"), DESC, *TEXT_FILTERS, Param("user_id", str))
CHAT_LIST = (*PAGE, order("create_time", "update_time", "name"), DESC, *TEXT_FILTERS, Param("keywords", str))
CHUNK_LIST = (
    *PAGE,
    Param("keywords", str),
    Param("id", str),
    Param("available", bool),
    Param("tag_kwd", list[str], "repeatable: chunks with any of these tags"),
)
LOG_LIST = (
    Param("page", Annotated[int, Field(ge=0)], "0 (the default) with page_size 0: every log"),
    Param("page_size", Annotated[int, Field(ge=0, le=MAX_PAGE_SIZE)]),
    order(*ORDER_COLUMNS),
    DESC,
    Param("log_type", Literal[LOG_TYPES], "default dataset"),
    Param("operation_status", list[RunState], "repeatable"),
    Param("create_date_from", str, "a date or date-time (ISO 8601); naive means UTC"),
    Param("create_date_to", str),
    Param("keywords", str),
)
UPLOAD = {
    "type": "object",
    "properties": {"file": {"type": "array", "items": BINARY, "description": "one or more files"}},
    "required": ["file"],
}
FILE = Op(BINARY, reply_media=ANY_MEDIA)
