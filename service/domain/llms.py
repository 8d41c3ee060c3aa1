"""Which configured chat model a request means: the one decision every API family defers to."""

from __future__ import annotations

from service.errors import Unsupported
from service.providers.llm import ModelRegistry


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
