"""Test harness: a real PostgreSQL and a real Redis-compatible server, the schema built by migrations.

With DATABASE_URL / REDIS_URL unset, embedded servers start (as `make test`
does on a bare machine); with them set, those servers are used. Either way the
suite creates its own throw-away database on that server, migrates it, and
empties its tables after every test that touched it.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest

from app.devservers import ensure_servers

KEPT_TABLES = {"alembic_version", "unit_kinds"}
SEEDED_KINDS = (
    "department", "office", "hospital", "health_centre", "affiliated_unit",
    "clinical_department", "commune_health_station", "external",
)


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


@pytest.fixture(scope="session")
def servers() -> Iterator[None]:
    """Start embedded servers for whatever the environment does not provide."""
    started = ensure_servers(database="postgres", persist_redis=False)
    yield
    started.stop()


@pytest.fixture(scope="session")
async def database_url(servers: None) -> AsyncIterator[str]:
    """A fresh database for this run, migrated to head; dropped at the end."""
    from app.migrate import upgrade_to_head
    from app.settings import get_settings

    server_url = os.environ["DATABASE_URL"]
    name = f"dondoc_test_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(_with_database(server_url, "postgres"))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(server_url, name)
    await asyncio.to_thread(upgrade_to_head, url)
    os.environ["DATABASE_URL"] = url
    os.environ["ARQ_QUEUE_NAME"] = f"dondoc-test:{name}"
    get_settings.cache_clear()
    yield url
    from app.db import dispose_engine

    await dispose_engine()
    os.environ["DATABASE_URL"] = server_url
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[str]:
    """Per-test isolation: every table the test wrote is emptied afterwards (real commits, real constraints)."""
    yield database_url
    conn = await asyncpg.connect(database_url)
    try:
        tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        names = [r["tablename"] for r in tables if r["tablename"] not in KEPT_TABLES]
        if names:
            await conn.execute("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " RESTART IDENTITY CASCADE")
        await conn.execute("DELETE FROM unit_kinds WHERE code <> ALL($1::text[])", list(SEEDED_KINDS))
    finally:
        await conn.close()


@pytest.fixture
async def client(db: str) -> AsyncIterator[httpx.AsyncClient]:
    from app.main import app

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://dondoc.test") as http:
        yield http


pytest_plugins = ["tests.fixtures"]
