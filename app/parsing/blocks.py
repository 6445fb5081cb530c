"""Paragraphs and list items (đoạn, mục, khoản, điểm) of the body.

Lines are grouped into blocks: a block starts at a list marker ("1.", "2.1.",
"a)", "-", "+", "Điều 3.", "II.") or after a blank line, and absorbs the lines
that continue it — including a paragraph that a scraper broke mid-phrase
("... không để" / "" / "tình trạng thiếu thuốc ...").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.parsing.layout import Layout

_MARKER_RE = re.compile(
    r"^(?:"
    r"(?P<roman>[IVX]{1,5})[.)]\s+"
    r"|Điều\s+(?P<article>\d{1,3})\s*[.:]?\s*"
    r"|(?P<num>\d{1,2}(?:\.\d{1,2}){0,3})(?:[.)](?!\d)\s*|\s+(?=\D))"
    r"|(?P<alpha>[a-zđ])(?:\)\s*|\.\s+)"
    r"|(?P<bullet>[-+•●○▪–—])\s*"
    r")"
)
_TERMINAL = (".", ";", ":", "!", "?", ".”", ".\"", "./.", ")")


@dataclass(slots=True)
class Block:
    """A paragraph or list item: its marker family ("num:1", "dash"...), ordinal and text span."""

    family: str | None
    ordinal: str | None
    start: int  # layout offset of the text after the marker
    end: int
    marker_start: int

    def text(self, layout: Layout) -> str:
        return layout.text[self.start : self.end]


def _marker(text: str) -> tuple[str | None, str | None, int]:
    """(family, ordinal, length of the marker) of a line, or (None, None, 0)."""
    match = _MARKER_RE.match(text)
    if not match or match.end() >= len(text):
        return None, None, 0
    kind = match.lastgroup
    value = match.group(kind) if kind else None
    if kind == "num":
        # "2023, xây dựng ..." or "10 cam kết" are not list items: a bare number needs a dot.
        if "." not in match.group() and ")" not in match.group():
            return None, None, 0
        return f"num:{value.count('.') + 1}", value, match.end()
    if kind == "bullet":
        family = {"-": "dash", "–": "dash", "—": "dash", "+": "plus"}.get(value or "", "dot")
        return family, None, match.end()
    if kind == "roman":
        rest = text[match.end() :]
        if not rest[:1].isupper():
            return None, None, 0
    return kind, value, match.end()


def _continues(previous: str, nxt: str) -> bool:
    """Whether a paragraph after a blank line is the same sentence broken by the scraper."""
    if not nxt or previous.endswith(_TERMINAL):
        return False
    first = nxt[0]
    return first.islower() or first.isdigit() and not _MARKER_RE.match(nxt)


def split_blocks(layout: Layout, first: int, last: int) -> list[Block]:
    """Blocks of ``layout.lines[first:last]``."""
    blocks: list[Block] = []
    current: Block | None = None
    pending_blank = False
    for line in layout.lines[first:last]:
        text = line.text
        if not text:
            pending_blank = True
            continue
        family, ordinal, skip = _marker(text)
        if current is not None and family is None:
            previous = layout.text[current.start : current.end]
            wrapped = not previous.endswith(_TERMINAL) or text[0].islower()
            if (wrapped and not pending_blank) or (pending_blank and _continues(previous, text)):
                current.end = line.end
                pending_blank = False
                continue
        current = Block(family, ordinal, line.start + skip, line.end, line.start)
        blocks.append(current)
        pending_blank = False
    return blocks
