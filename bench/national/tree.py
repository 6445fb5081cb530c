"""The national unit tree: 34 provinces (as merged in 2025), each a Sở Y tế with its offices,
hospitals, provincial centres, regional health centres and their commune/ward stations.

Pure data and generation code, deterministic: the same scale gives the same tree. About 297
units a province (8-16 health centres of 18-24 stations each), 10,098 for the 34.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from app.units.service import search_key

# (code, name, is a centrally-run city)
PROVINCES: tuple[tuple[str, str, bool], ...] = (
    ("HNI", "Hà Nội", True), ("HUE", "Huế", True), ("LCU", "Lai Châu", False), ("DBN", "Điện Biên", False),
    ("SLA", "Sơn La", False), ("LSN", "Lạng Sơn", False), ("QNH", "Quảng Ninh", False), ("THA", "Thanh Hóa", False),
    ("NAN", "Nghệ An", False), ("HTH", "Hà Tĩnh", False), ("CBG", "Cao Bằng", False), ("TQG", "Tuyên Quang", False),
    ("LCI", "Lào Cai", False), ("TNN", "Thái Nguyên", False), ("PTO", "Phú Thọ", False), ("BNH", "Bắc Ninh", False),
    ("HYN", "Hưng Yên", False), ("HPG", "Hải Phòng", True), ("NBH", "Ninh Bình", False), ("QTI", "Quảng Trị", False),
    ("DNG", "Đà Nẵng", True), ("QNI", "Quảng Ngãi", False), ("GLI", "Gia Lai", False), ("KHA", "Khánh Hòa", False),
    ("LDG", "Lâm Đồng", False), ("DLK", "Đắk Lắk", False), ("HCM", "Hồ Chí Minh", True), ("DNI", "Đồng Nai", False),
    ("TNH", "Tây Ninh", False), ("CTO", "Cần Thơ", True), ("VLG", "Vĩnh Long", False), ("DTP", "Đồng Tháp", False),
    ("CMU", "Cà Mau", False), ("AGG", "An Giang", False),
)

OFFICES = (
    ("VP", "Văn phòng Sở Y tế", "VP"), ("KHTC", "Phòng Kế hoạch - Tài chính", "KHTC"),
    ("NVY", "Phòng Nghiệp vụ Y", "NVY"), ("NVD", "Phòng Nghiệp vụ Dược", "NVD"),
    ("TCCB", "Phòng Tổ chức cán bộ", "TCCB"), ("TTRA", "Thanh tra Sở Y tế", "TTr"),
    ("CCDS", "Chi cục Dân số", "CCDS"), ("CCATTP", "Chi cục An toàn vệ sinh thực phẩm", "CCATVSTP"),
)
HOSPITALS = (
    ("BVDK", "Bệnh viện Đa khoa", "BVĐK"), ("BVNHI", "Bệnh viện Nhi", "BVN"), ("BVSAN", "Bệnh viện Sản - Nhi", "BVSN"),
    ("BVYHCT", "Bệnh viện Y học cổ truyền", "BVYHCT"), ("BVPHOI", "Bệnh viện Phổi", "BVP"),
    ("BVTT", "Bệnh viện Tâm thần", "BVTT"), ("BVMAT", "Bệnh viện Mắt", "BVM"), ("BVPHCN", "Bệnh viện Phục hồi chức năng", "BVPHCN"),
)
CENTRES = (
    ("CDC", "Trung tâm Kiểm soát bệnh tật", "CDC"), ("TTKN", "Trung tâm Kiểm nghiệm", "TTKN"),
    ("TTPY", "Trung tâm Pháp y", "TTPY"), ("TTGDYK", "Trung tâm Giám định y khoa", "TTGĐYK"),
)
_FIRST = ("An", "Bình", "Đông", "Tây", "Nam", "Bắc", "Phú", "Tân", "Hòa", "Thanh", "Xuân", "Quang", "Vĩnh", "Hưng",
          "Long", "Phước", "Thạnh", "Mỹ", "Hiệp", "Thuận")
_SECOND = ("Lộc", "Thịnh", "Sơn", "Hà", "Giang", "Phong", "Hải", "Lâm", "Tiến", "Minh", "Đức", "Nghĩa", "Trung",
           "Khánh", "Điền", "Thành", "Lợi", "Yên", "Quý", "Hội")

NAMESPACE = uuid.UUID("6d6f6e64-6f63-4e61-9000-62656e636801")


@dataclass
class UnitRow:
    id: uuid.UUID
    code: str
    name: str
    short_name: str | None
    kind: str
    parent: UnitRow | None
    aliases: list[str] = field(default_factory=list)

    @property
    def path(self) -> list[uuid.UUID]:
        return [*(self.parent.path if self.parent else []), self.id]

    def record(self) -> tuple[object, ...]:
        """The row as COPY takes it: id, code, name, short_name, kind, parent_id, path, depth, aliases, search_key."""
        path = self.path
        return (self.id, self.code, self.name, self.short_name, self.kind, self.parent.id if self.parent else None,
                path, len(path) - 1, self.aliases, search_key(self.code, self.name, self.short_name, self.aliases))


@dataclass
class HealthCentre:
    unit: UnitRow
    office: UnitRow
    stations: list[UnitRow]


@dataclass
class Province:
    index: int
    code: str
    name: str
    root: UnitRow
    offices: list[UnitRow]
    hospitals: list[UnitRow]
    centres: list[UnitRow]  # provincial centres (CDC...), kind affiliated_unit
    health_centres: list[HealthCentre]

    @property
    def units(self) -> list[UnitRow]:
        out = [self.root, *self.offices, *self.hospitals, *self.centres]
        for hc in self.health_centres:
            out += [hc.unit, hc.office, *hc.stations]
        return out

    @property
    def stations(self) -> list[UnitRow]:
        return [s for hc in self.health_centres for s in hc.stations]


def _unit(code: str, name: str, short: str | None, kind: str, parent: UnitRow | None, aliases: list[str] | None = None) -> UnitRow:
    return UnitRow(uuid.uuid5(NAMESPACE, code), code, name, short, kind, parent, aliases or [])


def province(index: int) -> Province:
    code, name, city = PROVINCES[index % len(PROVINCES)]
    if index >= len(PROVINCES):  # beyond 34 (scale > 1): more provinces of the same shape
        code, name = f"{code}{index // len(PROVINCES) + 1}", f"{name} {index // len(PROVINCES) + 1}"
    level = "thành phố" if city else "tỉnh"
    root = _unit(f"SYT-{code}", f"Sở Y tế {level} {name}", "SYT", "department", None, [f"Sở Y tế {name}"])
    offices = [_unit(f"SYT-{code}.{c}", n, s, "office", root) for c, n, s in OFFICES]
    hospitals = [_unit(f"{c}-{code}", f"{n} {name}", s, "hospital", root) for c, n, s in HOSPITALS]
    centres = [_unit(f"{c}-{code}", f"{n} {name}", s, "affiliated_unit", root) for c, n, s in CENTRES]
    health_centres = []
    for k in range(8 + (index * 7) % 9):
        hc = _unit(f"TTYT-{code}-{k + 1:02d}", f"Trung tâm Y tế khu vực {k + 1} {name}", "TTYT", "health_centre", root,
                   [f"TTYT khu vực {k + 1}"])
        office = _unit(f"{hc.code}.HCTH", "Phòng Hành chính - Tổng hợp", "HCTH", "office", hc)
        stations = []
        for j in range(18 + (index * 5 + k * 3) % 7):
            n = len(health_centres) * 24 + j  # unique within the province: < 400 names
            commune = f"{_FIRST[n % 20]} {_SECOND[(n // 20 + n) % 20]}"
            ward = j % 5 == 0
            stations.append(_unit(
                f"TYT-{code}-{k + 1:02d}-{j + 1:02d}", f"Trạm Y tế {'phường' if ward else 'xã'} {commune}", "TYT",
                "commune_health_station", hc, [f"TYT {'phường' if ward else 'xã'} {commune}"],
            ))
        health_centres.append(HealthCentre(hc, office, stations))
    return Province(index, code, name, root, offices, hospitals, centres, health_centres)


def provinces(count: int) -> list[Province]:
    return [province(i) for i in range(count)]
