"""Line layout: the clean text as a list of stripped lines, tables unfolded.

An NĐ 30/2020 header and signature are two-column tables (issuer | national motto,
number | place and date, distribution | signer).  Text flattened from HTML keeps
those columns as ``left | right`` on one line.  Two-column blocks are read column
by column, so the left column's lines (issuer, number, subject) stay together and
the right column's lines (motto, date, signer title, name) follow as a block;
wider tables are kept one row a line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.parsing.normalize import CleanText
from app.parsing.offsets import OffsetChain, OffsetMap

_SEPARATOR_LINE = re.compile(r"^[-_=~*.…•\s]{3,}$")
_MARKDOWN_RULE = re.compile(r"^:?-{2,}:?$")


@dataclass(frozen=True, slots=True)
class Line:
    """One stripped line of the layout text; ``start``/``end`` index ``Layout.text``."""

    text: str
    start: int
    end: int

    @property
    def blank(self) -> bool:
        return not self.text


@dataclass(slots=True)
class Layout:
    """The text extractors read, and its lines (stripped; blank for separators).

    Without tables this is the clean text itself; with tables, the cells' text
    re-laid one cell a line, joined by newlines.
    """

    text: str
    lines: list[Line]
    chain: OffsetChain

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Where ``text[start:end]`` sits in the caller's original string."""
        return self.chain.to_original(start, end)


Piece = tuple[int, int]  # (start, end) in the clean text; start == end is a blank line


def _strip(text: str, start: int, end: int) -> Piece:
    segment = text[start:end]
    left = len(segment) - len(segment.lstrip())
    right = len(segment.rstrip())
    if right <= left:
        return (start, start)
    return (start + left, start + right)


def _cells(text: str, start: int, end: int) -> list[Piece] | None:
    """Cells of a ``a | b`` line, or None when the line is not a table row."""
    if "|" not in text[start:end]:
        return None
    pieces: list[Piece] = []
    pos = start
    while True:
        bar = text.find("|", pos, end)
        stop = end if bar < 0 else bar
        pieces.append(_strip(text, pos, stop))
        if bar < 0:
            break
        pos = bar + 1
    row = text[start:end].strip()
    if row.startswith("|") and row.endswith("|") and len(pieces) >= 3:
        pieces = pieces[1:-1]  # a Markdown row "| a | b |": the outer bars enclose no cells
    return pieces if len(pieces) >= 2 else None


def _is_rule_row(text: str, cells: list[Piece]) -> bool:
    return all(s == e or _MARKDOWN_RULE.match(text[s:e]) for s, e in cells)


def _unfold_table(rows: list[list[Piece]], out: list[Piece], text: str) -> None:
    width = max(len(r) for r in rows)
    if width == 2:
        for col in range(width):
            out.extend(r[col] for r in rows if col < len(r) and r[col][0] != r[col][1])
            out.append((rows[0][0][0], rows[0][0][0]))
        return
    for row in rows:
        first = next((c for c in row if c[0] != c[1]), None)
        last = next((c for c in reversed(row) if c[0] != c[1]), None)
        out.append((first[0], last[1]) if first and last else (row[0][0], row[0][0]))


def _pieces(text: str) -> list[Piece]:
    out: list[Piece] = []
    rows: list[list[Piece]] = []
    pos = 0
    length = len(text)
    while pos <= length:
        nl = text.find("\n", pos)
        stop = length if nl < 0 else nl
        cells = _cells(text, pos, stop)
        if cells is not None and not _is_rule_row(text, cells):
            rows.append(cells)
        else:
            if rows:
                _unfold_table(rows, out, text)
                rows = []
            if cells is None:
                piece = _strip(text, pos, stop)
                if _SEPARATOR_LINE.match(text[piece[0] : piece[1]]):
                    piece = (piece[0], piece[0])
                out.append(piece)
            else:
                out.append((pos, pos))
        if nl < 0:
            break
        pos = nl + 1
    if rows:
        _unfold_table(rows, out, text)
    return out


def _plain_layout(clean: CleanText) -> Layout:
    """No table rows: the clean text itself, with each line's stripped extent."""
    text = clean.text
    lines: list[Line] = []
    pos = 0
    for raw in text.split("\n"):
        stripped = raw.strip()
        if not stripped or (stripped[0] in "-_=~.…•" and _SEPARATOR_LINE.match(stripped)):
            lines.append(Line("", pos, pos))
        else:
            start = pos + len(raw) - len(raw.lstrip())
            lines.append(Line(stripped, start, start + len(stripped)))
        pos += len(raw) + 1
    return Layout(text, lines, clean.chain)


def build_layout(clean: CleanText) -> Layout:
    """Lay the clean text out as lines and chain the offsets back to the original."""
    if "|" not in clean.text:
        return _plain_layout(clean)
    text = clean.text
    omap = OffsetMap(old_length=len(text))
    parts: list[str] = []
    lines: list[Line] = []
    pos = 0
    for i, (start, end) in enumerate(_pieces(text)):
        if i:
            omap.add(pos, start, 1, 0, False)
            parts.append("\n")
            pos += 1
        piece = text[start:end]
        omap.add(pos, start, len(piece), len(piece), True)
        parts.append(piece)
        lines.append(Line(piece, pos, pos + len(piece)))
        pos += len(piece)
    omap.new_length = pos
    chain = OffsetChain([omap, *clean.chain.maps])
    return Layout("".join(parts), lines, chain)
