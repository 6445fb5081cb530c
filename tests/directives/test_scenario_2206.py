"""Công văn 2206/SYT-VP end to end: entered, issued to 11 affiliated units, reported on, reviewed, counted.

Seven units report on time, one late, one asks for an extension and then
reports within it, one reports a difficulty that the Sở accepts by cancelling
its assignment, one never reports. Văn phòng Sở reports on its own task in
time and Phòng KHTC, coordinating, completes with it. Counted on 25/11/2018:
12 assignments (one cancelled), 10 completed on time, 1 late, 1 overdue.
"""

from __future__ import annotations

import httpx
import time_machine

from tests.directives.helpers import AFFILIATED, assignment_of, build_sector, create_directive, directive_2206, local
from tests.fixtures import Province


async def report(client: httpx.AsyncClient, headers: dict[str, str], assignment_id: str, **body: object) -> dict[str, object]:
    response = await client.post(f"/v1/assignments/{assignment_id}/reports", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def accept(client: httpx.AsyncClient, headers: dict[str, str], report_id: object, **body: object) -> httpx.Response:
    response = await client.post(f"/v1/reports/{report_id}/accept", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response


async def test_directive_2206_from_issue_to_compliance(client: httpx.AsyncClient, province: Province) -> None:
    sector = await build_sector(client, province)
    issuer = province.auth("root_issuer")
    with time_machine.travel(local("2018-08-28 08:00"), tick=False):
        directive = await create_directive(client, issuer, directive_2206())
        issued = await client.post(f"/v1/directives/{directive['id']}/issue", headers=issuer)
    assert issued.json()["assignments_created"] == 13  # 11 units + Văn phòng (lead) + KHTC (coordinating)
    d_id = directive["id"]
    a = {code: await assignment_of(sector, code, d_id) for code in [*AFFILIATED, "VP", "KHTC"]}
    assert a["DV01"]["due_at"] == "2018-11-09T17:00:00Z"  # "trước ngày 10/11/2018": 00:00 on the 10th in Vietnam

    with time_machine.travel(local("2018-11-01 10:00"), tick=False):
        difficulty = await report(client, sector.auth("DV09"), a["DV09"]["id"], kind="difficulty", content="Chưa đủ nhân lực.")
        for code in AFFILIATED[:7]:
            await report(client, sector.auth(code), a[code]["id"], kind="final", content="Đã hoàn thành 10 cam kết.")
    with time_machine.travel(local("2018-11-08 10:00"), tick=False):
        extension = await report(
            client, sector.auth("DV08"), a["DV08"]["id"], kind="extension_request", content="Xin gia hạn.",
            requested_due_at=local("2018-11-20 00:00").isoformat(),
        )
        await accept(client, issuer, extension["id"])
        await accept(client, issuer, difficulty["id"], decision="cancel", comment="Đồng ý, đơn vị không thực hiện.")
    with time_machine.travel(local("2018-11-12 09:00"), tick=False):
        late = await report(client, sector.auth("DV10"), a["DV10"]["id"], kind="final", content="Báo cáo muộn.")
    with time_machine.travel(local("2018-11-14 09:00"), tick=False):
        vp = await report(client, sector.auth("VP"), a["VP"]["id"], kind="final", content="Tổng hợp xong.")
    with time_machine.travel(local("2018-11-18 09:00"), tick=False):
        within = await report(client, sector.auth("DV08"), a["DV08"]["id"], kind="final", content="Hoàn thành trong hạn gia hạn.")
        pending = (await client.get("/v1/reports", params={"status": "submitted", "directive_id": d_id}, headers=issuer)).json()
        for item in pending["items"]:
            await accept(client, issuer, item["id"])
    assert {late["id"], vp["id"], within["id"]} <= {r["id"] for r in pending["items"]}
    assert len(pending["items"]) == 10  # 7 on time, DV10 late, DV08 within its extension, VP

    with time_machine.travel(local("2018-11-25 09:00"), tick=False):
        stats = await client.get(
            "/v1/stats/compliance", params={"from": "2018-01-01", "to": "2018-12-31"}, headers=issuer
        )
        progress = await client.get(f"/v1/directives/{d_id}/progress", headers=issuer)
    totals = stats.json()["totals"]
    assert {k: totals[k] for k in ("total", "completed_on_time", "completed_late", "overdue", "open", "cancelled")} == {
        "total": 12, "completed_on_time": 10, "completed_late": 1, "overdue": 1, "open": 0, "cancelled": 1,
    }
    assert totals["on_time_rate"] == round(10 / 12, 4)
    by_unit = {row["key_code"]: row for row in stats.json()["rows"]}
    assert by_unit["DV10"]["completed_late"] == 1 and by_unit["DV11"]["overdue"] == 1 and by_unit["KHTC"]["completed_on_time"] == 1

    rows = {row["unit_code"]: row for row in progress.json()["items"]}
    assert len(rows) == 13
    assert rows["DV08"]["timeliness"] == "completed_on_time"
    assert rows["DV10"]["timeliness"] == "completed_late"
    assert rows["DV11"]["timeliness"] == "overdue" and rows["DV11"]["last_report"] is None
    assert rows["DV09"]["status"] == "cancelled"
    assert rows["KHTC"]["status"] == "completed"

    dv08 = (await client.get(f"/v1/assignments/{a['DV08']['id']}", headers=issuer)).json()
    assert dv08["original_due_at"] == "2018-11-09T17:00:00Z" and dv08["due_at"] == "2018-11-19T17:00:00Z"


async def test_reference_resolves_once_the_cited_directive_is_held_here(client: httpx.AsyncClient, province: Province) -> None:
    await build_sector(client, province)
    issuer = province.auth("root_issuer")
    d2206 = await create_directive(client, issuer, directive_2206())
    assert d2206["references"] == [
        {"notation": "422/SYT-VP", "doc_type": "cong_van", "issued_on": "2018-03-01", "directive_id": None}
    ]
    body = {
        "issuer_code": "SYT", "number": "422", "symbol": "SYT-VP", "doc_type": "cong_van", "issued_on": "2018-03-01",
        "subject": "phê duyệt 10 cam kết, nhiệm vụ đăng ký thực hiện năm 2018",
        "tasks": [{"text": "Thực hiện", "lead_codes": ["VP"], "due_on": "2018-12-31", "due_kind": "by"}],
    }
    d422 = await create_directive(client, issuer, body)
    await client.post(f"/v1/directives/{d422['id']}/issue", headers=issuer)
    again = (await client.get(f"/v1/directives/{d2206['id']}", headers=issuer)).json()
    assert again["references"][0]["directive_id"] == d422["id"]
    implemented = (await client.get(f"/v1/directives/{d422['id']}", headers=issuer)).json()["implemented_by"]
    assert [d["directive_id"] for d in implemented] == [d2206["id"]]
    citing = await client.get("/v1/directives", params={"references": "422 / syt-vp"}, headers=issuer)
    assert [d["id"] for d in citing.json()["items"]] == [d2206["id"]]
