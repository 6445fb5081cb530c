"""Helpers for directive tests: a sector of 11 affiliated units with member keys, and the 2206/SYT-VP directive."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.fixtures import Province

VN = ZoneInfo("Asia/Ho_Chi_Minh")
AFFILIATED = [f"DV{i:02d}" for i in range(1, 12)]  # the 11 affiliated units the 2206 inspection visited


def local(text: str) -> datetime:
    """'2018-11-05 09:00' in Vietnam."""
    return datetime.fromisoformat(text).replace(tzinfo=VN)


@dataclass
class Sector:
    province: Province
    client: httpx.AsyncClient
    member_keys: dict[str, str] = field(default_factory=dict)
    unit_ids: dict[str, str] = field(default_factory=dict)

    def auth(self, name: str) -> dict[str, str]:
        if name in self.member_keys:
            return {"Authorization": f"Bearer {self.member_keys[name]}"}
        return self.province.auth(name)


async def build_sector(client: httpx.AsyncClient, province: Province) -> Sector:
    """Eleven affiliated units under the Sở, and a member key for each of them and for VP and KHTC."""
    items = [
        {"code": code, "name": f"Đơn vị trực thuộc {code}", "kind": "affiliated_unit", "parent_code": "SYT"} for code in AFFILIATED
    ]
    response = await client.post("/v1/units/batch", json={"items": items}, headers=province.auth("root_admin"))
    assert response.json()["created"] == 11, response.text
    sector = Sector(province=province, client=client)
    sector.unit_ids = {r["code"]: r["id"] for r in response.json()["results"]}
    sector.unit_ids.update({code: str(uid) for code, uid in province.units.items()})
    for code in [*AFFILIATED, "VP", "KHTC"]:
        created = await client.post(
            "/v1/api-keys", json={"name": code, "role": "member", "unit_code": code}, headers=province.auth("root_admin")
        )
        sector.member_keys[code] = created.json()["secret"]
    return sector


def directive_2206() -> dict[str, Any]:
    """Công văn 2206/SYT-VP as the Sở's issuer would enter it through the API."""
    return {
        "issuer_code": "SYT",
        "number": "2206",
        "symbol": "SYT-VP",
        "doc_type": "cong_van",
        "issued_on": "2018-08-28",
        "place": "Thanh Hóa",
        "subject": "triển khai thực hiện 10 cam kết, nhiệm vụ đăng ký thực hiện trong năm 2018 đã được Giám đốc Sở Y tế phê duyệt",
        "recipients": ["Thủ trưởng các đơn vị y tế trong ngành"],
        "references": [{"notation": "422/SYT-VP", "doc_type": "cong_van", "issued_on": "2018-03-01"}],
        "signer_name": "Trịnh Hữu Hùng",
        "signer_title": "GIÁM ĐỐC",
        "tasks": [
            {
                "ordinal": "3",
                "text": "Các đơn vị trong ngành báo cáo kết quả thực hiện 10 cam kết về Văn phòng Sở.",
                "assignee_selector": {"under_code": "SYT", "kinds": ["affiliated_unit"]},
                "report_to_code": "VP",
                "due_on": "2018-11-10",
                "due_kind": "before",
                "deadline_phrase": "trước ngày 10/11/2018",
            },
            {
                "ordinal": "4",
                "text": "Giao Văn phòng Sở chủ trì, phối hợp các phòng/ban Cơ quan Sở Y tế theo dõi, đôn đốc, tổng hợp; báo cáo Giám đốc Sở.",
                "lead_codes": ["VP"],
                "coordinating_codes": ["KHTC"],
                "report_to_code": "SYT",
                "due_on": "2018-11-15",
                "due_kind": "before",
                "deadline_phrase": "trước ngày 15/11/2018",
            },
        ],
    }


async def create_directive(client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/v1/directives", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def assignment_of(sector: Sector, code: str, directive_id: str) -> dict[str, Any]:
    """The unit's own assignment under a directive, as its member key sees it."""
    params = {"directive_id": directive_id, "unit_id": sector.unit_ids[code]}
    items = (await sector.client.get("/v1/assignments", params=params, headers=sector.auth(code))).json()["items"]
    assert len(items) == 1, items
    return items[0]
