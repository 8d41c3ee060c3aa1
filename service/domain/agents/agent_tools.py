"""RAGFlow 0.27's Agent component: an LLM with tools (here: Retrieval tools over datasets).

With an upstream model it uses the upstream's tool calling: the model asks for searches (up to `max_rounds`
rounds), then answers from what they found. The offline `nectar-extractive` cannot ask for anything, so each
Retrieval tool searches the question itself and the answer quotes what was found.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any, ClassVar, cast

import openai

from service.domain.agents.base import Component, Deferred, Run, check_number
from service.domain.agents.components import (
    LLM_DEFAULTS,
    RETRIEVAL_DEFAULTS,
    check_llm,
    check_retrieval,
    generate,
    knowledge,
    llm_id_of,
    prompt_messages,
    retrieve,
    sampling_of,
)
from service.errors import Invalid, UpstreamError
from service.providers.base import Generation, Usage
from service.providers.llm import SAMPLING, Deadline, OpenAICompatible

TOOL_TYPES = ("Retrieval",)
QUERY_HELP = "The keywords to search the knowledge base with: the question, rephrased for a search if that helps."


def tool_specs(tools: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each Retrieval tool as an OpenAI function taking the search `query`."""
    parameters = {
        "type": "object",
        "properties": {"query": {"type": "string", "description": QUERY_HELP}},
        "required": ["query"],
    }
    return [
        {
            "type": "function",
            "function": {
                "name": name,
                "description": str(params.get("description") or "Search the knowledge base."),
                "parameters": parameters,
            },
        }
        for name, params in tools.items()
    ]


async def once(text: str) -> AsyncIterator[str]:
    if text:
        yield text


class Agent(Component):
    """`sys_prompt`, `prompts`, `tools` ([{component_name: Retrieval, name, params: {kb_ids, …}}]), `max_rounds`
    and the LLM's settings; outputs `content`, streamed through the Message that quotes it."""

    type_name = "Agent"
    defaults: ClassVar[dict[str, Any]] = {**LLM_DEFAULTS, "tools": [], "max_rounds": 5}

    def check(self) -> None:
        check_llm(self)
        check_number(f"[Agent] {self.id}", self.params, "max_rounds", (1, 50), integer=True)
        tools = self.params.get("tools")
        if not isinstance(tools, list) or not all(isinstance(tool, dict) for tool in tools):
            raise self._fail("`tools` should be a list of {component_name, name, params}")
        for tool in tools:
            kind = tool.get("component_name")
            if kind not in TOOL_TYPES:
                raise Invalid(
                    f"Unsupported tool `{kind}` in component `{self.id}`: this server's Agent tools are "
                    + ", ".join(TOOL_TYPES)
                )
            params = tool.get("params") or {}
            if not isinstance(params, dict):
                raise self._fail("a tool's `params` should be an object")
            tool["params"] = {**RETRIEVAL_DEFAULTS, **params}
            check_retrieval(f"[Agent] {self.id} tool {tool.get('name') or kind}", tool["params"])

    def tools(self) -> dict[str, dict[str, Any]]:
        """Each tool's params by a function name an OpenAI-compatible server accepts (unique, `[A-Za-z0-9_-]`)."""
        named: dict[str, dict[str, Any]] = {}
        for index, tool in enumerate(self.params["tools"]):
            name = re.sub(r"[^A-Za-z0-9_-]", "_", str(tool.get("name") or tool["component_name"]))[:60]
            named[name if name not in named else f"{name}_{index}"] = tool["params"]
        return named

    async def invoke(self, run: Run) -> AsyncIterator[str]:
        llm_id = llm_id_of(run, self.params)
        model, upstream_name = run.services.models.resolve(llm_id)
        if isinstance(model, OpenAICompatible) and self.params["tools"]:
            answer = await self.use_tools(run, model, upstream_name)
            if answer is not None:
                run.outputs[self.id] = {"content": Deferred(once(answer))}
                return
        else:
            for params in self.tools().values():
                await retrieve(run, params, run.turn.query)
        messages = await prompt_messages(run, self.params, self.found(run))
        generation = Generation("", messages, run.passages(), run.turn.query, sampling_of(self.params))
        run.outputs[self.id] = {"content": Deferred(generate(run, llm_id, generation))}
        return
        yield

    def found(self, run: Run) -> str:
        if not run.hits:
            return ""
        return "\n\nHere is the knowledge base:\n" + knowledge(run, run.hits, "")

    async def use_tools(self, run: Run, model: OpenAICompatible, upstream_name: str) -> str | None:
        """Rounds of tool calls; the model's answer once it asks for nothing more (None: rounds ran out)."""
        tools = self.tools()
        messages: list[dict[str, Any]] = list(await prompt_messages(run, self.params))
        for _ in range(int(self.params["max_rounds"])):
            reply = await self.call(run, model, upstream_name, messages, tools)
            if not reply.tool_calls:
                if run.first_token_at is None:
                    run.first_token_at = time.perf_counter()
                return reply.content or ""
            messages.append(reply.model_dump(include={"role", "content", "tool_calls"}, exclude_none=True))
            for call in reply.tool_calls:
                messages.append({"role": "tool", "tool_call_id": call.id, "content": await self.run_tool(run, call)})
        return None

    async def run_tool(self, run: Run, call: Any) -> str:
        params = self.tools().get(call.function.name)
        if params is None:
            return f"There is no tool named {call.function.name}."
        try:
            arguments = json.loads(call.function.arguments or "{}")
        except ValueError:
            arguments = {}
        query = arguments.get("query") if isinstance(arguments, dict) else None
        hits = await retrieve(run, params, query if isinstance(query, str) and query else run.turn.query)
        return knowledge(run, hits, str(params.get("empty_response") or "Nothing relevant was found."))

    async def call(
        self,
        run: Run,
        model: OpenAICompatible,
        upstream_name: str,
        messages: list[dict[str, Any]],
        tools: dict[str, dict[str, Any]],
    ) -> Any:
        """One non-streamed round with the tools offered; its tokens count toward the turn."""
        specs = tool_specs(tools)
        sampling = {key: value for key, value in sampling_of(self.params).items() if key in SAMPLING}
        run.llm_ids.append(model.name)
        try:
            response = await Deadline(model.name, model.limits).bound(
                model.client.chat.completions.create(
                    model=upstream_name, messages=cast(Any, messages), tools=cast(Any, specs), **sampling
                )
            )
        except openai.APIError as exc:
            raise UpstreamError(f"LLM {model.name} failed: {exc.message[:500]}") from exc
        usage = response.usage
        if not response.choices:
            raise UpstreamError(f"LLM {model.name} answered with no choice")
        reply = response.choices[0].message
        asked = [{"content": str(message.get("content") or "")} for message in messages]
        run.count(Usage(usage.prompt_tokens, usage.completion_tokens) if usage else None, asked, reply.content or "")
        return reply
