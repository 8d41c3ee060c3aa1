"""Evaluation datasets (OpsBee "datasets"): curated examples, written directly or made from recorded histories."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, exists, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import ChatSession, EvalDataset, EvalItem, Message, MessageMetadata, MessageTag, Tag
from service.domain.pages import Page, paged
from service.domain.search_query import Field, compare, compile_query
from service.errors import Invalid, NotFound

DATASET_TYPES = ("qa", "llm")


def _name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise Invalid("`name` is required")
    if len(name.encode()) > 255:
        raise Invalid("`name` must be at most 255 bytes")
    return name.strip()


def _text(value: Any, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Invalid(f"`{field}` must be a string")
    return value


async def create_dataset(db: AsyncSession, tenant_id: str, name: Any, kind: Any, description: Any) -> EvalDataset:
    if kind not in DATASET_TYPES:
        raise Invalid(f"`type` must be one of: {', '.join(DATASET_TYPES)}")
    dataset = EvalDataset(
        tenant_id=tenant_id, name=_name(name), type=kind, description=_text(description, "description")
    )
    db.add(dataset)
    await db.flush()
    await db.refresh(dataset)
    return dataset


async def get_dataset(db: AsyncSession, tenant_id: str, dataset_id: str) -> EvalDataset:
    dataset = await db.scalar(
        select(EvalDataset).where(EvalDataset.id == dataset_id, EvalDataset.tenant_id == tenant_id)
    )
    if dataset is None:
        raise NotFound(f"dataset {dataset_id} not found")
    return dataset


async def list_datasets(db: AsyncSession, tenant_id: str, page: Page) -> tuple[list[EvalDataset], int]:
    query = select(EvalDataset).where(EvalDataset.tenant_id == tenant_id)
    return await paged(db, query.order_by(EvalDataset.created_at.desc(), EvalDataset.id), page)


async def item_counts(db: AsyncSession, dataset_ids: list[str]) -> dict[str, int]:
    query = select(EvalItem.dataset_id, func.count()).where(EvalItem.dataset_id.in_(dataset_ids))
    return {dataset_id: count for dataset_id, count in await db.execute(query.group_by(EvalItem.dataset_id))}


async def update_dataset(db: AsyncSession, dataset: EvalDataset, name: Any, description: Any) -> EvalDataset:
    dataset.name = _name(name)
    if description is not None:
        dataset.description = _text(description, "description")
    await db.flush()
    await db.refresh(dataset)
    return dataset


async def delete_dataset(db: AsyncSession, dataset: EvalDataset) -> None:
    """Its items go with it (cascade)."""
    await db.delete(dataset)
    await db.flush()


def _pairs(value: Any, field: str, required: bool) -> list[dict[str, Any]]:
    """A list of one-key objects (`[{"question": "..."}]`), as the SDK sends inputs, outputs and metadata."""
    if value is None and not required:
        return []
    if not isinstance(value, list) or (required and not value):
        raise Invalid(f"`{field}` must be a {'non-empty ' if required else ''}list of {{key: value}} objects")
    for pair in value:
        if not isinstance(pair, dict) or len(pair) != 1 or not all(isinstance(key, str) and key for key in pair):
            raise Invalid(f"each entry of `{field}` must be an object with exactly one non-empty key")
    return value


def _tags(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise Invalid("`tags` must be a list of strings")
    return value


async def create_item(
    db: AsyncSession, dataset: EvalDataset, inputs: Any, outputs: Any, tags: Any, metadata: Any
) -> EvalItem:
    item = EvalItem(
        tenant_id=dataset.tenant_id,
        dataset_id=dataset.id,
        inputs=_pairs(inputs, "inputs", True),
        outputs=_pairs(outputs, "outputs", True),
        tags=_tags(tags),
        metadata_=_pairs(metadata, "metadata", False),
    )
    db.add(item)
    await db.flush()
    await db.refresh(item)
    return item


async def get_item(db: AsyncSession, dataset: EvalDataset, item_id: str) -> EvalItem:
    item = await db.scalar(select(EvalItem).where(EvalItem.id == item_id, EvalItem.dataset_id == dataset.id))
    if item is None:
        raise NotFound(f"item {item_id} not found in dataset {dataset.id}")
    return item


async def delete_item(db: AsyncSession, item: EvalItem) -> None:
    await db.delete(item)
    await db.flush()


def _pair_field(column: Any, part: str) -> Field:
    """`input_keys:q*` and friends: some entry of a list of one-key objects has a matching key (or value)."""

    def build(op: str, value: str, raw: str) -> ColumnElement[bool]:
        entries = func.jsonb_array_elements(column).table_valued("value").render_derived(name="entry")
        pairs = func.jsonb_each_text(entries.c.value).table_valued("key", "value").render_derived(name="pair")
        matched = compare(pairs.c.key if part == "key" else pairs.c.value, op, value)
        return exists(select(1).select_from(entries).join(pairs, true()).where(matched))

    return Field("custom", wildcard=True, build=build)


def _tag_values(op: str, value: str, raw: str) -> ColumnElement[bool]:
    tags = func.jsonb_array_elements_text(EvalItem.tags).table_valued("value").render_derived(name="tag")
    return exists(select(1).select_from(tags).where(compare(tags.c.value, op, value)))


ITEM_FIELDS: dict[str, Field] = {
    "item_id": Field("id", EvalItem.id),
    "input_keys": _pair_field(EvalItem.inputs, "key"),
    "input_values": _pair_field(EvalItem.inputs, "value"),
    "output_keys": _pair_field(EvalItem.outputs, "key"),
    "output_values": _pair_field(EvalItem.outputs, "value"),
    "metadata_keys": _pair_field(EvalItem.metadata_, "key"),
    "metadata_values": _pair_field(EvalItem.metadata_, "value"),
    "tag_values": Field("custom", wildcard=True, build=_tag_values),
    "created_at": Field("datetime", EvalItem.created_at),
    "updated_at": Field("datetime", EvalItem.updated_at),
}


async def list_items(
    db: AsyncSession, dataset: EvalDataset, search_query: str | None, page: Page
) -> tuple[list[EvalItem], int]:
    query = select(EvalItem).where(EvalItem.dataset_id == dataset.id, compile_query(search_query or "", ITEM_FIELDS))
    return await paged(db, query.order_by(EvalItem.created_at.desc(), EvalItem.id), page)


async def _histories(db: AsyncSession, assistant_id: str, history_ids: list[str]) -> list[tuple[Message, str]]:
    rows = await db.execute(
        select(Message, func.coalesce(ChatSession.name, ""))
        .outerjoin(ChatSession, ChatSession.id == Message.session_id)
        .where(Message.assistant_id == assistant_id, Message.id.in_(history_ids), Message.deleted_at.is_(None))
    )
    found = {message.id: (message, name) for message, name in rows}
    missing = [history_id for history_id in history_ids if history_id not in found]
    if missing:
        raise NotFound(f"history {missing[0]} not found in this deployment")
    return [found[history_id] for history_id in dict.fromkeys(history_ids)]


async def _labels(db: AsyncSession, message_ids: list[str]) -> Callable[[str], tuple[list[str], list[dict[str, str]]]]:
    tag_rows = await db.execute(
        select(MessageTag.message_id, Tag.name)
        .join(Tag, Tag.id == MessageTag.tag_id)
        .where(MessageTag.message_id.in_(message_ids))
    )
    meta_rows = await db.execute(
        select(MessageMetadata.message_id, MessageMetadata.key, MessageMetadata.value)
        .where(MessageMetadata.message_id.in_(message_ids))
        .order_by(MessageMetadata.created_at, MessageMetadata.id)
    )
    tags: dict[str, list[str]] = {}
    for message_id, name in tag_rows:
        tags.setdefault(message_id, []).append(name)
    metadata: dict[str, list[dict[str, str]]] = {}
    for message_id, key, value in meta_rows:
        metadata.setdefault(message_id, []).append({key: value})
    return lambda message_id: (sorted(tags.get(message_id, [])), metadata.get(message_id, []))


async def add_histories(db: AsyncSession, assistant_id: str, dataset: EvalDataset, history_ids: Any) -> list[EvalItem]:
    """Each history becomes an item: inputs thread_name + input_text, outputs output_text, its tags and metadata."""
    if not isinstance(history_ids, list) or not history_ids or not all(isinstance(i, str) for i in history_ids):
        raise Invalid("`history_ids` must be a non-empty list of history ids")
    histories = await _histories(db, assistant_id, history_ids)
    labels = await _labels(db, [message.id for message, _ in histories])
    items = []
    for message, thread_name in histories:
        tags, metadata = labels(message.id)
        item = EvalItem(
            tenant_id=dataset.tenant_id,
            dataset_id=dataset.id,
            inputs=[{"thread_name": thread_name}, {"input_text": message.input}],
            outputs=[{"output_text": message.output}],
            tags=tags,
            metadata_=metadata,
            source_message_id=message.id,
        )
        db.add(item)
        items.append(item)
    await db.flush()
    return items
