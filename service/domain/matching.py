"""Substring filters from user text: `%` and `_` in what a user typed match themselves, not any character."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement


def escape_like(value: str) -> str:
    """`value` as literal text inside a LIKE pattern whose escape character is a backslash."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(column: Any, text: str) -> ColumnElement[bool]:
    """Case-insensitive: `column` holds `text` anywhere."""
    return column.ilike(f"%{escape_like(text)}%", escape="\\")  # type: ignore[no-any-return]


def starts_with(column: Any, text: str) -> ColumnElement[bool]:
    return column.ilike(f"{escape_like(text)}%", escape="\\")  # type: ignore[no-any-return]


def ends_with(column: Any, text: str) -> ColumnElement[bool]:
    return column.ilike(f"%{escape_like(text)}", escape="\\")  # type: ignore[no-any-return]
