"""Importing directives (created, optionally issued) and reports, and re-running both files."""

from __future__ import annotations

from typing import Any

import httpx

from tests.fixtures import Province
from tests.imports.helpers import errors_of, import_now, ndjson, sql, upload


def directive(number: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "issuer_code": "SYT", "number": number, "symbol": "SYT-NVY", "doc_type": "cong_van", "issued_on": "2025-03-03",
        "subject": f"Triển khai chiến dịch tiêm chủng đợt {number}",
        "references": [{"notation": "12/KH-UBND", "issued_on": "2025-01-10"}],
        "tasks": [
            {"text": "Các trạm y tế xã tổ chức tiêm", "assignee_selector": {"under_code": "TTYT-TH", "kinds": ["commune_health_station"]},
             "due_in_working_days": 10},
            {"ordinal": "2", "text": "Bệnh viện chủ trì, TTYT phối hợp", "lead_codes": ["BVDK"], "coordinating_codes": ["TTYT-TH"],
             "report_to_code": "VP", "due_on": "2025-04-30", "due_kind": "by"},
            {"text": "Báo cáo hằng tháng", "assignee_codes": ["TTYT-TH"], "recurrence": "monthly", "recurrence_until": "2025-06-30"},
        ],
    }
    return body | extra


async def footprint(directive_id: str) -> dict[str, Any]:
    """What issuing left behind, without ids: tasks, assignments, events and armed steps."""
    tasks = await sql(
        "SELECT position, ordinal, text, report_to_id, due_at, due_on, due_kind, due_in_working_days, recurrence, "
        "report_days_after_period, recurrence_until, selector::text FROM tasks WHERE directive_id = $1 ORDER BY position",
        directive_id,
    )
    assignments = await sql(
        "SELECT t.position, a.unit_id, a.role, a.period_start, a.period_end, a.due_at, a.status FROM assignments a "
        "JOIN tasks t ON t.id = a.task_id WHERE a.directive_id = $1 ORDER BY 1, 2, 4",
        directive_id,
    )
    events = await sql(
        "SELECT type, count(*) FROM events WHERE data->>'directive_id' = $1 GROUP BY type ORDER BY type", directive_id
    )
    steps = await sql(
        "SELECT s.step_key, s.fire_at, count(*) FROM escalation_steps s JOIN assignments a ON a.id = s.assignment_id "
        "WHERE a.directive_id = $1 GROUP BY 1, 2 ORDER BY 1, 2",
        directive_id,
    )
    refs = await sql("SELECT position, notation, year FROM directive_references WHERE directive_id = $1", directive_id)
    return {k: [tuple(r) for r in v] for k, v in
            {"tasks": tasks, "assignments": assignments, "events": events, "steps": steps, "refs": refs}.items()}


async def test_an_imported_directive_is_issued_exactly_as_the_api_issues_one(client: httpx.AsyncClient, province: Province) -> None:
    by_api = await client.post("/v1/directives", json=directive("101"), headers=province.auth("root_issuer"))
    assert by_api.status_code == 201, by_api.text
    issued = await client.post(f"/v1/directives/{by_api.json()['id']}/issue", headers=province.auth("root_issuer"))
    assert issued.status_code == 200
    job = await import_now(client, province, "root_issuer", "directives", ndjson(directive("102", issue=True)))
    assert (job["status"], job["succeeded"], job["counts"]) == ("completed", 1, {"issued": 1})
    imported_id = (await sql("SELECT id::text FROM directives WHERE number = '102'"))[0][0]
    mine, theirs = await footprint(imported_id), await footprint(by_api.json()["id"])
    for name in mine:
        assert mine[name] == theirs[name], name
    read = (await client.get(f"/v1/directives/{imported_id}", headers=province.auth("root_issuer"))).json()
    assert (read["status"], read["notation"], read["tasks"][1]["ordinal"]) == ("issued", "102/SYT-NVY", "2")
    inbox = await client.get(f"/v1/assignments?directive_id={imported_id}", headers=province.auth("station_member"))
    assert len(inbox.json()["items"]) == 1


async def test_bad_directive_lines_are_reported_and_re_running_changes_nothing(
    client: httpx.AsyncClient, province: Province
) -> None:
    no_number = directive("0", issue=True)
    del no_number["number"]
    unknown_lead = directive("201", issue=True)
    unknown_lead["tasks"][1]["lead_codes"] = ["NOWHERE"]
    no_deadline = directive("202", issue=True)
    no_deadline["tasks"][1].pop("due_on"), no_deadline["tasks"][1].pop("due_kind")
    body = ndjson(directive("200", issue=True), no_number, unknown_lead, no_deadline, directive("203"), directive("200", issue=True))
    first = await import_now(client, province, "root_issuer", "directives", body)
    assert first["counts"] == {"issued": 1, "created": 1, "unchanged": 1} and first["failed"] == 3
    errors = await errors_of(client, province, "root_issuer", first["id"])
    assert errors[2][0]["field"] is None and "number" in errors[2][0]["message"]
    assert (errors[3][0]["field"], errors[3][0]["code"]) == ("tasks[1].lead_codes[0]", "unknown_unit")
    assert (errors[4][0]["field"], errors[4][0]["code"]) == ("tasks[1].due_at", "no_deadline")
    counts = "SELECT (SELECT count(*) FROM directives), (SELECT count(*) FROM assignments), (SELECT count(*) FROM events)"
    before = await sql(counts)
    again = await import_now(client, province, "root_issuer", "directives", body)
    assert again["counts"] == {"unchanged": 3}
    assert await sql(counts) == before
    draft = (await sql("SELECT status FROM directives WHERE number = '203'"))[0][0]
    assert draft == "draft"


async def test_a_line_naming_a_stored_draft_updates_and_issues_it(client: httpx.AsyncClient, province: Province) -> None:
    draft = await client.post("/v1/directives", json=directive("300", tasks=[]), headers=province.auth("root_issuer"))
    assert draft.status_code == 201
    job = await import_now(client, province, "root_issuer", "directives", ndjson(directive("300", issue=True)))
    assert job["counts"] == {"issued": 1}
    read = (await client.get(f"/v1/directives/{draft.json()['id']}", headers=province.auth("root_issuer"))).json()
    assert read["status"] == "issued" and len(read["tasks"]) == 3


async def test_directive_imports_stay_inside_the_key_subtree(client: httpx.AsyncClient, province: Province) -> None:
    assert (await upload(client, province, "station_member", "directives", ndjson(directive("400")))).status_code == 403
    outside = directive("401", issuer_code="TTYT-TH")
    outside["tasks"] = [{"text": "Báo cáo", "assignee_codes": ["BVDK"], "due_on": "2025-04-30", "due_kind": "by"}]
    centre_key = await client.post(
        "/v1/api-keys", json={"name": "centre issuer", "unit_id": str(province.units["TTYT-TH"]), "role": "issuer"},
        headers=province.auth("root_admin"),
    )
    province.keys["centre_issuer"] = centre_key.json()["secret"]
    body = ndjson(directive("402"), outside)
    job = await import_now(client, province, "centre_issuer", "directives", body)
    errors = await errors_of(client, province, "centre_issuer", job["id"])
    assert (errors[1][0]["field"], errors[1][0]["code"]) == ("issuer_code", "unknown_unit")
    assert (errors[2][0]["field"], errors[2][0]["code"]) == ("tasks[0].assignee_codes[0]", "unknown_unit")
    assert await sql("SELECT 1 FROM directives") == []


async def issued_assignment(client: httpx.AsyncClient, province: Province, codes: list[str]) -> dict[str, str]:
    body = {
        "issuer_code": "SYT", "number": "500", "symbol": "SYT-NVY", "doc_type": "cong_van", "issued_on": "2025-03-03",
        "subject": "Báo cáo công tác", "tasks": [{"text": "Báo cáo", "assignee_codes": codes, "due_on": "2099-04-30", "due_kind": "by"}],
    }
    created = await client.post("/v1/directives", json=body, headers=province.auth("root_issuer"))
    await client.post(f"/v1/directives/{created.json()['id']}/issue", headers=province.auth("root_issuer"))
    rows = await sql("SELECT u.code, a.id::text FROM assignments a JOIN units u ON u.id = a.unit_id")
    return {r[0]: r[1] for r in rows}


async def test_reports_import_by_external_id_and_re_running_changes_nothing(
    client: httpx.AsyncClient, province: Province
) -> None:
    assignments = await issued_assignment(client, province, ["TYT-TV", "TYT-TG"])
    own = assignments["TYT-TV"]
    body = ndjson(
        {"assignment_id": own, "external_id": "HIS-1", "kind": "progress", "content": "Đã tiêm 40%"},
        {"assignment_id": own, "external_id": "HIS-2", "kind": "final", "content": "Hoàn thành", "figures": {"vaccinated": 1200}},
        {"assignment_id": assignments["TYT-TG"], "external_id": "HIS-3", "kind": "final", "content": "Không phải của tôi"},
        {"assignment_id": own, "kind": "progress", "content": "Thiếu mã"},
    )
    first = await import_now(client, province, "station_member", "reports", body)
    assert first["counts"] == {"created": 2} and first["failed"] == 2
    errors = await errors_of(client, province, "station_member", first["id"])
    assert (errors[3][0]["field"], errors[3][0]["code"]) == ("assignment_id", "unknown_assignment")
    assert (errors[4][0]["field"], errors[4][0]["code"]) == ("external_id", "missing")
    assignment = (await client.get(f"/v1/assignments/{own}", headers=province.auth("station_member"))).json()
    assert assignment["status"] == "submitted"
    before = await sql("SELECT count(*), (SELECT count(*) FROM events) FROM reports")
    again = await import_now(client, province, "station_member", "reports", body)
    assert again["counts"] == {"unchanged": 2}
    assert await sql("SELECT count(*), (SELECT count(*) FROM events) FROM reports") == before
    resent = await client.post(
        f"/v1/assignments/{own}/reports", json={"external_id": "HIS-1", "kind": "progress", "content": "again"},
        headers=province.auth("station_member"),
    )
    assert resent.status_code == 409 and resent.json()["existing_id"]


async def test_a_directive_line_naming_a_deactivated_unit_fails_on_that_field(
    client: httpx.AsyncClient, province: Province
) -> None:
    await client.patch(f"/v1/units/{province.units['TYT-TG']}", json={"active": False}, headers=province.auth("root_admin"))
    line = directive("403")
    line["tasks"] = [{"text": "Báo cáo", "assignee_codes": ["TYT-TV", "TYT-TG"], "due_on": "2025-04-30", "due_kind": "by"}]
    job = await import_now(client, province, "root_issuer", "directives", ndjson(line))
    errors = await errors_of(client, province, "root_issuer", job["id"])
    assert [(e["field"], e["code"]) for e in errors[1]] == [("tasks[0].assignee_codes[1]", "inactive_unit")]


async def test_a_directive_line_naming_a_unit_id_outside_the_key_subtree_fails_on_that_field(
    client: httpx.AsyncClient, province: Province
) -> None:
    centre_key = await client.post(
        "/v1/api-keys", json={"name": "centre issuer", "unit_id": str(province.units["TTYT-TH"]), "role": "issuer"},
        headers=province.auth("root_admin"),
    )
    province.keys["centre_issuer"] = centre_key.json()["secret"]
    line = directive("404", issuer_code="TTYT-TH")
    line["tasks"] = [{"text": "Báo cáo", "lead_ids": [str(province.units["TYT-TV"]), str(province.units["BVDK"])],
                      "due_on": "2025-04-30", "due_kind": "by"}]
    job = await import_now(client, province, "centre_issuer", "directives", ndjson(line))
    errors = await errors_of(client, province, "centre_issuer", job["id"])
    assert [(e["field"], e["code"]) for e in errors[1]] == [("tasks[0].lead_ids[1]", "unknown_unit")]
