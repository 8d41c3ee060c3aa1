"""Reading the v0.13 draft's requests: its paging defaults, its id lists and its older parser_config spellings."""

from __future__ import annotations

from typing import Any, TypeVar

from litestar import Request
from pydantic import BaseModel

from service.api.ragflow.schemas import list_of_strings, validated
from service.domain.pages import Page
from service.errors import Invalid

M = TypeVar("M", bound=BaseModel)
DRAFT_PAGE_SIZE = 1024  # the draft's default page size for datasets and chats, and here the largest one


def draft_page(request: Request[Any, Any, Any]) -> Page:
    """`page` (default 1) and `page_size` (default 1024); a value that is not a positive integer means the default,
    as RAGFlow's paging reads it, and a size above 1024 is refused."""
    query = request.query_params
    page, size = _lax_int(query.get("page"), 1), _lax_int(query.get("page_size"), DRAFT_PAGE_SIZE)
    if size > DRAFT_PAGE_SIZE:
        raise Invalid(f"page_size must be less than or equal to {DRAFT_PAGE_SIZE}")
    return Page.numbered(page, size)


def _lax_int(value: str | None, default: int) -> int:
    try:
        number = int(value) if value is not None else default
    except ValueError:
        return default
    return number if number >= 1 else default


def id_list(body: dict[str, Any], *keys: str) -> list[str]:
    """The ids under the first of `keys` the body has: the draft's name first, then RAGFlow's later one."""
    for key in keys:
        if key in body:
            return list_of_strings(body, key)
    return []


PARSER_CONFIG_NAMES = {"chunk_token_count": "chunk_token_num"}
LAYOUTS = {True: "DeepDOC", False: "Plain Text"}


def v027_parser_config(config: Any) -> Any:
    """The draft's parser_config in v0.27's words (then validated as v0.27 does): `chunk_token_count` is
    `chunk_token_num`, and `layout_recognize` was a switch (on: DeepDOC, off: plain text)."""
    if not isinstance(config, dict):
        return config
    mapped = {PARSER_CONFIG_NAMES.get(key, key): value for key, value in config.items()}
    if isinstance(mapped.get("layout_recognize"), bool):
        mapped["layout_recognize"] = LAYOUTS[mapped["layout_recognize"]]
    return mapped


def validated_draft(model: type[M], data: Any, names: dict[str, str]) -> M:
    """v0.27's validation of the mapped body, its messages naming each field as the draft does
    (`names`: {v0.27 name: draft name})."""
    try:
        return validated(model, data)
    except Invalid as error:
        message = error.message
        for v027, draft in names.items():
            message = message.replace(f"Field: <{v027}>", f"Field: <{draft}>")
            message = message.replace(f"Field: <{v027}.", f"Field: <{draft}.")
        raise Invalid(message) from None
