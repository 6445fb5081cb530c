"""The base of every request body: unknown fields refused, and no text PostgreSQL cannot store.

PostgreSQL's text cannot hold U+0000, and UTF-8 cannot encode a lone surrogate
(JSON allows both as escapes). Either would fail at the database as a 500;
here it is a 422 naming the field.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


def unstorable_text(value: Any, path: str = "") -> str | None:
    """The path of the first string (key or value) PostgreSQL cannot store, or None."""
    if isinstance(value, str):
        if "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value):
            return path or "(value)"
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            found = unstorable_text(key, where) or unstorable_text(item, where)
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = unstorable_text(item, f"{path}[{index}]")
            if found:
                return found
    return None


class StrictModel(BaseModel):
    """Request bodies reject unknown fields (a typo must not be silently ignored) and unstorable text."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _storable_text(cls, data: Any) -> Any:
        found = unstorable_text(data)
        if found:
            raise ValueError(f"{found}: text with a NUL character or a lone surrogate cannot be stored")
        return data
