"""Chat models: any OpenAI-compatible upstream through `openai.AsyncOpenAI`, and the offline `nectar-extractive`.

Model ids are `name@provider`. `nectar-extractive@Builtin` needs nothing; any other provider is an entry of
`Settings.llm_providers` (base URL + key).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar, cast

import openai
from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam

from service.errors import Unsupported, UpstreamError
from service.providers.base import ChatModel, Generation, Passage, Usage
from service.settings import LLMProvider

log = logging.getLogger(__name__)
T = TypeVar("T")

EXTRACTIVE = "nectar-extractive@Builtin"
CONNECT_RETRIES = 2  # only a failed connection is retried: a request that reached the model may have cost money
SAMPLING = ("temperature", "top_p", "presence_penalty", "frequency_penalty", "max_tokens")


@dataclass(frozen=True)
class Limits:
    """How long one call may take: `total` from the request to its last word (NECTAR_LLM_TIMEOUT), and
    `first_token` until the first word of the answer (NECTAR_LLM_FIRST_TOKEN_TIMEOUT), whichever ends first."""

    total: float
    first_token: float


class Deadline:
    """The clock of one call. The HTTP client's timeout is per read, so an upstream sending a word every few
    seconds would hold a request forever; this bounds each wait by what is left of the call instead."""

    def __init__(self, name: str, limits: Limits) -> None:
        self.name, self.limits = name, limits
        now = asyncio.get_running_loop().time()
        self.end = now + limits.total
        self.first_end = min(self.end, now + limits.first_token)
        self.answering = False  # set once the first word arrived: only the total bounds the rest

    async def bound(self, step: Awaitable[T]) -> T:
        """`step` within what is left. Only the wait is bounded: never a `yield` of the caller, whose
        cancellation would then land in the consumer's code instead of here."""
        first = not self.answering
        try:
            async with asyncio.timeout_at(self.first_end if first else self.end):
                return await step
        except TimeoutError:
            raise UpstreamError(self._late(first)) from None

    def _late(self, first: bool) -> str:
        if first and self.first_end < self.end:
            log.warning("LLM %s: no answer within NECTAR_LLM_FIRST_TOKEN_TIMEOUT", self.name)
            return f"LLM {self.name} timed out: no answer within {self.limits.first_token:g} s"
        log.warning("LLM %s: the call outlasted NECTAR_LLM_TIMEOUT", self.name)
        return f"LLM {self.name} timed out: the answer took longer than {self.limits.total:g} s"


class OpenAICompatible:
    """Streams from an OpenAI-compatible server (vLLM, Ollama, llama.cpp, OpenAI)."""

    def __init__(self, name: str, client: openai.AsyncOpenAI, limits: Limits) -> None:
        self.name = name
        self.client = client
        self.limits = limits

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
        deadline = Deadline(self.name, self.limits)
        response = await deadline.bound(self._open(generation))
        chunks = aiter(response)
        finished = False
        try:
            while True:
                with self._read_errors():
                    try:
                        chunk = await deadline.bound(anext(chunks))
                    except StopAsyncIteration:
                        break
                if chunk.usage is not None:
                    yield Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                for choice in chunk.choices:
                    finished = finished or choice.finish_reason is not None
                    # A reasoning model's thoughts count as its first words (they are not part of the answer);
                    # the empty `role` chunk vLLM sends at once does not.
                    deadline.answering |= bool(choice.delta.content or getattr(choice.delta, "reasoning_content", None))
                    if choice.delta.content:
                        yield choice.delta.content
        finally:
            await response.close()  # also what cancels the upstream request when our client went away
        if not finished:
            raise UpstreamError(f"LLM {self.name} stream ended before the answer was finished")

    @contextmanager
    def _read_errors(self) -> Iterator[None]:
        """What reading the stream can raise, as the UpstreamError the answering layer records."""
        try:
            yield
        except openai.APITimeoutError as exc:
            raise UpstreamError(f"LLM {self.name} timed out mid-answer") from exc
        except openai.APIConnectionError as exc:  # the openai client wraps every transport error in this
            raise UpstreamError(f"LLM {self.name} stream broke off: the connection was lost") from exc
        except openai.APIError as exc:  # an `{"error": ...}` event, as vLLM sends when generation fails
            raise UpstreamError(f"LLM {self.name} stream broke off: {exc.message[:500]}") from exc
        except ValueError as exc:  # an event that is not JSON
            raise UpstreamError(f"LLM {self.name} sent an unreadable stream: {str(exc)[:200]}") from exc


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

    def __init__(
        self, providers: dict[str, LLMProvider], timeout: float, first_token_timeout: float | None = None
    ) -> None:
        """`timeout` bounds a whole call; `first_token_timeout` (default: the same) the wait for its first word."""
        self.providers = {name.lower(): provider for name, provider in providers.items()}
        self.timeout = timeout
        self.limits = Limits(timeout, timeout if first_token_timeout is None else first_token_timeout)
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
        return OpenAICompatible(llm_id, self._client(provider.lower()), self.limits), model

    def _client(self, provider: str) -> openai.AsyncOpenAI:
        if provider not in self._clients:
            config = self.providers[provider]
            self._clients[provider] = openai.AsyncOpenAI(
                base_url=config.base_url,
                api_key=config.api_key or "none",
                timeout=openai.Timeout(self.timeout, connect=5.0),  # per read; `Deadline` bounds the whole call
                max_retries=0,  # retries are ours: connect errors only
            )
        return self._clients[provider]

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
        self._clients.clear()
