"""The bare baseline: FastAPI + an asyncpg pool, no auth, no ORM, no middleware, on the same database.

Served exactly as `dondoc serve` serves Dondoc (uvicorn, one process, uvloop, httptools, no access
log) and driven by the same load generator with the same connections, so Dondoc's figures can be
read as ratios of what this machine does at best:

    GET  /bare/assignments/{id}          one row by primary key (the floor for an assignment read)
    GET  /bare/units/{id}/assignments    50 rows by index, ordered by deadline (the floor for an inbox page)
    POST /bare/reports                   one INSERT in its own transaction (the floor for a write)

    DATABASE_URL=... .venv/bin/python -m uvicorn bench.national.baseline:app --loop uvloop --http httptools --no-access-log
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import asyncpg
from fastapi import FastAPI
from pydantic import BaseModel

COLUMNS = "id, task_id, directive_id, unit_id, role, status, due_at, completed_at, version"
TABLE = """
CREATE TABLE IF NOT EXISTS bare_reports (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    assignment_id uuid NOT NULL,
    content text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""
_pool: asyncpg.Pool | None = None


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    global _pool
    # The same number of connections as Dondoc's pool (DB_POOL_SIZE + DB_MAX_OVERFLOW).
    size = int(os.environ.get("DB_POOL_SIZE", "20")) + int(os.environ.get("DB_MAX_OVERFLOW", "5"))
    _pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=2, max_size=size)
    await _pool.execute(TABLE)
    yield
    await _pool.close()


app = FastAPI(lifespan=lifespan)


class ReportIn(BaseModel):
    assignment_id: UUID
    content: str


def _pool_() -> asyncpg.Pool:
    assert _pool is not None
    return _pool


@app.get("/bare/assignments/{assignment_id}")
async def read(assignment_id: UUID) -> dict[str, Any]:
    row = await _pool_().fetchrow(f"SELECT {COLUMNS} FROM assignments WHERE id = $1", assignment_id)
    return dict(row) if row else {}


@app.get("/bare/units/{unit_id}/assignments")
async def page(unit_id: UUID) -> dict[str, Any]:
    rows = await _pool_().fetch(f"SELECT {COLUMNS} FROM assignments WHERE unit_id = $1 ORDER BY due_at, id LIMIT 50", unit_id)
    return {"items": [dict(r) for r in rows]}


@app.post("/bare/reports", status_code=201)
async def insert(body: ReportIn) -> dict[str, Any]:
    row = await _pool_().fetchrow(
        "INSERT INTO bare_reports (assignment_id, content) VALUES ($1, $2) RETURNING id, created_at", body.assignment_id, body.content
    )
    assert row is not None
    return dict(row)
