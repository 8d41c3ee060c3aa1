"""Related search terms for a question (RAGFlow's related_questions / chat recommendation), asked of an LLM."""

from __future__ import annotations

import re

from service.errors import Unsupported
from service.providers.base import Generation
from service.providers.llm import Extractive, ModelRegistry

INSTRUCTIONS = """You suggest search terms related to a user's search keywords, so they find more useful information.
- Give 5 to 10 terms, one per line, numbered "1. ", "2. ", and so on.
- Each term relates directly or indirectly to the keywords.
- Prefer common, general words over jargon; keep each term to 2-4 words.
- Write in the language of the keywords; do not translate them.
"""
EXAMPLE = """
Example:
Keywords: rooftop solar
Related search terms:
1. Solar panel installation cost
2. Rooftop solar permits
3. Home battery storage
4. Solar panel maintenance
5. Net metering rules
"""
NUMBERED = re.compile(r"^[0-9]\. ")


def prompt_for(industry: str) -> str:
    focus = f"- Keep every term relevant to the industry: {industry}.\n" if industry else ""
    return INSTRUCTIONS + focus + EXAMPLE


def numbered_terms(answer: str) -> list[str]:
    """The model's numbered lines, numbers dropped; anything else it says is ignored (as RAGFlow does)."""
    return [NUMBERED.sub("", line) for line in answer.split("\n") if NUMBERED.match(line)]


async def related_questions(models: ModelRegistry, llm_id: str, question: str, industry: str = "") -> list[str]:
    model, upstream_name = models.resolve(llm_id)
    if isinstance(model, Extractive):
        raise Unsupported(
            f"Related questions need a generative model, and {llm_id} only quotes documents: "
            "configure an LLM provider and name its model in `llm_id` or NECTAR_DEFAULT_LLM."
        )
    messages = [
        {"role": "system", "content": prompt_for(industry)},
        {"role": "user", "content": f"\nKeywords: {question}\nRelated search terms:\n"},
    ]
    generation = Generation(upstream_name, messages, question=question, settings={"temperature": 0.9})
    answer = "".join([piece async for piece in model.stream(generation) if isinstance(piece, str)])
    return numbered_terms(answer)
