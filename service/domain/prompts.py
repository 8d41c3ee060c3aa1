"""The prompt an assistant sends: its system prompt with the retrieved knowledge, earlier turns, the question."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from service.providers.base import Passage

CITATION_RULES = (
    "\n\nWhen you use a passage of the knowledge base, cite it right after the sentence as [ID:n], "
    "n being the passage's ID. Do not cite passages you did not use."
)


def format_knowledge(passages: list[Passage]) -> str:
    return "\n\n".join(f"ID: {p.index}\n├── Title: {p.document_name}\n└── Content: {p.content}" for p in passages)


def system_prompt(prompt_config: dict[str, Any], passages: list[Passage], values: dict[str, str]) -> str:
    """Fill `{knowledge}` and the other declared parameters; unknown or missing optional ones become empty."""
    system = str(prompt_config.get("system") or "")
    filled = {"knowledge": format_knowledge(passages), "date": date.today().isoformat(), **values}
    declared = {str(p["key"]) for p in prompt_config.get("parameters", []) if isinstance(p, dict)} | {"knowledge"}
    system = re.sub(r"\{(\w+)\}", lambda m: filled.get(m[1], "") if m[1] in declared else m[0], system)
    if passages and prompt_config.get("quote", True):
        system += CITATION_RULES
    return system


def build_messages(
    system: str, history: list[tuple[str, str]], question: str, summary: str = ""
) -> list[dict[str, str]]:
    if summary:
        system += f"\n\nSummary of the conversation so far:\n{summary}"
    messages = [{"role": "system", "content": system}] if system else []
    for asked, answered in history:
        messages += [{"role": "user", "content": asked}, {"role": "assistant", "content": answered}]
    messages.append({"role": "user", "content": question})
    return messages
