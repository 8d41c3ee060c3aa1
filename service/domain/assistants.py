"""Assistants (RAGFlow chats, OpsBee deployments, apps): their config, validation and storage."""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Select, delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import AgentCanvas, Assistant, Dataset, Document, Message
from service.domain.batches import Batch, unique_ids
from service.domain.llms import sampling_error
from service.domain.matching import contains
from service.domain.pages import Page, paged
from service.errors import Conflict, Invalid, NotFound


class DuplicateName(Conflict):
    """Another of the tenant's assistants has this name (compared case-insensitively)."""


DEFAULT_SYSTEM = (  # RAGFlow v0.27's, to the character
    "You are an intelligent assistant. Please summarize the content of the dataset to answer the question. "
    "Please list the data in the dataset and answer in detail. When all dataset content is irrelevant to the "
    'question, your answer must include the sentence "The answer you are looking for is not found in the dataset!" '
    "Answers need to consider chat history.\n      Here is the knowledge base:\n      {knowledge}\n      "
    "The above is the knowledge base."
)
DEFAULT_PROMPT_CONFIG: dict[str, Any] = {
    "system": DEFAULT_SYSTEM,
    "prologue": "Hi! I'm your assistant. What can I do for you?",
    "parameters": [{"key": "knowledge", "optional": False}],
    "empty_response": "",
    "quote": True,
    "tts": False,
    "refine_multiturn": True,
}
DEFAULT_LLM_SETTING: dict[str, Any] = {
    "temperature": 0.1,
    "top_p": 0.3,
    "presence_penalty": 0.4,
    "frequency_penalty": 0.7,
}
MEMORY_MODES = ("none", "long_term_memory")


@dataclass
class AssistantConfig:
    """Everything that decides how an assistant answers (one published, optionally one draft)."""

    llm_id: str
    dataset_ids: list[str] = field(default_factory=list)
    llm_setting: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_LLM_SETTING))
    prompt_config: dict[str, Any] = field(default_factory=lambda: copy.deepcopy(DEFAULT_PROMPT_CONFIG))
    similarity_threshold: float = 0.1
    vector_similarity_weight: float = 0.3
    top_n: int = 6
    top_k: int = 1024
    rerank_id: str = ""
    dialog_round: int = 3  # earlier turns that go into the prompt
    memory_mode: str = "none"

    @classmethod
    def load(cls, stored: dict[str, Any]) -> AssistantConfig:
        known = {key: value for key, value in stored.items() if key in cls.__dataclass_fields__}
        return cls(**known)

    def dump(self) -> dict[str, Any]:
        return asdict(self)

    def merged(self, changes: dict[str, Any], deep: bool = True) -> AssistantConfig:
        """A copy with `changes` applied; `llm_setting` and `prompt_config` are deep-merged (RAGFlow PATCH),
        or replaced as given with `deep=False` (RAGFlow PUT)."""
        data = self.dump()
        for key, value in changes.items():
            if key not in data:
                raise Invalid(f"Unknown assistant setting `{key}`")
            data[key] = _deep_merge(data[key], value) if deep and isinstance(data[key], dict) else value
        config = AssistantConfig.load(data)
        config.validate()
        return config

    def validate(self) -> None:
        _check_number("similarity_threshold", self.similarity_threshold, 0, 1)
        _check_number("vector_similarity_weight", self.vector_similarity_weight, 0, 1)
        _check_number("top_n", self.top_n, 0, 1000, integer=True)
        _check_number("top_k", self.top_k, 1, 10000, integer=True)
        _check_number("dialog_round", self.dialog_round, 0, 100, integer=True)
        if self.memory_mode not in MEMORY_MODES:
            raise Invalid(f"`memory_mode` must be one of {', '.join(MEMORY_MODES)}")
        if not isinstance(self.llm_id, str) or not self.llm_id:
            raise Invalid("`llm_id` must be a non-empty string")
        if not isinstance(self.dataset_ids, list) or not all(isinstance(i, str) for i in self.dataset_ids):
            raise Invalid("`dataset_ids` should be a list of strings")
        _check_prompt_config(self.prompt_config)
        check_sampling(self.llm_setting)


def check_sampling(settings: Any) -> None:
    """An llm_setting (or one request's overrides) whose sampling values an upstream would accept."""
    if not isinstance(settings, dict):
        raise Invalid("`llm_setting` should be an object")
    for key, value in settings.items():
        if value is not None and (problem := sampling_error(key, value)):
            raise Invalid(problem)


def _deep_merge(base: dict[str, Any], changes: Any) -> Any:
    if not isinstance(changes, dict):
        return changes
    merged = dict(base)
    for key, value in changes.items():
        merged[key] = _deep_merge(merged[key], value) if isinstance(merged.get(key), dict) else value
    return merged


def _check_number(name: str, value: Any, low: float, high: float, integer: bool = False) -> None:
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
        kind = "an integer" if integer else "a number"
        raise Invalid(f"`{name}` should be {kind} between {low} and {high}")


def _check_prompt_config(prompt: Any) -> None:
    if not isinstance(prompt, dict):
        raise Invalid("`prompt_config` should be an object")
    if not isinstance(prompt.get("system", ""), str):
        raise Invalid("`prompt_config.system` should be a string")
    parameters = prompt.get("parameters", [])
    if not isinstance(parameters, list) or not all(isinstance(p, dict) and "key" in p for p in parameters):
        raise Invalid("`prompt_config.parameters` should be a list of {key, optional}")
    keys = [p["key"] for p in parameters]
    if len(keys) != len(set(keys)):
        raise Conflict("Duplicate prompt parameter keys")
    for parameter in parameters:
        if parameter["key"] == "knowledge":  # RAGFlow accepts a system prompt that leaves the passages out
            continue
        if not parameter.get("optional") and "{" + parameter["key"] + "}" not in prompt.get("system", ""):
            raise Conflict(f"Parameter '{parameter['key']}' is not used")


@dataclass
class AssistantQuery:
    page: Page = field(default_factory=Page)
    orderby: str = "create_time"
    desc: bool = True
    id: str | None = None
    name: str | None = None
    keywords: str | None = None


def config_of(assistant: Assistant, draft: bool = False) -> AssistantConfig:
    """The config an assistant answers with: the draft for debug chat (falling back to the published one)."""
    stored = (assistant.draft_config if draft else None) or assistant.published_config
    if stored is None:
        raise Conflict(f"Assistant {assistant.id} is not published yet")
    return AssistantConfig.load(stored)


async def check_datasets(db: AsyncSession, tenant_id: str, dataset_ids: list[str]) -> list[Dataset]:
    """The datasets must be the tenant's, hold parsed chunks, and share one embedding model (RAGFlow's rules)."""
    if not dataset_ids:
        return []
    rows = (await db.execute(select(Dataset).where(Dataset.tenant_id == tenant_id, Dataset.id.in_(dataset_ids)))).all()
    found = {row[0].id: row[0] for row in rows}
    for dataset_id in dataset_ids:
        if dataset_id not in found:
            raise NotFound(f"You don't own the dataset {dataset_id}")
    parsed = set(
        await db.scalars(
            select(Document.dataset_id).where(Document.dataset_id.in_(dataset_ids), Document.chunk_count > 0).distinct()
        )
    )
    for dataset_id in dataset_ids:
        if dataset_id not in parsed:
            raise Conflict(f"The dataset {dataset_id} doesn't own parsed file")
    if len({dataset.embedding_model for dataset in found.values()}) > 1:
        raise Conflict("Datasets use different embedding models.")
    return [found[dataset_id] for dataset_id in dataset_ids]


async def _check_name(db: AsyncSession, tenant_id: str, name: str, exclude_id: str | None = None) -> str:
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        raise Invalid("`name` is required")
    if len(name.encode()) > 255:
        raise Invalid(f"Chat name length is {len(name.encode())} which is larger than 255.")
    query = select(Assistant.id).where(Assistant.tenant_id == tenant_id, func.lower(Assistant.name) == name.lower())
    if exclude_id:
        query = query.where(Assistant.id != exclude_id)
    if await db.scalar(query.limit(1)):
        raise DuplicateName("Duplicated chat name in creating chat." if exclude_id is None else "Duplicated chat name.")
    return name


async def create_assistant(
    db: AsyncSession, tenant_id: str, name: str, config: AssistantConfig, published: bool = True, **info: Any
) -> Assistant:
    config.validate()
    await check_datasets(db, tenant_id, config.dataset_ids)
    assistant = Assistant(
        tenant_id=tenant_id,
        name=await _check_name(db, tenant_id, name),
        published_config=config.dump() if published else None,
        draft_config=None if published else config.dump(),
        **info,
    )
    db.add(assistant)
    await db.flush()
    await db.refresh(assistant)
    return assistant


# An agent is an Assistant too (its canvas beside it, domain/agents): a deployment to the history, never a chat.
NOT_AN_AGENT = ~exists().where(AgentCanvas.assistant_id == Assistant.id)


async def get_assistant(db: AsyncSession, tenant_id: str, assistant_id: str) -> Assistant:
    assistant = await db.scalar(
        select(Assistant).where(Assistant.id == assistant_id, Assistant.tenant_id == tenant_id, NOT_AN_AGENT)
    )
    if assistant is None:
        raise NotFound(f"You don't own the chat {assistant_id}")
    return assistant


async def find_assistant(db: AsyncSession, tenant_id: str, id_or_name: str) -> Assistant:
    """By id, else by exact name (what an OpenAI client passes as `model`)."""
    query = select(Assistant).where(Assistant.tenant_id == tenant_id, NOT_AN_AGENT)
    assistant = await db.scalar(query.where(Assistant.id == id_or_name))
    assistant = assistant or await db.scalar(query.where(Assistant.name == id_or_name).limit(1))
    if assistant is None:
        raise NotFound(f"The model `{id_or_name}` does not exist")
    return assistant


def _filtered(query: Select[Any], tenant_id: str, spec: AssistantQuery) -> Select[Any]:
    query = query.where(Assistant.tenant_id == tenant_id, NOT_AN_AGENT)
    if spec.id:
        query = query.where(Assistant.id == spec.id)
    if spec.name:
        query = query.where(Assistant.name == spec.name)
    if spec.keywords:
        query = query.where(contains(Assistant.name, spec.keywords))
    return query


async def list_assistants(db: AsyncSession, tenant_id: str, spec: AssistantQuery) -> tuple[list[Assistant], int]:
    column = {"update_time": Assistant.updated_at, "name": Assistant.name}.get(spec.orderby, Assistant.created_at)
    order = column.desc() if spec.desc else column.asc()
    return await paged(db, _filtered(select(Assistant), tenant_id, spec).order_by(order, Assistant.id), spec.page)


async def update_assistant(
    db: AsyncSession,
    assistant: Assistant,
    changes: dict[str, Any],
    info: dict[str, Any] | None = None,
    deep: bool = True,
) -> Assistant:
    """Edit the published config (RAGFlow and OpsBee faces); `info` holds name, icon, description.
    `deep=False` replaces `llm_setting`/`prompt_config` instead of merging them (RAGFlow PUT)."""
    config = config_of(assistant).merged(changes, deep)
    if "dataset_ids" in changes:
        await check_datasets(db, assistant.tenant_id, config.dataset_ids)
    for key, value in (info or {}).items():
        if key == "name":
            value = await _check_name(db, assistant.tenant_id, value, exclude_id=assistant.id)
        setattr(assistant, key, value)
    assistant.published_config = config.dump()
    await db.flush()
    await db.refresh(assistant)
    return assistant


async def delete_assistants(db: AsyncSession, tenant_id: str, ids: list[str] | None, delete_all: bool) -> Batch:
    """Deletes the tenant's chats among `ids` (all of them with `delete_all`); the others become errors
    `Chat(<id>) not found.`, followed by RAGFlow's `Duplicate chat ids: <id>` lines."""
    query = delete(Assistant).where(Assistant.tenant_id == tenant_id, NOT_AN_AGENT)
    if delete_all:
        return Batch(len((await db.execute(query.returning(Assistant.id))).all()))
    unique, duplicates = unique_ids(ids or [], "chat")
    mine = select(Assistant.id).where(Assistant.tenant_id == tenant_id, Assistant.id.in_(unique), NOT_AN_AGENT)
    owned = set(await db.scalars(mine))
    missing = [assistant_id for assistant_id in unique if assistant_id not in owned]
    doomed = query.where(Assistant.id.in_(owned)).returning(Assistant.id)
    deleted = len((await db.execute(doomed)).all()) if owned else 0
    return Batch(deleted, missing, [f"Chat({assistant_id}) not found." for assistant_id in missing] + duplicates)


async def dataset_name_map(db: AsyncSession, dataset_ids: list[str]) -> dict[str, str]:
    """{id: name} of the datasets that still exist (one query for a whole page of assistants)."""
    if not dataset_ids:
        return {}
    rows = await db.execute(select(Dataset.id, Dataset.name).where(Dataset.id.in_(set(dataset_ids))))
    return {dataset_id: name for dataset_id, name in rows}


async def message_counts(db: AsyncSession, assistant_ids: list[str]) -> dict[str, int]:
    """Recorded answers per assistant (OpsBee's `history_count`)."""
    query = (
        select(Message.assistant_id, func.count())
        .where(Message.assistant_id.in_(assistant_ids), Message.deleted_at.is_(None))
        .group_by(Message.assistant_id)
    )
    return {assistant_id: count for assistant_id, count in await db.execute(query) if assistant_id is not None}


async def update_info(db: AsyncSession, assistant: Assistant, info: dict[str, Any]) -> Assistant:
    """Name, icon or description only (OpsBee's PATCH): the config, published or draft, stays as it is."""
    for key, value in info.items():
        if key == "name":
            value = await _check_name(db, assistant.tenant_id, value, exclude_id=assistant.id)
        setattr(assistant, key, value)
    await db.flush()
    await db.refresh(assistant)
    return assistant
