"""Long-term memory: a rolling summary of a session, updated by a background job after each answered turn.

The job runs on the same PostgreSQL queue as ingestion, so an answer never waits for it. With an upstream LLM
the summary is rewritten by that LLM; with `nectar-extractive` (or when the LLM fails) it is a deterministic
extractive summary: one line per turn, the oldest dropped past a size budget.
"""

from __future__ import annotations

import logging
import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import ChatSession, Message
from service.errors import DomainError
from service.providers.base import Generation, Usage
from service.providers.llm import Extractive, ModelRegistry

log = logging.getLogger(__name__)

SUMMARY_CHARS = 2000
SUMMARIZE = (
    "You maintain the long-term memory of a conversation. Rewrite the summary so it keeps every fact, "
    "preference and open question worth remembering, in at most {limit} characters. Answer with the summary only."
)


def _first_sentence(text: str, limit: int = 160) -> str:
    sentence = re.split(r"(?<=[.!?。！？])\s+|\n+", text.strip(), maxsplit=1)[0]
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


def extractive_summary(previous: str, question: str, answer: str, limit: int = SUMMARY_CHARS) -> str:
    lines = [line for line in previous.splitlines() if line.strip()]
    lines.append(f"- Asked: {_first_sentence(question)} | Answered: {_first_sentence(answer)}")
    while len("\n".join(lines)) > limit and len(lines) > 1:
        lines.pop(0)
    return "\n".join(lines)[:limit]


async def update_memory(db: AsyncSession, models: ModelRegistry, message_id: str) -> None:
    """The `MEMORY` job's work: the message's session gets a new summary that includes this turn."""
    message = await db.get(Message, message_id)
    if message is None or message.session_id is None or message.deleted_at is not None:
        return
    # Locked, so two turns finishing together both land in the summary.
    session = await db.scalar(select(ChatSession).where(ChatSession.id == message.session_id).with_for_update())
    if session is None:
        return
    session.summary = await summarize(models, session.summary, message.input, message.output, message.model)


async def summarize(models: ModelRegistry, previous: str, question: str, answer: str, llm_id: str) -> str:
    """The session's next summary: the upstream LLM's rewrite, else (extractive model, LLM failed) one line more."""
    fallback = extractive_summary(previous, question, answer)
    try:
        model, name = models.resolve(llm_id)
    except DomainError:
        return fallback
    if isinstance(model, Extractive):
        return fallback
    turn = f"Summary so far:\n{previous or '(empty)'}\n\nNew turn:\nUser: {question}\nAssistant: {answer}"
    messages = [
        {"role": "system", "content": SUMMARIZE.format(limit=SUMMARY_CHARS)},
        {"role": "user", "content": turn},
    ]
    try:
        pieces = [p async for p in model.stream(Generation(name, messages)) if not isinstance(p, Usage)]
    except DomainError as exc:  # memory must not be lost because the LLM hiccupped
        log.warning("summary by %s failed (%s); kept an extractive one", llm_id, exc.message)
        return fallback
    return "".join(pieces).strip()[:SUMMARY_CHARS] or fallback
