"""Document types (thể loại văn bản) and their abbreviations in a symbol.

Nghị định 30/2020/NĐ-CP, Phụ lục III lists the abbreviation each administrative
type carries in its symbol ("20/KH-SYT" is a kế hoạch); a công văn carries none
("2206/SYT-VP").  Party documents (Hướng dẫn 36-HD/VPTW) put it after the number
("477-KL/TU").  Legal documents (Luật ban hành VBQPPL) add NĐ, TT, TTLT...
"""

from __future__ import annotations

import re

from app.parsing.patterns import squash

CONG_VAN = "cong_van"

# Abbreviation in a symbol → type.  Case matters: "CTr" is a chương trình, "CT" a chỉ thị.
ABBREVIATIONS: dict[str, str] = {
    "NQ": "nghi_quyet",
    "QĐ": "quyet_dinh",
    "CT": "chi_thi",
    "QC": "quy_che",
    "QyĐ": "quy_dinh",
    "QĐi": "quy_dinh",
    "TC": "thong_cao",
    "TB": "thong_bao",
    "HD": "huong_dan",
    "CTr": "chuong_trinh",
    "KH": "ke_hoach",
    "PA": "phuong_an",
    "ĐA": "de_an",
    "DA": "du_an",
    "BC": "bao_cao",
    "BB": "bien_ban",
    "TTr": "to_trinh",
    "HĐ": "hop_dong",
    "CĐ": "cong_dien",
    "GN": "ban_ghi_nho",
    "TTh": "ban_thoa_thuan",
    "GUQ": "giay_uy_quyen",
    "GM": "giay_moi",
    "GGT": "giay_gioi_thieu",
    "GNP": "giay_nghi_phep",
    "PG": "phieu_gui",
    "PC": "phieu_chuyen",
    "PB": "phieu_bao",
    "KL": "ket_luan",
    "CV": CONG_VAN,
    "NĐ": "nghi_dinh",
    "TT": "thong_tu",
    "TTLT": "thong_tu_lien_tich",
}

# The type's name as written in running text or as the heading above a title.
NAMES: dict[str, str] = {
    "công văn": CONG_VAN,
    "văn bản": CONG_VAN,
    "công điện": "cong_dien",
    "kế hoạch": "ke_hoach",
    "quyết định": "quyet_dinh",
    "chỉ thị": "chi_thi",
    "thông báo": "thong_bao",
    "hướng dẫn": "huong_dan",
    "chương trình": "chuong_trinh",
    "báo cáo": "bao_cao",
    "tờ trình": "to_trinh",
    "kết luận": "ket_luan",
    "nghị quyết": "nghi_quyet",
    "quy chế": "quy_che",
    "quy định": "quy_dinh",
    "phương án": "phuong_an",
    "đề án": "de_an",
    "dự án": "du_an",
    "biên bản": "bien_ban",
    "giấy mời": "giay_moi",
    "thông cáo": "thong_cao",
    "nghị định": "nghi_dinh",
    "thông tư": "thong_tu",
    "thông tư liên tịch": "thong_tu_lien_tich",
    "luật": "luat",
    "pháp lệnh": "phap_lenh",
}

# Headings that name a type, alone on their line, upper case (as NĐ 30 prints them).
_HEADING_NAMES = sorted((n for n in NAMES if n not in ("công văn", "văn bản", "luật")), key=len, reverse=True)
HEADING_RE = re.compile(r"^(?P<name>" + "|".join(n.upper() for n in _HEADING_NAMES) + r")\s*(?P<rest>.*)$")

NAME_WORDS = "|".join(sorted(NAMES, key=len, reverse=True))


def type_from_symbol(symbol: str | None) -> str | None:
    """Type named by a symbol's abbreviation, or None when it names none.

    The type comes first in an administrative symbol ("KH-SYT") and first in a
    Party one ("KL/TU"); a legal symbol may follow a year ("2015/NĐ-CP" → "NĐ-CP").
    """
    if not symbol:
        return None
    first = re.split(r"[-/]", symbol, maxsplit=1)[0]
    return ABBREVIATIONS.get(first)


def type_from_name(name: str | None) -> str | None:
    """Type for a name as written ("Kế hoạch", "QUYẾT ĐỊNH"), or None."""
    if not name:
        return None
    return NAMES.get(squash(name).lower())
