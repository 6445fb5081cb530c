"""A real ARQ worker against the real Redis-compatible server runs the heartbeat job."""

from __future__ import annotations

import asyncio

from arq import create_pool
from arq.connections import RedisSettings
from arq.worker import Worker

from app.settings import get_settings
from workers.jobs import HEARTBEAT_KEY, heartbeat
from workers.settings import WorkerSettings


async def test_worker_runs_heartbeat_and_readyz_sees_it(database_url: str) -> None:
    settings = get_settings()
    # A queue of its own: a burst worker waits for every job in its queue, and other tests leave theirs behind.
    queue = f"{settings.arq_queue_name}:heartbeat"
    redis = await create_pool(RedisSettings.from_dsn(settings.redis_url), default_queue_name=queue)
    await redis.delete(HEARTBEAT_KEY)
    await redis.enqueue_job("heartbeat", _queue_name=queue)
    worker = Worker(
        functions=[heartbeat], redis_pool=redis, queue_name=queue, burst=True, poll_delay=0.05, handle_signals=False,
    )
    await asyncio.wait_for(worker.main(), timeout=20)
    assert worker.jobs_complete == 1
    assert await redis.get(HEARTBEAT_KEY) is not None
    from app.ops.service import check_redis

    assert (await check_redis())["worker_heartbeat_age_s"] < 60
    await worker.close()


def test_worker_settings_schedule_a_unique_heartbeat() -> None:
    assert [job.name for job in WorkerSettings.cron_jobs] == [
        "cron:heartbeat", "cron:resume_imports", "cron:purge_idempotency_keys", "cron:open_recurring_periods", "cron:deadline_scan", "cron:daily_digest",
        "cron:relay_outbox", "cron:sweep_deliveries",
    ]
    assert all(job.unique for job in WorkerSettings.cron_jobs)
