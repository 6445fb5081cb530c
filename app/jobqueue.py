"""The API process's one ARQ connection, for waking workers after a commit (webhook pings, imports).

Redis only wakes workers: every caller treats a failed enqueue as a delay that a sweeper covers.
"""

from __future__ import annotations

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings

from app.settings import get_settings

_pool: ArqRedis | None = None


async def api_pool() -> ArqRedis:
    global _pool
    if _pool is None:
        _pool = await create_pool(RedisSettings.from_dsn(get_settings().redis_url))
    return _pool
