"""Offset pagination, once: every list the domain serves is `paged(db, query, page) -> (rows, total)`.

Each API family converts its own parameters (RAGFlow's page/page_size, OpsBee's offset/limit, the apps
face's current_page/page_size) into a `Page`; the domain never sees those spellings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    """Rows `offset` .. `offset + limit - 1` of an ordered list."""

    offset: int = 0
    limit: int = 30

    @classmethod
    def numbered(cls, number: int, size: int) -> Page:
        """Page `number` (from 1) of pages of `size` rows."""
        return cls((max(number, 1) - 1) * size, size)


async def count(db: AsyncSession, query: Select[Any]) -> int:
    """How many rows `query` selects (its ordering and any limit ignored)."""
    counted = select(func.count()).select_from(query.order_by(None).subquery())
    return int(await db.scalar(counted) or 0)


async def paged(db: AsyncSession, query: Select[T], page: Page) -> tuple[list[T], int]:
    """One page of an ordered single-entity query, and how many rows match in all. Neither bound can pass a
    client's huge page number or size on to PostgreSQL (OFFSET and LIMIT are bigints): both stay within `total`."""
    total = await count(db, query)
    if total <= page.offset:
        return [], total
    rows = await db.scalars(query.offset(page.offset).limit(min(page.limit, total - page.offset)))
    return list(rows), total
