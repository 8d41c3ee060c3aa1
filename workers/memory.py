"""The memory job: after an answered turn, its session's long-term summary is rewritten (`domain/memory.py`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.domain.memory import update_memory
from service.providers.llm import ModelRegistry


class UpdateMemory:
    """The queue handler: `{"message_id": ...}` → the message's session gets a new summary."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], models: ModelRegistry) -> None:
        self.sessions = sessions
        self.models = models

    async def __call__(self, payload: dict[str, Any]) -> None:
        async with self.sessions() as db:
            await update_memory(db, self.models, payload["message_id"])
            await db.commit()
