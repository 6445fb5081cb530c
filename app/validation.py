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
    steps = _steps_to_unstorable(value)
    if steps is None:
        return None
    for step in reversed(steps):
        path = f"{path}{step}" if path or not step.startswith(".") else step[1:]
    return path or "(value)"


def _steps_to_unstorable(value: Any) -> list[str] | None:
    """The steps (".key", "[index]") to the first unstorable string inside `value`, innermost first, or None.

    Bodies are checked on every request, so a step is spelled only on the way back from bad text.
    """
    if isinstance(value, str):
        return [] if _UNSTORABLE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            steps = [] if isinstance(key, str) and _UNSTORABLE.search(key) else _steps_to_unstorable(item)
            if steps is not None:
                return [*steps, f".{key}"]
    elif isinstance(value, list):
        for index, item in enumerate(value):
            steps = _steps_to_unstorable(item)
            if steps is not None:
                return [*steps, f"[{index}]"]
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
