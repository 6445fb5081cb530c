"""Accent-insensitive text keys for Vietnamese search ("tram y te" finds "Trạm Y tế")."""

import re
import unicodedata

_SPACES = re.compile(r"\s+")
# After NFD, Vietnamese text is ASCII letters plus combining marks from U+0300–U+036F (U+034F,
# the grapheme joiner, is in that block but is not a mark). Anything else takes the general path.
_BEYOND_VIETNAMESE = re.compile("[^\x00-\x7f\u0300-\u034e\u0350-\u036f]")


def fold(text: str) -> str:
    """Lower-case, strip diacritics (đ → d too), collapse whitespace."""
    decomposed = unicodedata.normalize("NFD", text).replace("đ", "d").replace("Đ", "D")
    if _BEYOND_VIETNAMESE.search(decomposed) is None:
        # Every non-ASCII character is a mark: dropping them in C is half the cost of the
        # character-by-character filter below, which a unit import ran for every unit's search key.
        stripped = decomposed.encode("ascii", "ignore").decode("ascii")
    else:
        stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped.casefold()).strip()


def nfc(text: str) -> str:
    """Store Vietnamese text in one normal form so equal names compare equal."""
    return unicodedata.normalize("NFC", text)
