"""The header block (phần đầu văn bản) of NĐ 30/2020: issuer, number and symbol,
place and date, urgency mark.  Subject and recipients live in ``subject.py``.

Each finder looks only at the first lines of the document and returns
:class:`~app.parsing.patterns.Hit` values whose offsets index the layout text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from app.parsing.layout import Line
from app.parsing.patterns import ADMIN_SYMBOL, PARTY_SYMBOL, Hit, U, clean_symbol, make_date, squash

HEADER_LINES = 60
"""How far down the header elements are looked for: well past any real header."""

# "Số: 2206/SYT-VP", "Số: **20** /KH-SYT", "Số: /SYT-KHTC", "Số 477-KL/TU", "Số: 12/2024/QĐ-UBND".
# "Số" is capitalised: the lower-case "số" of running text ("Công văn số 422") is a citation.
_NUMBER_RE = re.compile(
    rf"(?:^|(?<=[\s|]))Số\s*:?\s*(?P<num>\d{{1,6}})?\s?"
    rf"(?:/\s?(?P<year>(?:19|20)\d{{2}})\s?)?[ ._…]*"
    rf"(?:-\s?(?P<party>{PARTY_SYMBOL})|/\s?(?P<admin>{ADMIN_SYMBOL}))"
)

# "Thanh Hóa, ngày 28 tháng 8 năm 2018" with blanks allowed ("ngày   tháng 01 năm 2024"),
# or "Hà Nội, ngày 05/3/2020".
_PLACE_DATE_RE = re.compile(
    r",\s*ngày\s*(?:"
    r"(?P<d>\d{1,2})?[\s._…]*tháng\s*(?P<m>\d{1,2})?[\s._…]*năm\s*(?P<y>(?:19|20)\d{2})"
    r"|(?P<d2>\d{1,2})\s*[/.-]\s*(?P<m2>\d{1,2})\s*[/.-]\s*(?P<y2>(?:19|20)\d{2}))",
    re.I,
)
_PLACE_TAIL_RE = re.compile(rf"((?:{U}[\w]*\.?[ ]+){{0,3}}{U}\w*)\s*$")

MOTTO_RE = re.compile(
    r"CỘNG\s+H(?:ÒA|OÀ)\s+XÃ\s+HỘI\s+CHỦ\s+NGHĨA\s+VIỆT\s+NAM"
    r"|Độc\s+lập\s*[-–—]\s*Tự\s+do\s*[-–—]\s*Hạnh\s+phúc"
    r"|ĐẢNG\s+CỘNG\s+SẢN\s+VIỆT\s+NAM",
    re.I,
)

_URGENCY_RE = re.compile(
    r"^(?:ĐỘ\s+KHẨN\s*:?\s*)?(?P<mark>H(?:ỎA|OẢ)\s+TỐC|THƯỢNG\s+KHẨN|KHẨN)(?:\s+HẸN\s+GIỜ)?\s*[.!]?$"
    r"|^Độ\s+khẩn\s*:\s*(?P<named>h(?:ỏa|oả)\s+tốc|thượng\s+khẩn|khẩn)\b",
    re.I,
)
_URGENCY_CODES = {"hỏa tốc": "hoa_toc", "hoả tốc": "hoa_toc", "thượng khẩn": "thuong_khan", "khẩn": "khan"}


@dataclass(slots=True)
class Notation:
    """Số và ký hiệu: number (None when left blank in a draft), symbol, full notation."""

    number: Hit[str] | None
    symbol: Hit[str]
    notation: Hit[str] | None
    year: int | None


@dataclass(slots=True)
class PlaceDate:
    """Địa danh, ngày tháng: the date is None when the day or month is left blank."""

    place: Hit[str] | None
    issued_on: Hit[date] | None
    year: int | None
    month: int | None
    line: int


@dataclass(slots=True)
class Issuer:
    """Tên cơ quan ban hành: the lines above the number, the last one is the issuer."""

    lines: list[Hit[str]] = field(default_factory=list)

    @property
    def issuer(self) -> Hit[str] | None:
        return self.lines[-1] if self.lines else None


def find_notation(lines: list[Line], limit: int = HEADER_LINES) -> tuple[Notation, int] | None:
    """The document's own number and symbol (``Số: ...``) and its line index."""
    for index, line in enumerate(lines[:limit]):
        match = _NUMBER_RE.search(line.text)
        if not match:
            continue
        base = line.start
        party = match.group("party")
        raw_symbol = party or match.group("admin")
        group = "party" if party else "admin"
        symbol = Hit(clean_symbol(raw_symbol), base + match.start(group), base + match.end(group))
        number = None
        notation = None
        if match.group("num"):
            num = match.group("num")
            number = Hit(num, base + match.start("num"), base + match.end("num"))
            joiner = "-" if party else "/"
            middle = f"/{match.group('year')}" if match.group("year") else ""
            notation = Hit(f"{num}{middle}{joiner}{symbol.value}", number.start, symbol.end)
        year = int(match.group("year")) if match.group("year") else None
        return Notation(number, symbol, notation, year), index
    return None


def _place_name(prefix: str) -> tuple[str, int] | None:
    """The place before ", ngày": the whole cell when short, else its last capitalised words."""
    cell_start = prefix.rfind("|") + 1
    cell = prefix[cell_start:]
    stripped = cell.strip()
    words = stripped.split()
    if 0 < len(words) <= 6 and not re.search(r"[\d:;()]", stripped) and stripped[:1].isalpha():
        if stripped[0].isupper():
            return stripped, cell_start + cell.index(stripped)
    tail = _PLACE_TAIL_RE.search(prefix)
    if tail and not MOTTO_RE.search(tail.group(1)):
        return tail.group(1), tail.start(1)
    return None


def _capitalise(place: str) -> str:
    """'Lai châu' → 'Lai Châu': place names are proper nouns; other words are left as written."""
    return " ".join(w[:1].upper() + w[1:] if w.islower() else w for w in place.split())


def find_place_date(lines: list[Line], limit: int = HEADER_LINES) -> PlaceDate | None:
    """Place and date of issue ("Thanh Hóa, ngày 28 tháng 8 năm 2018")."""
    for index, line in enumerate(lines[:limit]):
        match = _PLACE_DATE_RE.search(line.text)
        if not match:
            continue
        base = line.start
        named = _place_name(line.text[: match.start()])
        place = None
        if named:
            place = Hit(_capitalise(squash(named[0])), base + named[1], base + named[1] + len(named[0]))
        day = match.group("d") or match.group("d2")
        month = match.group("m") or match.group("m2")
        year = int(match.group("y") or match.group("y2"))
        issued = make_date(year, int(month), int(day)) if day and month else None
        date_start = base + match.start() + match.group().lower().index("ngày")
        issued_hit = Hit(issued, date_start, base + match.end()) if issued else None
        return PlaceDate(place, issued_hit, year, int(month) if month else None, index)
    return None


def _is_upper_text(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def find_issuer(lines: list[Line], stop: int, number_line: int | None) -> Issuer:
    """Upper-case lines above the number/motto/date: "UBND TỈNH THANH HÓA", "SỞ Y TẾ"."""
    issuer = Issuer()
    for line in lines[:stop]:
        if line.blank or _URGENCY_RE.match(line.text):
            continue
        _add_issuer_text(issuer, line.text, line.start)
    if number_line is not None and number_line < len(lines):
        line = lines[number_line]
        cut = line.text.find("Số")
        if cut > 0:
            _add_issuer_text(issuer, line.text[:cut], line.start)
    return issuer


def _add_issuer_text(issuer: Issuer, text: str, base: int) -> None:
    """Add the non-motto, upper-case parts of ``text`` (a header line or cell)."""
    pos = 0
    for piece in [*MOTTO_RE.split(text)]:
        offset = text.find(piece, pos)
        pos = offset + len(piece)
        for cell in piece.split("|"):
            stripped = cell.strip(" -–*")
            if stripped and _is_upper_text(stripped) and len(stripped) <= 90 and not stripped.startswith("SỐ"):
                start = base + text.find(stripped, offset)
                issuer.lines.append(Hit(squash(stripped), start, start + len(stripped)))


def find_urgency(lines: list[Line], limit: int = HEADER_LINES) -> Hit[str] | None:
    """Độ khẩn: "KHẨN", "THƯỢNG KHẨN", "HỎA TỐC" printed as a mark of its own."""
    for line in lines[:limit]:
        match = _URGENCY_RE.match(line.text)
        if not match:
            continue
        group = "mark" if match.group("mark") else "named"
        word = squash(match.group(group)).lower()
        return Hit(_URGENCY_CODES[word], line.start + match.start(group), line.start + match.end(group))
    return None


def motto_line(lines: list[Line], limit: int = HEADER_LINES) -> int | None:
    """Index of the national motto line ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), if any."""
    for index, line in enumerate(lines[:limit]):
        if MOTTO_RE.search(line.text):
            return index
    return None
