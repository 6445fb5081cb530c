"""A throw-away, migrated database for a benchmark: DATABASE_URL's server, or the embedded one when unset."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

import asyncpg


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


@asynccontextmanager
async def scratch_database(prefix: str = "dondoc_bench") -> AsyncIterator[str]:
    """Yields the URL of a new database migrated to head (and set as DATABASE_URL); drops it afterwards."""
    from app.devservers import ensure_servers

    servers = ensure_servers(database="postgres", persist_redis=False)
    try:
        async with database_on_server(prefix) as url:
            yield url
    finally:
        servers.stop()


@asynccontextmanager
async def database_on_server(prefix: str, *, keep: bool = False, reuse: str | None = None) -> AsyncIterator[str]:
    """A database on DATABASE_URL's server, migrated to head and set as DATABASE_URL while in use.

    A new one named `prefix_<random>`, dropped afterwards unless `keep`; or, with `reuse`, that
    existing one, left in place.
    """
    from app.db import dispose_engine
    from app.migrate import upgrade_to_head
    from app.settings import driver_database_url, get_settings

    server_url = driver_database_url(os.environ["DATABASE_URL"])  # the app takes either scheme; asyncpg only the plain one
    name = reuse or f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
        if not reuse:
            await admin.execute(f'CREATE DATABASE "{name}"')
        url = with_database(server_url, name)
        await asyncio.to_thread(upgrade_to_head, url)
        os.environ["DATABASE_URL"] = url
        get_settings.cache_clear()
        try:
            yield url
        finally:
            await dispose_engine()
            os.environ["DATABASE_URL"] = server_url
            get_settings.cache_clear()
            if keep or reuse:
                print(f"kept database {name} (rerun the phases with --reuse {name})")
            else:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
