"""Every family reads JSON bodies through one reader: an unreadable body is a clear 4xx in the family's shape.

Deeply nested JSON makes Python's parser raise RecursionError, not ValueError; it must read as malformed.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Caller

NESTED = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
NOT_JSON = b'{"name": '

# (path, HTTP status, the body's family-shaped answer to malformed JSON)
FAMILIES: dict[str, tuple[str, int, dict[str, Any]]] = {
    "ragflow": (
        "/api/v1/datasets",
        200,
        {"code": 101, "message": "Malformed JSON syntax: Missing commas/brackets or invalid encoding"},
    ),
    "openai": ("/v1/chat/completions", 400, {"code": 101, "message": "The request body is not valid JSON."}),
    "opsbee": (
        "/opsbee-llm/organizations/me/tags",
        400,
        {"error": "bad_request", "error_description": "the request body is not valid JSON"},
    ),
    "apps": ("/apps", 200, {"code": "validate_error", "message": "The body is not valid JSON"}),
}


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("raw", [NESTED, NOT_JSON], ids=["nested-50k", "truncated"])
async def test_unreadable_json_is_a_4xx_in_the_familys_shape(
    client: httpx.AsyncClient, caller: Caller, family: str, raw: bytes
) -> None:
    path, status, expected = FAMILIES[family]
    headers = {**caller.headers, "Content-Type": "application/json"}
    response = await client.post(path, content=raw, headers=headers)
    assert response.status_code == status, response.text
    body = response.json()
    assert {key: body.get(key) for key in expected} == expected
