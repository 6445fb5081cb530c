"""ARQ worker settings. Cron runs in UTC; jobs carry ids of committed rows only."""

from __future__ import annotations

from typing import Any

from arq import cron
from arq.connections import RedisSettings

from app.logs import configure_logging
from app.settings import get_settings
from workers.jobs import daily_digest, deadline_scan, heartbeat, open_recurring_periods, purge_idempotency_keys


async def startup(ctx: dict[str, Any]) -> None:
    configure_logging(get_settings().log_level)


class WorkerSettings:
    redis_settings = RedisSettings.from_dsn(get_settings().redis_url)
    queue_name = get_settings().arq_queue_name
    functions: list[Any] = []
    cron_jobs = [
        cron(heartbeat, second={0, 30}, unique=True, run_at_startup=True),
        cron(purge_idempotency_keys, minute=17, second=0, unique=True),
        # Hourly at :05; periods open by local date, so the 17:05 UTC run (00:05 in Vietnam) opens them.
        cron(open_recurring_periods, minute=5, second=0, unique=True, run_at_startup=True),
        cron(deadline_scan, second=0, unique=True, run_at_startup=True),  # every minute
        cron(daily_digest, hour=1, minute=0, second=0, unique=True),  # 08:00 in Vietnam
    ]
    on_startup = startup
    timezone = None  # arq's cron uses UTC when no timezone is set
