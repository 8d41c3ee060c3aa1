"""The v0.13 draft's JSON shapes, each a mapping over the v0.27 view of the same object (views.py, chat_views.py).

The key sets are the ones the draft document shows, to the key: where it spells a field differently
(`parse_method`, `parser_method`, `process_duation`, `available_int`, `chunk_num`, ...) the draft's spelling wins.
"""

from __future__ import annotations

from typing import Any

from service.api.ragflow.documents import RUN_CODES
from service.domain.llms import SAMPLING_KEYS

DATASET_KEYS = (
    "avatar",
    "chunk_count",
    "create_date",
    "create_time",
    "created_by",
    "description",
    "document_count",
    "embedding_model",
    "id",
    "language",
    "name",
    "parse_method",
    "parser_config",
    "permission",
    "similarity_threshold",
    "status",
    "tenant_id",
    "token_num",
    "update_date",
    "update_time",
    "vector_similarity_weight",
)
DATASET_NAMES = {"parse_method": "chunk_method"}  # {draft key: v0.27 key}, here and below

# A chat's datasets: in the create reply the draft echoes these keys of the draft shape ...
BRIEF_KNOWLEDGEBASE_KEYS = (
    "avatar",
    "chunk_count",
    "description",
    "document_count",
    "embedding_model",
    "id",
    "language",
    "name",
    "parse_method",
    "parser_config",
    "permission",
    "tenant_id",
)
# ... and in the list reply it shows RAGFlow's stored knowledgebase row, in the database's own column names.
RAW_KNOWLEDGEBASE_KEYS = (
    "avatar",
    "chunk_num",
    "create_date",
    "create_time",
    "created_by",
    "description",
    "doc_num",
    "embd_id",
    "id",
    "language",
    "name",
    "parser_config",
    "parser_id",
    "permission",
    "similarity_threshold",
    "status",
    "tenant_id",
    "token_num",
    "update_date",
    "update_time",
    "vector_similarity_weight",
)
RAW_KNOWLEDGEBASE_NAMES = {
    "chunk_num": "chunk_count",
    "doc_num": "document_count",
    "embd_id": "embedding_model",
    "parser_id": "chunk_method",
}

DOCUMENT_KEYS = (
    "chunk_count",
    "create_date",
    "create_time",
    "created_by",
    "id",
    "knowledgebase_id",
    "location",
    "name",
    "parser_config",
    "parser_method",
    "process_begin_at",
    "process_duation",  # sic: the draft keeps the misspelt column name of RAGFlow's database
    "progress",
    "progress_msg",
    "run",
    "size",
    "source_type",
    "status",
    "thumbnail",
    "token_count",
    "type",
    "update_date",
    "update_time",
)
DOCUMENT_NAMES = {"parser_method": "chunk_method", "process_duation": "process_duration"}
RUN_DIGITS = {state: digit for digit, state in RUN_CODES.items()}  # the draft shows a run state as "0".."4"

CHUNK_KEYS = (
    "available_int",
    "content",
    "document_keyword",
    "document_id",
    "id",
    "image_id",
    "important_keywords",
    "positions",
)
CHUNK_NAMES = {"available_int": "available", "document_keyword": "docnm_kwd"}


def reshaped(view: dict[str, Any], keys: tuple[str, ...], names: dict[str, str]) -> dict[str, Any]:
    """`keys` of a v0.27 view, each read from the field `names` gives it (or its own name)."""
    return {key: view[names.get(key, key)] for key in keys}


def dataset_view(dataset: dict[str, Any]) -> dict[str, Any]:
    return reshaped(dataset, DATASET_KEYS, DATASET_NAMES)


def brief_knowledgebase(dataset: dict[str, Any]) -> dict[str, Any]:
    return reshaped(dataset, BRIEF_KNOWLEDGEBASE_KEYS, DATASET_NAMES)


def raw_knowledgebase(dataset: dict[str, Any]) -> dict[str, Any]:
    """The stored row's texts are empty strings where the draft shape shows null."""
    row = reshaped(dataset, RAW_KNOWLEDGEBASE_KEYS, RAW_KNOWLEDGEBASE_NAMES)
    return {**row, "avatar": row["avatar"] or "", "description": row["description"] or ""}


def document_view(document: dict[str, Any]) -> dict[str, Any]:
    body = reshaped(document, DOCUMENT_KEYS, DOCUMENT_NAMES)
    return {**body, "run": RUN_DIGITS.get(body["run"], body["run"])}


def chunk_view(chunk: dict[str, Any]) -> dict[str, Any]:
    body = reshaped(chunk, CHUNK_KEYS, CHUNK_NAMES)
    return {**body, "available_int": int(body["available_int"])}


def chat_view(chat: dict[str, Any], knowledgebases: list[dict[str, Any]]) -> dict[str, Any]:
    """A v0.27 chat in the draft's words: `avatar`, `llm{model_name,...}`, `prompt{...}`, `knowledgebases`."""
    config = chat["prompt_config"]
    return {
        "avatar": chat["icon"],
        "create_date": chat["create_date"],
        "create_time": chat["create_time"],
        "description": chat["description"],
        "do_refer": "1" if config.get("quote", True) else "0",
        "id": chat["id"],
        "knowledgebases": knowledgebases,
        "language": chat["language"],
        "llm": {"model_name": chat["llm_id"], **{key: chat["llm_setting"].get(key) for key in SAMPLING_KEYS}},
        "name": chat["name"],
        "prompt": {
            "empty_response": config.get("empty_response"),
            "keywords_similarity_weight": round(1 - chat["vector_similarity_weight"], 6),
            "opener": config.get("prologue"),
            "prompt": config.get("system"),
            "rerank_model": chat["rerank_id"],
            "similarity_threshold": chat["similarity_threshold"],
            "top_n": chat["top_n"],
            "variables": config.get("parameters"),
        },
        "prompt_type": chat["prompt_type"],
        "status": chat["status"],
        "tenant_id": chat["tenant_id"],
        "top_k": chat["top_k"],
        "update_date": chat["update_date"],
        "update_time": chat["update_time"],
    }
