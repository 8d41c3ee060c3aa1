"""`service.providers.llm` against a real OpenAI-compatible server process (`tests.support.upstream`)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from service.errors import Unsupported, UpstreamError
from service.providers.base import ChatModel, Generation, Passage, Usage
from service.providers.llm import EXTRACTIVE, Extractive, ModelRegistry, OpenAICompatible, extractive_answer
from service.settings import LLMProvider
from tests.support.upstream import UpstreamProcess, free_port

PROVIDER = "echo-host"


def registry_for(base_url: str, timeout: float = 5.0) -> ModelRegistry:
    return ModelRegistry({PROVIDER: LLMProvider(base_url=base_url, models=("echo",))}, timeout=timeout)


@pytest.fixture
async def registry(upstream: UpstreamProcess) -> AsyncIterator[ModelRegistry]:
    models = registry_for(upstream.base_url)
    yield models
    await models.close()


def marked(text: str) -> tuple[str, str]:
    """`text` with a unique word appended, to find this test's request in the upstream's log."""
    marker = f"m{uuid.uuid4().hex[:10]}"
    return f"{text} {marker}", marker


def generation(model: str, question: str, **settings: Any) -> Generation:
    return Generation(
        model=model,
        messages=[{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": question}],
        question=question,
        settings=settings,
    )


async def collect(model: ChatModel, request: Generation) -> list[str | Usage]:
    return [item async for item in model.stream(request)]


async def collect_until_error(model: ChatModel, request: Generation) -> tuple[list[str], UpstreamError]:
    deltas: list[str] = []
    with pytest.raises(UpstreamError) as caught:
        async for item in model.stream(request):
            assert isinstance(item, str)
            deltas.append(item)
    return deltas, caught.value


def requests_with(upstream: UpstreamProcess, marker: str) -> list[dict[str, Any]]:
    return [r for r in upstream.received() if marker in str(r.get("messages"))]


async def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.1)
    return condition()


# Streaming through OpenAICompatible


async def test_echo_streams_word_deltas_then_usage(registry: ModelRegistry, upstream: UpstreamProcess) -> None:
    model, name = registry.resolve(f"echo@{PROVIDER}")
    assert isinstance(model, OpenAICompatible)
    assert name == "echo"
    question, marker = marked("hello there")
    items = await collect(model, generation(name, question, temperature=0.2, top_p=None))

    deltas, usages = items[:-1], items[-1:]
    assert all(isinstance(d, str) for d in deltas)
    assert "".join(str(d) for d in deltas) == f"echo: {question}"
    assert deltas == ["echo: ", "hello ", "there ", marker]  # streamed as it came, not buffered into one piece
    # prompt: "Answer briefly." (2) + question (3); completion: the 4 answer words; usage comes last
    assert usages == [Usage(prompt_tokens=5, completion_tokens=4)]

    [sent] = requests_with(upstream, marker)
    assert sent["model"] == "echo"
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
    assert sent["temperature"] == 0.2
    assert "top_p" not in sent  # unset sampling settings are not sent
    assert sent["_outcome"] == "completed"


async def test_echo_without_usage_yields_only_text(registry: ModelRegistry) -> None:
    model, name = registry.resolve(f"echo-nousage@{PROVIDER}")
    question, _ = marked("no usage please")
    items = await collect(model, generation(name, question))
    assert items
    assert all(isinstance(item, str) for item in items)
    assert "".join(str(item) for item in items) == f"echo: {question}"


async def test_slow_upstream_times_out(upstream: UpstreamProcess) -> None:
    models = registry_for(upstream.base_url, timeout=1.0)
    try:
        model, name = models.resolve(f"slow@{PROVIDER}")
        started = time.monotonic()
        with pytest.raises(UpstreamError, match="timed out") as caught:
            await collect(model, generation(name, "anyone there?"))
        elapsed = time.monotonic() - started
    finally:
        await models.close()
    assert f"slow@{PROVIDER}" in caught.value.message
    assert 0.9 <= elapsed < 4.0  # the 1 s read timeout, not the upstream's 30 s; and not retried


@pytest.mark.parametrize(
    ("model_name", "status", "detail"),
    [("fail-500", 500, "upstream exploded"), ("no-such-model", 404, "The model `no-such-model` does not exist")],
)
async def test_error_status_carries_code_and_upstream_message(
    registry: ModelRegistry,
    upstream: UpstreamProcess,
    model_name: str,
    status: int,
    detail: str,
) -> None:
    model, name = registry.resolve(f"{model_name}@{PROVIDER}")
    question, marker = marked("please fail")
    with pytest.raises(UpstreamError) as caught:
        await collect(model, generation(name, question))
    assert f"HTTP {status}" in caught.value.message
    assert detail in caught.value.message
    assert len(requests_with(upstream, marker)) == 1  # a request that reached the model is never retried


async def test_cut_connection_raises_after_the_delivered_deltas(
    registry: ModelRegistry,
    upstream: UpstreamProcess,
) -> None:
    model, name = registry.resolve(f"cut@{PROVIDER}")
    question, marker = marked("cut me off")
    deltas, error = await collect_until_error(model, generation(name, question))
    assert deltas == ["echo: ", "cut "]
    assert "broke off" in error.message
    assert [r["_outcome"] for r in requests_with(upstream, marker)] == ["cut"]


async def test_stream_ending_without_finish_raises(registry: ModelRegistry) -> None:
    model, name = registry.resolve(f"unfinished@{PROVIDER}")
    deltas, error = await collect_until_error(model, generation(name, "stop early"))
    assert deltas == ["echo: ", "stop "]
    assert "ended before the answer was finished" in error.message


@pytest.mark.parametrize(
    ("model_name", "detail"),
    [("garbage", "sent an unreadable stream"), ("error-event", "stream broke off: the GPU fell over")],
)
async def test_bad_event_mid_stream_raises_upstream_error(
    registry: ModelRegistry, model_name: str, detail: str
) -> None:
    model, name = registry.resolve(f"{model_name}@{PROVIDER}")
    deltas, error = await collect_until_error(model, generation(name, "say something"))
    assert deltas == ["echo: "]
    assert detail in error.message


async def test_unreachable_upstream_fails_after_connect_retries() -> None:
    models = registry_for(f"http://127.0.0.1:{free_port()}/v1")  # nothing listens there
    try:
        model, name = models.resolve(f"echo@{PROVIDER}")
        started = time.monotonic()
        with pytest.raises(UpstreamError, match="unreachable"):
            await collect(model, generation(name, "hello?"))
        elapsed = time.monotonic() - started
    finally:
        await models.close()
    assert 0.5 <= elapsed < 5.0  # two back-offs (0.2 s + 0.4 s) between three attempts, then a prompt failure


@pytest.mark.parametrize("cancelled_while", ["awaiting_upstream", "between_deltas"])
async def test_cancelling_the_consumer_closes_the_upstream_request(
    registry: ModelRegistry,
    upstream: UpstreamProcess,
    cancelled_while: str,
) -> None:
    model, name = registry.resolve(f"endless@{PROVIDER}")
    question, marker = marked("go on forever")
    deltas: list[str | Usage] = []

    async def consume() -> None:
        async for item in model.stream(generation(name, question)):
            deltas.append(item)
            if cancelled_while == "between_deltas":
                await asyncio.sleep(60)  # the consumer is busy elsewhere; the stream sits at its `yield`

    task = asyncio.create_task(consume())
    assert await wait_for(lambda: len(deltas) >= (1 if cancelled_while == "between_deltas" else 3), 5)
    assert [r["_outcome"] for r in requests_with(upstream, marker)] == ["streaming"]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    def closed() -> bool:
        return [r["_outcome"] for r in requests_with(upstream, marker)] == ["client_closed"]

    assert await wait_for(closed, 5), requests_with(upstream, marker)


# ModelRegistry


def test_unknown_provider_is_unsupported() -> None:
    models = registry_for("http://127.0.0.1:9/v1")
    with pytest.raises(Unsupported) as caught:
        models.resolve("x@nowhere")
    assert caught.value.message == "`llm_id` x@nowhere doesn't exist"
    with pytest.raises(Unsupported):
        models.resolve(PROVIDER)  # no model name before the `@`


def test_registry_resolves_builtin_and_providers_case_insensitively() -> None:
    models = registry_for("http://127.0.0.1:9/v1")
    for llm_id in (EXTRACTIVE, "nectar-extractive"):
        model, name = models.resolve(llm_id)
        assert isinstance(model, Extractive)
        assert name == "nectar-extractive"
    first, name = models.resolve("echo@ECHO-Host")
    second, _ = models.resolve(f"slow@{PROVIDER}")
    assert isinstance(first, OpenAICompatible) and isinstance(second, OpenAICompatible)
    assert name == "echo"
    assert first.client is second.client  # one client (and connection pool) per provider
    assert models.names() == [EXTRACTIVE, f"echo@{PROVIDER}"]


# Extractive


def test_extractive_cites_at_most_three_passages() -> None:
    passages = [Passage(i, f"doc{i}.txt", f"Passage number {i} talks about bees.") for i in range(1, 5)]
    answer = extractive_answer("What about bees?", passages)
    assert [f"[ID:{i}]" in answer for i in range(1, 5)] == [True, True, True, False]
    assert answer.index("[ID:1]") < answer.index("[ID:2]") < answer.index("[ID:3]")


def test_extractive_quotes_the_sentences_that_share_words_with_the_question() -> None:
    content = (
        "Our office opened in 1998. Honey bees pollinate almond orchards in California. "
        "The cafeteria serves lunch at noon. Almond orchards need two hives per acre."
    )
    answer = extractive_answer("Which bees pollinate almond orchards?", [Passage(7, "farm.txt", content)])
    assert "> Honey bees pollinate almond orchards in California. Almond orchards need two hives per acre. [ID:7]" in (
        answer
    )
    assert "office" not in answer
    assert "cafeteria" not in answer


def test_extractive_says_plainly_when_it_has_nothing() -> None:
    answer = extractive_answer("What is the airspeed of a swallow?", [])
    assert "found nothing" in answer
    assert "[ID:" not in answer


async def test_extractive_streams_its_answer_without_usage() -> None:
    passages = [Passage(1, "a.txt", "Nectar serves answers from a knowledge base.")]
    request = Generation(model="nectar-extractive", messages=[], passages=passages, question="What does Nectar do?")
    items = await collect(Extractive(), request)
    assert len(items) > 1
    assert all(isinstance(item, str) for item in items)
    assert "".join(str(item) for item in items) == extractive_answer(request.question, passages)
