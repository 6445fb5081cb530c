"""Text PostgreSQL cannot store (U+0000, lone surrogates) is found wherever it sits in a body, with its path."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app.tasks.schemas import TaskIn
from app.validation import unstorable_text


def _by_each_character(value: Any, path: str = "") -> str | None:
    """The rule spelled out one character at a time: what the compiled check must keep answering."""
    if isinstance(value, str):
        if "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value):
            return path or "(value)"
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            found = _by_each_character(key, where) or _by_each_character(item, where)
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _by_each_character(item, f"{path}[{index}]")
            if found:
                return found
    return None


# Mostly ordinary Vietnamese-looking text, now and then a NUL, a surrogate or the characters around them.
_CHARACTERS = st.one_of(
    st.sampled_from(["a", "ạ", "Đ", "\x00", "\x01", "\ud7ff", "\ud800", "\udbff", "\udc00", "\udfff", "\ue000", "😀"]),
    st.characters(),
)
_TEXT = st.text(_CHARACTERS, max_size=6)
_BODIES = st.recursive(
    st.one_of(_TEXT, st.integers(), st.none(), st.booleans()),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.one_of(_TEXT, st.integers()), inner, max_size=4),
    max_leaves=20,
)


@given(_BODIES)
@settings(max_examples=2_000, deadline=None)
def test_unstorable_text_names_the_same_path_as_checking_each_character(body: Any) -> None:
    assert unstorable_text(body) == _by_each_character(body)


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ("ok\x00", "(value)"),
        ({"tasks": [{"text": "fine"}, {"text": "bad\ud83d"}]}, "tasks[1].text"),
        ({"bad\x00key": "fine"}, "bad\x00key"),
        ({"a": "fine", "b": ["x", {"c": "\udfff"}], "d": "\x00"}, "b[1].c"),
        ({"emoji": "Trạm 😀", "ranges": "\ud7ff\ue000"}, None),
    ],
)
def test_unstorable_text_finds_the_first_bad_string(body: Any, path: str | None) -> None:
    assert unstorable_text(body) == path


def test_a_nested_body_with_a_nul_is_refused_naming_its_field() -> None:
    with pytest.raises(ValidationError, match="assignee_codes\\[1\\]: text with a NUL"):
        TaskIn.model_validate({"text": "Báo cáo", "assignee_codes": ["TYT-1", "TYT\x00-2"]})
