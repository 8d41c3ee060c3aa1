"""The official `openai` package, unchanged, against a live `nectar serve`: only base_url and api_key differ.

Base URLs: RAGFlow's `/api/v1/chats_openai/<chat_id>` and `/api/v1/openai/<chat_id>` (model "model"), and the
generic `/v1` (model = the assistant's id). The live server reaches the fake upstream as `<model>@echo`.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import openai
import pytest

from tests.support.upstream import UpstreamProcess

QUESTION = "When does the honey harvest happen?"
BEES = (
    "Honey bees collect nectar from flowers in spring. The honey harvest happens in late summer, "
    "when the combs are capped. Beekeepers wear white suits to stay calm around the hive."
)
EMBEDDING_MODEL = "all-MiniLM-L6-v2"
NOT_FROM_USER = "The last content of this conversation is not from user."


@dataclass
class Live:
    root: str
    key: str
    chat_id: str
    chat_name: str

    def base_url(self, face: str) -> str:
        return {
            "chats_openai": f"{self.root}/api/v1/chats_openai/{self.chat_id}",
            "openai": f"{self.root}/api/v1/openai/{self.chat_id}",
            "v1": f"{self.root}/v1",
        }[face]

    def model(self, face: str) -> str:
        return self.chat_id if face == "v1" else "model"

    def client(self, face: str = "chats_openai", **options: Any) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.base_url(face), api_key=self.key, timeout=60, **options)

    def async_client(self, face: str = "chats_openai") -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=self.base_url(face), api_key=self.key, timeout=60)


def _data(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["code"] == 0, body
    return body.get("data")


@pytest.fixture(scope="module")
def live(live_server: tuple[str, str]) -> Iterator[Live]:
    """A parsed dataset and a chat over it, made through the RAGFlow HTTP API of the live server."""
    root, key = live_server
    suffix = uuid.uuid4().hex[:8]
    with httpx.Client(base_url=f"{root}/api/v1", headers={"Authorization": f"Bearer {key}"}, timeout=60) as http:
        dataset = _data(http.post("/datasets", json={"name": f"openai-sdk-{suffix}"}))
        [document] = _data(http.post(f"/datasets/{dataset['id']}/documents", files=[("file", ("bees.txt", BEES))]))
        _data(http.post(f"/datasets/{dataset['id']}/documents/parse", json={"document_ids": [document["id"]]}))
        deadline = time.monotonic() + 120
        while True:
            docs = _data(http.get(f"/datasets/{dataset['id']}/documents", params={"id": document["id"]}))["docs"]
            if docs[0]["run"] == "DONE":
                break
            assert docs[0]["run"] in ("UNSTART", "RUNNING") and time.monotonic() < deadline, docs[0]
            time.sleep(0.2)
        name = f"SDK helper {suffix}"
        chat = _data(
            http.post(
                "/chats", json={"name": name, "dataset_ids": [dataset["id"]], "llm_id": "nectar-extractive@Builtin"}
            )
        )
        yield Live(root, key, chat["id"], name)
        http.request("DELETE", "/chats", json={"ids": [chat["id"]]})
        http.request("DELETE", "/datasets", json={"ids": [dataset["id"]]})


FACES = ["chats_openai", "openai", "v1"]


@pytest.mark.parametrize("face", FACES)
def test_sync_client_non_stream_and_stream(live: Live, face: str) -> None:
    client = live.client(face)
    messages: list[Any] = [{"role": "user", "content": QUESTION}]
    completion = client.chat.completions.create(model=live.model(face), messages=messages)
    [choice] = completion.choices
    assert completion.object == "chat.completion" and choice.finish_reason == "stop"
    assert choice.message.role == "assistant" and "harvest happens in late summer" in (choice.message.content or "")
    assert completion.usage is not None and completion.usage.prompt_tokens > 0
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens

    chunks = list(client.chat.completions.create(model=live.model(face), messages=messages, stream=True))
    assert all(chunk.object == "chat.completion.chunk" for chunk in chunks)
    *content, final = chunks
    assert "".join(chunk.choices[0].delta.content or "" for chunk in content) == choice.message.content
    assert final.choices[0].finish_reason == "stop" and final.choices[0].delta.content is None
    assert final.usage is not None and final.usage.completion_tokens > 0


@pytest.mark.parametrize("face", FACES)
async def test_async_client_non_stream_and_stream(live: Live, face: str) -> None:
    async with live.async_client(face) as client:
        messages: list[Any] = [{"role": "user", "content": [{"type": "text", "text": QUESTION}]}]
        completion = await client.chat.completions.create(model=live.model(face), messages=messages)
        answer = completion.choices[0].message.content
        assert answer and "[ID:0]" in answer
        stream = await client.chat.completions.create(model=live.model(face), messages=messages, stream=True)
        pieces = [chunk.choices[0].delta.content or "" async for chunk in stream]
        assert "".join(pieces) == answer


@pytest.mark.parametrize("extra", [{"reference": True}, {"extra_body": {"reference": True}}], ids=["flat", "nested"])
def test_references_through_extra_body(live: Live, extra: dict[str, Any]) -> None:
    """The SDK flattens `extra_body=` into the body; RAGFlow's literal `extra_body` key works too."""
    client = live.client("openai")
    messages: list[Any] = [{"role": "user", "content": QUESTION}]
    completion = client.chat.completions.create(model="model", messages=messages, extra_body=extra)
    reference = getattr(completion.choices[0].message, "reference", None)
    assert reference and reference[0]["document_name"] == "bees.txt" and "harvest" in reference[0]["content"]

    chunks = list(client.chat.completions.create(model="model", messages=messages, stream=True, extra_body=extra))
    delta = chunks[-1].choices[0].delta
    assert getattr(delta, "reference", None) == reference
    assert getattr(delta, "final_content", None) == completion.choices[0].message.content
    assert all(getattr(chunk.choices[0].delta, "reference", None) is None for chunk in chunks[:-1])


def test_no_reference_by_default(live: Live) -> None:
    completion = live.client().chat.completions.create(model="model", messages=[{"role": "user", "content": QUESTION}])
    assert getattr(completion.choices[0].message, "reference", None) is None


def test_model_override_and_history(live: Live, upstream: UpstreamProcess) -> None:
    upstream.clear()
    messages: list[Any] = [
        {"role": "system", "content": "You are a pirate."},
        {"role": "user", "content": "Who wears white suits?"},
        {"role": "assistant", "content": "Beekeepers."},
        {"role": "user", "content": QUESTION},
    ]
    completion = live.client("openai").chat.completions.create(model="echo@echo", messages=messages, temperature=0.3)
    assert completion.choices[0].message.content == f"echo: {QUESTION}"
    [sent] = upstream.received()
    assert [m["role"] for m in sent["messages"]] == ["system", "user", "assistant", "user"]
    assert "pirate" not in sent["messages"][0]["content"] and sent["temperature"] == 0.3


def test_errors_raise_the_sdk_exceptions(live: Live) -> None:
    client = live.client(max_retries=0)
    ends_with_assistant: list[Any] = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model="model", messages=ends_with_assistant)
    assert bad.value.status_code == 400 and isinstance(bad.value.body, dict)
    assert bad.value.body["message"] == NOT_FROM_USER and bad.value.type == "invalid_request_error"
    with pytest.raises(openai.BadRequestError):
        live.client("v1").chat.completions.create(model=live.chat_id, messages=ends_with_assistant)
    with pytest.raises(openai.BadRequestError) as unknown:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert unknown.value.code == "model_not_found"
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=live.base_url("v1"), api_key="wrong", max_retries=0).models.list()
    with pytest.raises(openai.NotFoundError):
        openai.OpenAI(base_url=f"{live.root}/api/v1/openai/{'0' * 32}", api_key=live.key).chat.completions.create(
            model="model", messages=[{"role": "user", "content": "hi"}]
        )
    with pytest.raises(openai.NotFoundError):
        live.client("v1").chat.completions.create(
            model="no such assistant", messages=[{"role": "user", "content": "hi"}]
        )


def test_upstream_failure_is_not_retried(live: Live, upstream: UpstreamProcess) -> None:
    """A 502 carries `x-should-retry: false`: the SDK's default retries would call the failing model three times."""
    upstream.clear()
    with pytest.raises(openai.InternalServerError) as failed:
        live.client().chat.completions.create(model="fail-500@echo", messages=[{"role": "user", "content": QUESTION}])
    assert failed.value.status_code == 502 and "HTTP 500" in failed.value.message
    assert len(upstream.received()) == 1
    stream = live.client().chat.completions.create(
        model="fail-500@echo", messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    with pytest.raises(openai.APIError) as broken:  # an error event mid-stream, not an answer
        list(stream)
    assert "HTTP 500" in broken.value.message and len(upstream.received()) == 2


def test_models_list(live: Live) -> None:
    models = {model.id: model for model in live.client("v1").models.list()}
    assert live.chat_id in models
    model = models[live.chat_id]
    assert model.object == "model" and model.owned_by == "nectar" and getattr(model, "name", None) == live.chat_name
    assert live.client("v1").models.retrieve(live.chat_name).id == live.chat_id


def test_chat_by_assistant_name(live: Live) -> None:
    completion = live.client("v1").chat.completions.create(
        model=live.chat_name, messages=[{"role": "user", "content": QUESTION}]
    )
    assert "[ID:0]" in (completion.choices[0].message.content or "")


def test_embeddings_default_base64_and_float(live: Live) -> None:
    client = live.client("v1")
    texts = ["Honey bees collect nectar.", "The Danube ends in the Black Sea."]
    packed = client.embeddings.create(model=EMBEDDING_MODEL, input=texts)  # the SDK asks for base64 and decodes it
    plain = client.embeddings.create(model=f"{EMBEDDING_MODEL}@Builtin", input=texts, encoding_format="float")
    assert [item.index for item in packed.data] == [0, 1]
    for a, b in zip(packed.data, plain.data, strict=True):
        assert len(a.embedding) == len(b.embedding) == 384
        assert all(
            math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-7) for x, y in zip(a.embedding, b.embedding, strict=True)
        )
    assert packed.usage.prompt_tokens == packed.usage.total_tokens > 0
    single = client.embeddings.create(model=EMBEDDING_MODEL, input="Honey bees collect nectar.")
    assert all(
        math.isclose(x, y, abs_tol=1e-5) for x, y in zip(single.data[0].embedding, plain.data[0].embedding, strict=True)
    )
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model="text-embedding-3-small", input="x")


async def test_async_embeddings(live: Live) -> None:
    async with live.async_client("v1") as client:
        result = await client.embeddings.create(model=EMBEDDING_MODEL, input=["one", "two", "three"])
        assert [len(item.embedding) for item in result.data] == [384, 384, 384]
