"""Escalation policies and the province calendar over HTTP, with their denials."""

from __future__ import annotations

import httpx
import time_machine

from tests.directives.helpers import create_directive, local
from tests.fixtures import Province

TIGHT = {"steps": [
    {"key": "remind_1", "kind": "reminder", "offset_working_days": -1, "notify": ["unit"]},
    {"key": "overdue", "kind": "overdue", "offset_working_days": 0, "notify": ["unit", "parent"]},
    {"key": "director", "kind": "escalation", "offset_working_days": 1, "level": 1, "notify": ["issuer"]},
]}


def directive_body() -> dict[str, object]:
    return {
        "issuer_code": "SYT", "number": "52", "symbol": "SYT-NVY", "doc_type": "cong_van", "issued_on": "2024-03-01",
        "subject": "Hỏa tốc: phòng chống dịch", "urgency": "hoa_toc",
        "tasks": [{"text": "Báo cáo", "assignee_codes": ["TYT-TV"], "due_on": "2024-03-20", "due_kind": "by"}],
    }


async def issued_directive(client: httpx.AsyncClient, province: Province) -> str:
    with time_machine.travel(local("2024-03-01 08:00"), tick=False):
        d = await create_directive(client, province.auth("root_issuer"), directive_body())
        await client.post(f"/v1/directives/{d['id']}/issue", headers=province.auth("root_issuer"))
    return str(d["id"])


async def test_default_policy_is_readable_by_any_key(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.get("/v1/escalation-policies/default", headers=province.auth("station_member"))
    assert [s["key"] for s in response.json()["steps"]] == ["remind_3", "remind_1", "overdue", "escalate_1", "escalate_2"]


async def test_only_a_top_level_admin_changes_the_default(client: httpx.AsyncClient, province: Province) -> None:
    denied = await client.put("/v1/escalation-policies/default", json=TIGHT, headers=province.auth("centre_admin"))
    assert denied.status_code == 403
    granted = await client.put("/v1/escalation-policies/default", json=TIGHT, headers=province.auth("root_admin"))
    assert granted.status_code == 200 and [s["key"] for s in granted.json()["steps"]] == ["remind_1", "overdue", "director"]
    again = await client.put("/v1/escalation-policies/default", json=TIGHT, headers=province.auth("root_admin"))
    assert again.json()["version"] == 2


async def test_directive_override_rearms_its_assignments(client: httpx.AsyncClient, province: Province) -> None:
    d_id = await issued_directive(client, province)
    with time_machine.travel(local("2024-03-05 08:00"), tick=False):
        put = await client.put(f"/v1/directives/{d_id}/escalation-policy", json=TIGHT, headers=province.auth("root_issuer"))
    assert put.status_code == 200 and put.json()["is_default"] is False
    inbox = (await client.get("/v1/assignments", params={"directive_id": d_id}, headers=province.auth("root_issuer"))).json()
    steps = (await client.get(f"/v1/assignments/{inbox['items'][0]['id']}/escalations", headers=province.auth("root_issuer"))).json()
    assert [s["step_key"] for s in steps] == ["remind_1", "overdue", "director"]
    removed = await client.delete(f"/v1/directives/{d_id}/escalation-policy", headers=province.auth("root_issuer"))
    assert removed.status_code == 204
    back = (await client.get(f"/v1/directives/{d_id}/escalation-policy", headers=province.auth("root_issuer"))).json()
    assert back["is_default"] is True


async def test_recipients_cannot_change_a_directives_policy(client: httpx.AsyncClient, province: Province) -> None:
    d_id = await issued_directive(client, province)
    response = await client.put(f"/v1/directives/{d_id}/escalation-policy", json=TIGHT, headers=province.auth("station_admin"))
    assert response.status_code == 403


async def test_invalid_policies_are_422(client: httpx.AsyncClient, province: Province) -> None:
    bad = [
        {"steps": [{"key": "late", "kind": "reminder", "offset_working_days": 2, "notify": ["unit"]}]},
        {"steps": [{"key": "e", "kind": "escalation", "offset_working_days": 2, "notify": ["parent"]}]},
        {"steps": [TIGHT["steps"][0], TIGHT["steps"][0]]},
        {"steps": [{"key": "x", "kind": "overdue", "offset_working_days": 0, "notify": ["mayor"]}]},
        {"steps": []},
    ]
    for body in bad:
        response = await client.put("/v1/escalation-policies/default", json=body, headers=province.auth("root_admin"))
        assert response.status_code == 422, body


async def test_escalations_of_another_units_assignment_are_404(client: httpx.AsyncClient, province: Province) -> None:
    d_id = await issued_directive(client, province)
    inbox = (await client.get("/v1/assignments", params={"directive_id": d_id}, headers=province.auth("root_issuer"))).json()
    other_station_key = (await client.post(
        "/v1/api-keys", json={"name": "tg", "role": "member", "unit_code": "TYT-TG"}, headers=province.auth("root_admin")
    )).json()["secret"]
    response = await client.get(f"/v1/assignments/{inbox['items'][0]['id']}/escalations", headers={"X-API-Key": other_station_key})
    assert response.status_code == 404


async def test_a_declared_day_off_moves_working_day_deadlines(client: httpx.AsyncClient, province: Province) -> None:
    declared = await client.put(
        "/v1/calendar/days/2024-03-04", json={"kind": "day_off", "note": "Nghỉ bù theo quyết định của UBND tỉnh"},
        headers=province.auth("root_admin"),
    )
    assert declared.status_code == 200
    answer = (await client.get("/v1/calendar/days/2024-03-04", headers=province.auth("station_member"))).json()
    assert answer == {"day": "2024-03-04", "is_working_day": False, "source": "province"}
    body = directive_body()
    body["tasks"] = [{"text": "Báo cáo nhanh", "assignee_codes": ["TYT-TV"], "due_in_working_days": 2}]
    with time_machine.travel(local("2024-03-01 08:00"), tick=False):
        d = await create_directive(client, province.auth("root_issuer"), body)
        await client.post(f"/v1/directives/{d['id']}/issue", headers=province.auth("root_issuer"))
    inbox = (await client.get("/v1/assignments", params={"directive_id": d["id"]}, headers=province.auth("root_issuer"))).json()
    assert inbox["items"][0]["due_at"] == "2024-03-06T16:59:59.999999Z"  # Fri 1 → Tue 5 (Mon 4 off) → Wed 6


async def test_a_declared_working_saturday_counts(client: httpx.AsyncClient, province: Province) -> None:
    await client.put("/v1/calendar/days/2024-03-02", json={"kind": "working_day"}, headers=province.auth("root_admin"))
    listed = await client.get("/v1/calendar/days", params={"from": "2024-03-01", "to": "2024-03-31"}, headers=province.auth("root_reader"))
    assert [(d["day"], d["kind"]) for d in listed.json()] == [("2024-03-02", "working_day")]


async def test_only_a_top_level_admin_declares_days(client: httpx.AsyncClient, province: Province) -> None:
    for key in ("centre_admin", "root_issuer"):
        response = await client.put("/v1/calendar/days/2024-03-04", json={"kind": "day_off"}, headers=province.auth(key))
        assert response.status_code == 403, key


async def test_withdrawing_an_undeclared_day_is_404(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.delete("/v1/calendar/days/2024-03-04", headers=province.auth("root_admin"))
    assert response.status_code == 404


async def test_national_holidays_answer_from_the_national_calendar(client: httpx.AsyncClient, province: Province) -> None:
    answer = (await client.get("/v1/calendar/days/2024-02-12", headers=province.auth("root_reader"))).json()
    assert answer == {"day": "2024-02-12", "is_working_day": False, "source": "national"}  # Tết Giáp Thìn


async def test_urgent_directives_are_chased_harder_by_default(client: httpx.AsyncClient, province: Province) -> None:
    d_id = await issued_directive(client, province)  # hỏa tốc
    policy = (await client.get(f"/v1/directives/{d_id}/escalation-policy", headers=province.auth("root_issuer"))).json()
    assert policy["is_default"] is True
    assert [(s["key"], s["offset_working_days"]) for s in policy["steps"]] == [
        ("remind_1", -1), ("overdue", 0), ("escalate_1", 1), ("escalate_2", 3)
    ]
    inbox = (await client.get("/v1/assignments", params={"directive_id": d_id}, headers=province.auth("root_issuer"))).json()
    steps = (await client.get(f"/v1/assignments/{inbox['items'][0]['id']}/escalations", headers=province.auth("root_issuer"))).json()
    assert [s["step_key"] for s in steps] == ["remind_1", "overdue", "escalate_1", "escalate_2"]
