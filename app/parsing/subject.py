"""Subject (trích yếu nội dung) and recipients (Kính gửi).

A công văn gives its subject after "V/v" under the number; other types print the
type name as a heading and the title beneath it ("KẾ HOẠCH" / "<title>").  Either
may be wrapped over several lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.parsing.doc_types import HEADING_RE, type_from_name
from app.parsing.header import HEADER_LINES, MOTTO_RE
from app.parsing.layout import Layout, Line
from app.parsing.patterns import Hit, squash, tidy

_VV_RE = re.compile(r"(?:^|(?<=[\s|]))[Vv]\s?/\s?[vV](?![\w])\s*[:.]?\s*")
_ABOUT_PREFIX_RE = re.compile(r"^(?:[Vv]\s?/\s?[vV]|Về\s+việc)\s*:?\s*")
KINH_GUI_RE = re.compile(r"^Kính\s*gửi\s*:?\s*", re.I)
_PLACE_DATE_LINE_RE = re.compile(r",\s*ngày\s*[\d.…_\s]*tháng", re.I)
_NUMBER_LINE_RE = re.compile(r"^Số\s*:?\s*[\d./…_ ]*[/-]")
_URGENT_LINE_RE = re.compile(r"^(?:H(?:ỎA|OẢ) TỐC|THƯỢNG KHẨN|KHẨN)\b")

# A paragraph that opens the body rather than continuing a header element.
BODY_START_RE = re.compile(
    r"^(?:Căn\s+cứ|Thực\s+hiện|Theo|Xét|Phúc\s+đáp|Tiếp\s+theo|Tiếp\s+nhận|Nhận\s+được|Trong|Để|Nhằm"
    r"|Hiện\s+nay|Ngày\s+\d|Qua|Sau\s+khi|Vừa\s+qua|Thời\s+gian\s+qua|Năm\s+\d{4})(?![\w])"
)
_INLINE_BODY_RE = re.compile(r"\s(?=(?:Căn\s+cứ|Thực\s+hiện|Theo|Xét|Phúc\s+đáp|Tiếp\s+theo)\s)")
_BULLET_RE = re.compile(r"^[-+•●▪–]\s*")
_INLINE_BULLETS_RE = re.compile(r"(?:^|\s)[-+•]\s+")

MAX_SUBJECT = 600
"""Longer than any real trích yếu: a run-away match is dropped, not returned."""


@dataclass(slots=True)
class Subject:
    """The subject, where it came from, and the heading type if one was printed."""

    text: Hit[str] | None
    heading_type: Hit[str] | None
    last_line: int


def _is_upper_line(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def _stops_subject(text: str) -> bool:
    return bool(
        not text
        or _PLACE_DATE_LINE_RE.search(text)
        or KINH_GUI_RE.match(text)
        or MOTTO_RE.search(text)
        or _NUMBER_LINE_RE.match(text)
        or _URGENT_LINE_RE.match(text)
        or BODY_START_RE.match(text)
        or _is_upper_line(text)
    )


def _collect(layout: Layout, first: int, first_start: int) -> tuple[Hit[str] | None, int]:
    """Join lines from ``first`` (text from ``first_start``) until a blank or header line."""
    lines = layout.lines
    end_line = first
    end = lines[first].end
    for index in range(first + 1, min(len(lines), first + 12)):
        if _stops_subject(lines[index].text):
            break
        end_line, end = index, lines[index].end
    return _as_subject(layout, first_start, end, end_line)


def _as_subject(layout: Layout, start: int, end: int, end_line: int) -> tuple[Hit[str] | None, int]:
    text = layout.text[start:end]
    cut = re.search(r"\s\|\s|Kính\s*gửi|CỘNG\s+H(?:ÒA|OÀ)", text)
    if cut:
        end = start + cut.start()
        text = text[: cut.start()]
    value = tidy(_ABOUT_PREFIX_RE.sub("", squash(text)))
    if not value or len(value) > MAX_SUBJECT:
        return None, end_line
    return Hit(value, start, end), end_line


def find_subject(layout: Layout, after_number: int) -> Subject:
    """Subject from "V/v ..." or from the title under a type heading."""
    lines = layout.lines
    heading = _find_heading(lines)
    for index, line in enumerate(lines[:HEADER_LINES]):
        if BODY_START_RE.match(line.text) and index > after_number:
            break
        match = _VV_RE.search(line.text)
        if match and (match.start() == 0 or _is_upper_line(line.text[: match.start()]) or "|" in line.text):
            if match.end() >= len(line.text):
                if index + 1 < len(lines) and not _stops_subject(lines[index + 1].text):
                    hit, last = _collect(layout, index + 1, lines[index + 1].start)
                    return Subject(hit, heading[0] if heading else None, last)
                continue
            hit, last = _collect(layout, index, line.start + match.end())
            return Subject(hit, heading[0] if heading else None, last)
    if heading:
        hit, last = _title_under(layout, heading[1])
        return Subject(hit, heading[0], last)
    return Subject(None, None, -1)


def _find_heading(lines: list[Line]) -> tuple[Hit[str], int] | None:
    """The type heading ("KẾ HOẠCH", "QUYẾT ĐỊNH") before the body starts."""
    for index, line in enumerate(lines[:HEADER_LINES]):
        if BODY_START_RE.match(line.text):
            return None
        match = HEADING_RE.match(line.text)
        if not match:
            continue
        rest = match.group("rest")
        if rest and (":" in rest or not _is_upper_line(rest)):
            continue
        doc_type = type_from_name(match.group("name"))
        if doc_type:
            return Hit(doc_type, line.start, line.start + len(match.group("name"))), index
    return None


def _title_under(layout: Layout, heading_line: int) -> tuple[Hit[str] | None, int]:
    """The title lines under a heading, skipping the blank line(s) between."""
    lines = layout.lines
    heading = lines[heading_line]
    rest = HEADING_RE.match(heading.text)
    if rest and rest.group("rest"):
        start = heading.start + rest.start("rest")
        return _as_subject(layout, start, heading.end, heading_line)
    index = heading_line + 1
    while index < len(lines) and index <= heading_line + 3 and lines[index].blank:
        index += 1
    if index >= len(lines) or lines[index].blank or KINH_GUI_RE.match(lines[index].text):
        return None, heading_line
    if _is_upper_line(lines[index].text) and not _ABOUT_PREFIX_RE.match(lines[index].text):
        return None, heading_line
    end_line = index
    for nxt in range(index + 1, min(len(lines), index + 10)):
        text = lines[nxt].text
        if not text or _is_upper_line(text) or BODY_START_RE.match(text) or KINH_GUI_RE.match(text):
            break
        end_line = nxt
    return _as_subject(layout, lines[index].start, lines[end_line].end, end_line)


def find_recipients(layout: Layout, limit: int = HEADER_LINES) -> tuple[list[Hit[str]], int]:
    """Kính gửi: one line, a ";"-separated line, or a bulleted list below it."""
    lines = layout.lines
    for index, line in enumerate(lines[: limit + 1]):
        match = KINH_GUI_RE.match(line.text)
        if match:
            return _recipient_items(layout, index, line.start + match.end())
    return [], -1


def _recipient_items(layout: Layout, index: int, rest_start: int) -> tuple[list[Hit[str]], int]:
    lines = layout.lines
    items: list[list[int]] = []  # [start, end] pairs, extended by continuation lines
    line = lines[index]
    rest = line.text[rest_start - line.start :]
    cut = _INLINE_BODY_RE.search(rest)
    if cut:
        rest = rest[: cut.start()]
    for piece in re.split(r";|" + _INLINE_BULLETS_RE.pattern, rest):
        if piece and piece.strip(" -+•.,"):
            offset = rest_start + rest.index(piece)
            items.append([offset, offset + len(piece)])
    last = index
    probe = index + 1
    while probe < len(lines):
        text = lines[probe].text
        if not text:
            nxt = next((i for i in range(probe + 1, min(len(lines), probe + 3)) if lines[i].text), None)
            if nxt is None or not (_BULLET_RE.match(lines[nxt].text) or not items):
                break
            probe = nxt
            continue
        bullet = _BULLET_RE.match(text)
        if bullet:
            items.append([lines[probe].start + bullet.end(), lines[probe].end])
        elif items and text[0].islower():
            items[-1][1] = lines[probe].end
        elif not items and not BODY_START_RE.match(text) and len(text) < 200:
            items.append([lines[probe].start, lines[probe].end])
        else:
            break
        last = probe
        probe += 1
    return [hit for hit in (_recipient_hit(layout.text, s, e) for s, e in items) if hit], last


def _recipient_hit(text: str, start: int, end: int) -> Hit[str] | None:
    value = tidy(text[start:end].strip(" -+•"))
    return Hit(value, start, end) if value else None


_LONG_LINE = 300


def header_limit(lines: list[Line]) -> int:
    """Index of the first body line: header elements are only looked for above it.

    The body starts at the first long line or "Căn cứ / Thực hiện ..." paragraph,
    except the title under a type heading, which may be long or begin "Thực hiện".
    """
    after_heading = -10
    for index, line in enumerate(lines[:HEADER_LINES]):
        text = line.text
        if not text:
            continue
        if HEADING_RE.match(text) or _VV_RE.match(text):
            after_heading = index
            continue
        title_line = index - after_heading <= 3 and all(not lines[i].text for i in range(after_heading + 1, index))
        if title_line:
            continue
        if len(text) > _LONG_LINE or BODY_START_RE.match(text):
            return index
    return min(len(lines), HEADER_LINES)
