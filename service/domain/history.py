"""OpsBee histories: the messages every face records, seen (and written) one question and answer at a time.

A history is a `Message` row; its thread is its session; its tags and metadata live in `message_tags` and
`message_metadata`. Soft-deleted messages (`deleted_at`) are invisible here. Listing and search: `history_search`.

OpsBee's history has no place for a turn that failed, so its `output_text` "" looked like a success. Two extra
fields say what happened: `status` (ok | error | cancelled, the message's own) and `error_message` (why it
failed, or null); both can be given when a history is logged through OpsBee, and both can be searched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, String, any_, bindparam, delete, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Assistant, ChatSession, Message, MessageMetadata, MessageTag, Tag, utcnow
from service.domain import conversations, tags
from service.errors import Conflict, Invalid, NotFound

CHANNEL = "opsbee"
MAX_METADATA = 20
MAX_BYTES = 65_535
MAX_TOKENS = 2**31 - 1
STATUSES = ("ok", "error", "cancelled")  # a message's outcome: answered, failed, or abandoned by its client
CountTokens = Callable[[str], int]


@dataclass
class HistoryTag:
    id: str
    name: str
    description: str
    color: str


@dataclass
class HistoryMetadata:
    id: str
    key: str
    value: str


@dataclass
class History:
    """A message as OpsBee shows it: with its thread's name, its tags and its metadata."""

    id: str
    organization_id: str
    deployment_id: str
    thread_id: str | None
    thread_name: str
    input_text: str
    output_text: str
    input_token_count: int
    output_token_count: int
    created_at: datetime
    updated_at: datetime
    status: str  # one of STATUSES
    error: str  # why it failed; "" when it did not
    tags: list[HistoryTag] = field(default_factory=list)
    metadata: list[HistoryMetadata] = field(default_factory=list)


@dataclass
class HistoryChanges:
    """A validated create or update body; None is "not given"."""

    input_text: str | None = None
    output_text: str | None = None
    input_token_count: int | None = None
    output_token_count: int | None = None
    tag_ids: list[str] | None = None
    metadata: list[tuple[str, str]] = field(default_factory=list)
    status: str | None = None
    error_message: str | None = None


def _text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise Invalid(f"`{key}` must be a string")
    return value


def _count(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TOKENS:
        raise Invalid(f"`{key}` must be a non-negative integer")
    return value


def _tag_ids(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise Invalid("`tag_ids` must be a list of tag ids (strings)")
    return list(dict.fromkeys(value))


def check_status(value: Any) -> str:
    if value not in STATUSES:
        raise Invalid(f"`status` must be one of {', '.join(STATUSES)}")
    return str(value)


def _error_message(body: dict[str, Any]) -> str | None:
    value = _text(body, "error_message")
    if value is not None and len(value.encode()) > MAX_BYTES:
        raise Invalid(f"`error_message` is {len(value.encode())} bytes; the limit is {MAX_BYTES}")
    return value


def check_key(key: Any) -> str:
    if not isinstance(key, str) or not key:
        raise Invalid("metadata key must be a non-empty string")
    if len(key.encode()) > MAX_BYTES:
        raise Invalid(f"metadata key is {len(key.encode())} bytes; the limit is {MAX_BYTES}")
    return key


def check_value(value: Any) -> str:
    """A string (numbers are taken as their text), at most 65,535 bytes in UTF-8."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise Invalid("metadata value must be a string")
    if len(value.encode()) > MAX_BYTES:
        raise Invalid(f"metadata value is {len(value.encode())} bytes; the limit is {MAX_BYTES}")
    return value


def metadata_pairs(value: Any) -> list[tuple[str, str]]:
    """`[{"key1": "value1"}, {"key2": "value2"}]` (a dict of several keys is accepted too)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise Invalid('`metadata` must be a list of objects, e.g. [{"key1": "value1"}]')
    pairs = [(check_key(key), check_value(item[key])) for item in value for key in item]
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise Invalid("`metadata` repeats a key")
    if len(pairs) > MAX_METADATA:
        raise Invalid(f"`metadata` has {len(pairs)} keys; a history holds at most {MAX_METADATA}")
    return pairs


def changes_of(body: dict[str, Any], create: bool = False) -> HistoryChanges:
    changes = HistoryChanges(
        _text(body, "input_text"),
        _text(body, "output_text"),
        _count(body, "input_token_count"),
        _count(body, "output_token_count"),
        _tag_ids(body.get("tag_ids")),
        metadata_pairs(body.get("metadata")) if create else [],
        None if body.get("status") is None else check_status(body["status"]),
        _error_message(body),
    )
    if create and not (changes.input_text or changes.output_text):
        raise Invalid("`input_text` or `output_text` is required")
    return changes


def token_count(given: int | None, text: str, count_tokens: CountTokens) -> int:
    """A count of 0 (what the SDK sends when none is given) for non-empty text: count it ourselves."""
    return given if given else (count_tokens(text) if text else 0)


async def create_history(
    db: AsyncSession, thread: ChatSession, changes: HistoryChanges, count_tokens: CountTokens
) -> Message:
    """A history logged directly through OpsBee (channel `opsbee`), with its tags and metadata."""
    chosen = await tags.owned_tags(db, thread.tenant_id, changes.tag_ids or [])
    question, answer = changes.input_text or "", changes.output_text or ""
    entry = conversations.Record(
        thread.tenant_id,
        thread.assistant_id,
        thread.id,
        CHANNEL,
        question,
        answer,
        prompt_tokens=token_count(changes.input_token_count, question, count_tokens),
        completion_tokens=token_count(changes.output_token_count, answer, count_tokens),
        status=changes.status or "ok",
        error=changes.error_message or "",
    )
    message = await conversations.record(db, entry)
    db.add_all(_tag_rows(message, chosen))
    db.add_all(_metadata_rows(message, changes.metadata))
    await db.flush()
    await db.refresh(message)
    return message


def _tag_rows(message: Message, chosen: Iterable[Tag]) -> list[MessageTag]:
    return [
        MessageTag(message_id=message.id, tag_id=tag.id, tenant_id=message.tenant_id, assistant_id=message.assistant_id)
        for tag in chosen
    ]


def _metadata_rows(message: Message, pairs: list[tuple[str, str]]) -> list[MessageMetadata]:
    """Stamped a microsecond apart, so they list in the order given (one transaction shares one `now()`)."""
    now = utcnow()
    return [
        MessageMetadata(
            tenant_id=message.tenant_id,
            assistant_id=message.assistant_id,
            message_id=message.id,
            key=key,
            value=value,
            created_at=now + timedelta(microseconds=index),
            updated_at=now + timedelta(microseconds=index),
        )
        for index, (key, value) in enumerate(pairs)
    ]


async def get_history(
    db: AsyncSession, assistant: Assistant, history_id: str, thread: ChatSession | None = None
) -> Message:
    """A visible history of the deployment (and of the thread, when one is named)."""
    query = select(Message).where(
        Message.id == history_id, Message.assistant_id == assistant.id, Message.deleted_at.is_(None)
    )
    if thread is not None:
        query = query.where(Message.session_id == thread.id)
    message = await db.scalar(query)
    if message is None:
        raise NotFound(f"history {history_id} not found")
    return message


async def update_history(
    db: AsyncSession, message: Message, changes: HistoryChanges, count_tokens: CountTokens
) -> Message:
    """Replace what is given; `tag_ids` replaces the whole set of tags."""
    if changes.input_text is not None:
        message.input = changes.input_text
    if changes.output_text is not None:
        message.output = changes.output_text
    if changes.input_token_count is not None:
        message.prompt_tokens = token_count(changes.input_token_count, message.input, count_tokens)
    if changes.output_token_count is not None:
        message.completion_tokens = token_count(changes.output_token_count, message.output, count_tokens)
    if changes.status is not None:
        message.status = changes.status
        if changes.status == "ok":
            message.error = ""  # a turn marked answered keeps no failure, unless one is given with it
    if changes.error_message is not None:
        message.error = changes.error_message
    if changes.tag_ids is not None:
        chosen = await tags.owned_tags(db, message.tenant_id, changes.tag_ids)
        await db.execute(delete(MessageTag).where(MessageTag.message_id == message.id))
        db.add_all(_tag_rows(message, chosen))
    return await _touch(db, message)


async def delete_history(db: AsyncSession, message: Message) -> None:
    """Soft delete: hidden from every view; the row stays for the record."""
    message.deleted_at = utcnow()
    await db.flush()


async def _touch(db: AsyncSession, message: Message) -> Message:
    message.updated_at = utcnow()
    await db.flush()
    await db.refresh(message)
    return message


def history_select() -> Select[*tuple[Any, ...]]:
    """What a history shows, in one row per message (thread name joined): no ORM objects for a 1000-row page."""
    return select(*_COLUMNS).outerjoin(ChatSession, ChatSession.id == Message.session_id)


_COLUMNS = (
    Message.id,
    Message.tenant_id,
    Message.assistant_id,
    Message.session_id,
    func.coalesce(ChatSession.name, ""),
    Message.input,
    Message.output,
    Message.prompt_tokens,
    Message.completion_tokens,
    Message.created_at,
    Message.updated_at,
    Message.status,
    Message.error,
)


async def histories(db: AsyncSession, rows: Sequence[Sequence[Any]]) -> list[History]:
    """Rows of `history_select()` with their tags and metadata: two more queries for a whole page."""
    found = {row[0]: History(*row) for row in rows}
    if not found:
        return []
    ids = any_(bindparam("ids", list(found), type_=ARRAY(String)))  # one array parameter, not 1000 of them
    tag_rows = await db.execute(
        select(MessageTag.message_id, Tag.id, Tag.name, Tag.description, Tag.color)
        .join(Tag, Tag.id == MessageTag.tag_id)
        .where(MessageTag.message_id == ids)
        .order_by(Tag.name, Tag.id)
    )
    for message_id, *tag in tag_rows:
        found[message_id].tags.append(HistoryTag(*tag))
    metadata = await db.execute(
        select(MessageMetadata.message_id, MessageMetadata.id, MessageMetadata.key, MessageMetadata.value)
        .where(MessageMetadata.message_id == ids)
        .order_by(MessageMetadata.created_at, MessageMetadata.id)
    )
    for message_id, *item in metadata:
        found[message_id].metadata.append(HistoryMetadata(*item))
    return list(found.values())


async def view_of(db: AsyncSession, message: Message) -> History:
    rows = (await db.execute(history_select().where(Message.id == message.id))).all()
    return (await histories(db, rows))[0]


async def add_metadata(db: AsyncSession, message: Message, key: Any, value: Any) -> MessageMetadata:
    """One more key on a history: at most 20 keys, each once."""
    key, value = check_key(key), check_value(value)
    keys = list(await db.scalars(select(MessageMetadata.key).where(MessageMetadata.message_id == message.id)))
    if key in keys:
        raise Conflict(f"metadata key {key!r} already exists on history {message.id}; update it instead")
    if len(keys) >= MAX_METADATA:
        raise Invalid(f"history {message.id} already holds {MAX_METADATA} metadata keys, the limit")
    row = _metadata_rows(message, [(key, value)])[0]
    db.add(row)
    await _touch(db, message)
    await db.refresh(row)
    return row


async def get_metadata(db: AsyncSession, message: Message, metadata_id: str) -> MessageMetadata:
    row = await db.scalar(
        select(MessageMetadata).where(MessageMetadata.id == metadata_id, MessageMetadata.message_id == message.id)
    )
    if row is None:
        raise NotFound(f"metadata {metadata_id} not found")
    return row


async def update_metadata(
    db: AsyncSession, message: Message, row: MessageMetadata, key: Any, value: Any
) -> MessageMetadata:
    """Set key and value (None leaves one unchanged); a key may not collide with another of the history."""
    if key is not None:
        key = check_key(key)
        clash = select(func.count()).where(
            MessageMetadata.message_id == message.id, MessageMetadata.key == key, MessageMetadata.id != row.id
        )
        if await db.scalar(clash):
            raise Conflict(f"metadata key {key!r} already exists on history {message.id}")
        row.key = key
    if value is not None:
        row.value = check_value(value)
    row.updated_at = utcnow()
    await _touch(db, message)
    await db.refresh(row)
    return row


async def delete_metadata(db: AsyncSession, message: Message, row: MessageMetadata) -> None:
    await db.delete(row)
    await _touch(db, message)
