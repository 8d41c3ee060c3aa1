"""`/api/v1/chats`: chat assistants, in the 0.27 body shape and the older one (`avatar`, `llm`, `prompt`)."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from litestar import Controller, Request, Response, delete, get, post, route
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.ragflow.chat_views import chat_json, shown_config
from service.api.ragflow.deps import CHAT, owned_chat
from service.api.ragflow.envelope import Rejected, batch_reply, ok_message
from service.api.ragflow.schemas import json_body, list_of_strings, orderby, page_of, text_arg
from service.domain import assistants
from service.domain.llms import chosen_llm
from service.errors import Invalid, Unsupported
from service.providers.llm import ModelRegistry
from service.settings import Settings

if TYPE_CHECKING:
    from service.db.models import Assistant

CONFIG_FIELDS = (
    "dataset_ids",
    "llm_id",
    "llm_setting",
    "prompt_config",
    "similarity_threshold",
    "vector_similarity_weight",
    "top_n",
    "top_k",
    "rerank_id",
)
INFO_FIELDS = ("name", "icon", "description")
DEFAULT_DESCRIPTION = "A helpful Assistant"
# The older body's `prompt` object: keys that become top-level settings, and keys that go into prompt_config.
LEGACY_SETTINGS = {"similarity_threshold": "similarity_threshold", "top_n": "top_n", "top_k": "top_k"}
LEGACY_PROMPT = {
    "prompt": "system",
    "opener": "prologue",
    "show_quote": "quote",
    "variables": "parameters",
    "empty_response": "empty_response",
}


async def render(db: AsyncSession, rows: list[Assistant]) -> list[dict[str, Any]]:
    names = await assistants.dataset_name_map(db, [i for row in rows for i in shown_config(row).dataset_ids])
    return [chat_json(row, names) for row in rows]


def _object(data: dict[str, Any], key: str, prefix: str = "") -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Rejected(f"`{prefix}{key}` should be an object.")
    return value


def legacy_fields(body: dict[str, Any]) -> dict[str, Any]:
    """≤0.24 SDKs and the v0.13 draft: `avatar`, `knowledgebases`, `llm{model_name,…}`, `prompt{…}`."""
    fields: dict[str, Any] = {}
    if body.get("avatar") is not None:
        fields["icon"] = body["avatar"]
    if isinstance(body.get("knowledgebases"), list):
        fields["dataset_ids"] = [kb.get("id") if isinstance(kb, dict) else kb for kb in body["knowledgebases"]]
    llm = _object(body, "llm")
    if llm.get("model_name"):
        fields["llm_id"] = llm["model_name"]
    setting = {key: value for key, value in llm.items() if key != "model_name" and value is not None}
    if setting:
        fields["llm_setting"] = setting
    prompt = _object(body, "prompt")
    fields |= {new: prompt[old] for old, new in LEGACY_SETTINGS.items() if prompt.get(old) is not None}
    if prompt.get("rerank_model") is not None:
        fields["rerank_id"] = prompt["rerank_model"]
    keyword_weight = prompt.get("keywords_similarity_weight")
    if keyword_weight is not None:
        if isinstance(keyword_weight, bool) or not isinstance(keyword_weight, int | float):
            raise Invalid("`prompt.keywords_similarity_weight` should be a number between 0 and 1")
        fields["vector_similarity_weight"] = round(1 - keyword_weight, 6)
    prompt_config = {new: prompt[old] for old, new in LEGACY_PROMPT.items() if prompt.get(old) is not None}
    if prompt_config:
        fields["prompt_config"] = prompt_config
    return fields


def chat_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Rejected(
            "`name` is required" if value is None or isinstance(value, str) else "Chat name must be a string."
        )
    return value.strip()


def chat_fields(body: dict[str, Any], create: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """(config changes, info changes) of a create/update body; the 0.27 keys win over the older ones."""
    if body.get("tenant_id"):
        raise Rejected("`tenant_id` must not be provided")
    given = legacy_fields(body) | {key: body[key] for key in (*CONFIG_FIELDS, *INFO_FIELDS) if key in body}
    for key in ("llm_setting", "prompt_config"):
        _object(given, key)
    for key in ("name", "llm_id", "llm_setting", "prompt_config", "icon", "description"):
        if given.get(key) is None:
            given.pop(key, None)  # null: not given
    if create:
        given["name"] = given.get("name")  # required
    if "dataset_ids" in given:
        if not isinstance(given["dataset_ids"], list | None):
            raise Rejected("`dataset_ids` should be a list.")
        given["dataset_ids"] = [i for i in list_of_strings(given, "dataset_ids") if i]
    if "name" in given:
        given["name"] = chat_name(given["name"])
    for key in ("icon", "description"):
        if key in given and not isinstance(given[key], str):
            raise Invalid(f"`{key}` should be a string")
    return {k: given[k] for k in CONFIG_FIELDS if k in given}, {k: given[k] for k in INFO_FIELDS if k in given}


def checked_models(models: ModelRegistry, config: dict[str, Any]) -> dict[str, Any]:
    """`config` with its `llm_id` stored as the model it means (`Unsupported` if none); no reranker to name."""
    if config.get("llm_id"):
        config = {**config, "llm_id": chosen_llm(models, str(config["llm_id"]))}
    if config.get("rerank_id"):
        raise Unsupported(f"`rerank_id` {config['rerank_id']} doesn't exist; this server has no reranker")
    return config


# RAGFlow's chat default: with datasets and nothing retrieved, this text answers and no LLM is called.
EMPTY_RESPONSE = "Sorry! No relevant content was found in the knowledge base!"


def with_prompt_defaults(prompt_config: dict[str, Any]) -> dict[str, Any]:
    """RAGFlow fills every missing prompt_config key (and an empty system prompt) with its default."""
    defaults = {**copy.deepcopy(assistants.DEFAULT_PROMPT_CONFIG), "empty_response": EMPTY_RESPONSE}
    filled = {**defaults, **prompt_config}
    if not filled.get("system"):
        filled["system"] = assistants.DEFAULT_SYSTEM
    return filled


def new_config(config: dict[str, Any], default_llm: str) -> assistants.AssistantConfig:
    fields = {
        **config,
        "llm_id": config.get("llm_id") or default_llm,
        "llm_setting": dict(config.get("llm_setting", {})),  # RAGFlow keeps only what was given
        "prompt_config": with_prompt_defaults(config.get("prompt_config", {})),
    }
    return assistants.AssistantConfig(**fields)


def chat_query(request: Request[Any, Any, Any]) -> assistants.AssistantQuery:
    page = page_of(request)
    order, desc = orderby(request, ("create_time", "update_time", "name"))
    args = {key: text_arg(value) for key, value in request.query_params.items()}
    exact = args.get("id") or args.get("name")
    return assistants.AssistantQuery(
        page, order, desc, args.get("id"), args.get("name"), None if exact else args.get("keywords")
    )


def delete_ids(body: dict[str, Any]) -> tuple[list[str], bool]:
    """`{"ids"}` | `{"delete_all": true}` | legacy `{"chat_id"}`."""
    if isinstance(body.get("chat_id"), str) and not body.get("ids"):
        return [body["chat_id"]], False
    ids = list_of_strings(body, "ids")  # repeats kept: the domain reports them as RAGFlow does
    return ids, not ids and body.get("delete_all") is True


async def update_chat(
    db: AsyncSession, tenant: str, chat_id: str, body: dict[str, Any], models: ModelRegistry, deep: bool
) -> Response[Any]:
    """`deep`: given objects are deep-merged into the stored ones (PATCH), else they replace them (PUT).

    The body is read before the chat is looked up (as RAGFlow does), so `assistant` is no dependency here."""
    assistant = await owned_chat(db, tenant, chat_id)
    changes, info = chat_fields(body)
    changes = checked_models(models, changes)
    if not deep and "prompt_config" in changes:
        changes["prompt_config"] = with_prompt_defaults(changes["prompt_config"])
    assistant = await assistants.update_assistant(db, assistant, changes, info, deep=deep)
    return ok_message((await render(db, [assistant]))[0])


class ChatController(Controller):
    path = "/chats"
    dependencies = CHAT

    @post("/", status_code=200)
    async def create_chat(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
        models: NamedDependency[ModelRegistry],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        body = await json_body(request)
        changes, info = chat_fields(body, create=True)
        config = new_config(checked_models(models, changes), settings.default_llm)
        info.setdefault("description", DEFAULT_DESCRIPTION)
        try:
            assistant = await assistants.create_assistant(db, tenant, info.pop("name"), config, **info)
        except assistants.DuplicateName:
            raise Rejected("duplicated chat name in creating chat") from None  # v0.27's words
        return ok_message((await render(db, [assistant]))[0])

    @get("/")
    async def list_chats(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], tenant: NamedDependency[str]
    ) -> Response[Any]:
        rows, total = await assistants.list_assistants(db, tenant, chat_query(request))
        return ok_message({"chats": await render(db, rows), "total": total})

    @get("/{chat_id:str}")
    async def get_chat(self, db: NamedDependency[AsyncSession], assistant: NamedDependency[Assistant]) -> Response[Any]:
        return ok_message((await render(db, [assistant]))[0])

    @route("/{chat_id:str}", http_method=["PUT", "PATCH"], status_code=200)
    async def update_chat(
        self,
        chat_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        tenant: NamedDependency[str],
        models: NamedDependency[ModelRegistry],
    ) -> Response[Any]:
        """Given fields replace the stored ones. PUT completes a given prompt_config with the defaults; PATCH
        deep-merges the given llm_setting and prompt_config into the stored ones."""
        body = await json_body(request, required=False)
        return await update_chat(db, tenant, chat_id, body, models, deep=request.method == "PATCH")

    @delete("/{chat_id:str}", status_code=200)
    async def delete_chat(
        self, db: NamedDependency[AsyncSession], tenant: NamedDependency[str], assistant: NamedDependency[Assistant]
    ) -> Response[Any]:
        await assistants.delete_assistants(db, tenant, [assistant.id], delete_all=False)
        return ok_message(True)

    @delete("/", status_code=200)
    async def delete_chats(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], tenant: NamedDependency[str]
    ) -> Response[Any]:
        ids, delete_all = delete_ids(await json_body(request, required=False))
        if not ids and not delete_all:
            return ok_message({})  # RAGFlow: nothing asked, nothing done
        batch = await assistants.delete_assistants(db, tenant, ids, delete_all)
        return batch_reply(batch, "chats", {"success_count": batch.done})
