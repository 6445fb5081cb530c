"""Uploading NDJSON through the API and running the import in the test process, as a worker would."""

from __future__ import annotations

from types import ModuleType
from typing import Any
from uuid import UUID

import httpx
import orjson
import pytest

from app.imports import service
from tests.fixtures import Province, sql  # noqa: F401  (sql: the import tests take it from here)

NDJSON = {"Content-Type": "application/x-ndjson"}


def ndjson(*rows: dict[str, Any] | str) -> bytes:
    """Rows as lines; a str row is sent as is (for broken lines)."""
    return b"".join((row.encode() if isinstance(row, str) else orjson.dumps(row)) + b"\n" for row in rows)


async def upload(client: httpx.AsyncClient, province: Province, key: str, kind: str, body: bytes, **headers: str) -> httpx.Response:
    return await client.post(f"/v1/imports?kind={kind}", content=body, headers={**province.auth(key), **NDJSON, **headers})


async def import_now(client: httpx.AsyncClient, province: Province, key: str, kind: str, body: bytes) -> dict[str, Any]:
    """Upload, run the job to the end here, and return the finished job as the API shows it."""
    response = await upload(client, province, key, kind, body)
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    if response.json()["status"] == "queued":
        assert await service.run_import(UUID(job_id)) == "completed"
    finished = await client.get(f"/v1/imports/{job_id}", headers=province.auth(key))
    assert finished.status_code == 200
    return dict(finished.json())


async def errors_of(client: httpx.AsyncClient, province: Province, key: str, job_id: str) -> dict[int, list[dict[str, Any]]]:
    response = await client.get(f"/v1/imports/{job_id}/errors", headers=province.auth(key))
    assert response.status_code == 200, response.text
    return {item["line"]: item["errors"] for item in response.json()["items"]}


def break_batches_holding(monkeypatch: pytest.MonkeyPatch, importer: ModuleType, text: str) -> None:
    """Make `importer.apply` raise (a simulated bug) for any batch holding a line whose raw text contains `text`."""
    real_apply = importer.apply

    async def explosive(session: Any, caller: Any, lines: list[Any], prepared: Any, before: Any) -> Any:
        if any(text in line.raw for line in lines):
            raise RuntimeError("simulated bug")
        return await real_apply(session, caller, lines, prepared, before)

    monkeypatch.setattr(importer, "apply", explosive)
