"""Whether a document's parse run is still the current one, for a worker busy in a step that reports nothing.

Stop, re-parse and delete clear or change the document's run id (`documents.py`); a worker that has been
parsing for a while asks this, so it stops within a poll interval instead of at its next progress report.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Document


async def run_is_current(db: AsyncSession, document_id: str, run_id: str) -> bool:
    query = select(Document.id).where(Document.id == document_id, Document.run_id == run_id)
    return (await db.execute(query)).first() is not None
