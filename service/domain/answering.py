"""Answering a question: retrieve → prompt → LLM → record. Shared by every face that chats.

`Answerer.ask` streams `Delta`s and ends with one `Answer`. Whatever happens (success, an upstream error,
the client going away) exactly one message row is written, so the LLMOps views see all traffic.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import anyio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.models import ChatSession, Dataset, new_id
from service.domain import conversations, retrieval
from service.domain.assistants import AssistantConfig
from service.domain.prompts import build_messages, system_prompt
from service.errors import DomainError
from service.jobs import MEMORY, enqueue
from service.providers.base import Embedder, Generation, Passage, Usage
from service.providers.llm import ModelRegistry


@dataclass
class Question:
    tenant_id: str
    assistant_id: str | None  # None: chat-less (RAGFlow `/chat/completions` without a chat)
    config: AssistantConfig
    text: str
    channel: str  # the face asking: ragflow | openai | apps | opsbee
    session_id: str | None = None
    history: list[tuple[str, str]] | None = None  # the client's own; None: the session's recorded turns
    llm_id: str | None = None  # overrides the assistant's model
    sampling: dict[str, Any] = field(default_factory=dict)  # overrides of llm_setting
    document_ids: list[str] = field(default_factory=list)
    metadata_condition: dict[str, Any] | None = None
    message_id: str = field(default_factory=new_id)  # known up front, so every streamed event can carry it


@dataclass
class Delta:
    text: str


@dataclass
class Answer:
    message_id: str
    session_id: str | None
    text: str
    reference: dict[str, Any]  # {"total", "chunks": [hit fields], "doc_aggs": [{doc_name, doc_id, count}]}
    model: str
    prompt: str
    prompt_tokens: int
    completion_tokens: int
    created_at: float


@dataclass
class _Context:
    hits: list[retrieval.Hit]
    doc_aggs: list[tuple[str, str, int]]
    history: list[tuple[str, str]]
    summary: str  # the session's long-term memory, when the assistant keeps one

    def reference(self) -> dict[str, Any]:
        return {
            "total": len(self.hits),
            "chunks": [asdict(hit) for hit in self.hits],
            "doc_aggs": [{"doc_name": name, "doc_id": doc_id, "count": n} for name, doc_id, n in self.doc_aggs],
        }

    def passages(self) -> list[Passage]:
        return [Passage(i, hit.document_name, hit.content) for i, hit in enumerate(self.hits)]


class Answerer:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        embedder_for: Callable[[str], Embedder],
        models: ModelRegistry,
        count_tokens: Callable[[str], int],
    ) -> None:
        self.sessions = sessions
        self.embedder_for = embedder_for
        self.models = models
        self.count_tokens = count_tokens

    async def ask(self, question: Question) -> AsyncIterator[Delta | Answer]:
        started = time.perf_counter()
        entry = conversations.Record(
            question.tenant_id,
            question.assistant_id,
            question.session_id,
            question.channel,
            question.text,
            id=question.message_id,
        )
        try:
            async for event in self._answer(question, entry, started):
                yield event
        except DomainError as exc:  # an upstream failure, or a model that is no longer configured
            entry.status, entry.error = "error", exc.message
            await self._record(entry, started)
            raise
        except (asyncio.CancelledError, GeneratorExit):
            entry.status, entry.error = "cancelled", "the client went away before the answer was complete"
            await self._record(entry, started)
            raise

    async def complete(self, question: Question) -> Answer:
        """The whole answer, for a client that does not stream (the stream is drained, so it ends normally)."""
        answer = None
        async for event in self.ask(question):
            if isinstance(event, Answer):
                answer = event
        if answer is None:
            raise RuntimeError("the answering layer ends every answer with an Answer")
        return answer

    async def _answer(
        self, question: Question, entry: conversations.Record, started: float
    ) -> AsyncIterator[Delta | Answer]:
        config = question.config
        context = await self._context(question)
        entry.reference = context.reference()
        prompt = system_prompt(config.prompt_config, context.passages(), {})
        messages = build_messages(prompt, context.history, question.text, context.summary)
        llm_id = question.llm_id or config.llm_id
        entry.model = llm_id
        usage: Usage | None = None
        empty = config.prompt_config.get("empty_response")
        if config.dataset_ids and not context.hits and empty:
            entry.output = str(empty)  # RAGFlow: nothing relevant found → the configured text, no LLM call
            entry.first_token_ms = (time.perf_counter() - started) * 1000
            yield Delta(entry.output)
        else:
            model, upstream_name = self.models.resolve(llm_id)
            generation = Generation(
                upstream_name, messages, context.passages(), question.text, {**config.llm_setting, **question.sampling}
            )
            async for piece in model.stream(generation):
                if isinstance(piece, Usage):
                    usage = piece
                    continue
                if entry.first_token_ms is None:
                    entry.first_token_ms = (time.perf_counter() - started) * 1000
                entry.output += piece
                yield Delta(piece)
        entry.prompt_tokens = usage.prompt_tokens if usage else sum(self.count_tokens(m["content"]) for m in messages)
        entry.completion_tokens = usage.completion_tokens if usage else self.count_tokens(entry.output)
        message_id = await self._record(entry, started, remember=_remembers(question))
        yield Answer(
            message_id, entry.session_id, entry.output, entry.reference, llm_id, prompt,
            entry.prompt_tokens, entry.completion_tokens, time.time(),
        )  # fmt: skip

    async def _context(self, question: Question) -> _Context:
        """Retrieval and history in one short read transaction."""
        config = question.config
        async with self.sessions() as db:
            history = question.history
            if history is None:
                history = (
                    await conversations.recent_turns(db, question.session_id, config.dialog_round)
                    if question.session_id
                    else []
                )
            else:
                history = history[-config.dialog_round :] if config.dialog_round else []
            result = await self._retrieve(db, question)
            summary = ""
            if _remembers(question):
                summary = (
                    await db.scalar(select(ChatSession.summary).where(ChatSession.id == question.session_id)) or ""
                )
        return _Context(result.hits if result else [], result.doc_aggs if result else [], history, summary)

    async def _retrieve(self, db: AsyncSession, question: Question) -> retrieval.RetrievalResult | None:
        config = question.config
        rows = await db.execute(
            select(Dataset.id, Dataset.embedding_model).where(
                Dataset.tenant_id == question.tenant_id, Dataset.id.in_(config.dataset_ids)
            )
        )
        # Datasets deleted since the assistant was made are skipped.
        datasets = {dataset_id: model for dataset_id, model in rows}
        if not datasets or config.top_n == 0:
            return None
        model = next(iter(datasets.values()))
        query = retrieval.RetrievalQuery(
            question.text,
            list(datasets),
            question.document_ids,
            page=1,
            page_size=config.top_n,
            similarity_threshold=config.similarity_threshold,
            vector_similarity_weight=config.vector_similarity_weight,
            top_k=config.top_k,
            metadata_condition=question.metadata_condition,
        )
        return await retrieval.retrieve(db, self.embedder_for(model), model, query)

    async def _record(self, entry: conversations.Record, started: float, remember: bool = False) -> str:
        """Written even while the caller is being cancelled: a shielded scope lets the insert finish.

        `remember`: the session's summary is updated by a queued job, committed with the message.
        """
        entry.latency_ms = (time.perf_counter() - started) * 1000
        with anyio.CancelScope(shield=True):
            async with self.sessions() as db:
                message = await conversations.record(db, entry)
                if remember:
                    await enqueue(db, MEMORY, [{"message_id": message.id}])
                await db.commit()
        return message.id


def _remembers(question: Question) -> bool:
    return question.config.memory_mode == "long_term_memory" and question.session_id is not None
