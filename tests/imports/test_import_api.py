"""The import endpoints: media type, empty bodies, progress, idempotency, scope of reading, and resuming."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import httpx
import orjson
import pytest

from app.auth.caller import Caller
from app.auth.models import Role
from app.imports import service, staging
from app.imports.models import ImportKind
from tests.fixtures import Province
from tests.imports.helpers import NDJSON, break_batches_holding, errors_of, ndjson, sql, upload


def station(code: str) -> dict[str, Any]:
    return {"code": code, "name": f"Trạm Y tế {code}", "kind": "commune_health_station", "parent_code": "TTYT-TH"}


async def test_upload_answers_202_at_once_with_the_job_and_its_location(client: httpx.AsyncClient, province: Province) -> None:
    response = await upload(client, province, "root_admin", "units", ndjson(station("TYT-1"), station("TYT-2")))
    assert response.status_code == 202
    job = response.json()
    assert response.headers["location"] == f"/v1/imports/{job['id']}"
    assert (job["status"], job["total"], job["processed"], job["rate_per_s"], job["eta_s"]) == ("queued", 2, 0, None, None)
    assert await sql("SELECT 1 FROM units WHERE code = 'TYT-1'") == []  # applied by the worker, not the request


async def test_progress_shows_rate_and_eta_while_running(client: httpx.AsyncClient, province: Province) -> None:
    body = ndjson(*(station(f"TYT-P{i}") for i in range(12)))
    job_id = UUID((await upload(client, province, "root_admin", "units", body)).json()["id"])
    lease = await service.claim(job_id)
    assert lease is not None
    assert await service.run_batch(lease, service.applier_for(lease.kind), 5) == 5
    running = (await client.get(f"/v1/imports/{job_id}", headers=province.auth("root_admin"))).json()
    assert (running["status"], running["processed"], running["succeeded"]) == ("running", 5, 5)
    assert running["rate_per_s"] > 0 and running["eta_s"] is not None and running["eta_s"] >= 0


@pytest.mark.parametrize("content_type", ["application/json", "text/csv", None])
async def test_other_media_types_are_415(client: httpx.AsyncClient, province: Province, content_type: str | None) -> None:
    headers = province.auth("root_admin") | ({"Content-Type": content_type} if content_type else {})
    response = await client.post("/v1/imports?kind=units", content=b'{"code": "X"}\n', headers=headers)
    assert response.status_code == 415
    assert await sql("SELECT 1 FROM import_jobs") == []


async def test_an_unknown_kind_is_422_on_kind(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.post("/v1/imports?kind=budgets", content=b"{}\n", headers=province.auth("root_admin") | NDJSON)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "kind"


async def test_an_empty_body_is_422_and_leaves_nothing_behind(client: httpx.AsyncClient, province: Province) -> None:
    audit_before = await sql("SELECT count(*) FROM audit_log")
    response = await upload(client, province, "root_admin", "units", b"\n\n  \n")
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "empty"
    assert await sql("SELECT 1 FROM import_jobs") == []
    assert await sql("SELECT count(*) FROM audit_log") == audit_before


async def test_lines_that_cannot_be_stored_fail_with_their_number(client: httpx.AsyncClient, province: Province) -> None:
    body = ndjson(station("TYT-U1")) + b'{"code": "\xff\xfe"}\n' + b'{"code": "a\x00"}\r\n' + ndjson(station("TYT-U2"))
    response = await upload(client, province, "root_admin", "units", body)
    job_id = response.json()["id"]
    assert await service.run_import(UUID(job_id)) == "completed"
    errors = await errors_of(client, province, "root_admin", job_id)
    assert {line: e[0]["code"] for line, e in errors.items()} == {2: "not_utf8", 3: "nul_character"}
    assert len(await sql("SELECT 1 FROM units WHERE code IN ('TYT-U1', 'TYT-U2')")) == 2


async def test_writes_of_the_body_may_commit_out_of_order_and_every_line_keeps_its_number(
    province: Province, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two parts of the body are written at once; the one before the last is made to end after the last."""
    monkeypatch.setattr(staging, "FLUSH_LINES", 2)
    real_copy = staging.copy_records
    copied: list[int] = []

    async def one_slow(session: Any, table: str, columns: list[str], records: list[Any]) -> None:
        if records[0][1] == 5:
            await asyncio.sleep(0.3)
        await real_copy(session, table, columns, records)
        copied.append(records[0][1])

    monkeypatch.setattr(staging, "copy_records", one_slow)
    body = ndjson(*(station(f"TYT-O{i}") for i in range(7)))
    job = await service.create_job(_admin(province), ImportKind.units, None)
    staged = await service.receive(job, _chunks(body, 40))
    assert (staged.status, staged.total, staged.bytes_received) == ("queued", 7, len(body))
    rows = await sql("SELECT line_no, raw FROM import_lines ORDER BY line_no")
    assert [(r[0], orjson.loads(r[1])["code"]) for r in rows] == [(i + 1, f"TYT-O{i}") for i in range(7)]
    assert sorted(copied) == [1, 3, 5, 7] and copied.index(7) < copied.index(5)


async def test_an_upload_cut_off_mid_body_fails_its_job_and_leaves_no_line(
    province: Province, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(staging, "FLUSH_LINES", 2)
    body = ndjson(*(station(f"TYT-C{i}") for i in range(9)))

    async def cut_off() -> AsyncIterator[bytes]:
        async for chunk in _chunks(body[: len(body) * 2 // 3], 50):
            yield chunk
        raise ConnectionResetError("the client went away")

    job = await service.create_job(_admin(province), ImportKind.units, None)
    with pytest.raises(ConnectionResetError):
        await service.receive(job, cut_off())
    assert await sql("SELECT count(*) FROM import_lines") == [(0,)]
    assert await sql("SELECT status, error FROM import_jobs") == [("failed", "the upload was cut off before the end of the body")]


def _admin(province: Province) -> Caller:
    return Caller(key_id=None, unit_id=province.units["SYT"], role=Role.admin)


async def _chunks(body: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        await asyncio.sleep(0)
        yield body[start : start + size]


async def test_the_same_idempotency_key_returns_the_first_job(client: httpx.AsyncClient, province: Province) -> None:
    body = ndjson(station("TYT-I1"))
    first = await upload(client, province, "root_admin", "units", body, **{"Idempotency-Key": "load-2026-11"})
    again = await upload(client, province, "root_admin", "units", body, **{"Idempotency-Key": "load-2026-11"})
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["id"] == first.json()["id"] and again.headers["idempotent-replayed"] == "true"
    assert len(await sql("SELECT 1 FROM import_jobs")) == 1


async def test_another_subtree_cannot_read_the_job_or_its_errors(client: httpx.AsyncClient, province: Province) -> None:
    job_id = (await upload(client, province, "root_admin", "units", ndjson(station("TYT-S1")))).json()["id"]
    for path in (f"/v1/imports/{job_id}", f"/v1/imports/{job_id}/errors"):
        assert (await client.get(path, headers=province.auth("station_admin"))).status_code == 404
        assert (await client.get(path, headers=province.auth("root_reader"))).status_code == 200
    assert (await client.get("/v1/imports", headers=province.auth("station_admin"))).json()["items"] == []
    assert (await client.get(f"/v1/imports/{job_id}")).status_code == 401


async def test_a_worker_that_dies_mid_import_is_resumed_without_doubling_or_losing_lines(
    client: httpx.AsyncClient, province: Province
) -> None:
    body = ndjson(*(station(f"TYT-R{i:02}") for i in range(30)))
    job_id = UUID((await upload(client, province, "root_admin", "units", body)).json()["id"])
    dead = await service.claim(job_id)
    assert dead is not None
    assert await service.run_batch(dead, service.applier_for(dead.kind), 10) == 10
    assert await service.claim(job_id) is None  # the dead worker's lease still holds
    await sql("UPDATE import_jobs SET locked_until = now() - interval '1 second', updated_at = now() - interval '1 minute'")
    async with service.sessionmaker()() as session:
        assert [job for job, _ in await service.resumable(session)] == [job_id]
    assert await service.run_import(job_id) == "completed"
    assert await service.run_batch(dead, service.applier_for(dead.kind), 10) is None  # the old lease can write nothing
    job = (await client.get(f"/v1/imports/{job_id}", headers=province.auth("root_admin"))).json()
    assert (job["status"], job["processed"], job["succeeded"], job["counts"]) == ("completed", 30, 30, {"created": 30})
    assert len(await sql("SELECT 1 FROM units WHERE code LIKE 'TYT-R%'")) == 30


async def test_a_line_that_breaks_the_batch_fails_alone(
    client: httpx.AsyncClient, province: Province, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.imports import units

    break_batches_holding(monkeypatch, units, '"TYT-BOOM"')
    body = ndjson(station("TYT-B1"), station("TYT-BOOM"), station("TYT-B2"))
    job_id = (await upload(client, province, "root_admin", "units", body)).json()["id"]
    assert await service.run_import(UUID(job_id)) == "completed"
    errors = await errors_of(client, province, "root_admin", job_id)
    assert {line: e[0]["code"] for line, e in errors.items()} == {2: "internal_error"}
    assert len(await sql("SELECT 1 FROM units WHERE code IN ('TYT-B1', 'TYT-B2')")) == 2


async def test_a_revoked_key_stops_its_import(client: httpx.AsyncClient, province: Province) -> None:
    created = await client.post(
        "/v1/api-keys", json={"name": "loader", "unit_id": str(province.units["SYT"]), "role": "admin"},
        headers=province.auth("root_admin"),
    )
    loader = created.json()
    response = await client.post(
        "/v1/imports?kind=units", content=ndjson(station("TYT-K1")),
        headers={"Authorization": f"Bearer {loader['secret']}", **NDJSON},
    )
    job_id = response.json()["id"]
    assert (await client.delete(f"/v1/api-keys/{loader['id']}", headers=province.auth("root_admin"))).status_code in (200, 204)
    assert await service.run_import(UUID(job_id)) == "nothing_to_do"
    job = (await client.get(f"/v1/imports/{job_id}", headers=province.auth("root_admin"))).json()
    assert job["status"] == "failed" and "revoked" in job["error"]
    assert await sql("SELECT 1 FROM units WHERE code = 'TYT-K1'") == []
