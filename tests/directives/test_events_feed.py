"""GET /v1/events: what each key sees, paging that never skips or repeats, filters, and the events each change writes."""

from __future__ import annotations

import base64
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import orjson
import pytest
import time_machine

from tests.directives.feed_helpers import read_feed
from tests.directives.helpers import Sector, assignment_of, build_sector, create_directive, directive_2206, local
from tests.fixtures import Province


@pytest.fixture
async def issued(client: httpx.AsyncClient, province: Province) -> tuple[Sector, str, int]:
    """2206/SYT-VP issued to the 11 affiliated units, VP (lead) and KHTC (coordinating)."""
    sector = await build_sector(client, province)
    with time_machine.travel(local("2018-08-28 08:00"), tick=False):
        d = await create_directive(client, province.auth("root_issuer"), directive_2206())
        response = await client.post(f"/v1/directives/{d['id']}/issue", headers=province.auth("root_issuer"))
    assert response.status_code == 200, response.text
    return sector, d["id"], response.json()["assignments_created"]


async def test_issuer_sees_directive_issued_and_one_assignment_created_per_assignment(
    client: httpx.AsyncClient, issued: tuple[Sector, str, int]
) -> None:
    sector, d_id, created = issued
    events, _ = await read_feed(client, sector.auth("root_issuer"))
    issued_events = [e for e in events if e["type"] == "directive.issued"]
    assert [e["data"]["directive_id"] for e in issued_events] == [d_id]
    assert issued_events[0]["data"]["assignments"] == created == 13
    created_events = [e for e in events if e["type"] == "assignment.created"]
    assert len(created_events) == 13
    inbox = await client.get("/v1/assignments", params={"directive_id": d_id, "limit": 50}, headers=sector.auth("root_issuer"))
    assert {e["data"]["assignment_id"] for e in created_events} == {a["id"] for a in inbox.json()["items"]}
    assert {e["data"]["directive_id"] for e in created_events} == {d_id}


async def test_member_sees_only_its_own_units_events(client: httpx.AsyncClient, issued: tuple[Sector, str, int]) -> None:
    sector, d_id, _ = issued
    events, _ = await read_feed(client, sector.auth("DV01"))
    assert [e["type"] for e in events] == ["assignment.created"]  # not the Sở's directive.issued, not DV02's assignment
    assert events[0]["data"]["unit_id"] == sector.unit_ids["DV01"]
    station, _ = await read_feed(client, sector.auth("station_member"))
    assert station == []  # the commune station is assigned nothing by 2206


async def test_member_does_not_see_a_sibling_units_report_events(client: httpx.AsyncClient, issued: tuple[Sector, str, int]) -> None:
    sector, d_id, _ = issued
    dv02 = await assignment_of(sector, "DV02", d_id)
    with time_machine.travel(local("2018-10-01 09:00"), tick=False):
        await client.post(f"/v1/assignments/{dv02['id']}/reports", json={"kind": "final", "content": "Xong"}, headers=sector.auth("DV02"))
    dv01_events, _ = await read_feed(client, sector.auth("DV01"))
    assert {e["data"]["unit_id"] for e in dv01_events} == {sector.unit_ids["DV01"]}
    dv02_events, _ = await read_feed(client, sector.auth("DV02"))
    assert [e["type"] for e in dv02_events] == ["assignment.created", "report.submitted"]


async def test_paging_returns_every_event_once_in_a_stable_order(client: httpx.AsyncClient, issued: tuple[Sector, str, int]) -> None:
    sector, d_id, _ = issued
    headers = sector.auth("root_issuer")
    await client.post(f"/v1/directives/{d_id}/revoke", headers=headers)  # 13 cancellations and directive.revoked
    everything = (await client.get("/v1/events", params={"limit": 500}, headers=headers)).json()["items"]
    assert len(everything) == 14 + 14
    paged, _ = await read_feed(client, headers, limit=4)
    assert [e["id"] for e in paged] == [e["id"] for e in everything]
    assert len({e["id"] for e in paged}) == len(paged)
    again, _ = await read_feed(client, headers, limit=7)
    assert again == paged


async def test_empty_page_returns_the_callers_cursor_unchanged(client: httpx.AsyncClient, issued: tuple[Sector, str, int]) -> None:
    sector, _, _ = issued
    _, cursor = await read_feed(client, sector.auth("root_issuer"))
    assert cursor is not None
    response = await client.get("/v1/events", params={"after": cursor}, headers=sector.auth("root_issuer"))
    assert response.json() == {"items": [], "next_cursor": cursor}


async def test_types_filter_is_repeatable(client: httpx.AsyncClient, issued: tuple[Sector, str, int]) -> None:
    sector, d_id, _ = issued
    headers = sector.auth("root_issuer")
    await client.post(f"/v1/directives/{d_id}/revoke", headers=headers)
    only_issued, _ = await read_feed(client, headers, types=["directive.issued"])
    assert [e["type"] for e in only_issued] == ["directive.issued"]
    both, _ = await read_feed(client, headers, types=["directive.issued", "directive.revoked"])
    assert [e["type"] for e in both] == ["directive.issued", "directive.revoked"]


async def test_unit_id_filter_narrows_to_that_units_events(client: httpx.AsyncClient, issued: tuple[Sector, str, int]) -> None:
    sector, _, _ = issued
    events, _ = await read_feed(client, sector.auth("root_issuer"), unit_id=sector.unit_ids["DV05"])
    assert [(e["type"], e["data"]["unit_id"]) for e in events] == [("assignment.created", sector.unit_ids["DV05"])]


async def test_unit_id_outside_the_callers_scope_is_422(client: httpx.AsyncClient, issued: tuple[Sector, str, int]) -> None:
    sector, _, _ = issued
    response = await client.get("/v1/events", params={"unit_id": sector.unit_ids["DV02"]}, headers=sector.auth("DV01"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "unit_id"


@pytest.mark.parametrize("cursor", ["not-a-cursor", base64.urlsafe_b64encode(b'{"offset": 3}').decode(), "e30"])
async def test_tampered_cursor_is_422(client: httpx.AsyncClient, province: Province, cursor: str) -> None:
    response = await client.get("/v1/events", params={"after": cursor}, headers=province.auth("root_issuer"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cursor"


async def test_cursor_with_the_right_keys_but_wrong_types_is_422(client: httpx.AsyncClient, province: Province) -> None:
    cursor = base64.urlsafe_b64encode(orjson.dumps({"txid": "x", "id": "y"})).decode().rstrip("=")
    response = await client.get("/v1/events", params={"after": cursor}, headers=province.auth("root_issuer"))
    assert response.status_code == 422


async def test_final_report_and_its_acceptance_produce_report_and_completion_events(
    client: httpx.AsyncClient, issued: tuple[Sector, str, int]
) -> None:
    sector, d_id, _ = issued
    issuer = sector.auth("root_issuer")
    _, cursor = await read_feed(client, issuer)
    vp = await assignment_of(sector, "VP", d_id)
    khtc = await assignment_of(sector, "KHTC", d_id)
    with time_machine.travel(local("2018-10-01 09:00"), tick=False):
        report = (await client.post(
            f"/v1/assignments/{vp['id']}/reports", json={"kind": "final", "content": "Đã tổng hợp"}, headers=sector.auth("VP")
        )).json()
        await client.post(f"/v1/reports/{report['id']}/accept", json={}, headers=issuer)
    events, _ = await read_feed(client, issuer, after=cursor)
    seen = [(e["type"], e["data"]["assignment_id"]) for e in events]
    assert seen == [
        ("report.submitted", vp["id"]),
        *sorted([("assignment.completed", vp["id"]), ("assignment.completed", khtc["id"])], key=lambda x: x[1]),
        ("report.accepted", vp["id"]),
    ]
    assert {e["data"].get("report_id") for e in events if e["type"].startswith("report.")} == {report["id"]}


async def test_accepted_extension_produces_deadline_changed_with_the_previous_deadline(
    client: httpx.AsyncClient, issued: tuple[Sector, str, int]
) -> None:
    sector, d_id, _ = issued
    issuer = sector.auth("root_issuer")
    _, cursor = await read_feed(client, issuer)
    dv08 = await assignment_of(sector, "DV08", d_id)
    with time_machine.travel(local("2018-11-08 10:00"), tick=False):
        ask = (await client.post(
            f"/v1/assignments/{dv08['id']}/reports",
            json={"kind": "extension_request", "content": "Xin gia hạn", "requested_due_at": local("2018-11-20 00:00").isoformat()},
            headers=sector.auth("DV08"),
        )).json()
        await client.post(f"/v1/reports/{ask['id']}/accept", json={}, headers=issuer)
    events, _ = await read_feed(client, issuer, after=cursor)
    assert [e["type"] for e in events] == ["report.submitted", "assignment.deadline_changed", "report.accepted"]
    changed = events[1]["data"]
    assert changed["assignment_id"] == dv08["id"] and changed["report_id"] == ask["id"]
    assert changed["previous_due_at"].startswith("2018-11-09T17:00:00")
    assert changed["due_at"].startswith("2018-11-19T17:00:00")


async def test_revoking_produces_directive_revoked_and_assignment_cancelled(
    client: httpx.AsyncClient, issued: tuple[Sector, str, int]
) -> None:
    sector, d_id, _ = issued
    issuer = sector.auth("root_issuer")
    _, cursor = await read_feed(client, issuer)
    await client.post(f"/v1/directives/{d_id}/revoke", headers=issuer)
    events, _ = await read_feed(client, issuer, after=cursor)
    cancelled = [e for e in events if e["type"] == "assignment.cancelled"]
    assert len(cancelled) == 13 and {e["data"]["reason"] for e in cancelled} == {"directive_revoked"}
    assert [e["type"] for e in events if e["type"] != "assignment.cancelled"] == ["directive.revoked"]
    assert events[-1]["data"] == {"directive_id": d_id, "assignments_cancelled": 13}
    mine, _ = await read_feed(client, sector.auth("DV03"), types=["assignment.cancelled"])
    assert [e["data"]["unit_id"] for e in mine] == [sector.unit_ids["DV03"]]


async def test_event_of_a_transaction_in_flight_is_not_skipped_once_it_commits(
    client: httpx.AsyncClient, province: Province, db: str
) -> None:
    headers = province.auth("root_issuer")
    _, start = await read_feed(client, headers)
    raw = await asyncpg.connect(db)
    try:
        tx = raw.transaction()
        await tx.start()
        # The shape app/events/service.py `record` writes; txid defaults to this (uncommitted) transaction's id.
        await raw.execute(
            "INSERT INTO events (type, data, scope) VALUES ('test.late_commit', '{}'::jsonb, ARRAY[$1]::uuid[])",
            province.units["SYT"],
        )
        body = {
            "issuer_code": "SYT", "number": "7", "symbol": "SYT-VP", "doc_type": "cong_van", "issued_on": "2024-03-01",
            "subject": "Báo cáo", "tasks": [{"text": "Báo cáo", "lead_codes": ["VP"], "due_on": "2024-03-20", "due_kind": "by"}],
        }
        d = await create_directive(client, headers, body)
        assert (await client.post(f"/v1/directives/{d['id']}/issue", headers=headers)).status_code == 200
        before_commit, kept = await read_feed(client, headers, after=start)
        # Nothing committed after the in-flight transaction began is shown yet either: the feed stops at the
        # oldest running transaction (pg_snapshot_xmin), which is what lets `kept` be safe to poll from.
        assert before_commit == []
        await tx.commit()
    finally:
        await raw.close()
    after_commit, _ = await read_feed(client, headers, after=kept)
    assert [e["type"] for e in after_commit].count("test.late_commit") == 1
    everything = before_commit + after_commit
    assert len({e["id"] for e in everything}) == len(everything)
    assert sorted(e["type"] for e in everything) == ["assignment.created", "directive.issued", "test.late_commit"]


async def test_a_transaction_in_another_database_does_not_hold_back_the_feed(
    client: httpx.AsyncClient, province: Province, db: str
) -> None:
    parts = urlsplit(db)
    elsewhere = await asyncpg.connect(urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, parts.fragment)))
    try:
        tx = elsewhere.transaction()
        await tx.start()
        await elsewhere.fetchval("SELECT pg_current_xact_id()")  # a write transaction: it has a transaction id
        body = {
            "issuer_code": "SYT", "number": "8", "symbol": "SYT-VP", "doc_type": "cong_van", "issued_on": "2024-03-01",
            "subject": "Báo cáo", "tasks": [{"text": "Báo cáo", "lead_codes": ["VP"], "due_on": "2024-03-20", "due_kind": "by"}],
        }
        d = await create_directive(client, province.auth("root_issuer"), body)
        await client.post(f"/v1/directives/{d['id']}/issue", headers=province.auth("root_issuer"))
        events, _ = await read_feed(client, province.auth("root_issuer"))
        await tx.rollback()
    finally:
        await elsewhere.close()
    assert sorted(e["type"] for e in events) == ["assignment.created", "directive.issued"]
