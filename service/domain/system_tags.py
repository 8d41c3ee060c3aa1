"""Tags and metadata the service itself puts on histories: an evaluation run's name, `feedback:like`/`dislike`.

They are ordinary OpsBee tags and metadata (one tag per name and tenant), so `tag_name:` and `metadata_key:`
searches, dataset curation and exports see them like any other. A tag is made on first use and made again if
a user deleted it.
"""

from __future__ import annotations

from sqlalchemy import func, select, true
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Message, MessageMetadata, MessageTag, Tag, new_id
from service.domain.history import MAX_METADATA


async def ensure_tag(db: AsyncSession, tenant_id: str, name: str, description: str, color: str) -> str:
    """The id of the tenant's tag called `name`, made now if there is none (safe against a concurrent maker)."""
    values = {"id": new_id(), "tenant_id": tenant_id, "name": name, "description": description, "color": color}
    await db.execute(insert(Tag).values(**values).on_conflict_do_nothing(index_elements=["tenant_id", "name"]))
    tag_id = await db.scalar(select(Tag.id).where(Tag.tenant_id == tenant_id, Tag.name == name))
    assert tag_id is not None  # inserted or already there, in this transaction's view
    return tag_id


async def add_tag(db: AsyncSession, message: Message, tag_id: str) -> None:
    """Tag the message, once; a tag deleted meanwhile is skipped, and so is a message of no deployment."""
    row = (
        select(Tag.id, Message.id, Message.tenant_id, Message.assistant_id)
        .join(Message, true())  # one tag row and one message row
        .where(Tag.id == tag_id, Message.id == message.id, Message.assistant_id.is_not(None))
    )
    columns = ["tag_id", "message_id", "tenant_id", "assistant_id"]
    await db.execute(insert(MessageTag).from_select(columns, row).on_conflict_do_nothing())


async def set_metadata(db: AsyncSession, message: Message, key: str, value: str | None) -> bool:
    """Set (or, with None, remove) one metadata key of the message. False when the message already holds the
    most keys a history may and `key` is not one of them (or is no deployment's): the value is then not kept."""
    if message.assistant_id is None:
        return False
    existing = await db.scalar(
        select(MessageMetadata).where(MessageMetadata.message_id == message.id, MessageMetadata.key == key)
    )
    if value is None:
        if existing is not None:
            await db.delete(existing)
        return True
    if existing is not None:
        existing.value = value
        return True
    held = await db.scalar(select(func.count()).where(MessageMetadata.message_id == message.id))
    if (held or 0) >= MAX_METADATA:
        return False
    db.add(
        MessageMetadata(
            tenant_id=message.tenant_id, assistant_id=message.assistant_id, message_id=message.id, key=key, value=value
        )
    )
    return True


def add_metadata(db: AsyncSession, message: Message, pairs: list[tuple[str, str]]) -> None:
    """New keys on a message known to hold none of them (one the service has just recorded)."""
    if message.assistant_id is None:
        return
    db.add_all(
        MessageMetadata(
            tenant_id=message.tenant_id, assistant_id=message.assistant_id, message_id=message.id, key=key, value=value
        )
        for key, value in pairs
    )
