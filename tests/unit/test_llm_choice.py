"""`chosen_llm`: the one place that decides which configured chat model a request's `llm_id` means."""

from __future__ import annotations

import pytest

from service.domain.llms import chosen_llm
from service.errors import Unsupported
from service.providers.llm import EXTRACTIVE, ModelRegistry
from service.settings import LLMProvider

MODELS = ModelRegistry(
    {
        "vllm": LLMProvider("http://gpu:8000/v1", models=("qwen", "llama")),
        "ollama": LLMProvider("http://cpu:11434/v1", models=("llama",)),
        "Open": LLMProvider("http://any:8000/v1"),  # no model list: serves any name
    },
    timeout=1,
)


@pytest.mark.parametrize(
    ("requested", "chosen"),
    [
        (EXTRACTIVE, EXTRACTIVE),
        ("nectar-extractive@builtin", EXTRACTIVE),  # any case of the provider
        ("nectar-extractive", EXTRACTIVE),  # a bare name no other listed model shares
        ("qwen@VLLM", "qwen@vllm"),
        ("qwen", "qwen@vllm"),
        ("llama@ollama", "llama@ollama"),
        ("whatever@open", "whatever@open"),
    ],
)
def test_known_models_are_chosen_in_their_canonical_spelling(requested: str, chosen: str) -> None:
    assert chosen_llm(MODELS, requested) == chosen


@pytest.mark.parametrize("requested", ["llama", "mistral@vllm", "gpt-9@Nowhere", "ghost", "@vllm"])
def test_anything_else_is_refused_with_ragflows_message(requested: str) -> None:
    with pytest.raises(Unsupported) as refused:
        chosen_llm(MODELS, requested)
    assert refused.value.message == f"`llm_id` {requested} doesn't exist"  # "llama": two providers list it
