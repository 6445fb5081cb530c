"""Regex building blocks shared by the extractors: letters, dates, notations.

Everything here is compiled once at import.  Patterns are written so that no two
unbounded repetitions can match the same characters (no catastrophic backtracking
on hostile input).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Hit(Generic[T]):
    """A value read from the text and where it was read (offsets into the layout text)."""

    value: T
    start: int
    end: int


def _letters(predicate: str) -> str:
    chars = []
    for code in range(0x41, 0x1EFA):
        ch = chr(code)
        if unicodedata.name(ch, "").startswith("LATIN") and getattr(ch, predicate)():
            chars.append(ch)
    return "".join(chars)


UPPER = _letters("isupper")
"""Every upper-case Latin letter Vietnamese uses (A–Z, Đ, Ă, Ơ, Ư, Ạ...Ỹ)."""
LOWER = _letters("islower")
"""Every lower-case Latin letter Vietnamese uses."""
U = f"[{UPPER}]"
L = f"[{LOWER}]"
LETTER = f"[{UPPER}{LOWER}]"



def squash(text: str) -> str:
    """Collapse runs of whitespace (line breaks included) into one space."""
    return " ".join(text.split())


def tidy(text: str) -> str:
    """``squash`` and drop trailing punctuation (``"Như trên;"`` → ``"Như trên"``)."""
    text = squash(text).rstrip(" .;:,")
    if text.endswith("./"):
        text = text[:-2]
    return text.strip()


# --- dates ------------------------------------------------------------------------

# "ngày 28 tháng 8 năm 2018", "28/8/2018", "28-08-2018", "28.8.2018"; year optional.
DATE_BODY = (
    r"(?P<d>\d{1,2})\s*(?:[/.-]|tháng)\s*(?P<m>\d{1,2})"
    r"(?:\s*(?:[/.-]|năm)\s*(?P<y>(?:19|20)\d{2}))?(?!\d)"
)
DATE = rf"(?:ngày\s*)?{DATE_BODY}"
DATE_RE = re.compile(DATE, re.I)


def make_date(year: int | None, month: int, day: int) -> date | None:
    """A real calendar date or None (31/2 is not a date)."""
    if year is None:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def date_from_match(match: re.Match[str], default_year: int | None = None) -> date | None:
    """Read the ``d``/``m``/``y`` groups of a :data:`DATE` match."""
    year = int(match.group("y")) if match.group("y") else default_year
    return make_date(year, int(match.group("m")), int(match.group("d")))


# --- notations (số, ký hiệu) --------------------------------------------------------

# One part of a symbol: upper-case letters and digits, with at most the odd lower-case
# letter of "TTg", "QĐi", "CTr", "QyĐ" -- but never the start of a glued word
# ("QĐ-QLKTTWngày" stops before "ngày").  Possessive, so no backtracking.
SEG = rf"{U}(?:[{UPPER}0-9]|[a-z](?!{L}))++"
# Admin symbol: parts joined by hyphens ("SYT-VP", "CT- TTg" with a stray space).
ADMIN_SYMBOL = rf"{SEG}(?:[ ]?[-–][ ]?{SEG})*+"
# Party symbol after the number: "-KL/TU", "-QĐi/TW", "-HD/BTGTW".
PARTY_SYMBOL = rf"{SEG}\s?/\s?{ADMIN_SYMBOL}"

NOTATION = (
    rf"(?<![\w/.-])(?P<num>\d{{1,6}})\s?"
    rf"(?:/\s?(?P<year>(?:19|20)\d{{2}})\s?)?"
    rf"(?:-\s?(?P<party>{PARTY_SYMBOL})|/\s?(?P<admin>{ADMIN_SYMBOL}))"
)
NOTATION_RE = re.compile(NOTATION)

_SYMBOL_SPACES = re.compile(r"\s+")

def clean_symbol(symbol: str) -> str:
    """Drop stray spaces and normalise dashes inside a symbol ("CT- TTg" → "CT-TTg")."""
    return _SYMBOL_SPACES.sub("", symbol).replace("–", "-")


def notation_parts(match: re.Match[str]) -> tuple[str, str, str]:
    """(number, symbol, notation) of a :data:`NOTATION`-style match."""
    number = match.group("num")
    year = match.group("year")
    if match.group("party"):
        symbol = clean_symbol(match.group("party"))
        return number, symbol, f"{number}-{symbol}"
    symbol = clean_symbol(match.group("admin"))
    middle = f"/{year}" if year else ""
    return number, symbol, f"{number}{middle}/{symbol}"


class Scan:
    """Every match of one pattern over a text, found once and then queried by range.

    Tasks overlap (a section and its items), so scanning the whole body once is
    much cheaper than scanning each task's text again.
    """

    __slots__ = ("matches", "starts")

    def __init__(self, pattern: re.Pattern[str], text: str, start: int = 0, end: int | None = None) -> None:
        self.matches = list(pattern.finditer(text, start, len(text) if end is None else end))
        self.starts = [m.start() for m in self.matches]

    @classmethod
    def of(cls, matches: list[re.Match[str]]) -> Scan:
        """A scan from matches found some other way (in order)."""
        scan = cls.__new__(cls)
        scan.matches = matches
        scan.starts = [m.start() for m in matches]
        return scan

    def within(self, start: int, end: int) -> list[re.Match[str]]:
        """Matches lying wholly inside ``[start, end)``."""
        lo = bisect_left(self.starts, start)
        hi = bisect_left(self.starts, end)
        return [m for m in self.matches[lo:hi] if m.end() <= end]
