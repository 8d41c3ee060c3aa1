"""RAGFlow's variable references: `{component_id@output}` and the canvas globals `{sys.query}`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# A component id is what RAGFlow's editor makes ("begin", "Agent:StalePandasDream", "Retrieval:0"); the output
# name may have dots (structured outputs). Spaces inside the braces are tolerated, as RAGFlow's pattern does.
REFERENCE = re.compile(r"\{\s*([A-Za-z0-9_:\-]+@[A-Za-z0-9_.\-]+|sys\.[A-Za-z_]+|env\.[A-Za-z_]+)\s*\}")
GLOBALS = ("sys.query", "sys.user_id", "sys.conversation_turns", "sys.files", "sys.history", "sys.date")


def references_in(value: Any) -> Iterator[str]:
    """Every reference in a parameter value, however deeply it is nested in lists and objects."""
    if isinstance(value, str):
        yield from (match[1] for match in REFERENCE.finditer(value))
    elif isinstance(value, list):
        for item in value:
            yield from references_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from references_in(item)


def split(reference: str) -> tuple[str, str]:
    """(component id, output name); ("", name) for a global."""
    component_id, at, output = reference.partition("@")
    return (component_id, output) if at else ("", reference)


def as_text(value: Any) -> str:
    """How a value reads inside a prompt or a message."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return "\n".join(as_text(item) for item in value)
    return str(value)
