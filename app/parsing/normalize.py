"""Text cleaning (chuẩn hoá văn bản) that keeps a way back to the original offsets.

Real directives arrive as NFD or NFC Unicode, with CRLF line ends, Markdown bold
and italic markers (``**1576**``), escaped punctuation, non-breaking spaces and the
odd look-alike letter from a scraper (``Ð`` for ``Đ``).  Extractors work on the
clean text; spans go back through the :class:`~app.parsing.offsets.OffsetChain`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from app.parsing.offsets import OffsetChain, rewrite

# One letter for another, same length, so no offsets move.  Ð (U+00D0, Icelandic eth)
# is what many scrapers and fonts emit for Đ; the hyphen look-alikes break symbols.
_SAME_LENGTH = {
    "\u00d0": "\u0110",
    "\u00f0": "\u0111",
    "\u2010": "-",
    "\u2011": "-",
    "\u2212": "-",
    "\u00a0": " ",
    "\u2007": " ",
    "\u202f": " ",
    "\u2009": " ",
    "\u200a": " ",
    "\u3000": " ",
    "\t": " ",
    "\f": " ",
    "\v": " ",
}
_SAME_LENGTH_RE = re.compile("[" + "".join(_SAME_LENGTH) + "]")

# A base character followed by combining marks: NFD Vietnamese ("ệ" as e + ̣ + ̂).
_COMBINING_CLUSTER = re.compile(r".[\u0300-\u036f\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+", re.S)

# Markup and invisible characters: each alternative is a named group so the
# replacement knows what it matched.  Every alternative starts with one of the
# characters of _CANDIDATE, which is what the scan looks for (a plain character
# class is an order of magnitude faster to scan for than the alternation).
_CANDIDATE = re.compile(r"[\r\u2028\u2029<&\u200b-\u200d\u2060\ufeff\u00ad*_#\\]")
_CLEAN = re.compile(
    r"(?P<crlf>\r\n?|\u2028|\u2029)"
    r"|(?P<br><br\s*/?>)"
    r"|(?P<nbsp>&nbsp;)"
    r"|(?P<amp>&amp;)"
    r"|(?P<invisible>[\u200b-\u200d\u2060\ufeff\u00ad])"
    r"|(?P<star>\*+)"
    r"|(?P<under>__+)"
    r"|(?P<heading>\#{1,6}[ ]+)"
    r"|(?P<escape>\\(?=[-.*_#()\[\]!+>`|~]))",
    re.I,
)

_REPLACEMENTS = {
    "crlf": "\n",
    "br": "\n",
    "nbsp": " ",
    "amp": "&",
    "invisible": "",
    "star": "",
    "under": "",
    "heading": "",
    "escape": "",
}


@dataclass(slots=True)
class CleanText:
    """The cleaned text and the chain of maps back to the caller's text."""

    text: str
    chain: OffsetChain


def _at_line_start(text: str, pos: int) -> bool:
    line_start = text.rfind("\n", 0, pos) + 1
    return not text[line_start:pos].strip(" ")


def _replacement(match: re.Match[str]) -> str:
    kind = match.lastgroup or "invisible"
    text = match.string
    if kind == "star" and match.group() == "*" and text[match.end() : match.end() + 1] == " ":
        if _at_line_start(text, match.start()):
            return "-"  # a Markdown bullet "* item" is a list item, like "- item"
    if kind == "heading" and not _at_line_start(text, match.start()):
        return match.group()
    return _REPLACEMENTS[kind]


def _same_length(match: re.Match[str]) -> str:
    return _SAME_LENGTH[match.group()]


def _nfc_cluster(match: re.Match[str]) -> str:
    return unicodedata.normalize("NFC", match.group())


def clean(text: str) -> CleanText:
    """Normalise ``text`` to NFC, LF line ends and plain text, keeping offsets."""
    chain = OffsetChain()
    current = _SAME_LENGTH_RE.sub(_same_length, text)
    if not unicodedata.is_normalized("NFC", current):
        current, nfc_map = rewrite(current, _COMBINING_CLUSTER, _nfc_cluster)
        chain.maps.insert(0, nfc_map)
    current, clean_map = rewrite(current, _CLEAN, _replacement, _CANDIDATE)
    chain.maps.insert(0, clean_map)
    return CleanText(current, chain)
