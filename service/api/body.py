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
        data = json.loads(raw, parse_constant=_no_constant)
    except NonFinite:
        raise Invalid(NON_FINITE) from None
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Invalid(messages.malformed) from None
    if not isinstance(data, dict):
        raise Invalid(messages.not_object.format(kind=type(data).__name__))
    _check_strings(data)
    return data


# Python's json reads these, but they are not JSON, and PostgreSQL can store none of them in text or jsonb.
NON_FINITE = "NaN and Infinity are not valid JSON numbers"
NUL = "Text may not contain the NUL character (U+0000)"
SURROGATE = "Text may not contain unpaired surrogates (U+D800 to U+DFFF)"


class NonFinite(ValueError):
    """The body has a NaN, Infinity or -Infinity."""


def _no_constant(name: str) -> Any:
    raise NonFinite(name)


def _check_strings(data: Any) -> None:
    """Refuse every string (keys included) holding a NUL or a lone surrogate, once, for every family."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            _check_text(item)


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise Invalid(NUL)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid(SURROGATE) from None
