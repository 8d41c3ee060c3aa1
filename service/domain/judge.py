"""`llm_judge`: an answer scored by a configured upstream model (NECTAR_EVAL_JUDGE_LLM), with its reason.

The judge sees the question, the expected output (when the item has one) and the answer, and is asked for JSON
`{"score": <0..1>, "reason": "..."}`. A reply that holds no such object scores nothing: the item keeps its
other scores and `judge_reason` says what the judge answered instead.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from service.errors import DomainError, Invalid
from service.providers.base import Generation, Usage
from service.providers.llm import EXTRACTIVE, ModelRegistry

SYSTEM = (
    "You grade answers of an assistant. Compare the answer with the question and, when one is given, the "
    'expected answer. Reply with one JSON object and nothing else: {"score": <a number from 0 to 1>, '
    '"reason": "<one or two sentences>"}. 1 means correct and complete, 0 means wrong or unhelpful.'
)
MAX_REASON = 2000
_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


@dataclass
class Verdict:
    score: float | None  # None: the judge failed or its reply could not be read
    reason: str


def check_judge(models: ModelRegistry, judge_llm: str | None) -> str:
    """The judge's model id, or a clear error when none is configured (the builtin model cannot judge)."""
    if not judge_llm:
        raise Invalid(
            "the `llm_judge` metric needs a judge model: set NECTAR_EVAL_JUDGE_LLM to an upstream model "
            "(`<model>@<provider>` of NECTAR_LLM_PROVIDERS)"
        )
    if judge_llm in (EXTRACTIVE, EXTRACTIVE.partition("@")[0]):
        raise Invalid("NECTAR_EVAL_JUDGE_LLM names nectar-extractive, which quotes and cannot judge")
    models.resolve(judge_llm)  # Unsupported when its provider is not configured
    return judge_llm


def _prompt(question: str, expected: str | None, answer: str) -> str:
    parts = [f"Question:\n{question}"]
    if expected is not None:
        parts.append(f"Expected answer:\n{expected}")
    parts.append(f"Answer to grade:\n{answer}")
    return "\n\n".join(parts)


def read_verdict(reply: str) -> Verdict:
    match = _OBJECT.search(reply)
    try:
        found = json.loads(match.group(0)) if match else None
        value = float(found["score"]) if isinstance(found, dict) else None
    except (ValueError, TypeError, KeyError):
        value = None
    if value is None or not 0 <= value <= 1:
        return Verdict(None, f"the judge's reply holds no score from 0 to 1: {reply[:MAX_REASON]}")
    reason = found.get("reason", "") if isinstance(found, dict) else ""
    return Verdict(round(value, 6), str(reason)[:MAX_REASON])


async def judge(models: ModelRegistry, judge_llm: str, question: str, expected: str | None, answer: str) -> Verdict:
    model, upstream_name = models.resolve(judge_llm)
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": _prompt(question, expected, answer)}]
    reply = ""
    try:
        async for piece in model.stream(Generation(upstream_name, messages, [], question, {"temperature": 0})):
            if not isinstance(piece, Usage):
                reply += piece
    except DomainError as exc:
        return Verdict(None, f"the judge failed: {exc.message}")
    return read_verdict(reply)
