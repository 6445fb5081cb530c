"""The whole path with real processes: `dondoc serve`, `dondoc worker` and `dondoc import` with its progress bar."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
import orjson

from app.settings import get_settings
from tests.fixtures import Province
from tests.processes import free_port, start_api, wait_healthy
from tests.webhooks.receiver import start_worker, stop


async def test_the_cli_uploads_and_a_real_worker_applies_the_file(province: Province, tmp_path: Path) -> None:
    settings = get_settings()
    rows = [
        {"code": f"TYT-E{i:03}", "name": f"Trạm Y tế xã E{i}", "kind": "commune_health_station", "parent_code": "TTYT-TH"}
        for i in range(300)
    ]
    path = tmp_path / "stations.ndjson"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows) + b'{"code": "broken"\n')
    port = free_port()
    env = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
           "ARQ_QUEUE_NAME": settings.arq_queue_name, "LOG_LEVEL": "WARNING"}
    api = start_api(port)
    worker = start_worker()
    try:
        url = f"http://127.0.0.1:{port}"
        await wait_healthy(url, api)
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "app.cli", "import", str(path), "--kind", "units", "--url", url],
            env={**env, "DONDOC_API_KEY": province.keys["root_admin"]}, capture_output=True, text=True, timeout=90,
        )
        assert done.returncode == 2, done.stderr  # one line failed
        assert "completed: 300 of 301 lines in, 1 failed (created 300)" in done.stdout
        assert "line 301:" in done.stderr and "invalid_json" in done.stderr
        async with httpx.AsyncClient(base_url=url, headers=province.auth("root_admin")) as http:
            listed = (await http.get("/v1/units", params={"parent_id": str(province.units["TTYT-TH"]), "limit": 500})).json()
        assert len([u for u in listed["items"] if u["code"].startswith("TYT-E")]) == 300
    finally:
        stop(worker)
        stop(api)


async def test_a_worker_killed_mid_import_is_resumed_by_another_without_doubling_or_losing_lines(
    client: httpx.AsyncClient, province: Province
) -> None:
    import signal
    from uuid import UUID

    import asyncpg

    from app.imports import queue
    from tests.imports.helpers import upload
    from tests.webhooks.receiver import arq_pool

    rows = [
        {"code": f"TYT-K{i:05}", "name": f"Trạm Y tế xã K{i}", "kind": "commune_health_station", "parent_code": "TTYT-TH"}
        for i in range(20_000)
    ]
    response = await upload(client, province, "root_admin", "units", b"".join(orjson.dumps(r) + b"\n" for r in rows))
    job_id = response.json()["id"]
    progress: dict[str, int] = {}

    async def processed() -> int:
        conn = await asyncpg.connect(get_settings().database_url)
        try:
            return int(await conn.fetchval("SELECT processed FROM import_jobs WHERE id = $1", UUID(job_id)))
        finally:
            await conn.close()

    first = start_worker(IMPORT_LEASE_S="2")
    try:
        for _ in range(600):
            progress["at_kill"] = await processed()
            if progress["at_kill"] > 0:
                break
            await asyncio.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        stop(first)
    assert 0 < progress["at_kill"] < 20_000, "the worker was not caught mid-import"
    await asyncio.sleep(2.5)  # its lease runs out
    second = start_worker(IMPORT_LEASE_S="2")
    try:
        pool = await arq_pool()
        await queue.enqueue(pool, UUID(job_id), f"import:{job_id}:after-kill")  # what the resume_imports cron does
        await pool.aclose()
        done: dict[str, object] = {}

        async def finished() -> bool:
            done.update((await client.get(f"/v1/imports/{job_id}", headers=province.auth("root_admin"))).json())
            return done["status"] == "completed"

        for _ in range(1200):
            if await finished():
                break
            await asyncio.sleep(0.05)
    finally:
        stop(second)
    assert (done["status"], done["processed"], done["succeeded"], done["failed"]) == ("completed", 20_000, 20_000, 0)
    assert done["counts"] == {"created": 20_000}
    conn = await asyncpg.connect(get_settings().database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM units WHERE code LIKE 'TYT-K%'") == 20_000
        assert await conn.fetchval(  # one audit entry per unit: no batch was applied twice
            "SELECT count(*) FROM audit_log a JOIN units u ON u.id = a.entity_id WHERE a.action = 'unit.created' AND u.code LIKE 'TYT-K%'"
        ) == 20_000
        assert await conn.fetchval(  # every line applied, so none is left staged
            "SELECT count(*) FROM import_lines WHERE job_id = $1", UUID(job_id)
        ) == 0
    finally:
        await conn.close()
