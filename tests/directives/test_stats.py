"""GET /v1/stats/compliance: grouping, CSV, windows and scope."""

from __future__ import annotations

import csv
import io

import httpx
import time_machine

from tests.directives.helpers import create_directive, local
from tests.fixtures import Province


def two_station_directive() -> dict[str, object]:
    return {
        "issuer_code": "SYT", "number": "30", "symbol": "SYT-NVY", "doc_type": "cong_van", "issued_on": "2024-03-01",
        "subject": "Báo cáo tiêm chủng",
        "tasks": [{"text": "Báo cáo", "assignee_codes": ["TYT-TV", "TYT-TG"], "due_on": "2024-03-20", "due_kind": "by"}],
    }


async def issue(client: httpx.AsyncClient, province: Province) -> str:
    with time_machine.travel(local("2024-03-01 08:00"), tick=False):
        d = await create_directive(client, province.auth("root_issuer"), two_station_directive())
        await client.post(f"/v1/directives/{d['id']}/issue", headers=province.auth("root_issuer"))
    return str(d["id"])


async def test_compliance_as_csv(client: httpx.AsyncClient, province: Province) -> None:
    await issue(client, province)
    with time_machine.travel(local("2024-03-25 08:00"), tick=False):
        response = await client.get(
            "/v1/stats/compliance", params={"from": "2024-03-01", "to": "2024-03-31"},
            headers={**province.auth("root_reader"), "Accept": "text/csv"},
        )
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["unit_key_code"], r["overdue"]) for r in rows] == [("TYT-TG", "1"), ("TYT-TV", "1")]


async def test_compliance_by_directive(client: httpx.AsyncClient, province: Province) -> None:
    d_id = await issue(client, province)
    with time_machine.travel(local("2024-03-10 08:00"), tick=False):
        response = await client.get(
            "/v1/stats/compliance", params={"from": "2024-03-01", "to": "2024-03-31", "group_by": "directive"},
            headers=province.auth("root_reader"),
        )
    rows = response.json()["rows"]
    assert [(r["key_id"], r["total"], r["open"]) for r in rows] == [(d_id, 2, 2)]


async def test_deadlines_outside_the_window_are_not_counted(client: httpx.AsyncClient, province: Province) -> None:
    await issue(client, province)
    response = await client.get(
        "/v1/stats/compliance", params={"from": "2024-04-01", "to": "2024-04-30"}, headers=province.auth("root_reader")
    )
    assert response.json()["rows"] == [] and response.json()["totals"]["total"] == 0


async def test_station_key_counts_only_its_own_unit(client: httpx.AsyncClient, province: Province) -> None:
    await issue(client, province)
    response = await client.get(
        "/v1/stats/compliance", params={"from": "2024-03-01", "to": "2024-03-31"}, headers=province.auth("station_member")
    )
    assert [r["key_code"] for r in response.json()["rows"]] == ["TYT-TV"]


async def test_unit_outside_the_scope_is_404(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.get(
        "/v1/stats/compliance", params={"from": "2024-03-01", "to": "2024-03-31", "unit_id": str(province.units["VP"])},
        headers=province.auth("station_member"),
    )
    assert response.status_code == 404


async def test_reversed_window_is_422(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.get(
        "/v1/stats/compliance", params={"from": "2024-03-31", "to": "2024-03-01"}, headers=province.auth("root_reader")
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "to"


async def test_missing_window_is_422(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.get("/v1/stats/compliance", headers=province.auth("root_reader"))
    assert response.status_code == 422
