"""The phases that are not request mixes: the deadline scan, webhook delivery, and bulk imports.

Deadline scan: what bench/scan_bench.py does (move `due` chased assignments' pending steps to a
minute ago, time one scan batch that fires them, writes their events and commits), on the
national data and before any worker runs; then a scan with nothing new due, which still walks
the steps of assignments awaiting review.

Webhooks: one endpoint (a receiver in its own process answering 204 at once, keep-alive)
subscribed to one province; `events` events written into the outbox; the running worker relays
and delivers them. The rate is counted from the first delivery, as bench/webhook_bench.py does.

Imports (the NDJSON import API): a province being onboarded on the national instance, under a
35th root — its units, then its directives issued on import. Into the national database rather
than a fresh one on purpose: the rows land in tables and indexes of national size, through the
same API process and worker, which is what onboarding a province costs in production.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import time
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import orjson

from bench.national.load import percentile
from bench.webhook_bench import receiver


async def deadline_scan(url: str, now: datetime, due: int) -> dict[str, Any]:
    from app.db import dispose_engine
    from bench.scan_bench import time_scan

    conn = await asyncpg.connect(url)
    try:
        pending = await conn.fetchval("SELECT count(*) FROM escalation_steps WHERE status = 'pending'")
        idle_before, _ = await time_scan(now, batch=20_000)  # the first scan also skips what went stale
        timings, fired = [], []
        for _ in range(3):
            moved = await conn.fetchval(MAKE_DUE, due, now)
            await conn.execute("ANALYZE escalation_steps")
            elapsed, n = await time_scan(now, batch=max(due * 2, 20_000))
            timings.append(elapsed)
            fired.append(n)
            assert n >= moved, (n, moved)
        idle, _ = await time_scan(now, batch=20_000)
    finally:
        await conn.close()
        await dispose_engine()
    return {
        "pending_steps": pending, "due_per_run": due, "fired": fired, "runs_ms": [round(t) for t in timings],
        "median_ms": round(statistics.median(timings)), "first_idle_ms": round(idle_before, 1), "idle_ms": round(idle, 1),
    }


# `due` chased assignments with a pending step ahead: their deadline and that step move to a minute ago.
MAKE_DUE = """
WITH pick AS (
    SELECT DISTINCT ON (a.id) a.id, s.id AS step_id FROM assignments a JOIN escalation_steps s ON s.assignment_id = a.id
    WHERE s.status = 'pending' AND s.fire_at > $2 AND a.status IN ('pending', 'in_progress') AND s.kind <> 'reminder'
    LIMIT $1
), moved AS (
    UPDATE assignments a SET due_at = $2 - interval '1 minute' FROM pick WHERE a.id = pick.id RETURNING a.id
), steps AS (
    UPDATE escalation_steps s SET due_at = $2 - interval '1 minute', fire_at = $2 - interval '1 minute'
    FROM pick WHERE s.id = pick.step_id RETURNING s.id
)
SELECT count(*) FROM steps
"""


async def webhooks(url: str, api: str, admin_key: str, root_id: str, port: int, events: int) -> dict[str, Any]:
    process = multiprocessing.get_context("spawn").Process(target=receiver, args=(port,), daemon=True)
    process.start()
    conn = await asyncpg.connect(url)
    try:
        async with httpx.AsyncClient(base_url=api, timeout=30) as client:
            created = await client.post(
                "/v1/webhooks", headers={"Authorization": f"Bearer {admin_key}"},
                json={"url": f"http://127.0.0.1:{port}/dondoc", "event_types": ["*"], "description": "bench receiver"},
            )
        if created.status_code != 201:
            return {"error": f"subscribe: {created.status_code} {created.text[:300]}"}
        subscription = created.json()["id"]
        await conn.execute(
            "INSERT INTO events (type, data, scope) SELECT 'assignment.created', "
            "jsonb_build_object('assignment_id', gen_random_uuid(), 'unit_id', $2::uuid), ARRAY[$2::uuid] FROM generate_series(1, $1)",
            events, root_id,
        )
        count = "SELECT count(*) FROM webhook_deliveries WHERE subscription_id = $1 AND status = 'delivered'"
        written, deadline = time.perf_counter(), time.monotonic() + 60 + events / 20
        while not await conn.fetchval(count, subscription):
            if time.monotonic() > deadline:
                return {"error": "no delivery arrived"}
            await asyncio.sleep(0.01)
        started, first = time.perf_counter(), await conn.fetchval(count, subscription)
        while (done := await conn.fetchval(count, subscription)) < events:
            if time.monotonic() > deadline:
                return {"error": f"only {done} of {events} delivered in time"}
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        durations = sorted(
            r[0] for r in await conn.fetch(
                "SELECT a.duration_ms FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id "
                "WHERE d.subscription_id = $1 AND a.duration_ms IS NOT NULL", subscription,
            )
        )
        return {
            "events": events, "deliveries_per_s": round((done - first) / elapsed, 1),
            "first_delivery_after_s": round(started - written, 2),
            "attempt_ms_p50": percentile(durations, 50), "attempt_ms_p99": percentile(durations, 99),
        }
    finally:
        await conn.close()
        process.terminate()


def unit_lines(centres: int, stations: int) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for c in range(centres):
        code = f"TTYT-IMP-{c + 1:04d}"
        lines.append({"code": code, "name": f"Trung tâm Y tế khu vực {c + 1}", "kind": "health_centre", "parent_code": "SYT-IMP"})
        lines += [
            {"code": f"TYT-IMP-{c + 1:04d}-{s + 1:02d}", "name": f"Trạm Y tế xã số {s + 1} khu vực {c + 1}",
             "kind": "commune_health_station", "parent_code": code}
            for s in range(stations)
        ]
    return lines


def directive_lines(count: int, centres: int) -> list[dict[str, Any]]:
    """Each to one health centre (lead) and every station under it: 1 + stations assignments."""
    start = date.today() - timedelta(days=365)
    return [
        {"issuer_code": "SYT-IMP", "number": str(i + 1), "symbol": "SYT-VP", "doc_type": "cong_van",
         "issued_on": str(start + timedelta(days=i * 365 // count)), "subject": "Báo cáo kết quả tiêm chủng mở rộng",
         "tasks": [{"text": "Trung tâm chủ trì, các trạm y tế báo cáo kết quả.", "lead_codes": [f"TTYT-IMP-{i % centres + 1:04d}"],
                    "assignee_selector": {"under_code": f"TTYT-IMP-{i % centres + 1:04d}", "kinds": ["commune_health_station"]},
                    "due_on": str(start + timedelta(days=i * 365 // count + 20)), "due_kind": "by"}],
         "issue": True}
        for i in range(count)
    ]


async def import_job(api: str, key: str, kind: str, lines: list[dict[str, Any]], timeout: float = 900) -> dict[str, Any]:
    body = b"\n".join(orjson.dumps(line) for line in lines) + b"\n"
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"}
    async with httpx.AsyncClient(base_url=api, timeout=timeout) as client:
        started = time.perf_counter()
        posted = await client.post("/v1/imports", params={"kind": kind}, content=body, headers=headers)
        uploaded = time.perf_counter() - started
        if posted.status_code in (404, 405):
            return {"skipped": "import API not available", "status_code": posted.status_code}
        if posted.status_code != 202:
            return {"error": f"{posted.status_code} {posted.text[:300]}"}
        location = posted.headers.get("location") or f"/v1/imports/{posted.json()['id']}"
        deadline = time.monotonic() + timeout
        while True:
            job = (await client.get(location, headers=headers)).json()
            if job.get("status") in ("completed", "failed") or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)  # end to end is read to the poll; at 0.25 s that added ~0.13 s to a 5 s import
        wall = time.perf_counter() - started
    out = {k: job.get(k) for k in ("id", "status", "total", "processed", "succeeded", "failed", "rate_per_s", "error")}
    out.update(lines=len(lines), bytes=len(body), upload_s=round(uploaded, 2), wall_s=round(wall, 2))
    if job.get("started_at") and job.get("finished_at"):
        out["worker_s"] = round(
            (datetime.fromisoformat(job["finished_at"]) - datetime.fromisoformat(job["started_at"])).total_seconds(), 2
        )
    return out


async def imports(url: str, api: str, scale: float) -> dict[str, Any]:
    """Units (lines/s) then directives issued on import (assignments/s), for a new root SYT-IMP."""
    from app.auth.caller import Caller
    from app.auth.models import Role
    from app.auth.service import create_key
    from app.db import dispose_engine, sessionmaker
    from app.units.schemas import UnitCreate
    from app.units.seed import create_root_unit

    try:
        async with sessionmaker()() as session, session.begin():
            root = await create_root_unit(session, UnitCreate(code="SYT-IMP", name="Sở Y tế tỉnh mới", short_name="SYT", kind="department"))
            _, key = await create_key(session, Caller(None, root.id, Role.admin), name="bench import", role=Role.admin,
                                      unit_id=root.id, unit_code=None)
    finally:
        await dispose_engine()
    centres = max(10, round(4000 * scale))
    units = await import_job(api, key, "units", unit_lines(centres, 24))
    out: dict[str, Any] = {"units": units}
    if "skipped" in units or units.get("status") != "completed":
        return out
    directives = await import_job(api, key, "directives", directive_lines(max(50, round(20_000 * scale)), centres))
    conn = await asyncpg.connect(url)
    try:
        directives["assignments"] = await conn.fetchval(
            "SELECT count(*) FROM assignments a JOIN directives d ON d.id = a.directive_id JOIN units u ON u.id = d.issuer_id "
            "WHERE u.code = 'SYT-IMP'"
        )
    finally:
        await conn.close()
    out["directives"] = directives
    for name, rows in (("units", units.get("succeeded") or 0), ("directives", directives.get("assignments") or 0)):
        job = out[name]
        if job.get("worker_s"):
            job["rows_per_s_worker"] = round(rows / job["worker_s"])
        job["rows_per_s_wall"] = round(rows / job["wall_s"]) if job.get("wall_s") else None
    return out
