"""The official `openai` package, unchanged, against a live Nectar's RAGFlow agents at
`/api/v1/agents_openai/<agent_id>`: only base_url and api_key differ."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.domain.agents.dsls import kb_qa, starter
from tests.support.upstream import UpstreamProcess

BEES = (
    "Honeybees keep their hive at about 35 degrees Celsius. They fan their wings to cool it in summer.\n\n"
    "Nectar is turned into honey by evaporation and enzymes."
)


def _data(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["code"] == 0, body
    return body.get("data")


class Live:
    def __init__(self, root: str, key: str, agents: dict[str, str]) -> None:
        self.root, self.key, self.agents = root, key, agents

    def client(self, agent: str = "starter") -> openai.OpenAI:
        base_url = f"{self.root}/api/v1/agents_openai/{self.agents.get(agent, agent)}"
        return openai.OpenAI(base_url=base_url, api_key=self.key, timeout=60, max_retries=0)


def parsed_dataset(http: httpx.Client, name: str) -> str:
    dataset = _data(http.post("/datasets", json={"name": name}))
    [document] = _data(http.post(f"/datasets/{dataset['id']}/documents", files=[("file", ("bees.txt", BEES))]))
    _data(http.post(f"/datasets/{dataset['id']}/documents/parse", json={"document_ids": [document["id"]]}))
    deadline = time.monotonic() + 120
    while (
        _data(http.get(f"/datasets/{dataset['id']}/documents", params={"id": document["id"]}))["docs"][0]["run"]
        != "DONE"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    return str(dataset["id"])


@pytest.fixture(scope="module")
def live(live_server: tuple[str, str]) -> Iterator[Live]:
    """Agents over a parsed dataset, made through the RAGFlow HTTP API: RAGFlow's starter template (offline),
    a KB Q&A canvas on the echo upstream, and one whose upstream breaks off mid-answer."""
    root, key = live_server
    suffix = uuid.uuid4().hex[:8]
    with httpx.Client(base_url=f"{root}/api/v1", headers={"Authorization": f"Bearer {key}"}, timeout=60) as http:
        dataset_id = parsed_dataset(http, f"openai-agents-{suffix}")
        dsls = {
            "starter": starter([dataset_id]),
            "echo": kb_qa([dataset_id], llm_id="echo@echo"),
            "cut": kb_qa([dataset_id], llm_id="cut@echo"),
        }
        agents = {
            name: _data(http.post("/agents", json={"title": f"{name}-{suffix}", "dsl": dsl}))["id"]
            for name, dsl in dsls.items()
        }
        yield Live(root, key, agents)
        for agent_id in agents.values():
            http.delete(f"/agents/{agent_id}")
        http.request("DELETE", "/datasets", json={"ids": [dataset_id]})


def test_non_stream_and_stream(live: Live) -> None:
    client = live.client()
    messages: list[Any] = [{"role": "user", "content": "How warm is the hive?"}]

    completion = client.chat.completions.create(model="model", messages=messages)
    chunks = list(client.chat.completions.create(model="model", messages=messages, stream=True))

    [choice] = completion.choices
    assert completion.object == "chat.completion" and choice.finish_reason == "stop"
    assert "35 degrees" in (choice.message.content or "") and "[ID:0]" in (choice.message.content or "")
    assert completion.usage is not None and completion.usage.completion_tokens > 0
    *content, final = chunks
    assert "".join(chunk.choices[0].delta.content or "" for chunk in content) == choice.message.content
    assert final.choices[0].finish_reason == "stop" and final.usage is not None


def test_reference_on_request(live: Live) -> None:
    messages: list[Any] = [{"role": "user", "content": "How is honey made?"}]
    completion = live.client().chat.completions.create(model="model", messages=messages, extra_body={"reference": True})
    reference = (completion.choices[0].message.model_extra or {})["reference"]
    assert reference[0]["document_name"] == "bees.txt" and "evaporation" in reference[0]["content"]


def test_earlier_messages_are_the_agents_history(live: Live, upstream: UpstreamProcess) -> None:
    upstream.clear()
    messages: list[Any] = [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "echo: first"},
        {"role": "user", "content": "second"},
    ]
    completion = live.client("echo").chat.completions.create(model="model", messages=messages)
    assert completion.choices[0].message.content == "echo: second"
    [request] = upstream.received()
    assert [m["content"] for m in request["messages"][1:]] == ["first", "echo: first", "second"]


async def test_async_stream(live: Live) -> None:
    base_url = f"{live.root}/api/v1/agents_openai/{live.agents['starter']}"
    async with openai.AsyncOpenAI(base_url=base_url, api_key=live.key, timeout=60) as client:
        stream = await client.chat.completions.create(
            model="model", messages=[{"role": "user", "content": "How warm is the hive?"}], stream=True
        )
        text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream])
    assert "35 degrees" in text


def test_failures_are_real_http_errors(live: Live) -> None:
    messages: list[Any] = [{"role": "user", "content": "How is honey made?"}]
    with pytest.raises(openai.NotFoundError, match="You don't own the agent"):
        live.client(uuid.uuid4().hex).chat.completions.create(model="model", messages=messages)
    with pytest.raises(openai.InternalServerError) as failed:  # 502: the upstream broke off
        live.client("cut").chat.completions.create(model="model", messages=messages)
    assert failed.value.status_code == 502 and "stream broke off" in failed.value.message
    with pytest.raises(openai.APIError, match="stream broke off"):
        list(live.client("cut").chat.completions.create(model="model", messages=messages, stream=True))
    with pytest.raises(openai.BadRequestError):
        live.client().chat.completions.create(model="model", messages=[{"role": "assistant", "content": "hi"}])
