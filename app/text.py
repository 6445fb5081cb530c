"""Accent-insensitive text keys for Vietnamese search ("tram y te" finds "Trạm Y tế")."""

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower-case, strip diacritics (đ → d too), collapse whitespace."""
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = stripped.replace("đ", "d").replace("Đ", "D")
    return _SPACES.sub(" ", stripped.casefold()).strip()


def nfc(text: str) -> str:
    """Store Vietnamese text in one normal form so equal names compare equal."""
    return unicodedata.normalize("NFC", text)
