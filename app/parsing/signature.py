"""The foot of a directive: distribution (Nơi nhận) and signer (chữ ký).

The signer block is a column of upper-case title lines and the signer's name:
"GIÁM ĐỐC" / "Trịnh Hữu Hùng", or "KT. GIÁM ĐỐC" / "PHÓ GIÁM ĐỐC" / name, where the
last title is the signer's own and the ones above say on whose behalf (thay mặt,
ký thay, thừa lệnh) they sign.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.parsing.layout import Layout, Line
from app.parsing.patterns import LOWER, UPPER, Hit, squash, tidy

NOI_NHAN_RE = re.compile(r"^Nơi\s*nhận\s*:?\s*", re.I)
_ITEM_RE = re.compile(r"^[-+•●▪–]\s*")
_KEEP_RE = re.compile(r"^(?:Lưu|Như\s+trên)(?![\w])|;$", re.I)
_TAIL_LINES = 40

# "Trịnh Hữu Hùng", "Lê Lương Khang": 2-6 capitalised words, nothing else.
_NAME_RE = re.compile(rf"^(?:[{UPPER}][{LOWER}]*\.?\s+){{1,5}}[{UPPER}][{LOWER}]+$")
# An all-caps name is only trusted with a Vietnamese family name in front.
_SURNAMES = (
    "NGUYỄN|TRẦN|LÊ|PHẠM|HOÀNG|HUỲNH|PHAN|VŨ|VÕ|ĐẶNG|BÙI|ĐỖ|HỒ|NGÔ|DƯƠNG|LÝ|TRỊNH|ĐINH|LƯƠNG|MAI|CAO|LÂM"
    "|HÀ|TẠ|ĐÀO|ĐOÀN|VƯƠNG|TRƯƠNG|CHU|THÁI|TÔ|QUÁCH|KIỀU|LẠI|LƯU|TĂNG|TRIỆU|HỨA|TỪ|CHÂU|NÔNG|GIÁP|LÒ"
    "|LỤC|HẦU|THÂN|TỐNG|NGHIÊM|PHÙNG|BẠCH|MẠC|DOÃN|NINH|DIỆP|ĐÀM|KHỔNG|ÔNG|QUAN|TÔN|VI|LÃ|VĂN|LA|ĐẬU|KIM"
)
_CAPS_NAME_RE = re.compile(rf"^(?:{_SURNAMES})(?:\s+[{UPPER}]+){{1,5}}$")
_SIGNED_RE = re.compile(r"^[(\[]?\s*(?:đã\s+ký|đã\s+ký\s+và\s+đóng\s+dấu|ký\s+tên|chữ\s+ký|signed|daky)\b.*$", re.I)
_AUTHORITY_RE = re.compile(r"^(?:KT|TM|TL|TUQ|K/T|T/M|T/L)\s*[.:]?\s*", re.I)
_TITLE_WORDS_RE = re.compile(
    r"GIÁM\s+ĐỐC|CHỦ\s+TỊCH|TRƯỞNG|BÍ\s+THƯ|CHÁNH|PHÓ|ỦY\s+VIÊN|UỶ\s+VIÊN|THƯỜNG\s+TRỰC|TỔNG|THỦ\s+TRƯỞNG"
    r"|CHỦ\s+NHIỆM|KẾ\s+TOÁN|QUYỀN|Q\.\s|TM\.|KT\.|TL\.",
    re.I,
)


@dataclass(slots=True)
class Signature:
    """Signer title (None when not printed), name, and the authority lines above the title."""

    title: Hit[str] | None = None
    name: Hit[str] | None = None
    authority: list[str] = field(default_factory=list)


def find_noi_nhan(lines: list[Line], first: int) -> int | None:
    """Index of the last "Nơi nhận:" line at or after ``first``."""
    for index in range(len(lines) - 1, first - 1, -1):
        if NOI_NHAN_RE.match(lines[index].text):
            return index
    return None


def find_distribution(layout: Layout, noi_nhan: int) -> tuple[list[Hit[str]], set[int]]:
    """Items under "Nơi nhận:" and the indexes of the lines they use."""
    lines = layout.lines
    used = {noi_nhan}
    items: list[list[int]] = []
    head = lines[noi_nhan]
    rest_start = head.start + NOI_NHAN_RE.match(head.text).end()  # type: ignore[union-attr]
    for piece in re.finditer(r"[^;]+", layout.text[rest_start : head.end]):
        text = piece.group().strip(" -+•")
        if text:
            offset = rest_start + piece.start() + piece.group().index(text)
            items.append([offset, offset + len(text)])
    blanks = 0
    for index in range(noi_nhan + 1, len(lines)):
        line = lines[index]
        if line.blank:
            blanks += 1
            if blanks > 2:
                break
            continue
        bullet = _ITEM_RE.match(line.text)
        if bullet:
            items.append([line.start + bullet.end(), line.end])
        elif items and line.text[0].islower() and blanks == 0:
            items[-1][1] = line.end
        elif _KEEP_RE.search(line.text) and len(line.text) < 120:
            items.append([line.start, line.end])
        else:
            break
        used.add(index)
        blanks = 0
    hits = []
    for start, end in items:
        value = tidy(layout.text[start:end])
        if value:
            hits.append(Hit(value, start, end))
    return hits, used


def _is_title(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    if len(letters) < 2 or len(text.split()) > 12:
        return False
    if all(c.isupper() for c in letters):
        return not _CAPS_NAME_RE.match(text) or bool(_TITLE_WORDS_RE.search(text))
    return bool(_AUTHORITY_RE.match(text)) and bool(_TITLE_WORDS_RE.search(text.upper()))


def _is_name(text: str) -> bool:
    return bool(_NAME_RE.match(text) or (_CAPS_NAME_RE.match(text) and not _TITLE_WORDS_RE.search(text)))


def find_signature(layout: Layout, first: int, skip: set[int]) -> Signature:
    """The signer: the last name-like line in the foot, with the title lines above it."""
    lines = layout.lines
    floor = max(first, len(lines) - _TAIL_LINES)
    for index in range(len(lines) - 1, floor - 1, -1):
        if index in skip or not _is_name(lines[index].text):
            continue
        signature = Signature(name=Hit(squash(lines[index].text), lines[index].start, lines[index].end))
        _read_titles(lines, index, max(floor, first), skip, signature)
        return signature
    return Signature()


def _read_titles(lines: list[Line], name_index: int, floor: int, skip: set[int], signature: Signature) -> None:
    titles: list[Line] = []
    index = name_index - 1
    gap = 0
    while index >= floor and index not in skip:
        text = lines[index].text
        if not text or _SIGNED_RE.match(text):
            gap += 1
            if gap > 6:
                break
        elif _is_title(text):
            titles.append(lines[index])
        else:
            break
        index -= 1
    if not titles:
        return
    titles.reverse()
    own = titles[-1]
    if len(titles) > 1:
        signature.authority = [tidy(t.text) for t in titles[:-1]]
    signature.title = Hit(tidy(own.text), own.start, own.end)
