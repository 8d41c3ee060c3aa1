"""The one reader of JSON request bodies; each API family supplies its own wording of the three failures."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from litestar import Request

from service.errors import Invalid


@dataclass(frozen=True)
class BodyMessages:
    """A family's texts for: no body, a body that is not JSON, JSON that is not an object (`{kind}` = its type)."""

    empty: str
    malformed: str
    not_object: str


async def json_object(request: Request[Any, Any, Any], messages: BodyMessages, required: bool = True) -> dict[str, Any]:
    """The body as a JSON object; an empty body is `{}` unless `required`. Failures raise `Invalid`."""
    raw = await request.body()
    if not raw.strip():
        if required:
            raise Invalid(messages.empty)
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Invalid(messages.malformed) from None
    if not isinstance(data, dict):
        raise Invalid(messages.not_object.format(kind=type(data).__name__))
    return data
