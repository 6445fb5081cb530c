"""The committed contract matches the code: migrations match the models, openapi.json matches the app."""

from __future__ import annotations

import json
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import app.models  # noqa: F401 - every table on the metadata
from app.db import metadata
from app.main import app
from app.settings import async_database_url

OPENAPI = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_migrations_build_exactly_the_models_schema(database_url: str) -> None:
    engine = create_async_engine(async_database_url(database_url))
    async with engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    await engine.dispose()
    assert diff == []


def test_committed_openapi_document_is_current() -> None:
    generated = json.dumps(app.openapi(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    assert OPENAPI.read_text(encoding="utf-8") == generated, "run `make openapi` and commit openapi/openapi.json"


def test_every_v1_operation_documents_problem_responses_or_has_a_summary() -> None:
    paths = app.openapi()["paths"]
    assert all(path.startswith(("/v1/", "/healthz", "/readyz", "/metrics")) for path in paths)
