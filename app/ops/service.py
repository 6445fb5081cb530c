"""Readiness checks: the database answers and is migrated to head, Redis answers, and how far behind the workers are."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.settings import get_settings
from app.timeutil import utcnow
from app.webhooks.service import webhook_health
from workers.jobs import HEARTBEAT_KEY

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def head_revision() -> str | None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


async def check_database(engine: AsyncEngine) -> dict[str, object]:
    try:
        async with engine.connect() as conn:
            current = await asyncio.wait_for(
                conn.scalar(text("SELECT version_num FROM alembic_version")), timeout=2
            )
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", reported as such
        return {"ok": False, "error": type(exc).__name__}
    head = head_revision()
    return {"ok": current == head, "revision": current, "head": head}


async def check_redis() -> dict[str, object]:
    client = Redis.from_url(get_settings().redis_url, socket_connect_timeout=2, socket_timeout=2)
    try:
        await client.ping()
        queued = await client.zcard(get_settings().arq_queue_name)
        beat = await client.get(HEARTBEAT_KEY)
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": type(exc).__name__}
    finally:
        await client.aclose()
    # Queue depth and the worker's last heartbeat tell an operator about lag, not just liveness.
    age = (utcnow() - datetime.fromisoformat(beat.decode())).total_seconds() if beat else None
    return {"ok": True, "queued_jobs": queued, "worker_heartbeat_age_s": age}


async def worker_metrics_exposition() -> bytes:
    """The workers' counters from Redis; nothing (and no error) if Redis is down: the API's own metrics still serve."""
    from app.ops import worker_metrics

    client = Redis.from_url(get_settings().redis_url, socket_connect_timeout=1, socket_timeout=1)
    try:
        return await worker_metrics.exposition(client)
    except Exception:  # noqa: BLE001
        return b""
    finally:
        await client.aclose()


# The oldest escalation step the scan should already have fired (same conditions as the scan).
_SCAN_LAG = """
SELECT EXTRACT(EPOCH FROM now() - min(s.fire_at)) FROM escalation_steps s
JOIN assignments a ON a.id = s.assignment_id
WHERE s.status = 'pending' AND s.fire_at <= now() AND a.status IN ('pending', 'in_progress') AND a.due_at = s.due_at
"""


async def check_worker_lag(engine: AsyncEngine) -> dict[str, object]:
    """How far behind the workers are: the deadline scan (seconds late), the outbox relay (events not yet
    turned into deliveries) and deliveries (the oldest due one's age). Reported, not a readiness failure:
    a slow worker must not take the API out of a load balancer."""
    try:
        async with AsyncSession(engine) as session:
            lag = await asyncio.wait_for(session.scalar(text(_SCAN_LAG)), timeout=2)
            webhooks = await asyncio.wait_for(webhook_health(session), timeout=2)
    except Exception as exc:  # noqa: BLE001
        return {"error": type(exc).__name__}
    return {"deadline_scan_lag_s": float(lag) if lag is not None else None, **webhooks}
