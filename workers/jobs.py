"""Worker jobs. Each is idempotent: ARQ runs jobs at least once."""

from __future__ import annotations

import logging
from typing import Any

from app.timeutil import utcnow

log = logging.getLogger("dondoc.worker")

HEARTBEAT_KEY = "dondoc:worker:heartbeat"


async def heartbeat(ctx: dict[str, Any]) -> str:
    """Record that a worker is alive; /readyz reports how long ago this last ran."""
    now = utcnow().isoformat()
    await ctx["redis"].set(HEARTBEAT_KEY, now, ex=3600)
    log.info("heartbeat", extra={"at": now})
    return now


async def purge_idempotency_keys(ctx: dict[str, Any]) -> int:
    """Idempotency keys are kept 24 hours, as Stripe does; older ones are dropped hourly."""
    from app.idempotency.service import purge_expired

    return await purge_expired()


async def open_recurring_periods(ctx: dict[str, Any]) -> int:
    """Create the assignments of recurring tasks whose new period has opened (idempotent: unique per period)."""
    from app.db import sessionmaker
    from app.directives.lifecycle import open_due_periods
    from app.directives.service import today_local

    async with sessionmaker()() as session, session.begin():
        created = await open_due_periods(session, today_local())
    log.info("recurring periods opened", extra={"assignments_created": created})
    return created


async def deadline_scan(ctx: dict[str, Any]) -> dict[str, int]:
    """Fire every escalation step that has come due, in batches, each batch one transaction."""
    from app.escalation.scan import scan_due

    totals = await scan_due()
    if totals:
        log.info("deadline scan fired steps", extra={"fired": totals})
    return totals


async def daily_digest(ctx: dict[str, Any]) -> int | None:
    """One `unit.digest` a day per unit with work due soon or overdue (claimed once per local day)."""
    from app.db import sessionmaker
    from app.directives.service import today_local
    from app.escalation.scan import send_digest

    async with sessionmaker()() as session, session.begin():
        return await send_digest(session, today_local(), utcnow())
