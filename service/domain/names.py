"""The name and description fields the OpsBee objects (tags, threads, deployments) share, validated once."""

from __future__ import annotations

from typing import Any

from service.errors import Invalid

MAX_NAME_LENGTH = 255


def required_name(value: Any) -> str:
    """A non-blank name of at most MAX_NAME_LENGTH characters, stripped."""
    if not isinstance(value, str) or not value.strip():
        raise Invalid("`name` is required and must be a non-empty string")
    name = value.strip()
    if len(name) > MAX_NAME_LENGTH:
        raise Invalid(f"`name` is {len(name)} characters long; the limit is {MAX_NAME_LENGTH}")
    return name


def description(value: Any) -> str:
    """Optional free text: missing or null is empty."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Invalid("`description` must be a string")
    return value
