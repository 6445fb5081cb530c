"""Scale-out: two API processes and two workers on one database lose no event and double none.

Real processes: two `dondoc serve` on their own ports, two `dondoc worker`, a real webhook
receiver. Writes go through both APIs at once (directives issued, reports submitted) while two
readers page the event feed, one through each API; deadlines pass during the test and both
workers run the deadline scan at once. Then: every event is in the database exactly as the
writes imply, each reader saw each of them exactly once, each escalation step fired once, and
the receiver got every event's webhook-id once.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from app.settings import get_settings
from tests.fixtures import Province
from tests.processes import free_port, start_api, wait_healthy
from tests.webhooks.receiver import Receiver, arq_pool, start_worker, stop

DIRECTIVES_PER_API = 3
UNITS = ["TYT-TV", "TYT-TG", "BVDK"]  # each directive: one assignment per unit
DUE_IN_S = 8.0  # the first directive of each API falls due during the test


async def issue(api: httpx.AsyncClient, province: Province, number: str, due_at: datetime) -> list[str]:
    """Create and issue a directive with one task for UNITS; returns the station TYT-TV's assignment id."""
    body = {
        "issuer_code": "SYT", "number": number, "symbol": "SYT-VP", "doc_type": "cong_van", "issued_on": str(date.today()),
        "subject": "Báo cáo tình hình phòng chống dịch",
        "tasks": [{"text": "Báo cáo kết quả", "assignee_codes": UNITS, "due_at": due_at.isoformat()}],
    }
    created = await api.post("/v1/directives", json=body, headers=province.auth("root_issuer"))
    assert created.status_code == 201, created.text
    issued = await api.post(f"/v1/directives/{created.json()['id']}/issue", headers=province.auth("root_issuer"))
    assert issued.status_code == 200, issued.text
    page = await api.get("/v1/assignments", params={"directive_id": created.json()["id"]}, headers=province.auth("root_issuer"))
    return [a["id"] for a in page.json()["items"] if a["unit_id"] == str(province.units["TYT-TV"])]


async def report(api: httpx.AsyncClient, province: Province, assignment_id: str) -> None:
    body = {"kind": "progress", "content": "Đang triển khai"}
    answer = await api.post(f"/v1/assignments/{assignment_id}/reports", json=body, headers=province.auth("station_member"))
    assert answer.status_code == 201, answer.text


class FeedReader:
    """Pages GET /v1/events through one API until told to stop and caught up."""

    def __init__(self, api: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.api, self.headers = api, headers
        self.ids: list[int] = []
        self.cursor: str | None = None

    async def page(self) -> int:
        params: dict[str, Any] = {"limit": 7, **({"after": self.cursor} if self.cursor else {})}
        answer = await self.api.get("/v1/events", params=params, headers=self.headers)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        self.ids += [e["id"] for e in body["items"]]
        self.cursor = body["next_cursor"]
        return len(body["items"])

    async def run(self, stop_reading: asyncio.Event, total: asyncio.Future[int]) -> None:
        while not stop_reading.is_set():
            if not await self.page():
                await asyncio.sleep(0.05)
        expected = await total
        deadline = time.monotonic() + 20
        while len(self.ids) < expected and time.monotonic() < deadline:
            if not await self.page():
                await asyncio.sleep(0.05)
        await self.page()  # one more: anything beyond the expected would show up here


async def db_rows(query: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(get_settings().database_url)
    try:
        return list(await conn.fetch(query))
    finally:
        await conn.close()


async def nudge_workers(jobs: list[str]) -> None:
    """Enqueue jobs the workers also run on their crons, so both may run them now and at once."""
    pool = await arq_pool()
    try:
        for name in jobs:
            await pool.enqueue_job(f"cron:{name}", _job_id=f"{name}:{uuid.uuid4().hex}")
    finally:
        await pool.aclose()


async def test_two_apis_and_two_workers_lose_no_event_and_double_none(
    province: Province, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "webhook_allow_private", True)
    receiver = Receiver()
    hook_url = await receiver.start()
    ports = [free_port(), free_port()]
    processes = [start_api(port) for port in ports]
    try:
        processes += [start_worker(), start_worker()]
        await asyncio.gather(*(wait_healthy(f"http://127.0.0.1:{p}", proc) for p, proc in zip(ports, processes, strict=False)))
        apis = [httpx.AsyncClient(base_url=f"http://127.0.0.1:{p}", timeout=30) for p in ports]
        try:
            await _scenario(apis, province, hook_url, receiver)
        finally:
            for api in apis:
                await api.aclose()
    finally:
        for process in processes:
            stop(process)
        await receiver.close()


async def _scenario(apis: list[httpx.AsyncClient], province: Province, hook_url: str, receiver: Receiver) -> None:
    hook = await apis[0].post(
        "/v1/webhooks", json={"url": hook_url, "event_types": ["*"]}, headers=province.auth("root_admin")
    )
    assert hook.status_code == 201, hook.text
    stop_reading, total = asyncio.Event(), asyncio.get_running_loop().create_future()
    readers = [FeedReader(api, province.auth("root_reader")) for api in apis]
    reading = [asyncio.create_task(r.run(stop_reading, total)) for r in readers]

    # Writes through both APIs at once: directives (the first of each falls due soon), then reports on them.
    now = datetime.now(UTC)

    async def writes(index: int, api: httpx.AsyncClient) -> list[str]:
        station_assignments = []
        for n in range(DIRECTIVES_PER_API):
            due = now + timedelta(seconds=DUE_IN_S) if n == 0 else now + timedelta(days=30)
            station_assignments += await issue(api, province, f"{index + 1}{n:02d}", due)
        return station_assignments

    station_assignments = [a for batch in await asyncio.gather(*(writes(i, api) for i, api in enumerate(apis))) for a in batch]
    await asyncio.gather(*(report(api, province, a) for a in station_assignments for api in apis))
    directives = 2 * DIRECTIVES_PER_API
    due_soon = 2 * len(UNITS)  # the first directive of each API

    # The deadlines pass; both workers scan at once (their crons may run it too).
    await asyncio.sleep(max(0.0, (now + timedelta(seconds=DUE_IN_S) - datetime.now(UTC)).total_seconds()) + 0.2)
    await nudge_workers(["deadline_scan"] * 4)

    async def overdue_fired() -> bool:
        rows = await db_rows("SELECT count(*) AS n FROM escalation_steps WHERE status = 'fired'")
        return rows[0]["n"] >= due_soon

    deadline = time.monotonic() + 20
    while not await overdue_fired():
        assert time.monotonic() < deadline, "the deadline scan did not fire the due steps"
        await nudge_workers(["deadline_scan"])
        await asyncio.sleep(0.3)

    expected = Counter({
        "directive.issued": directives, "assignment.created": directives * len(UNITS),
        "report.submitted": 2 * len(station_assignments), "assignment.overdue": due_soon,
    })
    events = await db_rows("SELECT id, type, data->>'assignment_id' AS assignment_id FROM events ORDER BY id")
    assert Counter(e["type"] for e in events if e["type"] in expected) == expected  # nothing lost, nothing extra
    overdue = Counter(e["assignment_id"] for e in events if e["type"] == "assignment.overdue")
    assert len(overdue) == due_soon and set(overdue.values()) == {1}  # each step fired once
    fired = await db_rows("SELECT assignment_id, step_key, count(*) AS n FROM escalation_steps WHERE status = 'fired' GROUP BY 1, 2")
    assert len(fired) == due_soon and {r["n"] for r in fired} == {1}

    # Both feeds, read while all this happened, hold every event exactly once.
    stop_reading.set()
    total.set_result(len(events))
    await asyncio.wait_for(asyncio.gather(*reading), timeout=30)
    for reader in readers:
        assert len(reader.ids) == len(set(reader.ids)), "an event was read twice"
        assert sorted(reader.ids) == [e["id"] for e in events], "the feed skipped or invented an event"

    # The receiver got every event's webhook-id, and none twice with a success.
    everything = {str(e["id"]) for e in events}
    deadline = time.monotonic() + 30
    while set(receiver.ids_delivered()) < everything:
        assert time.monotonic() < deadline, f"{len(everything - set(receiver.ids_delivered()))} events never delivered"
        await nudge_workers(["relay_outbox", "sweep_deliveries"])
        await asyncio.sleep(0.5)
    await asyncio.sleep(1.0)  # a doubled delivery would arrive now
    delivered = Counter(receiver.ids_delivered())
    assert set(delivered) == everything and set(delivered.values()) == {1}
