"""References (văn bản căn cứ): documents cited in the subject and the opening
"Căn cứ / Thực hiện / Theo / Xét" paragraphs.

Only the opening counts: a directive's body mentions many documents ("theo
Quyết định số 1300/QĐ-BYT ...") that it does not implement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from app.parsing.blocks import Block
from app.parsing.doc_types import CONG_VAN, NAME_WORDS, type_from_name, type_from_symbol
from app.parsing.layout import Layout
from app.parsing.patterns import DATE_BODY, NOTATION_RE, Hit, date_from_match, notation_parts

OPENING_RE = re.compile(
    r"^(?:Căn\s+cứ|Thực\s+hiện|Theo|Xét|Tiếp\s+theo|Phúc\s+đáp|Triển\s+khai|Thi\s+hành|Tiếp\s+nhận"
    r"|Nhận\s+được|Trả\s+lời|Ngày\s+\d)(?![\w])",
    re.I,
)
_BASIS_ITEM_RE = re.compile(r"^Căn\s+cứ(?![\w])", re.I)
_DATE_AFTER_RE = re.compile(r"\s*,?\s*(?:(?:được\s+)?ban\s+hành\s+)?(?:vào\s+)?ngày\s*" + DATE_BODY, re.I)
_WORD_BEFORE_RE = re.compile(r"(?P<word>" + NAME_WORDS + r")\s*(?:số\s*)?[:.]?\s*$", re.I)
_LOOKBEHIND = 40


@dataclass(slots=True)
class Reference:
    """One cited document: notation as printed (spaces removed), type, date if given."""

    notation: str
    number: str
    symbol: str
    doc_type: str | None
    issued_on: date | None
    start: int
    end: int


def _doc_type(symbol: str, word: str | None, has_year: bool) -> str | None:
    by_symbol = type_from_symbol(symbol)
    if by_symbol:
        return by_symbol
    by_word = type_from_name(word)
    if by_word:
        return by_word
    # An administrative symbol with no type abbreviation is a công văn (NĐ 30, Phụ lục III).
    return None if has_year else CONG_VAN


def find_in(text: str, start: int, end: int) -> list[Reference]:
    """Every notation in ``text[start:end]``, with the date that follows it if any."""
    found: list[Reference] = []
    for match in NOTATION_RE.finditer(text, start, end):
        number, symbol, notation = notation_parts(match)
        issued = None
        ref_end = match.end()
        after = _DATE_AFTER_RE.match(text, match.end(), min(end, match.end() + 60))
        if after:
            issued = date_from_match(after)
            if issued:
                ref_end = after.end()
        before = _WORD_BEFORE_RE.search(text, max(start, match.start() - _LOOKBEHIND), match.start())
        word = before.group("word") if before else None
        ref_start = before.start() if before else match.start()
        doc_type = _doc_type(symbol, word, bool(match.group("year")))
        found.append(Reference(notation, number, symbol, doc_type, issued, ref_start, ref_end))
    return found


def opening_blocks(layout: Layout, blocks: list[Block]) -> list[Block]:
    """The "Căn cứ / Thực hiện / Theo / Xét" paragraphs before the first list item."""
    opening: list[Block] = []
    for block in blocks:
        text = layout.text[block.start : block.end]
        if block.family is not None:
            # A bulleted "- Căn cứ ..." still opens; any other item starts the body.
            if not _BASIS_ITEM_RE.match(text):
                break
            opening.append(block)
        elif OPENING_RE.match(text):
            opening.append(block)
    return opening


def collect(layout: Layout, subject: Hit[str] | None, opening: list[Block], own: str | None) -> list[Reference]:
    """References from the subject and the opening paragraphs, each notation once."""
    spans = [(subject.start, subject.end)] if subject else []
    spans += [(b.start, b.end) for b in opening]
    by_notation: dict[str, Reference] = {}
    for start, end in spans:
        for ref in find_in(layout.text, start, end):
            if own and ref.notation == own:
                continue
            seen = by_notation.get(ref.notation)
            if seen is None:
                by_notation[ref.notation] = ref
            elif seen.issued_on is None and ref.issued_on is not None:
                seen.issued_on = ref.issued_on
    return list(by_notation.values())
