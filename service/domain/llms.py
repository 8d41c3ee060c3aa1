"""Which configured chat model a request means: the one decision every API family defers to."""

from __future__ import annotations

from typing import Any

from service.errors import Unsupported
from service.providers.llm import ModelRegistry

# Sampling settings an answer may be asked with (an assistant's llm_setting, or one request's overrides),
# with the ranges OpenAI documents; a value outside one would be sent upstream and fail there, or be ignored.
SAMPLING_RANGES = {
    "temperature": (0.0, 2.0),
    "top_p": (0.0, 1.0),
    "presence_penalty": (-2.0, 2.0),
    "frequency_penalty": (-2.0, 2.0),
}
SAMPLING_KEYS = (*SAMPLING_RANGES, "max_tokens")


def sampling_error(key: str, value: Any) -> str | None:
    """Why `value` cannot be the sampling setting `key`, or None when it can (or `key` is not one)."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if key in SAMPLING_RANGES:
        low, high = SAMPLING_RANGES[key]
        if not (is_number and low <= value <= high):
            return f"`{key}` must be a number between {low:g} and {high:g}."
    if key in ("max_tokens", "max_completion_tokens") and not (is_number and isinstance(value, int) and value >= 1):
        return f"`{key}` must be a positive integer."
    return None


def chosen_llm(models: ModelRegistry, requested: str) -> str:
    """`requested` as the `name@provider` of a model this server can call.

    A listed model matches with any case of its provider, and by its bare name when no other listed model
    shares it; a provider configured without a model list serves any name. Otherwise `Unsupported`.
    """
    name, _, provider = requested.rpartition("@")
    listed = [(full, *full.rpartition("@")[::2]) for full in models.names()]
    if name:
        for full, listed_name, listed_provider in listed:
            if listed_name == name and listed_provider.lower() == provider.lower():
                return full
        configured = models.providers.get(provider.lower())
        if configured is not None and not configured.models:
            return requested
    else:
        matches = [full for full, listed_name, _ in listed if listed_name == requested]
        if len(matches) == 1:
            return matches[0]
    raise Unsupported(f"`llm_id` {requested} doesn't exist")
