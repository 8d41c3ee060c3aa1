"""Tags (OpsBee history tags): per tenant, a unique name, a description and a colour from a fixed palette."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Tag, utcnow
from service.domain.names import description, required_name
from service.domain.pages import Page, paged
from service.errors import Conflict, Invalid, NotFound

COLORS = (
    "red",
    "orange",
    "yellow",
    "olive",
    "green",
    "teal",
    "blue",
    "violet",
    "purple",
    "pink",
    "brown",
    "grey",
    "black",
)
DEFAULT_COLOR = "grey"


def tag_color(value: Any) -> str:
    """An empty or missing colour is the default (grey), as the SDK does."""
    if value is None or value == "":
        return DEFAULT_COLOR
    if not isinstance(value, str) or value not in COLORS:
        raise Invalid(f"color {value!r} is not supported; available colors are {', '.join(COLORS)}")
    return value


async def _check_unique(db: AsyncSession, tenant_id: str, name: str, exclude_id: str | None = None) -> None:
    query = select(Tag.id).where(Tag.tenant_id == tenant_id, Tag.name == name)
    if exclude_id is not None:
        query = query.where(Tag.id != exclude_id)
    if await db.scalar(query.limit(1)) is not None:
        raise Conflict(f"tag {name!r} already exists")


async def _save(db: AsyncSession, tag: Tag) -> Tag:
    """Flush (a concurrent duplicate name is a Conflict, not a 500) and load the server-set timestamps."""
    try:
        await db.flush()
    except IntegrityError:
        raise Conflict(f"tag {tag.name!r} already exists") from None
    await db.refresh(tag)
    return tag


async def create_tag(db: AsyncSession, tenant_id: str, name: Any, text: Any = None, color: Any = None) -> Tag:
    tag = Tag(tenant_id=tenant_id, name=required_name(name), description=description(text), color=tag_color(color))
    await _check_unique(db, tenant_id, tag.name)
    db.add(tag)
    return await _save(db, tag)


async def get_tag(db: AsyncSession, tenant_id: str, tag_id: str) -> Tag:
    tag = await db.scalar(select(Tag).where(Tag.id == tag_id, Tag.tenant_id == tenant_id))
    if tag is None:
        raise NotFound(f"tag {tag_id} not found")
    return tag


async def list_tags(db: AsyncSession, tenant_id: str, page: Page) -> tuple[list[Tag], int]:
    query = select(Tag).where(Tag.tenant_id == tenant_id).order_by(Tag.created_at.desc(), Tag.id.desc())
    return await paged(db, query, page)


async def update_tag(db: AsyncSession, tag: Tag, changes: dict[str, Any]) -> Tag:
    """`changes` holds any of name, description, color; a None value leaves that field unchanged."""
    if changes.get("name") is not None:
        name = required_name(changes["name"])
        await _check_unique(db, tag.tenant_id, name, exclude_id=tag.id)
        tag.name = name
    if changes.get("description") is not None:
        tag.description = description(changes["description"])
    if "color" in changes and changes["color"] is not None:
        tag.color = tag_color(changes["color"])
    tag.updated_at = utcnow()
    return await _save(db, tag)


async def delete_tag(db: AsyncSession, tag: Tag) -> None:
    """Removing a tag removes it from every history that carries it (cascade)."""
    await db.delete(tag)
    await db.flush()


async def owned_tags(db: AsyncSession, tenant_id: str, tag_ids: Sequence[str]) -> list[Tag]:
    """The tenant's tags with these ids, in the given order; an unknown id is Invalid."""
    wanted = list(dict.fromkeys(tag_ids))
    if not wanted:
        return []
    found = {tag.id: tag for tag in await db.scalars(select(Tag).where(Tag.tenant_id == tenant_id, Tag.id.in_(wanted)))}
    missing = [tag_id for tag_id in wanted if tag_id not in found]
    if missing:
        raise Invalid(f"tag_ids: no such tag in this organization: {', '.join(missing)}")
    return [found[tag_id] for tag_id in wanted]
