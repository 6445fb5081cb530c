"""Reports: who may submit what in which state, the issuer side's decisions, and races between them."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
import time_machine

from app.reports import service as reports_service
from tests.directives.helpers import assignment_of, build_sector, create_directive, directive_2206, local
from tests.fixtures import Province, sql


@pytest.fixture
async def issued(client: httpx.AsyncClient, province: Province):  # type: ignore[no-untyped-def]
    sector = await build_sector(client, province)
    with time_machine.travel(local("2018-08-28 08:00"), tick=False):
        d = await create_directive(client, province.auth("root_issuer"), directive_2206())
        await client.post(f"/v1/directives/{d['id']}/issue", headers=province.auth("root_issuer"))
    return sector, d["id"]


async def submit(client: httpx.AsyncClient, headers: dict[str, str], assignment_id: str, **body: object) -> httpx.Response:
    return await client.post(f"/v1/assignments/{assignment_id}/reports", json={"content": "Nội dung", **body}, headers=headers)


@time_machine.travel(local("2018-10-01 09:00"), tick=False)
async def test_member_cannot_report_on_another_units_assignment(client: httpx.AsyncClient, issued) -> None:  # type: ignore[no-untyped-def]
    sector, d_id = issued
    other = await assignment_of(sector, "DV02", d_id)
    response = await submit(client, sector.auth("DV01"), other["id"], kind="final")
    assert response.status_code == 404


@time_machine.travel(local("2018-10-01 09:00"), tick=False)
async def test_report_to_unit_sees_but_cannot_report_for_the_unit(client: httpx.AsyncClient, issued) -> None:  # type: ignore[no-untyped-def]
    sector, d_id = issued
    dv01 = await assignment_of(sector, "DV01", d_id)
    response = await submit(client, sector.auth("VP"), dv01["id"], kind="final")
    assert response.status_code == 403


@time_machine.travel(local("2018-10-01 09:00"), tick=False)
async def test_a_refused_report_writes_nothing(client: httpx.AsyncClient, issued) -> None:  # type: ignore[no-untyped-def]
    """Wrong unit, the issuer's side, a coordinating unit's final, an extension not later: no row, event or audit entry."""
    sector, d_id = issued
    dv01, dv02, khtc = [await assignment_of(sector, name, d_id) for name in ("DV01", "DV02", "KHTC")]
    later_not = local("2018-11-01 00:00").isoformat()

    async def written() -> tuple[object, ...]:
        counts = await sql(
            "SELECT (SELECT count(*) FROM reports), (SELECT count(*) FROM events WHERE type = 'report.submitted'), "
            "(SELECT count(*) FROM audit_log WHERE action = 'report.submitted'), "
            "(SELECT array_agg(version ORDER BY id) FROM assignments WHERE directive_id = $1)",
            UUID(d_id),
        )
        return tuple(counts[0])

    before = await written()
    refused = [
        await submit(client, sector.auth("DV01"), dv02["id"], kind="progress"),
        await submit(client, sector.auth("VP"), dv01["id"], kind="progress"),
        await submit(client, sector.auth("KHTC"), khtc["id"], kind="final"),
        await submit(client, sector.auth("DV01"), dv01["id"], kind="extension_request", requested_due_at=later_not),
    ]
    assert [r.status_code for r in refused] == [404, 403, 409, 422]
    assert all(r.headers["content-type"] == "application/problem+json" for r in refused)
    assert await written() == before


@time_machine.travel(local("2018-10-01 09:00"), tick=False)
async def test_progress_report_starts_the_work(client: httpx.AsyncClient, issued) -> None:  # type: ignore[no-untyped-def]
    sector, d_id = issued
    dv01 = await assignment_of(sector, "DV01", d_id)
    response = await submit(client, sector.auth("DV01"), dv01["id"], kind="progress", figures={"done": 6, "of": 10})
    assert response.json()["status"] == "received"
    assert (await assignment_of(sector, "DV01", d_id))["status"] == "in_progress"


@time_machine.travel(local("2018-10-01 09:00"), tick=False)
async def test_acknowledge_moves_pending_to_in_progress_once(client: httpx.AsyncClient, issued) -> None:  # type: ignore[no-untyped-def]
    sector, d_id = issued
    dv01 = await assignment_of(sector, "DV01", d_id)
    first = await client.post(f"/v1/assignments/{dv01['id']}/acknowledge", headers=sector.auth("DV01"))
    again = await client.post(f"/v1/assignments/{dv01['id']}/acknowledge", headers=sector.auth("DV01"))
    assert first.json()["status"] == "in_progress"
    assert again.json()["acknowledged_at"] == first.json()["acknowledged_at"]


@time_machine.travel(local("2018-10-01 09:00"), tick=False)
async def test_second_final_while_one_awaits_review_is_409(client: httpx.AsyncClient, issued) -> None:  # type: ignore[no-untyped-def]
    sector, d_id = issued
    dv01 = await assignment_of(sector, "DV01", d_id)
    await submit(client, sector.auth("DV01"), dv01["id"], kind="final")
    again = await submit(client, sector.auth("DV01"), dv01["id"], kind="final")
    assert again.status_code == 409 and again.json()["current_status"] == "submitted"


@time_machine.travel(local("2018-10-01 09:00"), tick=False)
async def test_coordinating_unit_sends_no_final_report(client: httpx.AsyncClient, issued) -> None:  # type: ignore[no-untyped-def]
    sector, d_id = issued
    khtc = await assignment_of(sector, "KHTC", d_id)
    response = await submit(client, sector.auth("KHTC"), khtc["id"], kind="final")
    assert response.status_code == 409


@time_machine.travel(local("2018-10-01 09:00"), tick=False)
async def test_extension_must_ask_for_a_later_date(client: httpx.AsyncClient, issued) -> None:  # type: ignore[no-untyped-def]
    sector, d_id = issued
    dv01 = await assignment_of(sector, "DV01", d_id)
    response = await submit(
        client, sector.auth("DV01"), dv01["id"], kind="extension_request", requested_due_at=local("2018-11-01 00:00").isoformat()
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "requested_due_at"


@time_machine.travel(local("2018-10-01 09:00"), tick=False)
async def test_extension_without_a_date_is_422(client: httpx.AsyncClient, issued) -> None:  # type: ignore[no-untyped-def]
    sector, d_id = issued
    dv01 = await assignment_of(sector, "DV01", d_id)
    assert (await submit(client, sector.auth("DV01"), dv01["id"], kind="extension_request")).status_code == 422


@time_machine.travel(local("2018-10-01 09:00"), tick=False)
async def test_returned_final_report_sends_the_assignment_back(client: httpx.AsyncClient, issued) -> None:  # type: ignore[no-untyped-def]
    sector, d_id = issued
    dv01 = await assignment_of(sector, "DV01", d_id)
    report = (await submit(client, sector.auth("DV01"), dv01["id"], kind="final")).json()
    no_comment = await client.post(f"/v1/reports/{report['id']}/return", json={}, headers=sector.auth("root_issuer"))
    assert no_comment.status_code == 422
    returned = await client.post(
        f"/v1/reports/{report['id']}/return", json={"comment": "Thiếu số liệu"}, headers=sector.auth("root_issuer")
    )
    assert returned.json()["status"] == "returned" and returned.json()["decision_comment"] == "Thiếu số liệu"
    assert (await assignment_of(sector, "DV01", d_id))["status"] == "in_progress"


@time_machine.travel(local("2018-10-01 09:00"), tick=False)
async def test_members_and_readers_cannot_decide_reports(client: httpx.AsyncClient, issued) -> None:  # type: ignore[no-untyped-def]
    sector, d_id = issued
    dv01 = await assignment_of(sector, "DV01", d_id)
    report = (await submit(client, sector.auth("DV01"), dv01["id"], kind="final")).json()
    for key in ("DV01", "root_reader", "VP"):
        response = await client.post(f"/v1/reports/{report['id']}/accept", json={}, headers=sector.auth(key))
        assert response.status_code == 403, key


@time_machine.travel(local("2018-10-01 09:00"), tick=False)
async def test_report_to_units_issuer_key_may_decide(client: httpx.AsyncClient, issued, province: Province) -> None:  # type: ignore[no-untyped-def]
    sector, d_id = issued
    vp_issuer = (
        await client.post("/v1/api-keys", json={"name": "vp", "role": "issuer", "unit_code": "VP"}, headers=province.auth("root_admin"))
    ).json()["secret"]
    dv01 = await assignment_of(sector, "DV01", d_id)
    report = (await submit(client, sector.auth("DV01"), dv01["id"], kind="final")).json()
    response = await client.post(f"/v1/reports/{report['id']}/accept", json={}, headers={"X-API-Key": vp_issuer})
    assert response.status_code == 200


@time_machine.travel(local("2018-10-01 09:00"), tick=False)
async def test_difficulty_needs_a_decision(client: httpx.AsyncClient, issued) -> None:  # type: ignore[no-untyped-def]
    sector, d_id = issued
    dv01 = await assignment_of(sector, "DV01", d_id)
    report = (await submit(client, sector.auth("DV01"), dv01["id"], kind="difficulty")).json()
    assert (await assignment_of(sector, "DV01", d_id))["status"] == "blocked"
    missing = await client.post(f"/v1/reports/{report['id']}/accept", json={}, headers=sector.auth("root_issuer"))
    assert missing.status_code == 422
    extended = await client.post(
        f"/v1/reports/{report['id']}/accept",
        json={"decision": "extend", "new_due_at": local("2018-12-01 00:00").isoformat()},
        headers=sector.auth("root_issuer"),
    )
    assert extended.json()["decision"] == "extend"
    after = await assignment_of(sector, "DV01", d_id)
    assert after["status"] == "in_progress" and after["due_at"] == "2018-11-30T17:00:00Z"


@time_machine.travel(local("2018-10-01 09:00"), tick=False)
async def test_concurrent_accept_and_return_exactly_one_wins(client: httpx.AsyncClient, issued) -> None:  # type: ignore[no-untyped-def]
    sector, d_id = issued
    dv01 = await assignment_of(sector, "DV01", d_id)
    report = (await submit(client, sector.auth("DV01"), dv01["id"], kind="final")).json()
    headers = sector.auth("root_issuer")
    results = await asyncio.gather(
        client.post(f"/v1/reports/{report['id']}/accept", json={}, headers=headers),
        client.post(f"/v1/reports/{report['id']}/return", json={"comment": "Thiếu"}, headers=headers),
    )
    assert sorted(r.status_code for r in results) == [200, 409]
    final = (await client.get(f"/v1/reports/{report['id']}", headers=headers)).json()
    winner = next(r for r in results if r.status_code == 200).json()
    assert final["status"] == winner["status"]


@time_machine.travel(local("2018-10-01 09:00"), tick=False)
async def test_report_submission_is_idempotent(client: httpx.AsyncClient, issued) -> None:  # type: ignore[no-untyped-def]
    sector, d_id = issued
    dv01 = await assignment_of(sector, "DV01", d_id)
    headers = {**sector.auth("DV01"), "Idempotency-Key": "his-report-1"}
    first = await client.post(f"/v1/assignments/{dv01['id']}/reports", json={"kind": "progress", "content": "50%"}, headers=headers)
    again = await client.post(f"/v1/assignments/{dv01['id']}/reports", json={"kind": "progress", "content": "50%"}, headers=headers)
    assert first.json()["id"] == again.json()["id"]
    listed = await client.get("/v1/reports", params={"assignment_id": dv01["id"]}, headers=sector.auth("DV01"))
    assert len(listed.json()["items"]) == 1


async def _report_writes(assignment_id: str) -> tuple[object, ...]:
    """The assignment's version and its reports, report events and report audit entries."""
    rows = await sql(
        "SELECT (SELECT version FROM assignments WHERE id = $1), (SELECT count(*) FROM reports WHERE assignment_id = $1), "
        "(SELECT count(*) FROM events WHERE type = 'report.submitted' AND data->>'assignment_id' = $1::text), "
        "(SELECT count(*) FROM audit_log a JOIN reports r ON r.id = a.entity_id "
        " WHERE a.action = 'report.submitted' AND r.assignment_id = $1)",
        UUID(assignment_id),
    )
    return tuple(rows[0])


@time_machine.travel(local("2018-10-01 09:00"), tick=False)
async def test_every_report_moves_the_assignments_version(client: httpx.AsyncClient, issued) -> None:  # type: ignore[no-untyped-def]
    """Even one that leaves its status as it was: a report decided on a state must not land on another."""
    sector, d_id = issued
    dv01 = await assignment_of(sector, "DV01", d_id)
    await submit(client, sector.auth("DV01"), dv01["id"], kind="progress")
    version, *_ = await _report_writes(dv01["id"])
    asked = await submit(client, sector.auth("DV01"), dv01["id"], kind="extension_request", requested_due_at=local("2018-12-01 00:00").isoformat())
    assert asked.status_code == 201
    assert await _report_writes(dv01["id"]) == (version + 1, 2, 2, 2)
    assert (await assignment_of(sector, "DV01", d_id))["status"] == "in_progress"


@time_machine.travel(local("2018-10-01 09:00"), tick=False)
async def test_a_report_decided_on_a_state_that_changed_is_decided_again(  # type: ignore[no-untyped-def]
    client: httpx.AsyncClient, issued, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the unit's read and its write the issuer completes the assignment: the progress report,
    allowed on the state read, must not land on the new one (nor put `completed` back to `submitted`)."""
    sector, d_id = issued
    dv01 = await assignment_of(sector, "DV01", d_id)
    final = (await submit(client, sector.auth("DV01"), dv01["id"], kind="final")).json()
    real_write = reports_service._write
    written: list[bool] = []

    async def issuer_accepts_first(*args: Any, **kwargs: Any) -> bool:
        if not written:
            accepted = await client.post(f"/v1/reports/{final['id']}/accept", json={}, headers=sector.auth("root_issuer"))
            assert accepted.status_code == 200
        written.append(await real_write(*args, **kwargs))
        return written[-1]

    monkeypatch.setattr(reports_service, "_write", issuer_accepts_first)
    version, reports_before, *_ = await _report_writes(dv01["id"])
    late = await submit(client, sector.auth("DV01"), dv01["id"], kind="progress")
    assert written == [False]  # decided on `submitted`, refused at the write, decided again on `completed`
    assert late.status_code == 409 and late.json()["current_status"] == "completed"
    after = await _report_writes(dv01["id"])
    assert after[:2] == (version + 1, reports_before)  # the accept's version move, no new report
    assert (await assignment_of(sector, "DV01", d_id))["status"] == "completed"


@time_machine.travel(local("2018-10-01 09:00"), tick=False)
async def test_a_report_that_never_finds_the_state_it_read_gives_up_with_409(  # type: ignore[no-untyped-def]
    client: httpx.AsyncClient, issued, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each write finds the assignment changed again: after a bounded number of attempts the unit is
    told to send again, and nothing was written."""
    sector, d_id = issued
    dv01 = await assignment_of(sector, "DV01", d_id)
    attempts: list[int] = []

    async def always_changed(*args: Any, **kwargs: Any) -> bool:
        attempts.append(1)
        return False

    monkeypatch.setattr(reports_service, "_write", always_changed)
    before = await _report_writes(dv01["id"])
    response = await submit(client, sector.auth("DV01"), dv01["id"], kind="progress")
    assert response.status_code == 409 and response.headers["content-type"] == "application/problem+json"
    assert "send it again" in response.json()["detail"]
    assert len(attempts) == reports_service._ATTEMPTS
    assert await _report_writes(dv01["id"]) == before


@time_machine.travel(local("2018-10-01 09:00"), tick=False)
async def test_concurrent_reports_on_one_assignment_all_land_once(client: httpx.AsyncClient, issued) -> None:  # type: ignore[no-untyped-def]
    """Submissions lock nothing: one decided on a state another has changed is decided again, not lost or doubled."""
    sector, d_id = issued
    dv01 = await assignment_of(sector, "DV01", d_id)
    version, *_ = await _report_writes(dv01["id"])
    results = await asyncio.gather(*[
        submit(client, sector.auth("DV01"), dv01["id"], kind="progress", content=f"Báo cáo {n}") for n in range(6)
    ])
    assert [r.status_code for r in results] == [201] * 6
    assert await _report_writes(dv01["id"]) == (version + 6, 6, 6, 6)
    listed = await client.get("/v1/reports", params={"assignment_id": dv01["id"]}, headers=sector.auth("DV01"))
    assert sorted(r["content"] for r in listed.json()["items"]) == [f"Báo cáo {n}" for n in range(6)]


@time_machine.travel(local("2018-10-01 09:00"), tick=False)
async def test_of_two_concurrent_extension_requests_one_awaits_a_decision(client: httpx.AsyncClient, issued) -> None:  # type: ignore[no-untyped-def]
    sector, d_id = issued
    dv01 = await assignment_of(sector, "DV01", d_id)
    later = [local(day).isoformat() for day in ("2018-12-01 00:00", "2018-12-15 00:00")]
    results = await asyncio.gather(*[
        submit(client, sector.auth("DV01"), dv01["id"], kind="extension_request", requested_due_at=day) for day in later
    ])
    assert sorted(r.status_code for r in results) == [201, 409]
    refused = next(r for r in results if r.status_code == 409).json()
    accepted = next(r for r in results if r.status_code == 201).json()
    assert refused["pending_report_id"] == accepted["id"]
    pending = await sql("SELECT count(*) FROM reports WHERE assignment_id = $1 AND kind = 'extension_request'", UUID(dv01["id"]))
    assert pending[0][0] == 1


@time_machine.travel(local("2018-10-01 09:00"), tick=False)
async def test_a_resent_external_id_names_the_report_it_sent(client: httpx.AsyncClient, issued) -> None:  # type: ignore[no-untyped-def]
    sector, d_id = issued
    dv01 = await assignment_of(sector, "DV01", d_id)
    first = await submit(client, sector.auth("DV01"), dv01["id"], kind="progress", external_id="HIS-7")
    before = await _report_writes(dv01["id"])
    again = await submit(client, sector.auth("DV01"), dv01["id"], kind="final", external_id="HIS-7")
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"
    assert (again.json()["field"], again.json()["existing_id"]) == ("external_id", first.json()["id"])
    assert await _report_writes(dv01["id"]) == before


@time_machine.travel(local("2018-10-01 09:00"), tick=False)
async def test_one_external_id_sent_at_once_on_two_assignments_lands_once(client: httpx.AsyncClient, issued) -> None:  # type: ignore[no-untyped-def]
    """The unit's external_id is unique across its assignments: the database decides between two in flight."""
    sector, d_id = issued
    other_body = {**directive_2206(), "number": "2207"}
    other = await create_directive(client, sector.auth("root_issuer"), other_body)
    await client.post(f"/v1/directives/{other['id']}/issue", headers=sector.auth("root_issuer"))
    ids = [(await assignment_of(sector, "DV01", d))["id"] for d in (d_id, other["id"])]
    before = [await _report_writes(a) for a in ids]
    results = await asyncio.gather(*[submit(client, sector.auth("DV01"), a, kind="progress", external_id="HIS-8") for a in ids])
    assert sorted(r.status_code for r in results) == [201, 409]
    assert next(r for r in results if r.status_code == 409).json()["field"] == "external_id"
    after = [await _report_writes(a) for a in ids]
    assert sorted(a[1] - b[1] for a, b in zip(after, before, strict=True)) == [0, 1]  # one report in all
    assert sorted(a[2] - b[2] for a, b in zip(after, before, strict=True)) == [0, 1]  # and one event
    assert sorted(a[0] - b[0] for a, b in zip(after, before, strict=True)) == [0, 1]  # one version moved


@time_machine.travel(local("2018-10-01 09:00"), tick=False)
async def test_attachment_must_be_a_link(client: httpx.AsyncClient, issued) -> None:  # type: ignore[no-untyped-def]
    sector, d_id = issued
    dv01 = await assignment_of(sector, "DV01", d_id)
    response = await submit(client, sector.auth("DV01"), dv01["id"], kind="progress", attachments=[{"url": "not a url"}])
    assert response.status_code == 422 and response.json()["errors"][0]["field"].startswith("attachments[0]")


async def test_audit_trail_records_decisions_for_admins(client: httpx.AsyncClient, issued, province: Province) -> None:  # type: ignore[no-untyped-def]
    sector, d_id = issued
    with time_machine.travel(local("2018-10-01 09:00"), tick=False):
        dv01 = await assignment_of(sector, "DV01", d_id)
        report = (await submit(client, sector.auth("DV01"), dv01["id"], kind="final")).json()
        await client.post(f"/v1/reports/{report['id']}/accept", json={"comment": "Tốt"}, headers=sector.auth("root_issuer"))
    trail = await client.get("/v1/audit", params={"entity_id": report["id"]}, headers=province.auth("root_admin"))
    assert [e["action"] for e in trail.json()["items"]] == ["report.accepted", "report.submitted"]
    assert (await client.get("/v1/audit", headers=province.auth("root_issuer"))).status_code == 403
    scoped = await client.get("/v1/audit", params={"entity_id": report["id"]}, headers=province.auth("centre_admin"))
    assert scoped.json()["items"] == []


async def test_an_assignment_belongs_to_its_tasks_directive(client: httpx.AsyncClient, issued) -> None:  # type: ignore[no-untyped-def]
    """One foreign key holds an assignment's task and directive together: neither can point elsewhere."""
    sector, d_id = issued
    dv01 = await assignment_of(sector, "DV01", d_id)
    other = await create_directive(client, sector.auth("root_issuer"), {**directive_2206(), "number": "2207"})
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="fk_assignments_directive_task_tasks"):
        await sql("UPDATE assignments SET directive_id = $1 WHERE id = $2", UUID(other["id"]), UUID(dv01["id"]))
    other_task = (await sql("SELECT id FROM tasks WHERE directive_id = $1 LIMIT 1", UUID(other["id"])))[0]["id"]
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="fk_assignments_directive_task_tasks"):
        await sql("UPDATE assignments SET task_id = $1 WHERE id = $2", other_task, UUID(dv01["id"]))
    assert [r["directive_id"] for r in await sql("SELECT directive_id FROM assignments WHERE id = $1", UUID(dv01["id"]))] == [UUID(d_id)]
