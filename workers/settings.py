"""ARQ worker settings. Cron runs in UTC; jobs carry ids of committed rows only."""

from __future__ import annotations

import logging
from typing import Any

from arq import cron, func
from arq.connections import RedisSettings
from prometheus_client import start_http_server

from app.logs import configure_logging
from app.ops import worker_metrics
from app.ops.heap import collect_less_often, freeze_startup_heap
from app.settings import get_settings
from workers.imports import resume_imports, run_import
from workers.jobs import (
    daily_digest,
    deadline_scan,
    heartbeat,
    open_recurring_periods,
    purge_idempotency_keys,
)
from workers.webhooks import BATCH_JOB_TIMEOUT_S, deliver_batch, relay_outbox, sweep_deliveries

log = logging.getLogger("dondoc.worker")


async def startup(ctx: dict[str, Any]) -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
    if settings.worker_metrics_port:
        # Deliveries by outcome, steps fired and scan durations are counted here, in the worker process.
        start_http_server(settings.worker_metrics_port)
    freeze_startup_heap()
    collect_less_often()


async def after_job_end(ctx: dict[str, Any]) -> None:
    """Add what this job counted to the cluster-wide counters the API serves on /metrics (best effort)."""
    try:
        await worker_metrics.flush(ctx["redis"])
    except Exception:
        log.warning("could not send worker metrics to Redis", exc_info=True)


class WorkerSettings:
    redis_settings = RedisSettings.from_dsn(get_settings().redis_url)
    queue_name = get_settings().arq_queue_name
    max_jobs = get_settings().worker_max_jobs
    poll_delay = 0.1  # seconds between queue reads when idle: a delivery should not wait half a second to start
    # On SIGTERM/SIGINT, stop taking jobs and let running ones finish (a delivery records its outcome)
    # rather than cancel them mid-way; longer than one delivery attempt's total timeout.
    job_completion_wait = 20
    functions: list[Any] = [
        # keep_result=0 frees a batch job's id once it ran, so that endpoint can be woken under it again.
        func(deliver_batch, keep_result=0, timeout=BATCH_JOB_TIMEOUT_S),
        # An import job applies batches for up to five minutes, then hands over to a fresh job.
        func(run_import, keep_result=0, timeout=900),
    ]
    cron_jobs = [
        cron(heartbeat, second={0, 30}, unique=True, run_at_startup=True),
        cron(resume_imports, second={15, 45}, unique=True, run_at_startup=True),
        cron(purge_idempotency_keys, minute=17, second=0, unique=True),
        # Hourly at :05; periods open by local date, so the 17:05 UTC run (00:05 in Vietnam) opens them.
        cron(open_recurring_periods, minute=5, second=0, unique=True, run_at_startup=True),
        cron(deadline_scan, second=0, unique=True, run_at_startup=True),  # every minute
        cron(daily_digest, hour=1, minute=0, second=0, unique=True),  # 08:00 in Vietnam
        cron(relay_outbox, second=set(range(0, 60, 2)), unique=True, run_at_startup=True),
        cron(sweep_deliveries, second=set(range(0, 60, 5)), unique=True, run_at_startup=True),
    ]
    on_startup = startup
    after_job_end = after_job_end
    timezone = None  # arq's cron uses UTC when no timezone is set
