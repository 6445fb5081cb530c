"""The demo province for `dondoc seed-demo`: Thanh Hóa's health sector, about 320 units.

Pure data and generation code: no database, no I/O. `demo_province()` returns the
same list on every call, parents always before their children.

Shape of the tree (kinds in brackets):

    Sở Y tế tỉnh Thanh Hóa [department]                          SYT-TH
    ├── 8 offices of the Sở [office]                             SYT-TH.VP, SYT-TH.KHTC ...
    ├── 12 provincial hospitals [hospital]                       BVDK-TH, BVNHI-TH ...
    │   └── clinical departments of three of them                BVDK-TH.KB ...
    │       [clinical_department]
    ├── 5 provincial centres [affiliated_unit]                   CDC-TH, TTKN-TH ...
    └── 12 district-level health centres [health_centre]         TTYT-THIEUHOA ...
        ├── Phòng Hành chính - Tổng hợp [office]                 TTYT-THIEUHOA.HCTH
        ├── 6 clinical departments [clinical_department]         TTYT-THIEUHOA.KB ...
        └── commune health stations [commune_health_station]     TTYT-THIEUHOA.TYT-THIEUVAN
                                                                 TTYT-THIEUHOA.TYT-TT-THIEUHOA

Station codes are "TYT-" + the commune's name folded to ASCII; stations of a
thị trấn (town) or phường (ward) get "TYT-TT-" / "TYT-P-", so the town of Thiệu Hóa
and the commune of Thiệu Hòa do not collide.

Commune names are real names of Thanh Hóa communes as of the early 2020s
(after the 2019-2020 mergers, before the 2025 abolition of districts). Thiệu Hóa
is listed in full (1 town + 24 communes); other districts carry a representative
subset, chosen so that no station name or alias repeats in the province, even
accent-folded (Hoằng Giang and Hoàng Giang would; so would the two Lam Sơn).
Aliases are the other names documents use ("Văn phòng Sở", "phòng KHTC",
"TTYT Thiệu Hóa", "TYT xã Thiệu Vận"); no alias is shared by two units.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

PROVINCE = "Thanh Hóa"
ROOT_CODE = "SYT-TH"

KINDS: tuple[str, ...] = (
    "department",
    "office",
    "hospital",
    "health_centre",
    "affiliated_unit",
    "clinical_department",
    "commune_health_station",
)


@dataclass(frozen=True)
class DemoUnit:
    code: str
    name: str
    short_name: str | None
    kind: str
    parent_code: str | None
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class _District:
    """A district-level area: `level` is "huyện", "thị xã" or "thành phố"."""

    level: str
    name: str
    towns: tuple[str, ...] = ()  # thị trấn
    wards: tuple[str, ...] = ()  # phường
    communes: tuple[str, ...] = ()  # xã


# (code suffix, name, short name used in symbols, aliases)
_Row = tuple[str, str, str, tuple[str, ...]]

ROOT: _Row = (
    ROOT_CODE,
    "Sở Y tế tỉnh Thanh Hóa",
    "SYT",
    ("Sở Y tế Thanh Hóa", "Sở Y tế", "SYT Thanh Hóa", "Cơ quan Sở Y tế"),
)

OFFICES: tuple[_Row, ...] = (
    ("VP", "Văn phòng Sở Y tế", "VP", ("Văn phòng Sở", "Văn phòng - Sở Y tế", "VP Sở")),
    (
        "TCCB",
        "Phòng Tổ chức cán bộ",
        "TCCB",
        ("phòng Tổ chức cán bộ", "phòng TCCB", "Phòng Tổ chức cán bộ Sở Y tế"),
    ),
    (
        "KHTC",
        "Phòng Kế hoạch - Tài chính",
        "KHTC",
        (
            "phòng KHTC",
            "Phòng Kế hoạch Tài chính",
            "Phòng Kế hoạch - Tài chính Sở Y tế",
            "Phòng Kế hoạch Tài chính Sở Y tế",
        ),
    ),
    (
        "NVY",
        "Phòng Nghiệp vụ Y",
        "NVY",
        ("phòng Nghiệp vụ Y", "phòng NVY", "Phòng Nghiệp vụ Y Sở Y tế"),
    ),
    (
        "NVD",
        "Phòng Nghiệp vụ Dược",
        "NVD",
        ("phòng Nghiệp vụ Dược", "phòng NVD", "Phòng Nghiệp vụ Dược Sở Y tế"),
    ),
    ("TTRA", "Thanh tra Sở Y tế", "TTr", ("Thanh tra Sở", "Thanh tra SYT")),
    (
        "CCDS",
        "Chi cục Dân số - Kế hoạch hóa gia đình",
        "CCDS",
        ("Chi cục Dân số - KHHGĐ", "Chi cục DS-KHHGĐ", "Chi cục Dân số"),
    ),
    (
        "CCATTP",
        "Chi cục An toàn vệ sinh thực phẩm",
        "CCATVSTP",
        ("Chi cục ATVSTP", "Chi cục An toàn thực phẩm", "Chi cục ATTP"),
    ),
)

HOSPITALS: tuple[_Row, ...] = (
    (
        "BVDK-TH",
        "Bệnh viện Đa khoa tỉnh Thanh Hóa",
        "BVĐK",
        ("Bệnh viện Đa khoa tỉnh", "BVĐK tỉnh", "BVĐK tỉnh Thanh Hóa", "Bệnh viện tỉnh Thanh Hóa"),
    ),
    (
        "BVNHI-TH",
        "Bệnh viện Nhi Thanh Hóa",
        "BVN",
        ("Bệnh viện Nhi", "Bệnh viện Nhi tỉnh Thanh Hóa", "BV Nhi Thanh Hóa"),
    ),
    (
        "BVPS-TH",
        "Bệnh viện Phụ sản Thanh Hóa",
        "BVPS",
        ("Bệnh viện Phụ sản", "Bệnh viện Phụ sản tỉnh Thanh Hóa", "BV Phụ sản Thanh Hóa"),
    ),
    (
        "BVYDCT-TH",
        "Bệnh viện Y dược cổ truyền tỉnh Thanh Hóa",
        "BVYDCT",
        ("Bệnh viện Y dược cổ truyền", "Bệnh viện YDCT tỉnh", "BV YDCT Thanh Hóa"),
    ),
    ("BVPHOI-TH", "Bệnh viện Phổi Thanh Hóa", "BVP", ("Bệnh viện Phổi", "BV Phổi Thanh Hóa")),
    (
        "BVTT-TH",
        "Bệnh viện Tâm thần tỉnh Thanh Hóa",
        "BVTT",
        ("Bệnh viện Tâm thần", "BV Tâm thần Thanh Hóa"),
    ),
    ("BVMAT-TH", "Bệnh viện Mắt Thanh Hóa", "BVM", ("Bệnh viện Mắt", "BV Mắt Thanh Hóa")),
    ("BVNT-TH", "Bệnh viện Nội tiết Thanh Hóa", "BVNT", ("Bệnh viện Nội tiết", "BV Nội tiết Thanh Hóa")),
    ("BVDL-TH", "Bệnh viện Da liễu Thanh Hóa", "BVDL", ("Bệnh viện Da liễu", "BV Da liễu Thanh Hóa")),
    (
        "BVPHCN-TH",
        "Bệnh viện Phục hồi chức năng Thanh Hóa",
        "BVPHCN",
        ("Bệnh viện Phục hồi chức năng", "BV PHCN Thanh Hóa"),
    ),
    ("BVUB-TH", "Bệnh viện Ung bướu Thanh Hóa", "BVUB", ("Bệnh viện Ung bướu", "BV Ung bướu Thanh Hóa")),
    (
        "BVDKKV-NGOCLAC",
        "Bệnh viện Đa khoa khu vực Ngọc Lặc",
        "BVĐKKV",
        ("BVĐK khu vực Ngọc Lặc", "BVĐKKV Ngọc Lặc", "Bệnh viện khu vực Ngọc Lặc"),
    ),
)

# Clinical departments of the hospitals that have them in the demo: (code suffix, name).
HOSPITAL_DEPARTMENTS: dict[str, tuple[tuple[str, str], ...]] = {
    "BVDK-TH": (
        ("KB", "Khoa Khám bệnh"),
        ("CC", "Khoa Cấp cứu"),
        ("HSTC", "Khoa Hồi sức tích cực"),
        ("NTM", "Khoa Nội tim mạch"),
        ("NGOAI", "Khoa Ngoại tổng hợp"),
        ("CTCH", "Khoa Chấn thương chỉnh hình"),
        ("XN", "Khoa Xét nghiệm"),
        ("DUOC", "Khoa Dược"),
    ),
    "BVNHI-TH": (
        ("KB", "Khoa Khám bệnh"),
        ("HSTC", "Khoa Hồi sức tích cực"),
        ("SS", "Khoa Sơ sinh"),
        ("NHI", "Khoa Nhi tổng hợp"),
        ("DUOC", "Khoa Dược"),
    ),
    "BVPS-TH": (
        ("KB", "Khoa Khám bệnh"),
        ("SAN", "Khoa Sản"),
        ("PK", "Khoa Phụ khoa"),
        ("SS", "Khoa Sơ sinh"),
        ("HTSS", "Khoa Hỗ trợ sinh sản"),
    ),
}

CENTRES: tuple[_Row, ...] = (
    (
        "CDC-TH",
        "Trung tâm Kiểm soát bệnh tật tỉnh Thanh Hóa",
        "KSBT",
        (
            "Trung tâm Kiểm soát bệnh tật tỉnh",
            "Trung tâm Kiểm soát bệnh tật Thanh Hóa",
            "CDC Thanh Hóa",
            "CDC tỉnh",
            "TT KSBT tỉnh",
        ),
    ),
    (
        "TTKN-TH",
        "Trung tâm Kiểm nghiệm thuốc, mỹ phẩm, thực phẩm Thanh Hóa",
        "TTKN",
        ("Trung tâm Kiểm nghiệm", "Trung tâm Kiểm nghiệm Thanh Hóa", "TTKN Thanh Hóa"),
    ),
    (
        "TTPY-TH",
        "Trung tâm Pháp y tỉnh Thanh Hóa",
        "TTPY",
        ("Trung tâm Pháp y", "TT Pháp y tỉnh"),
    ),
    (
        "TTGDYK-TH",
        "Trung tâm Giám định y khoa tỉnh Thanh Hóa",
        "GĐYK",
        ("Trung tâm Giám định y khoa", "TT Giám định y khoa tỉnh"),
    ),
    (
        "TTCC115-TH",
        "Trung tâm Cấp cứu 115 Thanh Hóa",
        "CC115",
        ("Trung tâm Cấp cứu 115", "Trung tâm 115 Thanh Hóa"),
    ),
)

# Every district health centre gets the same administrative office and departments.
CENTRE_OFFICE: tuple[str, str, str] = ("HCTH", "Phòng Hành chính - Tổng hợp", "HCTH")
CENTRE_DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("KB", "Khoa Khám bệnh"),
    ("HSCC", "Khoa Hồi sức cấp cứu"),
    ("NOI", "Khoa Nội tổng hợp"),
    ("NGOAI", "Khoa Ngoại tổng hợp"),
    ("DUOC", "Khoa Dược - Trang thiết bị - Vật tư y tế"),
    ("KSBT", "Khoa Kiểm soát bệnh tật và HIV/AIDS"),
)

DISTRICTS: tuple[_District, ...] = (
    _District(
        "huyện",
        "Thiệu Hóa",
        towns=("Thiệu Hóa",),
        communes=(
            "Thiệu Ngọc", "Thiệu Vũ", "Thiệu Phúc", "Thiệu Tiến", "Thiệu Công", "Thiệu Phú",
            "Thiệu Long", "Thiệu Giang", "Thiệu Duy", "Thiệu Nguyên", "Thiệu Hợp", "Thiệu Thịnh",
            "Thiệu Quang", "Thiệu Thành", "Thiệu Toán", "Thiệu Chính", "Thiệu Hòa", "Minh Tâm",
            "Thiệu Viên", "Thiệu Lý", "Thiệu Vận", "Thiệu Trung", "Tân Châu", "Thiệu Giao",
        ),
    ),
    _District(
        "huyện",
        "Đông Sơn",
        towns=("Rừng Thông",),
        communes=(
            "Đông Hòa", "Đông Hoàng", "Đông Khê", "Đông Minh", "Đông Nam", "Đông Ninh",
            "Đông Phú", "Đông Quang", "Đông Thanh", "Đông Thịnh", "Đông Tiến", "Đông Văn",
            "Đông Yên",
        ),
    ),
    _District(
        "huyện",
        "Hoằng Hóa",
        towns=("Bút Sơn",),
        communes=(
            "Hoằng Châu", "Hoằng Đạo", "Hoằng Đạt", "Hoằng Đông", "Hoằng Đức", "Hoằng Hà",
            "Hoằng Hải", "Hoằng Kim", "Hoằng Lộc", "Hoằng Lưu", "Hoằng Ngọc", "Hoằng Phong",
            "Hoằng Thanh", "Hoằng Tiến", "Hoằng Trinh", "Hoằng Xuân", "Hoằng Yến",
        ),
    ),
    _District(
        "huyện",
        "Quảng Xương",
        towns=("Tân Phong",),
        communes=(
            "Quảng Bình", "Quảng Chính", "Quảng Định", "Quảng Đức", "Quảng Giao", "Quảng Hải",
            "Quảng Hòa", "Quảng Khê", "Quảng Lưu", "Quảng Long", "Quảng Ngọc", "Quảng Nham",
            "Quảng Nhân", "Quảng Trạch", "Tiên Trang",
        ),
    ),
    _District(
        "huyện",
        "Nông Cống",
        towns=("Nông Cống",),
        communes=(
            "Công Chính", "Công Liêm", "Hoàng Giang", "Hoàng Sơn", "Minh Khôi", "Minh Nghĩa",
            "Tân Phúc", "Tế Lợi", "Tế Nông", "Tế Thắng", "Thăng Bình", "Thăng Long",
            "Trung Chính", "Tượng Lĩnh", "Vạn Thắng",
        ),
    ),
    _District(
        "huyện",
        "Triệu Sơn",
        towns=("Triệu Sơn", "Nưa"),
        communes=(
            "Dân Lực", "Dân Lý", "Dân Quyền", "Hợp Lý", "Hợp Thắng", "Khuyến Nông", "Minh Sơn",
            "Nông Trường", "Thọ Bình", "Thọ Dân", "Thọ Ngọc", "Thọ Tân", "Thọ Vực", "Xuân Thịnh",
        ),
    ),
    _District(
        "huyện",
        "Thọ Xuân",
        towns=("Thọ Xuân", "Lam Sơn", "Sao Vàng"),
        communes=(
            "Bắc Lương", "Nam Giang", "Phú Xuân", "Quảng Phú", "Tây Hồ", "Thọ Diên", "Thọ Hải",
            "Thọ Lâm", "Xuân Giang", "Xuân Hòa", "Xuân Hồng", "Xuân Lập", "Xuân Tín",
        ),
    ),
    _District(
        "huyện",
        "Yên Định",
        towns=("Quán Lào", "Thống Nhất", "Quý Lộc", "Yên Lâm"),
        communes=(
            "Định Bình", "Định Công", "Định Hải", "Định Hòa", "Định Hưng", "Định Liên",
            "Định Long", "Định Tân", "Định Tiến", "Yên Phong", "Yên Thái", "Yên Trung",
        ),
    ),
    _District(
        "huyện",
        "Vĩnh Lộc",
        towns=("Vĩnh Lộc",),
        communes=(
            "Vĩnh An", "Vĩnh Hòa", "Vĩnh Hùng", "Vĩnh Long", "Vĩnh Phúc", "Vĩnh Quang",
            "Vĩnh Thịnh", "Vĩnh Tiến", "Vĩnh Yên", "Minh Tân", "Ninh Khang",
        ),
    ),
    _District(
        "huyện",
        "Hà Trung",
        towns=("Hà Trung",),
        communes=(
            "Hà Bắc", "Hà Bình", "Hà Châu", "Hà Đông", "Hà Giang", "Hà Hải", "Hà Lai",
            "Hà Long", "Hà Ngọc", "Hà Sơn", "Hà Tân", "Hà Tiến", "Hoạt Giang", "Yến Sơn",
        ),
    ),
    _District(
        "thành phố",
        "Sầm Sơn",
        wards=(
            "Bắc Sơn", "Trung Sơn", "Trường Sơn", "Quảng Tiến", "Quảng Cư", "Quảng Châu",
            "Quảng Thọ", "Quảng Vinh",
        ),
        communes=("Quảng Hùng", "Quảng Đại", "Quảng Minh"),
    ),
    _District(
        "thị xã",
        "Bỉm Sơn",
        wards=("Ba Đình", "Đông Sơn", "Ngọc Trạo", "Phú Sơn"),
        communes=("Hà Lan", "Quang Trung"),
    ),
)

# How documents abbreviate administrative levels ("TTYT TX Bỉm Sơn", "TYT TT Nưa").
_LEVEL_ABBREVIATIONS: dict[str, str] = {"thị xã": "TX", "thành phố": "TP", "thị trấn": "TT", "phường": "P."}
# Code infix for station levels other than xã, so "TT Thiệu Hóa" and "xã Thiệu Hòa" differ.
_STATION_CODE_INFIX: dict[str, str] = {"xã": "", "thị trấn": "TT-", "phường": "P-"}

_NON_CODE_CHARS = re.compile(r"[^A-Z0-9]")


def ascii_key(text: str) -> str:
    """Fold a Vietnamese name to a code fragment: "Thiệu Vận" → "THIEUVAN"."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_CODE_CHARS.sub("", stripped.upper())


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _unit(
    code: str,
    name: str,
    short_name: str | None,
    kind: str,
    parent_code: str | None,
    aliases: tuple[str, ...] = (),
) -> DemoUnit:
    """Build a unit with every text field in NFC."""
    return DemoUnit(
        code=code,
        name=_nfc(name),
        short_name=_nfc(short_name) if short_name is not None else None,
        kind=kind,
        parent_code=parent_code,
        aliases=tuple(_nfc(alias) for alias in aliases),
    )


def _row_unit(row: _Row, kind: str, parent_code: str | None, code: str | None = None) -> DemoUnit:
    row_code, name, short_name, aliases = row
    return _unit(code or row_code, name, short_name, kind, parent_code, aliases)


def _root() -> DemoUnit:
    return _row_unit(ROOT, "department", None)


def _offices() -> list[DemoUnit]:
    return [_row_unit(row, "office", ROOT_CODE, f"{ROOT_CODE}.{row[0]}") for row in OFFICES]


def _clinical_departments(
    parent_code: str, parent_name: str, departments: tuple[tuple[str, str], ...]
) -> list[DemoUnit]:
    """Departments share names across units; the alias names the parent too."""
    return [
        _unit(
            f"{parent_code}.{suffix}",
            name,
            None,
            "clinical_department",
            parent_code,
            (f"{name} - {parent_name}",),
        )
        for suffix, name in departments
    ]


def _hospitals() -> list[DemoUnit]:
    units: list[DemoUnit] = []
    for row in HOSPITALS:
        hospital = _row_unit(row, "hospital", ROOT_CODE)
        units.append(hospital)
        departments = HOSPITAL_DEPARTMENTS.get(hospital.code, ())
        units.extend(_clinical_departments(hospital.code, hospital.name, departments))
    return units


def _centres() -> list[DemoUnit]:
    return [_row_unit(row, "affiliated_unit", ROOT_CODE) for row in CENTRES]


def _district_centre_code(district: _District) -> str:
    return f"TTYT-{ascii_key(district.name)}"


def _district_centre(district: _District) -> DemoUnit:
    level, place = district.level, district.name
    name = f"Trung tâm Y tế {level} {place}"
    aliases = [f"TTYT {level} {place}", f"TTYT {place}", f"Trung tâm Y tế {place}"]
    abbreviation = _LEVEL_ABBREVIATIONS.get(level)
    if abbreviation:
        aliases.append(f"TTYT {abbreviation} {place}")
    return _unit(_district_centre_code(district), name, "TTYT", "health_centre", ROOT_CODE, tuple(aliases))


def _centre_office(centre: DemoUnit, place: str) -> DemoUnit:
    suffix, name, short_name = CENTRE_OFFICE
    aliases = (f"{name} - {centre.name}", f"Phòng HCTH TTYT {place}")
    return _unit(f"{centre.code}.{suffix}", name, short_name, "office", centre.code, aliases)


def _station(district: _District, centre_code: str, level: str, place: str) -> DemoUnit:
    """A commune health station: "Trạm Y tế xã Thiệu Vận", alias "TYT xã Thiệu Vận"..."""
    name = f"Trạm Y tế {level} {place}"
    aliases = [f"TYT {level} {place}"]
    abbreviation = _LEVEL_ABBREVIATIONS.get(level)
    if abbreviation:
        aliases += [f"TYT {abbreviation} {place}", f"Trạm Y tế {abbreviation} {place}"]
    if place != district.name:
        # A bare "Trạm Y tế Thiệu Hóa" would read as the district's; folded, it is also xã Thiệu Hòa's.
        aliases += [f"Trạm Y tế {place}", f"TYT {place}"]
    aliases.append(f"{name}, {district.level} {district.name}")
    code = f"{centre_code}.TYT-{_STATION_CODE_INFIX[level]}{ascii_key(place)}"
    return _unit(code, name, "TYT", "commune_health_station", centre_code, tuple(aliases))


def _stations(district: _District, centre_code: str) -> list[DemoUnit]:
    levels = (("thị trấn", district.towns), ("phường", district.wards), ("xã", district.communes))
    return [
        _station(district, centre_code, level, place) for level, places in levels for place in places
    ]


def _district_units(district: _District) -> list[DemoUnit]:
    centre = _district_centre(district)
    return [
        centre,
        _centre_office(centre, district.name),
        *_clinical_departments(centre.code, centre.name, CENTRE_DEPARTMENTS),
        *_stations(district, centre.code),
    ]


def demo_province() -> list[DemoUnit]:
    """Parents always before children; deterministic (same list every call)."""
    units: list[DemoUnit] = [_root(), *_offices(), *_hospitals(), *_centres()]
    for district in DISTRICTS:
        units.extend(_district_units(district))
    return units
