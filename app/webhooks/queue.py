"""Waking workers for deliveries. Redis only wakes them: a lost job only delays a delivery (the sweeper re-enqueues).

A job carries the delivery id only. Its ARQ job id names the attempt, so the relay, the sweeper and
a retry asking for the same attempt enqueue it once; a reclaim after a dead worker's lease gets its
own id, because the dead worker's job still sits in Redis under the attempt's id.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings

from app.settings import get_settings

log = logging.getLogger("dondoc.webhooks")

DELIVER_JOB = "deliver_webhook"
_ENQUEUE_CHUNK = 200


@dataclass(frozen=True, slots=True)
class DeliveryJob:
    delivery_id: UUID
    job_id: str
    defer_s: float | None = None


def attempt_job(delivery_id: UUID, attempt: int, defer_s: float | None = None) -> DeliveryJob:
    """The job for attempt `attempt` (1-based) of a delivery."""
    return DeliveryJob(delivery_id, f"deliver:{delivery_id}:{attempt}", defer_s)


def reclaim_job(delivery_id: UUID, attempt: int, locked_until: datetime) -> DeliveryJob:
    """The job that takes over a delivery whose worker's lease expired (one id per expired lease)."""
    return DeliveryJob(delivery_id, f"deliver:{delivery_id}:{attempt}:lease{int(locked_until.timestamp() * 1000)}")


async def enqueue(redis: ArqRedis, jobs: list[DeliveryJob]) -> int:
    """Enqueue jobs; returns how many were new (ARQ refuses an id it still holds)."""
    queue = get_settings().arq_queue_name
    added = 0
    for start in range(0, len(jobs), _ENQUEUE_CHUNK):
        chunk = jobs[start:start + _ENQUEUE_CHUNK]
        results = await asyncio.gather(
            *(
                redis.enqueue_job(
                    DELIVER_JOB, str(job.delivery_id), _job_id=job.job_id, _queue_name=queue, _defer_by=job.defer_s
                )
                for job in chunk
            )
        )
        added += sum(1 for r in results if r is not None)
    return added


_pool: ArqRedis | None = None


async def api_pool() -> ArqRedis:
    """The API process's own connection for waking workers after a test ping or a redelivery."""
    global _pool
    if _pool is None:
        _pool = await create_pool(RedisSettings.from_dsn(get_settings().redis_url))
    return _pool


async def wake(jobs: list[DeliveryJob]) -> None:
    """Best effort, after the request's commit: if Redis is down the sweeper picks the delivery up."""
    try:
        await enqueue(await api_pool(), jobs)
    except Exception:
        log.warning("could not enqueue webhook delivery; the sweeper will", exc_info=True)
