"""Chat models: any OpenAI-compatible upstream through `openai.AsyncOpenAI`, and the offline `nectar-extractive`.

Model ids are `name@provider`. `nectar-extractive@Builtin` needs nothing; any other provider is an entry of
`Settings.llm_providers` (base URL + key).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import cast

import openai
from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam

from service.errors import Unsupported, UpstreamError
from service.providers.base import ChatModel, Generation, Passage, Usage
from service.settings import LLMProvider

EXTRACTIVE = "nectar-extractive@Builtin"
CONNECT_RETRIES = 2  # only a failed connection is retried: a request that reached the model may have cost money
SAMPLING = ("temperature", "top_p", "presence_penalty", "frequency_penalty", "max_tokens")


class OpenAICompatible:
    """Streams from an OpenAI-compatible server (vLLM, Ollama, llama.cpp, OpenAI)."""

    def __init__(self, name: str, client: openai.AsyncOpenAI) -> None:
        self.name = name
        self.client = client

    async def _open(self, generation: Generation) -> openai.AsyncStream[ChatCompletionChunk]:
        sampling = {key: generation.settings[key] for key in SAMPLING if generation.settings.get(key) is not None}
        messages = cast("list[ChatCompletionMessageParam]", generation.messages)
        for attempt in range(CONNECT_RETRIES + 1):
            try:
                # `**sampling` makes several overloads match, so mypy sees Any: the annotation states the one meant
                response: openai.AsyncStream[ChatCompletionChunk] = await self.client.chat.completions.create(
                    model=generation.model,
                    messages=messages,
                    stream=True,
                    stream_options={"include_usage": True},
                    **sampling,
                )
                return response
            except openai.APITimeoutError as exc:
                raise UpstreamError(f"LLM {self.name} timed out") from exc
            except openai.APIConnectionError as exc:
                if attempt == CONNECT_RETRIES:
                    raise UpstreamError(f"LLM {self.name} is unreachable: {exc}") from exc
                await asyncio.sleep(0.2 * 2**attempt)
            except openai.APIStatusError as exc:
                raise UpstreamError(f"LLM {self.name} answered HTTP {exc.status_code}: {_detail(exc)}") from exc
        raise AssertionError("unreachable")

    async def stream(self, generation: Generation) -> AsyncIterator[str | Usage]:
        response = await self._open(generation)
        finished = False
        try:
            async for chunk in response:
                if chunk.usage is not None:
                    yield Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                for choice in chunk.choices:
                    finished = finished or choice.finish_reason is not None
                    if choice.delta.content:
                        yield choice.delta.content
        except openai.APITimeoutError as exc:
            raise UpstreamError(f"LLM {self.name} timed out mid-answer") from exc
        except openai.APIConnectionError as exc:  # the openai client wraps every transport error in this
            raise UpstreamError(f"LLM {self.name} stream broke off: the connection was lost") from exc
        except openai.APIError as exc:  # an `{"error": ...}` event, as vLLM sends when generation fails
            raise UpstreamError(f"LLM {self.name} stream broke off: {exc.message[:500]}") from exc
        except ValueError as exc:  # an event that is not JSON
            raise UpstreamError(f"LLM {self.name} sent an unreadable stream: {str(exc)[:200]}") from exc
        finally:
            await response.close()  # also what cancels the upstream request when our client went away
        if not finished:
            raise UpstreamError(f"LLM {self.name} stream ended before the answer was finished")


def _detail(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:500]
    return exc.message[:500]


class Extractive:
    """The offline model: quotes the best sentences of the best passages, with `[ID:n]` citations.

    It never pretends to write: its name says what it is, and without passages it says so.
    """

    name = EXTRACTIVE
    QUOTES = 3

    async def stream(self, generation: Generation) -> AsyncIterator[str | Usage]:
        for piece in re.findall(r"\S+\s*", extractive_answer(generation.question, generation.passages)):
            yield piece


def extractive_answer(question: str, passages: list[Passage]) -> str:
    if not passages:
        return "I found nothing in the knowledge base about this, and nectar-extractive can only quote it."
    quotes = [f"> {_best_sentences(question, p.content)} [ID:{p.index}]" for p in passages[: Extractive.QUOTES]]
    return "From the knowledge base:\n\n" + "\n\n".join(quotes)


# Words too common to say which sentence answers a question.
STOP_WORDS = frozenset(
    re.findall(
        r"\w+",
        "the and for are was were what which who whom how why when where with from that this these those does did "
        "can could should would will about into over than then there their they them you your has have had not",
    )
)


def _words(text: str) -> set[str]:
    return {word for word in re.findall(r"\w+", text.lower()) if len(word) > 2 and word not in STOP_WORDS}


def _best_sentences(question: str, content: str, keep: int = 2, limit: int = 400) -> str:
    """The `keep` sentences sharing most words with the question, in their original order."""
    sentences = [s.strip() for s in re.split(r"(?<=[.!?。！？])\s+|\n+", content) if s.strip()]
    wanted = _words(question)
    ranked = sorted(range(len(sentences)), key=lambda i: (-len(_words(sentences[i]) & wanted), i))
    chosen = " ".join(sentences[i] for i in sorted(ranked[:keep]))
    return chosen if len(chosen) <= limit else chosen[: limit - 1].rstrip() + "…"


class ModelRegistry:
    """Resolves `name@provider` to a chat model; one HTTP client (and connection pool) per provider."""

    def __init__(self, providers: dict[str, LLMProvider], timeout: float) -> None:
        self.providers = {name.lower(): provider for name, provider in providers.items()}
        self.timeout = timeout
        self._clients: dict[str, openai.AsyncOpenAI] = {}

    def names(self) -> list[str]:
        return [EXTRACTIVE] + [f"{model}@{name}" for name, p in self.providers.items() for model in p.models]

    def resolve(self, llm_id: str) -> tuple[ChatModel, str]:
        """The model and the name to send it (the part before `@`)."""
        model, _, provider = llm_id.rpartition("@")
        if llm_id == EXTRACTIVE or llm_id == EXTRACTIVE.partition("@")[0]:
            return Extractive(), "nectar-extractive"
        if not model or provider.lower() not in self.providers:
            raise Unsupported(f"`llm_id` {llm_id} doesn't exist")
        return OpenAICompatible(llm_id, self._client(provider.lower())), model

    def _client(self, provider: str) -> openai.AsyncOpenAI:
        if provider not in self._clients:
            config = self.providers[provider]
            self._clients[provider] = openai.AsyncOpenAI(
                base_url=config.base_url,
                api_key=config.api_key or "none",
                timeout=openai.Timeout(self.timeout, connect=5.0),  # httpx2.Timeout: what openai 3 uses
                max_retries=0,  # retries are ours: connect errors only
            )
        return self._clients[provider]

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
        self._clients.clear()
