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
    from app.db import dispose_engine
    from app.devservers import ensure_servers
    from app.migrate import upgrade_to_head
    from app.settings import get_settings

    servers = ensure_servers(database="postgres", persist_redis=False)
    server_url = os.environ["DATABASE_URL"]
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
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
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
        servers.stop()
