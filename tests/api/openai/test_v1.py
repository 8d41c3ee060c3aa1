"""The generic OpenAI surface at /v1: models (one per assistant), chat completions by assistant, embeddings."""

from __future__ import annotations

import base64
import math
import struct
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from service.db.models import Assistant
from service.runtime import Runtime
from tests.api.openai.helpers import (
    QUESTION,
    Kb,
    check_usage,
    joined,
    make_assistant,
    messages_of,
    openai_error,
    split_stream,
    stream_chunks,
    user,
)
from tests.conftest import Caller

MODEL = "all-MiniLM-L6-v2"

# Models


async def test_models_are_the_tenants_published_assistants(
    client: httpx.AsyncClient, runtime: Runtime, caller: Caller, other_caller: Caller
) -> None:
    before = int(time.time())
    first = await make_assistant(runtime, caller.tenant_id, "First")
    second = await make_assistant(runtime, caller.tenant_id, "Second")
    draft = await make_assistant(runtime, caller.tenant_id, "Draft")
    async with runtime.sessions() as db:
        await db.execute(update(Assistant).where(Assistant.id == draft.id).values(published_config=None))
        await db.commit()
    await make_assistant(runtime, other_caller.tenant_id, "Theirs")
    response = await client.get("/v1/models", headers=caller.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"object", "data"} and body["object"] == "list"
    assert [model["id"] for model in body["data"]] == [first.id, second.id]
    for model, assistant in zip(body["data"], (first, second), strict=True):
        assert model == {
            "id": assistant.id,
            "object": "model",
            "created": model["created"],
            "owned_by": "nectar",
            "name": assistant.name,
        }
        assert before - 5 <= model["created"] <= time.time() + 5
    for id_or_name in (first.id, "First"):
        one = await client.get(f"/v1/models/{id_or_name}", headers=caller.headers)
        assert one.status_code == 200 and one.json() == body["data"][0]
    for hidden in (draft.id, "Theirs", "nope"):
        response = await client.get(f"/v1/models/{hidden}", headers=caller.headers)
        assert response.status_code == 404 and response.json()["error"]["code"] == "model_not_found"


async def test_models_need_a_key(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/models", headers={"Authorization": "Bearer wrong"})
    body = openai_error(response, 401, "Authentication error: API key is invalid!", 109)
    assert body["error"]["code"] == "invalid_api_key"
    assert (await client.get("/v1/models")).status_code == 401


# Chat completions by assistant


@pytest.mark.parametrize("by", ["id", "name"])
async def test_chat_by_assistant_id_or_name(client: httpx.AsyncClient, runtime: Runtime, kb: Kb, by: str) -> None:
    model = kb.assistant_id if by == "id" else kb.assistant_name
    count = len(await messages_of(runtime, kb.assistant_id))
    response = await client.post(
        "/v1/chat/completions", json={"model": model, "messages": user(QUESTION)}, headers=kb.caller.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "chat.completion" and body["model"] == model and body["id"].startswith("chatcmpl-")
    assert "[ID:0]" in body["choices"][0]["message"]["content"]
    check_usage(body["usage"])
    payload = {"model": model, "messages": user(QUESTION), "stream": True, "reference": True}
    streamed = await client.post("/v1/chat/completions", json=payload, headers=kb.caller.headers)
    content, final = split_stream(stream_chunks(streamed))
    assert joined(content) == body["choices"][0]["message"]["content"]
    assert final["choices"][0]["delta"]["reference"][0]["document_name"] == "bees.txt"
    check_usage(final["usage"])
    rows = await messages_of(runtime, kb.assistant_id)
    assert len(rows) == count + 2 and {row.channel for row in rows[-2:]} == {"openai"}


async def test_chat_unknown_or_foreign_assistant_is_404(
    client: httpx.AsyncClient, kb: Kb, other_caller: Caller
) -> None:
    for model, headers in (("nope", kb.caller.headers), (kb.assistant_name, other_caller.headers)):
        payload = {"model": model, "messages": user(QUESTION)}
        response = await client.post("/v1/chat/completions", json=payload, headers=headers)
        body = openai_error(response, 404, f"The model `{model}` does not exist", 102)
        assert body["error"]["param"] == "model" and body["error"]["code"] == "model_not_found"


async def test_chat_errors(client: httpx.AsyncClient, kb: Kb) -> None:
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    response = await client.post(
        "/v1/chat/completions", json={"model": kb.assistant_id, "messages": messages}, headers=kb.caller.headers
    )
    openai_error(response, 400, "The last content of this conversation is not from user.", 102)
    response = await client.post("/v1/chat/completions", json={"messages": messages}, headers=kb.caller.headers)
    openai_error(response, 400, "required argument are missing: model; ", 101)
    response = await client.post("/v1/chat/completions", json={"model": kb.assistant_id, "messages": user("x")})
    assert response.status_code == 401 and response.json()["code"] == 109


async def test_unknown_url_is_404_in_openai_shape(client: httpx.AsyncClient, kb: Kb) -> None:
    response = await client.post("/v1/completions", json={}, headers=kb.caller.headers)
    body = openai_error(response, 404, "Invalid URL (POST /v1/completions)", 404)
    assert body["error"]["code"] == "unknown_url"


# Embeddings


async def embed(client: httpx.AsyncClient, caller: Caller, **body: Any) -> httpx.Response:
    return await client.post("/v1/embeddings", json={"model": MODEL, **body}, headers=caller.headers)


async def test_embeddings_float(client: httpx.AsyncClient, caller: Caller) -> None:
    response = await embed(client, caller, input="Honey bees collect nectar.", encoding_format="float")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"object", "data", "model", "usage"}
    assert body["object"] == "list" and body["model"] == MODEL
    [item] = body["data"]
    assert set(item) == {"object", "index", "embedding"} and item["object"] == "embedding" and item["index"] == 0
    vector = item["embedding"]
    assert len(vector) == 384 and math.isclose(math.sqrt(sum(v * v for v in vector)), 1.0, rel_tol=1e-4)
    assert body["usage"]["prompt_tokens"] == body["usage"]["total_tokens"] > 0
    assert (await embed(client, caller, input="Honey bees collect nectar.")).json() == body  # float is the default


async def test_embeddings_base64_decodes_to_the_float_vector(client: httpx.AsyncClient, caller: Caller) -> None:
    texts = ["Honey bees collect nectar.", "The Danube ends in the Black Sea."]
    floats = (await embed(client, caller, input=texts, encoding_format="float")).json()
    encoded = (await embed(client, caller, input=texts, encoding_format="base64")).json()
    assert encoded["usage"] == floats["usage"]
    for plain, packed in zip(floats["data"], encoded["data"], strict=True):
        assert packed["index"] == plain["index"]
        raw = base64.b64decode(packed["embedding"])
        decoded = struct.unpack(f"<{len(raw) // 4}f", raw)
        assert len(decoded) == 384
        assert all(
            math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-7) for a, b in zip(decoded, plain["embedding"], strict=True)
        )


async def test_embeddings_of_a_list_keep_order(client: httpx.AsyncClient, caller: Caller) -> None:
    texts = ["bees and honey", "rivers and seas", "bees and honey"]
    body = (await embed(client, caller, input=texts)).json()
    assert [item["index"] for item in body["data"]] == [0, 1, 2]
    vectors = [item["embedding"] for item in body["data"]]
    single = (await embed(client, caller, input=texts[1])).json()["data"][0]["embedding"]
    assert all(math.isclose(a, b, abs_tol=1e-5) for a, b in zip(vectors[1], single, strict=True))
    assert vectors[0] == vectors[2] and vectors[0] != vectors[1]


@pytest.mark.parametrize("name", [MODEL, f"{MODEL}@Builtin", f"{MODEL}@builtin"])
async def test_embedding_model_names(client: httpx.AsyncClient, caller: Caller, name: str) -> None:
    response = await embed(client, caller, input="hello", model=name)
    assert response.status_code == 200, response.text
    assert response.json()["model"] == name


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"input": []}, "`input` must be a non-empty string or a non-empty list of strings."),
        ({"input": ""}, "`input` must not contain empty strings."),
        ({"input": ["ok", " "]}, "`input` must not contain empty strings."),
        ({"input": [101, 2023]}, "Token arrays are not supported as `input`: send text."),
        ({"input": [[101, 2023]]}, "Token arrays are not supported as `input`: send text."),
        ({"input": {"text": "x"}}, "`input` must be a non-empty string or a non-empty list of strings."),
        ({"input": "x", "model": "text-embedding-3-small"}, "Unsupported model: text-embedding-3-small"),
        ({"input": "x", "model": f"{MODEL}@OpenAI"}, f"Unsupported model: {MODEL}@OpenAI"),
        ({"input": "x", "encoding_format": "int8"}, "`encoding_format` must be `float` or `base64`."),
        ({"input": "x", "dimensions": 256}, f"`{MODEL}` only returns 384 dimensions."),
        ({"input": "x", "model": "@Builtin"}, "embedding model identifier must follow <model_name>@<provider> format"),
        ({"model": MODEL}, "required argument are missing: input; "),
    ],
)
async def test_bad_embedding_requests_are_400(
    client: httpx.AsyncClient, caller: Caller, body: dict[str, Any], message: str
) -> None:
    response = await client.post("/v1/embeddings", json={"model": MODEL, **body}, headers=caller.headers)
    openai_error(response, 400, message, response.json()["code"])
    assert response.json()["error"]["type"] == "invalid_request_error"


async def test_embeddings_need_a_key(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/embeddings", json={"model": MODEL, "input": "x"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_api_key"
