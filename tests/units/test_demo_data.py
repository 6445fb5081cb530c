"""The demo province for `dondoc seed-demo`: shape and invariants, no database."""

import re
import unicodedata
from collections import Counter

import pytest

from app.units.demo_data import KINDS, ROOT_CODE, DemoUnit, demo_province

CODE_PATTERN = re.compile(r"[A-Z0-9]+(?:[.-][A-Z0-9]+)*")
# Column limits of app/units/models.py, repeated so this test needs no database stack.
CODE_MAX, NAME_MAX, SHORT_NAME_MAX, ALIAS_MAX, ALIASES_MAX = 64, 255, 32, 255, 50


def _fold(text: str) -> str:
    """Accent- and case-insensitive key, as a resolver matching mentions would use."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


@pytest.fixture(scope="module")
def units() -> list[DemoUnit]:
    return demo_province()


@pytest.fixture(scope="module")
def by_code(units: list[DemoUnit]) -> dict[str, DemoUnit]:
    return {unit.code: unit for unit in units}


def _children(units: list[DemoUnit], parent_code: str, kind: str) -> list[DemoUnit]:
    return [unit for unit in units if unit.parent_code == parent_code and unit.kind == kind]


def test_about_three_hundred_units(units: list[DemoUnit]) -> None:
    assert 280 <= len(units) <= 340


def test_codes_are_unique(units: list[DemoUnit]) -> None:
    duplicates = [code for code, n in Counter(unit.code for unit in units).items() if n > 1]
    assert duplicates == []


def test_codes_are_ascii_upper_case_with_dots_and_dashes(units: list[DemoUnit]) -> None:
    for unit in units:
        assert CODE_PATTERN.fullmatch(unit.code), unit.code
        assert len(unit.code) <= CODE_MAX, unit.code


def test_parents_precede_children(units: list[DemoUnit]) -> None:
    seen: set[str] = set()
    for unit in units:
        assert unit.parent_code is None or unit.parent_code in seen, unit.code
        seen.add(unit.code)


def test_exactly_one_root(units: list[DemoUnit]) -> None:
    roots = [unit for unit in units if unit.parent_code is None]
    assert [(root.code, root.kind, root.short_name) for root in roots] == [(ROOT_CODE, "department", "SYT")]
    assert units[0] == roots[0]


def test_every_kind_is_allowed_and_used(units: list[DemoUnit]) -> None:
    used = {unit.kind for unit in units}
    assert used <= set(KINDS)
    assert used == set(KINDS)


def test_thieu_van_station_under_thieu_hoa_centre(by_code: dict[str, DemoUnit]) -> None:
    station = by_code["TTYT-THIEUHOA.TYT-THIEUVAN"]
    centre = by_code["TTYT-THIEUHOA"]
    assert station.name == "Trạm Y tế xã Thiệu Vận"
    assert station.kind == "commune_health_station"
    assert station.parent_code == centre.code
    assert centre.name == "Trung tâm Y tế huyện Thiệu Hóa"
    assert centre.kind == "health_centre"
    assert "TYT xã Thiệu Vận" in station.aliases
    assert {"TTYT huyện Thiệu Hóa", "TTYT Thiệu Hóa"} <= set(centre.aliases)


def test_offices_carry_the_names_documents_use(by_code: dict[str, DemoUnit]) -> None:
    office = by_code["SYT-TH.VP"]
    assert office.short_name == "VP" and office.parent_code == ROOT_CODE
    assert {"Văn phòng Sở", "Văn phòng - Sở Y tế"} <= set(office.aliases) | {office.name}
    assert "phòng KHTC" in by_code["SYT-TH.KHTC"].aliases
    assert "CDC Thanh Hóa" in by_code["CDC-TH"].aliases


def test_all_text_is_nfc(units: list[DemoUnit]) -> None:
    for unit in units:
        texts = [unit.name, *unit.aliases, *([unit.short_name] if unit.short_name else [])]
        for text in texts:
            assert unicodedata.is_normalized("NFC", text), (unit.code, text)


def test_text_fits_the_columns(units: list[DemoUnit]) -> None:
    for unit in units:
        assert 0 < len(unit.name) <= NAME_MAX
        assert unit.short_name is None or 0 < len(unit.short_name) <= SHORT_NAME_MAX
        assert len(unit.aliases) <= ALIASES_MAX
        assert all(0 < len(alias) <= ALIAS_MAX for alias in unit.aliases)
        assert unit.name not in unit.aliases
        assert len(set(unit.aliases)) == len(unit.aliases), unit.code


def test_no_alias_names_two_units(units: list[DemoUnit]) -> None:
    owners: dict[str, set[str]] = {}
    for unit in units:
        for alias in unit.aliases:
            owners.setdefault(_fold(alias), set()).add(unit.code)
    shared = {alias: codes for alias, codes in owners.items() if len(codes) > 1}
    assert shared == {}


def test_no_alias_is_another_units_distinct_name(units: list[DemoUnit]) -> None:
    """Departments repeat names ("Khoa Khám bệnh") by design; every other name is one unit's."""
    name_counts = Counter(_fold(unit.name) for unit in units)
    owner_of_name = {_fold(unit.name): unit.code for unit in units if name_counts[_fold(unit.name)] == 1}
    for unit in units:
        for alias in unit.aliases:
            assert owner_of_name.get(_fold(alias), unit.code) == unit.code, (unit.code, alias)


def test_every_district_centre_has_departments_and_stations(units: list[DemoUnit]) -> None:
    centres = [unit for unit in units if unit.kind == "health_centre"]
    assert 10 <= len(centres) <= 12
    for centre in centres:
        assert centre.parent_code == ROOT_CODE
        assert len(_children(units, centre.code, "commune_health_station")) >= 5, centre.code
        assert len(_children(units, centre.code, "clinical_department")) >= 5, centre.code


def test_station_names_are_unique_in_the_province(units: list[DemoUnit]) -> None:
    names = Counter(_fold(unit.name) for unit in units if unit.kind == "commune_health_station")
    assert [name for name, n in names.items() if n > 1] == []


def test_output_is_deterministic(units: list[DemoUnit]) -> None:
    assert demo_province() == units
    assert demo_province() == demo_province()
