"""Categorize (an LLM picks the branch; offline, the words of the question do) and Switch (conditions)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any, ClassVar

from service.domain.agents.base import Component, Run
from service.domain.agents.components import LLM_DEFAULTS, check_llm, generate, llm_id_of, query_of, sampling_of
from service.domain.agents.refs import as_text
from service.providers.base import Generation
from service.providers.llm import EXTRACTIVE

CATEGORIZE_SYSTEM = (
    "You are an advanced classification system that categorizes user questions into specific types. "
    "Analyze the input question and classify it into ONE of the following categories:\n - {names}\n\n"
    "Here's description of each category:\n{descriptions}\n\n---- Instructions ----\n"
    " - Consider both explicit mentions and implied context\n - Prioritize the most specific applicable category\n"
    ' - Return only the category name without explanations\n - Use "Other" only when no other category fits\n'
)


def as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    return [str(item) for item in value or [] if item]


def words(text: str) -> set[str]:
    return {word for word in re.findall(r"\w+", text.lower()) if len(word) > 2}


class Categorize(Component):
    """`category_description`: {name: {description, examples, to}}; goes where the chosen category's `to` says
    and outputs `category_name`."""

    type_name = "Categorize"
    defaults: ClassVar[dict[str, Any]] = {
        **LLM_DEFAULTS,
        "query": "sys.query",
        "message_history_window_size": 1,
        "category_description": {},
    }

    def check(self) -> None:
        check_llm(self)
        categories = self.params.get("category_description")
        if not isinstance(categories, dict) or not categories:
            raise self._fail("`category_description` should name at least one category")
        for name, spec in categories.items():
            if not isinstance(spec, dict) or not as_list(spec.get("to")):
                raise self._fail(f"'To' of category {name} can not be empty!")

    def categories(self) -> dict[str, dict[str, Any]]:
        categories: dict[str, dict[str, Any]] = self.params["category_description"]
        return categories

    def targets(self) -> list[str]:
        return [target for spec in self.categories().values() for target in as_list(spec.get("to"))]

    async def invoke(self, run: Run) -> AsyncIterator[str]:
        query = as_text(await query_of(run, self.text_param("query")))
        llm_id = llm_id_of(run, self.params)
        model, _ = run.services.models.resolve(llm_id)
        if model.name == EXTRACTIVE:  # it can only quote: match the question's words instead
            chosen = self.by_words(query)
        else:
            chosen = self.by_answer(await self.ask(run, llm_id, query))
        run.outputs[self.id] = {"category_name": chosen, "_next": as_list(self.categories()[chosen].get("to"))}
        return
        yield

    async def ask(self, run: Run, llm_id: str, query: str) -> str:
        categories = self.categories()
        descriptions = "\n".join(
            f"------\nCategory: {name}\nDescription: {spec.get('description', '')}" for name, spec in categories.items()
        )
        examples = [
            f'USER: "{line}" → {name}' for name, spec in categories.items() for line in as_list(spec.get("examples"))
        ]
        system = CATEGORIZE_SYSTEM.format(names="\n - ".join(categories), descriptions=descriptions)
        if examples:
            system += "\n---- Examples ----\n" + "\n".join(examples)
        messages = [{"role": "system", "content": system}, {"role": "user", "content": f'USER: "{query}" →'}]
        generation = Generation("", messages, [], query, sampling_of(self.params))
        return "".join([piece async for piece in generate(run, llm_id, generation)])

    def by_answer(self, answer: str) -> str:
        """The category the answer names most often (RAGFlow's rule); none named: the fallback."""
        counts = {name: answer.lower().count(name.lower()) for name in self.categories()}
        best = max(counts, key=lambda name: counts[name])
        return best if counts[best] else self.fallback()

    def by_words(self, query: str) -> str:
        """The category sharing most words with the question, through its name, description and examples."""
        asked = words(query)
        scores = {}
        for name, spec in self.categories().items():
            said = " ".join([name, str(spec.get("description", "")), *as_list(spec.get("examples"))])
            scores[name] = len(asked & words(said))
        best = max(scores, key=lambda name: scores[name])
        return best if scores[best] else self.fallback()

    def fallback(self) -> str:
        names = list(self.categories())
        return next((name for name in names if name.lower() == "other"), names[-1])

    def next(self, run: Run) -> list[str]:
        chosen: list[str] = run.outputs[self.id]["_next"]
        return chosen


OPERATORS = ("contains", "not contains", "start with", "end with", "empty", "not empty", "=", "≠", ">", "<", "≥", "≤")


def compare(value: Any, operator: str, expected: Any) -> bool:
    """RAGFlow's Switch operators: text ones ignore case; order ones compare numbers when both are numbers."""
    text, wanted = as_text(value).lower(), as_text(expected).lower()
    textual = {
        "contains": lambda: wanted in text,
        "not contains": lambda: wanted not in text,
        "start with": lambda: text.startswith(wanted),
        "end with": lambda: text.endswith(wanted),
        "empty": lambda: not value,
        "not empty": lambda: bool(value),
        "=": lambda: text == wanted,
        "≠": lambda: text != wanted,
    }
    if operator in textual:
        return textual[operator]()
    try:
        left, right = float(as_text(value)), float(as_text(expected))
    except ValueError:
        left, right = text, wanted  # type: ignore[assignment]  # strings compare in their own order
    return {">": left > right, "<": left < right, "≥": left >= right, "≤": left <= right}[operator]


class Switch(Component):
    """`conditions`: [{logical_operator: and|or, items: [{cpn_id, operator, value}], to}]; the first that holds
    decides where to go, else `end_cpn_ids`. `cpn_id` is a reference (`sys.query`, `Agent:X@content`)."""

    type_name = "Switch"
    defaults: ClassVar[dict[str, Any]] = {"conditions": [], "end_cpn_ids": []}

    def check(self) -> None:
        conditions = self.params.get("conditions")
        if not isinstance(conditions, list) or not conditions:
            raise self._fail("`conditions` can not be empty")
        for condition in conditions:
            if not isinstance(condition, dict) or not as_list(condition.get("to")):
                raise self._fail("'To' can not be empty!")
            items = condition.get("items")
            if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
                raise self._fail("`items` should be a list of {cpn_id, operator, value}")
            for item in items:
                if item.get("operator") not in OPERATORS:
                    raise self._fail(f"Not supported operator {item.get('operator')!r}")
        if not as_list(self.params.get("end_cpn_ids")):
            raise self._fail("the ELSE/Other destination can not be empty.")

    def targets(self) -> list[str]:
        ends = as_list(self.params["end_cpn_ids"])
        return [target for condition in self.params["conditions"] for target in as_list(condition["to"])] + ends

    async def invoke(self, run: Run) -> AsyncIterator[str]:
        chosen = as_list(self.params["end_cpn_ids"])
        for condition in self.params["conditions"]:
            items = [item for item in condition["items"] if item.get("cpn_id")]
            results = [compare(await run.value(i["cpn_id"]), i["operator"], i.get("value", "")) for i in items]
            holds = any(results) if condition.get("logical_operator") == "or" else bool(results) and all(results)
            if holds:
                chosen = as_list(condition["to"])
                break
        run.outputs[self.id] = {"_next": chosen, "next": chosen}
        return
        yield

    def next(self, run: Run) -> list[str]:
        chosen: list[str] = run.outputs[self.id]["_next"]
        return chosen
