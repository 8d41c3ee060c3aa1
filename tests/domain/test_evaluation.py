"""Evaluation datasets in the domain: items validated, searched with search_query, made from histories."""

from __future__ import annotations

import pytest

from service.db.models import Assistant, ChatSession, Message, MessageMetadata, MessageTag, Tag
from service.domain import evaluation
from service.domain.assistants import AssistantConfig, create_assistant
from service.domain.pages import Page
from service.domain.search_query import SearchQueryError
from service.errors import Invalid, NotFound
from service.runtime import Runtime
from tests.conftest import Caller

PAGE = Page(0, 1000)


async def _dataset_with_items(runtime: Runtime, caller: Caller) -> str:
    async with runtime.sessions() as db:
        dataset = await evaluation.create_dataset(db, caller.tenant_id, "golden", "qa", None)
        await evaluation.create_item(
            db, dataset, [{"question": "How warm is a hive?"}], [{"answer": "35 C"}], ["bees"], [{"source": "wiki"}]
        )
        await evaluation.create_item(db, dataset, [{"prompt": "Name a river"}], [{"answer": "Danube"}], [], None)
        await db.commit()
    return dataset.id


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", 2),
        ("input_keys:question", 1),
        ('input_values:"How warm*"', 1),
        ("output_values:danube", 0),  # exact unless a wildcard is given
        ("output_values:Danube", 1),
        ("tag_values:bees", 1),
        ("metadata_keys:source AND metadata_values:wiki", 1),
        ("input_keys:prompt OR tag_values:bees", 2),
        ('input_values:"x\' OR 1=1; --"', 0),
    ],
)
async def test_item_search(runtime: Runtime, caller: Caller, query: str, expected: int) -> None:
    dataset_id = await _dataset_with_items(runtime, caller)
    async with runtime.sessions() as db:
        dataset = await evaluation.get_dataset(db, caller.tenant_id, dataset_id)
        items, total = await evaluation.list_items(db, dataset, query, PAGE)
    assert (len(items), total) == (expected, expected)


async def test_bad_items_and_queries_are_invalid(runtime: Runtime, caller: Caller) -> None:
    dataset_id = await _dataset_with_items(runtime, caller)
    async with runtime.sessions() as db:
        dataset = await evaluation.get_dataset(db, caller.tenant_id, dataset_id)
        inputs: object  # each value below is an invalid `inputs`
        for inputs in ([], [{}], [{"a": 1, "b": 2}], "text"):
            with pytest.raises(Invalid):
                await evaluation.create_item(db, dataset, inputs, [{"a": "b"}], [], [])
        with pytest.raises(SearchQueryError, match="position"):
            await evaluation.list_items(db, dataset, "input_keys:(", PAGE)
        with pytest.raises(Invalid):
            await evaluation.create_dataset(db, caller.tenant_id, "x", "chat", "")


async def test_histories_become_items_with_tags_and_metadata(
    runtime: Runtime, caller: Caller, other_caller: Caller
) -> None:
    async with runtime.sessions() as db:
        assistant: Assistant = await create_assistant(db, caller.tenant_id, "ops", AssistantConfig(llm_id="x@y"))
        session = ChatSession(tenant_id=caller.tenant_id, assistant_id=assistant.id, name="support thread")
        db.add(session)
        await db.flush()
        message = Message(
            tenant_id=caller.tenant_id, assistant_id=assistant.id, session_id=session.id, channel="opsbee",
            input="Where is my order?", output="It ships today.",
        )  # fmt: skip
        tag = Tag(tenant_id=caller.tenant_id, name="shipping")
        db.add_all([message, tag])
        await db.flush()
        db.add_all([
            MessageTag(message_id=message.id, tag_id=tag.id, tenant_id=caller.tenant_id, assistant_id=assistant.id),
            MessageMetadata(
                tenant_id=caller.tenant_id, assistant_id=assistant.id, message_id=message.id, key="channel",
                value="email",
            ),
        ])  # fmt: skip
        dataset = await evaluation.create_dataset(db, caller.tenant_id, "from history", "llm", "")
        [item] = await evaluation.add_histories(db, assistant.id, dataset, [message.id])
        with pytest.raises(NotFound):
            await evaluation.add_histories(db, assistant.id, dataset, [message.id, "0" * 32])
        with pytest.raises(NotFound):  # another tenant cannot see the dataset
            await evaluation.get_dataset(db, other_caller.tenant_id, dataset.id)
        await db.commit()
    assert item.inputs == [{"thread_name": "support thread"}, {"input_text": "Where is my order?"}]
    assert item.outputs == [{"output_text": "It ships today."}]
    assert (item.tags, item.metadata_, item.source_message_id) == (["shipping"], [{"channel": "email"}], message.id)
