"""Directives: drafting, editing drafts only, uniqueness, listing, the lifecycle and who may do what."""

from __future__ import annotations

import httpx

from tests.directives.helpers import build_sector, create_directive, directive_2206
from tests.fixtures import Province


def simple(number: str = "15", **extra: object) -> dict[str, object]:
    return {
        "issuer_code": "SYT", "number": number, "symbol": "SYT-NVY", "doc_type": "cong_van", "issued_on": "2024-03-01",
        "subject": "Tăng cường phòng chống dịch sốt xuất huyết",
        "tasks": [{"text": "Báo cáo tình hình", "assignee_codes": ["TYT-TV", "TYT-TG"], "report_to_code": "VP",
                   "due_on": "2024-03-20", "due_kind": "by"}],
        **extra,
    }


async def test_new_directive_is_a_draft_with_derived_notation(client: httpx.AsyncClient, province: Province) -> None:
    d = await create_directive(client, province.auth("root_issuer"), simple())
    assert d["status"] == "draft" and d["notation"] == "15/SYT-NVY"
    assert [u["role"] for u in d["tasks"][0]["units"]] == ["assignee", "assignee"]


async def test_party_notation_puts_a_dash_after_the_number(client: httpx.AsyncClient, province: Province) -> None:
    d = await create_directive(client, province.auth("root_issuer"), simple(number="477", symbol="KL/TU", doc_type="ket_luan"))
    assert d["notation"] == "477-KL/TU"


async def test_draft_without_number_is_allowed_but_cannot_be_issued(client: httpx.AsyncClient, province: Province) -> None:
    body = simple()
    del body["number"]
    d = await create_directive(client, province.auth("root_issuer"), body)
    assert d["notation"] == "/SYT-NVY"
    response = await client.post(f"/v1/directives/{d['id']}/issue", headers=province.auth("root_issuer"))
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["number"]


async def test_same_number_symbol_issuer_and_year_is_409_with_the_clashing_id(client: httpx.AsyncClient, province: Province) -> None:
    first = await create_directive(client, province.auth("root_issuer"), simple())
    response = await client.post("/v1/directives", json=simple(), headers=province.auth("root_issuer"))
    assert response.status_code == 409
    assert response.json()["existing_id"] == first["id"]
    next_year = await client.post("/v1/directives", json=simple(issued_on="2025-01-02"), headers=province.auth("root_issuer"))
    assert next_year.status_code == 201


async def test_drafts_are_edited_with_if_match(client: httpx.AsyncClient, province: Province) -> None:
    d = await create_directive(client, province.auth("root_issuer"), simple())
    url = f"/v1/directives/{d['id']}"
    stale = await client.patch(url, json={"subject": "x"}, headers={**province.auth("root_issuer"), "If-Match": '"9"'})
    assert stale.status_code == 412
    ok = await client.patch(url, json={"subject": "Phòng chống sốt xuất huyết"}, headers={**province.auth("root_issuer"), "If-Match": '"1"'})
    assert ok.status_code == 200 and ok.headers["etag"] == '"2"'


async def test_editing_tasks_replaces_them(client: httpx.AsyncClient, province: Province) -> None:
    d = await create_directive(client, province.auth("root_issuer"), simple())
    tasks = [{"text": "Mới", "lead_codes": ["BVDK"], "due_in_working_days": 5}]
    ok = await client.patch(f"/v1/directives/{d['id']}", json={"tasks": tasks}, headers=province.auth("root_issuer"))
    assert [t["text"] for t in ok.json()["tasks"]] == ["Mới"]


async def test_issued_directive_cannot_be_edited(client: httpx.AsyncClient, province: Province) -> None:
    d = await create_directive(client, province.auth("root_issuer"), simple())
    await client.post(f"/v1/directives/{d['id']}/issue", headers=province.auth("root_issuer"))
    response = await client.patch(f"/v1/directives/{d['id']}", json={"subject": "x"}, headers=province.auth("root_issuer"))
    assert response.status_code == 409
    assert response.json()["current_status"] == "issued"


async def test_issuing_twice_is_409_naming_the_state(client: httpx.AsyncClient, province: Province) -> None:
    d = await create_directive(client, province.auth("root_issuer"), simple())
    await client.post(f"/v1/directives/{d['id']}/issue", headers=province.auth("root_issuer"))
    again = await client.post(f"/v1/directives/{d['id']}/issue", headers=province.auth("root_issuer"))
    assert again.status_code == 409 and again.json()["current_status"] == "issued"


async def test_revoking_cancels_open_assignments(client: httpx.AsyncClient, province: Province) -> None:
    d = await create_directive(client, province.auth("root_issuer"), simple())
    await client.post(f"/v1/directives/{d['id']}/issue", headers=province.auth("root_issuer"))
    revoked = await client.post(f"/v1/directives/{d['id']}/revoke", headers=province.auth("root_issuer"))
    assert revoked.json()["assignments_cancelled"] == 2
    inbox = await client.get("/v1/assignments", params={"directive_id": d["id"]}, headers=province.auth("root_reader"))
    assert {a["status"] for a in inbox.json()["items"]} == {"cancelled"}


async def test_closing_needs_an_issued_directive(client: httpx.AsyncClient, province: Province) -> None:
    d = await create_directive(client, province.auth("root_issuer"), simple())
    response = await client.post(f"/v1/directives/{d['id']}/close", headers=province.auth("root_issuer"))
    assert response.status_code == 409 and response.json()["current_status"] == "draft"


async def test_a_task_naming_no_unit_blocks_issuing(client: httpx.AsyncClient, province: Province) -> None:
    body = simple(tasks=[{"text": "Ai đó làm", "due_on": "2024-03-20", "due_kind": "by"}])
    d = await create_directive(client, province.auth("root_issuer"), body)
    response = await client.post(f"/v1/directives/{d['id']}/issue", headers=province.auth("root_issuer"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "no_units"
    assert (await client.get(f"/v1/directives/{d['id']}", headers=province.auth("root_issuer"))).json()["status"] == "draft"


async def test_two_deadline_forms_at_once_are_422(client: httpx.AsyncClient, province: Province) -> None:
    body = simple(tasks=[{"text": "x", "lead_codes": ["VP"], "due_on": "2024-03-20", "due_kind": "by", "due_in_working_days": 3}])
    response = await client.post("/v1/directives", json=body, headers=province.auth("root_issuer"))
    assert response.status_code == 422


async def test_unknown_doc_type_is_422(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.post("/v1/directives", json=simple(doc_type="memo"), headers=province.auth("root_issuer"))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "doc_type"


async def test_issuer_outside_the_keys_subtree_is_unknown(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.post("/v1/directives", json=simple(), headers=province.auth("centre_admin"))
    assert response.status_code == 422
    assert response.json()["errors"][0] == {"field": "issuer_code", "message": "unknown unit SYT", "code": "unknown_unit"}


async def test_task_unit_outside_the_keys_subtree_is_unknown_naming_the_item(client: httpx.AsyncClient, province: Province) -> None:
    body = simple(issuer_code="TTYT-TH", tasks=[{"text": "x", "assignee_codes": ["TYT-TV", "VP"], "due_on": "2024-03-20", "due_kind": "by"}])
    response = await client.post("/v1/directives", json=body, headers=province.auth("centre_admin"))
    assert response.json()["errors"][0]["field"] == "tasks[0].assignee_codes[1]"


async def test_readers_and_members_cannot_create_directives(client: httpx.AsyncClient, province: Province) -> None:
    for key in ("root_reader", "station_member"):
        response = await client.post("/v1/directives", json=simple(), headers=province.auth(key))
        assert response.status_code == 403, key


async def test_recipient_sees_an_issued_directive_but_cannot_change_it(client: httpx.AsyncClient, province: Province) -> None:
    d = await create_directive(client, province.auth("root_issuer"), simple())
    url = f"/v1/directives/{d['id']}"
    assert (await client.get(url, headers=province.auth("station_member"))).status_code == 404  # drafts stay with the issuer
    await client.post(f"{url}/issue", headers=province.auth("root_issuer"))
    assert (await client.get(url, headers=province.auth("station_member"))).status_code == 200
    assert (await client.post(f"{url}/revoke", headers=province.auth("station_admin"))).status_code == 403


async def test_unrelated_unit_cannot_see_the_directive(client: httpx.AsyncClient, province: Province) -> None:
    body = simple(tasks=[{"text": "x", "lead_codes": ["BVDK"], "due_on": "2024-03-20", "due_kind": "by"}])
    d = await create_directive(client, province.auth("root_issuer"), body)
    await client.post(f"/v1/directives/{d['id']}/issue", headers=province.auth("root_issuer"))
    assert (await client.get(f"/v1/directives/{d['id']}", headers=province.auth("station_member"))).status_code == 404
    listed = await client.get("/v1/directives", headers=province.auth("station_member"))
    assert listed.json()["items"] == []


async def test_list_filters_and_accent_insensitive_search(client: httpx.AsyncClient, province: Province) -> None:
    await create_directive(client, province.auth("root_issuer"), simple())
    await create_directive(client, province.auth("root_issuer"), simple(number="16", subject="Kế hoạch tiêm chủng", doc_type="ke_hoach", symbol="KH-SYT"))
    headers = province.auth("root_issuer")
    found = await client.get("/v1/directives", params={"q": "sot xuat huyet"}, headers=headers)
    assert [d["notation"] for d in found.json()["items"]] == ["15/SYT-NVY"]
    by_type = await client.get("/v1/directives", params={"doc_type": "ke_hoach"}, headers=headers)
    assert [d["notation"] for d in by_type.json()["items"]] == ["16/KH-SYT"]
    by_year = await client.get("/v1/directives", params={"year": 2023}, headers=headers)
    assert by_year.json()["items"] == []


async def test_directive_creation_is_idempotent(client: httpx.AsyncClient, province: Province) -> None:
    headers = {**province.auth("root_issuer"), "Idempotency-Key": "import-line-7"}
    first = await client.post("/v1/directives", json=simple(), headers=headers)
    second = await client.post("/v1/directives", json=simple(), headers=headers)
    assert second.json()["id"] == first.json()["id"] and second.headers["idempotent-replayed"] == "true"
    different = await client.post("/v1/directives", json=simple(number="99"), headers=headers)
    assert different.status_code == 422


async def test_selector_assigns_every_active_unit_of_the_kinds(client: httpx.AsyncClient, province: Province) -> None:
    sector = await build_sector(client, province)
    await client.patch(f"/v1/units/{sector.unit_ids['DV11']}", json={"active": False}, headers=province.auth("root_admin"))
    d = await create_directive(client, province.auth("root_issuer"), directive_2206())
    issued = await client.post(f"/v1/directives/{d['id']}/issue", headers=province.auth("root_issuer"))
    assert issued.json()["assignments_created"] == 10 + 2
