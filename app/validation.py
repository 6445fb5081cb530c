"""The base of every request body: unknown fields refused, and no text PostgreSQL cannot store.

PostgreSQL's text cannot hold U+0000, and UTF-8 cannot encode a lone surrogate
(JSON allows both as escapes). Either would fail at the database as a 500;
here it is a 422 naming the field.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

# U+0000 or any code in the surrogate range: a str only holds those as lone surrogates.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable_text(value: Any, path: str = "") -> str | None:
    """The path of the first string (key or value) PostgreSQL cannot store, or None."""
    if isinstance(value, str):
        return (path or "(value)") if _UNSTORABLE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            # The path is spelled only for the entry that holds bad text: bodies are checked on every request.
            if _holds_unstorable(key) or _holds_unstorable(item):
                where = f"{path}.{key}" if path else str(key)
                return unstorable_text(key, where) or unstorable_text(item, where)
    if isinstance(value, list):
        for index, item in enumerate(value):
            if _holds_unstorable(item):
                return unstorable_text(item, f"{path}[{index}]")
    return None


def _holds_unstorable(value: Any) -> bool:
    """Whether this value holds a string PostgreSQL cannot store, anywhere inside it."""
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        for key, item in value.items():
            if _holds_unstorable(key) or _holds_unstorable(item):
                return True
    elif isinstance(value, list):
        for item in value:
            if _holds_unstorable(item):
                return True
    return False


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
