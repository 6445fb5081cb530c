"""A small realistic province built through the services, and keys for each kind of caller.

    SYT (Sở Y tế, department)
    ├── VP (Văn phòng Sở, office)
    ├── KHTC (Phòng Kế hoạch - Tài chính, office)
    ├── BVDK (Bệnh viện Đa khoa tỉnh, hospital)
    └── TTYT-TH (Trung tâm Y tế huyện Thiệu Hóa, health_centre)
        ├── TYT-TV (Trạm Y tế xã Thiệu Vận, commune_health_station)
        └── TYT-TG (Trạm Y tế xã Thiệu Giao, commune_health_station)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from app.auth.caller import Caller
from app.auth.models import Role
from app.auth.service import create_key
from app.db import sessionmaker
from app.settings import get_settings
from app.units import service
from app.units.schemas import UnitCreate
from app.units.seed import create_root_unit

TREE = [
    ("VP", "Văn phòng Sở", "VP", "office", "SYT", ["Văn phòng Sở Y tế"]),
    ("KHTC", "Phòng Kế hoạch - Tài chính", "KHTC", "office", "SYT", ["phòng KHTC"]),
    ("BVDK", "Bệnh viện Đa khoa tỉnh Thanh Hóa", "BVĐK", "hospital", "SYT", []),
    ("TTYT-TH", "Trung tâm Y tế huyện Thiệu Hóa", "TTYT", "health_centre", "SYT", ["TTYT Thiệu Hóa"]),
    ("TYT-TV", "Trạm Y tế xã Thiệu Vận", "TYT", "commune_health_station", "TTYT-TH", ["TYT xã Thiệu Vận"]),
    ("TYT-TG", "Trạm Y tế xã Thiệu Giao", "TYT", "commune_health_station", "TTYT-TH", []),
]


@dataclass
class Province:
    units: dict[str, UUID]
    keys: dict[str, str]

    def auth(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[key]}"}


KEYS = {
    "root_admin": ("SYT", Role.admin),
    "root_issuer": ("SYT", Role.issuer),
    "root_reader": ("SYT", Role.reader),
    "centre_admin": ("TTYT-TH", Role.admin),
    "station_admin": ("TYT-TV", Role.admin),
    "station_member": ("TYT-TV", Role.member),
}


@pytest.fixture
async def province(db: str) -> Province:
    units: dict[str, UUID] = {}
    keys: dict[str, str] = {}
    async with sessionmaker()() as session, session.begin():
        root = await create_root_unit(
            session, UnitCreate(code="SYT", name="Sở Y tế tỉnh Thanh Hóa", short_name="SYT", kind="department")
        )
        units["SYT"] = root.id
        operator = Caller(key_id=None, unit_id=root.id, role=Role.admin)
        for code, name, short, kind, parent, aliases in TREE:
            unit = await service.create_unit(
                session, operator,
                UnitCreate(code=code, name=name, short_name=short, kind=kind, parent_code=parent, aliases=aliases),
            )
            units[code] = unit.id
        for label, (code, role) in KEYS.items():
            _, secret = await create_key(
                session, operator, name=label, role=role, unit_id=units[code], unit_code=None
            )
            keys[label] = secret
    return Province(units=units, keys=keys)


async def sql(query: str, *args: Any) -> list[asyncpg.Record]:
    """Run one statement on its own connection to the test database (to check or arrange what the API cannot)."""
    conn = await asyncpg.connect(get_settings().database_url)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


def metric_sample(exposition: str, name: str, label: str) -> float:
    """A sample's value in a Prometheus exposition (the sample of `name` with a label equal to `label`), 0 when absent."""
    for line in exposition.splitlines():
        if line.startswith(f"{name}{{") and f'="{label}"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0
