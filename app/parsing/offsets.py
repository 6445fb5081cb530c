"""Offset maps: how a position in a rewritten text goes back to the original.

Every cleaning step (NFC, CRLF, Markdown markers, table re-layout) produces a new
string; an :class:`OffsetMap` remembers, per segment of the new string, where it
came from, so a span found in the clean text can be highlighted in the text the
user actually sent.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field


@dataclass(slots=True)
class OffsetMap:
    """Piecewise map from positions in a new text to positions in its source.

    Segment ``i`` covers new positions ``[new_starts[i], new_starts[i] + new_lens[i])``.
    A *copied* segment maps position by position; a *replaced* one maps its start to
    the start of what it replaced and its end to that thing's end.
    """

    new_starts: list[int] = field(default_factory=list)
    old_starts: list[int] = field(default_factory=list)
    new_lens: list[int] = field(default_factory=list)
    old_lens: list[int] = field(default_factory=list)
    copied: list[bool] = field(default_factory=list)
    new_length: int = 0
    old_length: int = 0

    def add(self, new_start: int, old_start: int, new_len: int, old_len: int, copied: bool) -> None:
        """Append one segment; zero-length new segments are never looked up."""
        if new_len == 0:
            return
        self.new_starts.append(new_start)
        self.old_starts.append(old_start)
        self.new_lens.append(new_len)
        self.old_lens.append(old_len)
        self.copied.append(copied)

    def start(self, pos: int) -> int:
        """Original position of the character at new position ``pos``."""
        if pos >= self.new_length or not self.new_starts:
            return self.old_length
        i = max(bisect_right(self.new_starts, pos) - 1, 0)
        if self.copied[i]:
            return self.old_starts[i] + min(pos - self.new_starts[i], self.old_lens[i])
        return self.old_starts[i]

    def end(self, pos: int) -> int:
        """Original position just after the character before new position ``pos``."""
        if pos <= 0 or not self.new_starts:
            return 0 if pos <= 0 else self.old_length
        i = max(bisect_right(self.new_starts, pos - 1) - 1, 0)
        if self.copied[i]:
            return self.old_starts[i] + min(pos - self.new_starts[i], self.old_lens[i])
        return self.old_starts[i] + self.old_lens[i]


def _matches(text: str, pattern: re.Pattern[str], candidates: re.Pattern[str] | None) -> Iterator[re.Match[str]]:
    if candidates is None:
        yield from pattern.finditer(text)
        return
    pos = 0
    while True:
        hint = candidates.search(text, pos)
        if hint is None:
            return
        match = pattern.match(text, hint.start())
        if match is None or match.end() == match.start():
            pos = hint.start() + 1
            continue
        yield match
        pos = match.end()


def rewrite(
    text: str,
    pattern: re.Pattern[str],
    replace: Callable[[re.Match[str]], str],
    candidates: re.Pattern[str] | None = None,
) -> tuple[str, OffsetMap]:
    """``pattern.sub(replace, text)`` that also returns the offset map back to ``text``.

    With ``candidates``, matches are only tried where that (cheaper) pattern finds
    a starting character.
    """
    parts: list[str] = []
    omap = OffsetMap(old_length=len(text))
    new_pos = 0
    old_pos = 0
    for match in _matches(text, pattern, candidates):
        if match.start() > old_pos:
            chunk = text[old_pos : match.start()]
            omap.add(new_pos, old_pos, len(chunk), len(chunk), True)
            parts.append(chunk)
            new_pos += len(chunk)
        repl = replace(match)
        omap.add(new_pos, match.start(), len(repl), match.end() - match.start(), False)
        parts.append(repl)
        new_pos += len(repl)
        old_pos = match.end()
    if old_pos < len(text):
        chunk = text[old_pos:]
        omap.add(new_pos, old_pos, len(chunk), len(chunk), True)
        parts.append(chunk)
        new_pos += len(chunk)
    omap.new_length = new_pos
    return "".join(parts), omap


@dataclass(slots=True)
class OffsetChain:
    """Several maps applied newest first: clean text → ... → original input."""

    maps: list[OffsetMap] = field(default_factory=list)

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open span of the newest text back to the original text."""
        for omap in self.maps:
            new_start, new_end = omap.start(start), omap.end(end)
            start, end = new_start, max(new_start, new_end)
        return start, end
