"""Begin, Retrieval, LLM and Message: the components a knowledge-base Q&A canvas is made of."""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Any, ClassVar

from sqlalchemy import select

from service.db.models import Dataset
from service.domain import retrieval
from service.domain.agents.base import Component, Deferred, Run, check_number
from service.domain.agents.refs import REFERENCE, as_text
from service.domain.assistants import check_sampling
from service.domain.llms import SAMPLING_KEYS
from service.domain.prompts import CITATION_RULES, format_knowledge
from service.errors import Invalid, NotFound
from service.providers.base import Generation, Passage, Usage


class Begin(Component):
    """The entry: its `inputs` (declared variables) become `{begin@key}` outputs; `prologue` opens a session."""

    type_name = "Begin"
    defaults: ClassVar[dict[str, Any]] = {
        "prologue": "Hi! I'm your assistant. What can I do for you?",
        "inputs": {},
        "mode": "conversational",
    }

    def check(self) -> None:
        self.text_param("prologue")
        inputs = self.params.get("inputs") or {}
        if not isinstance(inputs, dict) or not all(isinstance(spec, dict) for spec in inputs.values()):
            raise self._fail("`inputs` should be an object of {name, type, optional, value}")

    def declared(self) -> dict[str, dict[str, Any]]:
        inputs: dict[str, dict[str, Any]] = self.params.get("inputs") or {}
        return inputs

    def values(self, given: dict[str, Any]) -> dict[str, Any]:
        """Each declared input's value: the one given, else its default; a required one missing is refused."""
        values = {}
        for key, spec in self.declared().items():
            value = given.get(key, spec.get("value"))
            if value is None and not spec.get("optional", False):
                raise Invalid(f"The input `{key}` of the Begin component is required.")
            values[key] = value
        return values

    async def invoke(self, run: Run) -> AsyncIterator[str]:
        run.outputs[self.id] = self.values(run.turn.inputs)
        return
        yield


async def retrieve(run: Run, params: dict[str, Any], query: str) -> list[retrieval.Hit]:
    """RAGFlow's Retrieval parameters over the tenant's datasets `kb_ids`; the hits join the run's references."""
    kb_ids = [await run.render(kb_id) for kb_id in params.get("kb_ids") or []]
    async with run.services.sessions() as db:
        rows = await db.execute(
            select(Dataset.id, Dataset.embedding_model).where(
                Dataset.tenant_id == run.turn.tenant_id, Dataset.id.in_(kb_ids)
            )
        )
        found = dict(rows.all())
        missing = [kb_id for kb_id in kb_ids if kb_id not in found]
        if missing:
            raise NotFound(f"You don't own the dataset {missing[0]}")
        if not found or not query.strip() or params.get("top_n") == 0:
            return []
        model = next(iter(found.values()))
        spec = retrieval.RetrievalQuery(
            query,
            list(found),
            page=1,
            page_size=int(params.get("top_n", 8)),
            similarity_threshold=float(params.get("similarity_threshold", 0.2)),
            vector_similarity_weight=1 - float(params.get("keywords_similarity_weight", 0.7)),
            top_k=int(params.get("top_k", 1024)),
            metadata_condition=metadata_condition(params),
        )
        result = await retrieval.retrieve(db, run.services.embedder_for(model), model, spec)
    run.add_hits(result.hits)
    return result.hits


def metadata_condition(params: dict[str, Any]) -> dict[str, Any] | None:
    """RAGFlow's `meta_data_filter` with `method: manual` ([{key, op, value}]) as the retrieval layer's condition."""
    given = params.get("meta_data_filter") or {}
    if not isinstance(given, dict) or given.get("method") != "manual" or not given.get("manual"):
        return None
    conditions = [
        {"name": item.get("key"), "comparison_operator": item.get("op"), "value": item.get("value")}
        for item in given["manual"]
        if isinstance(item, dict)
    ]
    return {"logic": given.get("logic", "and"), "conditions": conditions}


def knowledge(run: Run, hits: list[retrieval.Hit], empty_response: str) -> str:
    """The hits as a prompt reads them, numbered as the run's references (so `[ID:n]` cites the right one)."""
    if not hits:
        return empty_response
    position = {hit.id: index for index, hit in enumerate(run.hits)}
    return format_knowledge([Passage(position[hit.id], hit.document_name, hit.content) for hit in hits])


def check_retrieval(where: str, params: dict[str, Any]) -> None:
    """Retrieval's parameters, as a component or as an Agent's tool (`where` names it in the error)."""
    kb_ids = params.get("kb_ids")
    if not isinstance(kb_ids, list) or not all(isinstance(kb_id, str) for kb_id in kb_ids):
        raise Invalid(f"{where}: `kb_ids` should be a list of dataset ids")
    for key, low, high in (("similarity_threshold", 0, 1), ("keywords_similarity_weight", 0, 1)):
        check_number(where, params, key, (low, high), integer=False)
    check_number(where, params, "top_n", (0, 1024), integer=True)
    check_number(where, params, "top_k", (1, 10000), integer=True)


RETRIEVAL_DEFAULTS: dict[str, Any] = {
    "kb_ids": [],
    "query": "sys.query",
    "similarity_threshold": 0.2,
    "keywords_similarity_weight": 0.7,
    "top_n": 8,
    "top_k": 1024,
    "empty_response": "",
}


class Retrieval(Component):
    """Searches `kb_ids` for `query` (a reference, `sys.query` by default); outputs `formalized_content`
    (the chunks as a prompt reads them) and `json` (the chunk list)."""

    type_name = "Retrieval"
    defaults: ClassVar[dict[str, Any]] = RETRIEVAL_DEFAULTS

    def check(self) -> None:
        check_retrieval(f"[Retrieval] {self.id}", self.params)
        self.text_param("query")
        self.text_param("empty_response")

    async def invoke(self, run: Run) -> AsyncIterator[str]:
        query = as_text(await query_of(run, self.text_param("query")))
        hits = await retrieve(run, self.params, query)
        run.outputs[self.id] = {
            "formalized_content": knowledge(run, hits, self.text_param("empty_response")),
            "json": [asdict(hit) for hit in hits],
        }
        return
        yield


async def query_of(run: Run, query: str) -> Any:
    """RAGFlow writes a query either as a bare reference (`sys.query`, `begin@q`) or as text with references."""
    if REFERENCE.search(query):
        return await run.render(query)
    if query.startswith("sys.") or "@" in query:
        return await run.value(query)
    return query


LLM_DEFAULTS: dict[str, Any] = {
    "llm_id": "",
    "sys_prompt": "",
    "prompts": [{"role": "user", "content": "{sys.query}"}],
    "message_history_window_size": 12,
    "cite": True,
}


def check_llm(component: Component) -> None:
    component.text_param("llm_id")
    component.text_param("sys_prompt")
    prompts = component.params.get("prompts") or []
    if not isinstance(prompts, list) or not all(
        isinstance(p, dict) and isinstance(p.get("content"), str) and p.get("role", "user") in ("user", "assistant")
        for p in prompts
    ):
        raise component._fail("`prompts` should be a list of {role: user|assistant, content}")
    component.number_param("message_history_window_size", 0, 100, integer=True)
    try:
        check_sampling(sampling_of(component.params))
    except Invalid as exc:
        raise component._fail(exc.message) from None


def sampling_of(params: dict[str, Any]) -> dict[str, Any]:
    """The sampling settings RAGFlow's editor turned on (`temperatureEnabled`…); absent switches mean on."""
    switches = {"temperature": "temperatureEnabled", "top_p": "topPEnabled", "max_tokens": "maxTokensEnabled"}
    switches |= {"presence_penalty": "presencePenaltyEnabled", "frequency_penalty": "frequencyPenaltyEnabled"}
    return {
        key: params[key]
        for key in SAMPLING_KEYS
        if params.get(key) is not None and params.get(switches[key], True) is not False
    }


async def prompt_messages(run: Run, params: dict[str, Any], extra_system: str = "") -> list[dict[str, str]]:
    """The system prompt, the last turns of the session, then the component's own prompts, rendered."""
    system = await run.render(str(params.get("sys_prompt") or "")) + extra_system
    if run.hits and params.get("cite", True):
        system += CITATION_RULES
    messages = [{"role": "system", "content": system}] if system else []
    window = int(params.get("message_history_window_size", 12))
    for asked, answered in run.turn.history[-window:] if window else []:
        messages += [{"role": "user", "content": asked}, {"role": "assistant", "content": answered}]
    for prompt in params.get("prompts") or [{"role": "user", "content": "{sys.query}"}]:
        messages.append({"role": prompt.get("role", "user"), "content": await run.render(prompt["content"])})
    if messages[-1]["role"] != "user":
        messages.append({"role": "user", "content": run.turn.query})
    return messages


def llm_id_of(run: Run, params: dict[str, Any]) -> str:
    return str(params.get("llm_id") or run.services.default_llm)


async def generate(run: Run, llm_id: str, generation: Generation) -> AsyncIterator[str]:
    """One streamed LLM call, its tokens added to the run when it ends (also when it fails half-way)."""
    model, generation.model = run.services.models.resolve(llm_id)
    run.llm_ids.append(llm_id)
    usage: Usage | None = None
    answer = ""
    try:
        async for piece in model.stream(generation):
            if isinstance(piece, Usage):
                usage = piece
                continue
            if run.first_token_at is None:
                run.first_token_at = time.perf_counter()
            answer += piece
            yield piece
    finally:
        run.count(usage, generation.messages, answer)


class LLM(Component):
    """Calls `llm_id` with `sys_prompt` and `prompts` (references filled in); its `content` streams through
    whichever Message quotes it. With the offline `nectar-extractive` it quotes what was retrieved."""

    type_name = "LLM"
    defaults: ClassVar[dict[str, Any]] = LLM_DEFAULTS

    def check(self) -> None:
        check_llm(self)

    async def invoke(self, run: Run) -> AsyncIterator[str]:
        llm_id = llm_id_of(run, self.params)
        run.services.models.resolve(llm_id)  # an unknown model fails here, as this component's error
        messages = await prompt_messages(run, self.params)
        generation = Generation("", messages, run.passages(), run.turn.query, sampling_of(self.params))
        run.outputs[self.id] = {"content": Deferred(generate(run, llm_id, generation))}
        return
        yield


class Message(Component):
    """Shows one of its `content` templates (chosen at random, as RAGFlow does), streaming any LLM answer it
    quotes as that answer arrives."""

    type_name = "Message"
    defaults: ClassVar[dict[str, Any]] = {"content": []}

    def check(self) -> None:
        content = self.params.get("content")
        if isinstance(content, str):
            self.params["content"] = [content]
        elif not isinstance(content, list) or not content or not all(isinstance(c, str) for c in content):
            raise self._fail("`content` should be a non-empty list of strings")

    async def invoke(self, run: Run) -> AsyncIterator[str]:
        template: str = random.choice(self.params["content"])
        shown = ""
        async for piece in self._pieces(run, template):
            if piece:
                shown += piece
                yield piece
        run.outputs[self.id] = {"content": shown}

    async def _pieces(self, run: Run, template: str) -> AsyncIterator[str]:
        end = 0
        for match in REFERENCE.finditer(template):
            yield template[end : match.start()]
            end = match.end()
            value = run.raw(match[1])
            if isinstance(value, Deferred):
                async for piece in value.stream():
                    yield piece
            else:
                yield as_text(value)
        yield template[end:]
