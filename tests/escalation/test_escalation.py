"""Deadline escalation: steps armed at issue, fired exactly once by the scan, never for finished work."""

from __future__ import annotations

import asyncio
from datetime import datetime

import httpx
import pytest
import time_machine
from sqlalchemy import text

from app.db import sessionmaker
from app.escalation.scan import scan_batch, send_digest
from tests.directives.helpers import create_directive, local
from tests.fixtures import Province, metric_sample


def directive(**task: object) -> dict[str, object]:
    return {
        "issuer_code": "SYT", "number": "41", "symbol": "SYT-NVY", "doc_type": "cong_van", "issued_on": "2024-03-01",
        "subject": "Báo cáo công tác tiêm chủng",
        "tasks": [{"text": "Báo cáo", "assignee_codes": ["TYT-TV", "TYT-TG"], "report_to_code": "VP",
                   "due_on": "2024-03-20", "due_kind": "by", **task}],
    }


@pytest.fixture
async def issued(client: httpx.AsyncClient, province: Province) -> dict[str, dict[str, object]]:
    """Issued on 1/3/2024, due by the end of Wednesday 20/3/2024; the stations' assignments by unit code."""
    with time_machine.travel(local("2024-03-01 08:00"), tick=False):
        d = await create_directive(client, province.auth("root_issuer"), directive())
        await client.post(f"/v1/directives/{d['id']}/issue", headers=province.auth("root_issuer"))
    items = (await client.get("/v1/assignments", params={"directive_id": d["id"]}, headers=province.auth("root_issuer"))).json()["items"]
    codes = {str(v): k for k, v in province.units.items()}
    return {codes[a["unit_id"]]: a for a in items}


async def scan(at: str) -> dict[str, int]:
    async with sessionmaker()() as session, session.begin():
        return (await scan_batch(session, local(at).astimezone())).fired


async def escalations(client: httpx.AsyncClient, province: Province, assignment: dict[str, object]) -> list[dict[str, object]]:
    response = await client.get(f"/v1/assignments/{assignment['id']}/escalations", headers=province.auth("root_issuer"))
    assert response.status_code == 200, response.text
    return response.json()


def at_local(value: object) -> str:
    return datetime.fromisoformat(str(value)).astimezone(local("2024-01-01 00:00").tzinfo).strftime("%Y-%m-%d %H:%M")


async def test_issuing_arms_the_default_steps_in_working_days(client: httpx.AsyncClient, province: Province, issued) -> None:  # type: ignore[no-untyped-def]
    steps = await escalations(client, province, issued["TYT-TV"])
    assert [(s["step_key"], at_local(s["fire_at"]), s["status"]) for s in steps] == [
        ("remind_3", "2024-03-15 23:59", "pending"),  # Fri: 3 working days before Wed 20
        ("remind_1", "2024-03-19 23:59", "pending"),
        ("overdue", "2024-03-20 23:59", "pending"),
        ("escalate_1", "2024-03-25 23:59", "pending"),  # Mon: the weekend does not count
        ("escalate_2", "2024-03-29 23:59", "pending"),
    ]


async def test_each_step_fires_once_however_often_the_scan_runs(client: httpx.AsyncClient, province: Province, issued) -> None:  # type: ignore[no-untyped-def]
    assert await scan("2024-03-16 08:00") == {"assignment.due_soon": 2}
    assert await scan("2024-03-16 08:01") == {}
    assert await scan("2024-03-16 09:00") == {}
    steps = await escalations(client, province, issued["TYT-TV"])
    assert [s["status"] for s in steps] == ["fired", "pending", "pending", "pending", "pending"]


async def test_a_late_scan_fires_everything_due_once(client: httpx.AsyncClient, province: Province, issued) -> None:  # type: ignore[no-untyped-def]
    counts = await scan("2024-04-15 08:00")  # the workers were down for weeks
    assert counts == {"assignment.overdue": 2, "assignment.escalated": 4}  # the reminders are too late to send
    assert await scan("2024-04-15 08:05") == {}


async def test_concurrent_scans_never_fire_a_step_twice(client: httpx.AsyncClient, province: Province, issued) -> None:  # type: ignore[no-untyped-def]
    results = await asyncio.gather(*(scan("2024-04-15 08:00") for _ in range(4)))
    total: dict[str, int] = {}
    for counts in results:
        for k, v in counts.items():
            total[k] = total.get(k, 0) + v
    assert total == {"assignment.overdue": 2, "assignment.escalated": 4}


async def test_a_backlog_is_set_aside_a_batch_at_a_time_and_no_late_reminder_fires(issued) -> None:  # type: ignore[no-untyped-def]
    """Six weeks unscanned: four reminders gone stale, six steps due. With one step per batch, the
    stale reminders are skipped one per transaction, and firing passes over those not skipped yet."""
    now = local("2024-04-15 08:00").astimezone()
    batches = []
    while True:
        async with sessionmaker()() as session, session.begin():
            batches.append(await scan_batch(session, now, batch=1))
        if not batches[-1].full(1):
            break
    assert [b.skipped for b in batches[:4]] == [1, 1, 1, 1]
    fired: dict[str, int] = {}
    for b in batches:
        for k, v in b.fired.items():
            fired[k] = fired.get(k, 0) + v
    assert fired == {"assignment.overdue": 2, "assignment.escalated": 4}
    async with sessionmaker()() as session:
        statuses = (await session.execute(text("SELECT kind, status, count(*) FROM escalation_steps GROUP BY 1, 2 ORDER BY 1, 2"))).all()
    assert [tuple(r) for r in statuses] == [("escalation", "fired", 4), ("overdue", "fired", 2), ("reminder", "skipped", 4)]


async def test_completed_assignments_are_never_chased(client: httpx.AsyncClient, province: Province, issued) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(local("2024-03-10 08:00"), tick=False):
        report = await client.post(
            f"/v1/assignments/{issued['TYT-TV']['id']}/reports", json={"kind": "final", "content": "Xong"},
            headers=province.auth("station_member"),
        )
        await client.post(f"/v1/reports/{report.json()['id']}/accept", json={}, headers=province.auth("root_issuer"))
    assert await scan("2024-04-15 08:00") == {"assignment.overdue": 1, "assignment.escalated": 2}
    assert {s["status"] for s in await escalations(client, province, issued["TYT-TV"])} == {"skipped"}


async def test_blocked_assignments_are_not_chased(client: httpx.AsyncClient, province: Province, issued) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(local("2024-03-10 08:00"), tick=False):
        await client.post(
            f"/v1/assignments/{issued['TYT-TV']['id']}/reports", json={"kind": "difficulty", "content": "Thiếu vắc xin"},
            headers=province.auth("station_member"),
        )
    assert await scan("2024-03-21 08:00") == {"assignment.overdue": 1}  # the other station only
    fired = [s for s in await escalations(client, province, issued["TYT-TV"]) if s["status"] == "fired"]
    assert fired == []


async def _pending_due(at: str) -> int:
    """Steps a scan at `at` would still have to look at."""
    async with sessionmaker()() as session:
        return int(await session.scalar(
            text("SELECT count(*) FROM escalation_steps WHERE status = 'pending' AND fire_at <= :now"), {"now": local(at)}
        ) or 0)


async def test_steps_due_while_awaiting_review_are_held_then_chased_when_handed_back(
    client: httpx.AsyncClient, province: Province, issued  # type: ignore[no-untyped-def]
) -> None:
    tv = issued["TYT-TV"]
    with time_machine.travel(local("2024-03-10 08:00"), tick=False):
        report = await client.post(
            f"/v1/assignments/{tv['id']}/reports", json={"kind": "final", "content": "Xong"}, headers=province.auth("station_member")
        )
    assert await scan("2024-03-21 08:00") == {"assignment.overdue": 1}  # the other station only
    statuses = {s["step_key"]: s["status"] for s in await escalations(client, province, tv)}
    # Reminders after the deadline are never sent; the overdue step waits on the review.
    assert statuses == {"remind_3": "skipped", "remind_1": "skipped", "overdue": "held", "escalate_1": "pending", "escalate_2": "pending"}
    assert await _pending_due("2024-03-21 08:00") == 0  # the next scans have nothing to re-examine
    assert await scan("2024-03-21 08:01") == {}
    with time_machine.travel(local("2024-03-22 08:00"), tick=False):
        returned = await client.post(
            f"/v1/reports/{report.json()['id']}/return", json={"comment": "Thiếu số liệu"}, headers=province.auth("root_issuer")
        )
        assert returned.status_code == 200, returned.text
    assert await scan("2024-03-22 09:00") == {"assignment.overdue": 1}  # late now, so chased as late
    statuses = {s["step_key"]: s["status"] for s in await escalations(client, province, tv)}
    assert statuses == {"remind_3": "skipped", "remind_1": "skipped", "overdue": "fired", "escalate_1": "pending", "escalate_2": "pending"}


async def test_a_difficulty_kept_releases_its_held_steps(client: httpx.AsyncClient, province: Province, issued) -> None:  # type: ignore[no-untyped-def]
    tv = issued["TYT-TV"]
    with time_machine.travel(local("2024-03-18 08:00"), tick=False):
        report = await client.post(
            f"/v1/assignments/{tv['id']}/reports", json={"kind": "difficulty", "content": "Thiếu vắc xin"},
            headers=province.auth("station_member"),
        )
    assert await scan("2024-03-20 00:30") == {"assignment.due_soon": 2}  # the other station's two reminders
    assert [s["status"] for s in await escalations(client, province, tv)][:2] == ["held", "held"]
    with time_machine.travel(local("2024-03-20 08:00"), tick=False):
        kept = await client.post(
            f"/v1/reports/{report.json()['id']}/accept", json={"decision": "keep"}, headers=province.auth("root_issuer")
        )
        assert kept.status_code == 200, kept.text
    assert await scan("2024-03-20 08:01") == {"assignment.due_soon": 2}  # still before the deadline: both reminders go
    assert [s["status"] for s in await escalations(client, province, tv)][:2] == ["fired", "fired"]


async def test_an_extension_rearms_only_the_steps_still_ahead(client: httpx.AsyncClient, province: Province, issued) -> None:  # type: ignore[no-untyped-def]
    await scan("2024-03-16 08:00")  # remind_3 has fired
    with time_machine.travel(local("2024-03-18 08:00"), tick=False):
        request = await client.post(
            f"/v1/assignments/{issued['TYT-TV']['id']}/reports",
            json={"kind": "extension_request", "content": "Xin gia hạn", "requested_due_at": local("2024-04-10 00:00").isoformat()},
            headers=province.auth("station_member"),
        )
        await client.post(f"/v1/reports/{request.json()['id']}/accept", json={}, headers=province.auth("root_issuer"))
    steps = await escalations(client, province, issued["TYT-TV"])
    old = [s["step_key"] for s in steps if at_local(s["due_at"]) == "2024-03-20 23:59"]
    new = [(s["step_key"], s["status"]) for s in steps if at_local(s["due_at"]) == "2024-04-10 00:00"]
    assert old == ["remind_3"]  # what fired stays on record; what had not fired against the old deadline is gone
    assert [k for k, _ in new] == ["remind_3", "remind_1", "overdue", "escalate_1", "escalate_2"]
    assert await scan("2024-03-21 08:00") == {"assignment.overdue": 1}  # only the other station is late now


async def test_escalation_event_names_who_is_told(client: httpx.AsyncClient, province: Province, issued) -> None:  # type: ignore[no-untyped-def]
    await scan("2024-03-26 08:00")
    feed = (await client.get("/v1/events", params={"types": "assignment.escalated"}, headers=province.auth("root_issuer"))).json()
    event = next(e for e in feed["items"] if e["data"]["unit_id"] == str(province.units["TYT-TV"]))
    assert event["data"]["level"] == 1 and event["data"]["step"] == "escalate_1"
    assert {(n["audience"], n["unit_id"]) for n in event["data"]["notify"]} == {
        ("parent", str(province.units["TTYT-TH"])), ("report_to", str(province.units["VP"]))
    }
    centre = (await client.get("/v1/events", params={"types": "assignment.escalated"}, headers=province.auth("centre_admin"))).json()
    assert len(centre["items"]) == 2  # the parent sees its stations' escalations


async def test_daily_digest_goes_once_per_day(client: httpx.AsyncClient, province: Province, issued) -> None:  # type: ignore[no-untyped-def]
    now = local("2024-03-19 08:00")
    async with sessionmaker()() as session, session.begin():
        first = await send_digest(session, now.date(), now)
    async with sessionmaker()() as session, session.begin():
        again = await send_digest(session, now.date(), now)
    assert (first, again) == (2, None)
    feed = (await client.get("/v1/events", params={"types": "unit.digest"}, headers=province.auth("station_member"))).json()
    assert [(e["data"]["due_soon"], e["data"]["overdue"]) for e in feed["items"]] == [(1, 0)]
    assert feed["items"][0]["data"]["due_soon_ids"] == [issued["TYT-TV"]["id"]]


async def test_steps_fired_by_any_worker_are_counted_on_the_api_metrics(client: httpx.AsyncClient, province: Province, issued) -> None:  # type: ignore[no-untyped-def]
    from redis.asyncio import Redis

    from app.ops import worker_metrics
    from app.settings import get_settings

    name = "dondoc_workers_escalation_steps_fired_total"
    redis = Redis.from_url(get_settings().redis_url)
    try:
        await worker_metrics.flush(redis)  # what earlier tests' scans counted in this process
        before = (await client.get("/metrics")).text
        assert await scan("2024-04-15 08:00") == {"assignment.overdue": 2, "assignment.escalated": 4}
        await worker_metrics.flush(redis)  # what each worker does after every job
        after = (await client.get("/metrics")).text
    finally:
        await redis.aclose()
    assert metric_sample(after, name, "overdue") - metric_sample(before, name, "overdue") == 2
    assert metric_sample(after, name, "escalate_1") - metric_sample(before, name, "escalate_1") == 2
    assert metric_sample(after, name, "escalate_2") - metric_sample(before, name, "escalate_2") == 2
    assert metric_sample(after, name, "remind_3") == metric_sample(before, name, "remind_3")
    assert "dondoc_workers_deadline_scan_seconds_total" in after
