"""One directive to every commune station of a district with 502 of them, issued in one request.

Correctness only: that nothing is lost at this size. How fast it is belongs in bench/issue_bench.py.
"""

from __future__ import annotations

import httpx
import time_machine

from tests.directives.feed_helpers import read_feed
from tests.directives.helpers import create_directive, local
from tests.fixtures import Province

STATIONS = 500
EXPECTED = STATIONS + 2  # the province fixture already has TYT-TV and TYT-TG under TTYT-TH


async def test_directive_to_502_stations_creates_every_assignment_event_and_statistic(
    client: httpx.AsyncClient, province: Province
) -> None:
    items = [
        {"code": f"TYT-S{i:03d}", "name": f"Trạm Y tế xã số {i}", "kind": "commune_health_station", "parent_code": "TTYT-TH"}
        for i in range(STATIONS)
    ]
    batch = await client.post("/v1/units/batch", json={"items": items}, headers=province.auth("root_admin"))
    assert batch.status_code == 200, batch.text
    assert batch.json()["created"] == STATIONS and batch.json()["errors"] == 0

    issuer = province.auth("root_issuer")
    body = {
        "issuer_code": "SYT", "number": "1576", "symbol": "SYT-VP", "doc_type": "cong_van", "issued_on": "2024-03-01",
        "subject": "Đôn đốc báo cáo tiêm chủng mở rộng",
        "tasks": [{
            "text": "Các trạm y tế xã báo cáo kết quả tiêm chủng mở rộng.",
            "assignee_selector": {"under_code": "TTYT-TH", "kinds": ["commune_health_station"]},
            "report_to_code": "TTYT-TH", "due_on": "2024-03-20", "due_kind": "by",
        }],
    }
    with time_machine.travel(local("2024-03-01 08:00"), tick=False):
        d = await create_directive(client, issuer, body)
        issued = await client.post(f"/v1/directives/{d['id']}/issue", headers=issuer)
    assert issued.status_code == 200, issued.text
    assert issued.json()["assignments_created"] == EXPECTED

    created, _ = await read_feed(client, issuer, types="assignment.created", limit=500)
    assert len(created) == EXPECTED
    assert len({e["data"]["unit_id"] for e in created}) == EXPECTED  # one per station, none twice

    with time_machine.travel(local("2024-03-05 09:00"), tick=False):
        stats = await client.get("/v1/stats/compliance", params={"from": "2024-03-01", "to": "2024-03-31"}, headers=issuer)
    assert stats.status_code == 200, stats.text
    totals = stats.json()["totals"]
    assert (totals["total"], totals["open"], totals["overdue"]) == (EXPECTED, EXPECTED, 0)
    assert len(stats.json()["rows"]) == EXPECTED
