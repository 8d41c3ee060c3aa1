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


# (raw JSON value, the message every family gives for it); Python's json reads all three
UNSTORABLE = [
    ("NaN", "NaN and Infinity are not valid JSON numbers"),
    ("-Infinity", "NaN and Infinity are not valid JSON numbers"),
    ('"a\\u0000b"', "Text may not contain the NUL character (U+0000)"),
    ('"x\\ud800y"', "Text may not contain unpaired surrogates (U+D800 to U+DFFF)"),
]


def family_reply(family: str, message: str) -> dict[str, Any]:
    """The family's shape of an `Invalid` with this message."""
    shapes: dict[str, dict[str, Any]] = {
        "ragflow": {"code": 101, "message": message},
        "openai": {"code": 101, "message": message},
        "opsbee": {"error": "bad_request", "error_description": message},
        "apps": {"code": "validate_error", "message": message},
    }
    return shapes[family]


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize(("raw", "message"), UNSTORABLE, ids=[u[0] for u in UNSTORABLE])
async def test_values_postgresql_cannot_store_are_a_4xx_in_the_familys_shape(
    client: httpx.AsyncClient, caller: Caller, family: str, raw: str, message: str
) -> None:
    path, status, _ = FAMILIES[family]
    headers = {**caller.headers, "Content-Type": "application/json"}
    for body in (f'{{"name": {raw}}}', f'{{"name": "x", "nested": [{{"deep": {raw}}}]}}', f"{{{raw}: 1}}"):
        if raw.startswith('"') or body.startswith('{"name"'):
            response = await client.post(path, content=body.encode(), headers=headers)
            assert response.status_code == status, response.text
            expected = family_reply(family, message)
            assert {key: response.json().get(key) for key in expected} == expected
