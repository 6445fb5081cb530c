"""Waking an endpoint's batch job. Redis only wakes workers: a lost job only delays (the sweeper wakes again).

A job carries a subscription id only; the database says what is due. Job ids keep one job per
endpoint waiting at a time:

- `batch:{subscription}:{generation}` for "now". ARQ refuses an id it still holds, also while that
  job runs, so a running job would swallow a wake that came after its last claim. Each job therefore
  bumps the endpoint's generation as it starts: a wake after that gets a new id and a new job, a
  wake before it is refused and served by the starting job's claims.
- `batch:{subscription}:at{second}` for a retry that falls due later, so retries due in the same
  second share one job.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from arq import ArqRedis

from app.jobqueue import api_pool
from app.settings import get_settings

log = logging.getLogger("dondoc.webhooks")

BATCH_JOB = "deliver_batch"
_ENQUEUE_CHUNK = 200
_GENERATION_TTL_S = 7 * 86_400
# Run a deferred job this long after its second: by then every retry due in that second is due.
_LATE_S = 0.25


def _generation_key(subscription_id: UUID | str) -> str:
    return f"dondoc:webhooks:generation:{subscription_id}"


async def batch_started(redis: ArqRedis, subscription_id: UUID | str) -> None:
    """Called by a batch job before its first claim: from now on a wake enqueues a new job."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.incr(_generation_key(subscription_id))
        pipe.expire(_generation_key(subscription_id), _GENERATION_TTL_S)
        await pipe.execute()


async def enqueue_batches(redis: ArqRedis, subscription_ids: Iterable[UUID | str]) -> int:
    """Wake each endpoint's batch job now; returns how many jobs were new (a waiting one is not doubled)."""
    queue = get_settings().arq_queue_name
    unique = list(dict.fromkeys(str(s) for s in subscription_ids))
    added = 0
    for start in range(0, len(unique), _ENQUEUE_CHUNK):
        chunk = unique[start:start + _ENQUEUE_CHUNK]
        generations = await redis.mget([_generation_key(s) for s in chunk])
        results = await asyncio.gather(
            *(
                redis.enqueue_job(BATCH_JOB, s, _job_id=f"batch:{s}:{int(g or 0)}", _queue_name=queue)
                for s, g in zip(chunk, generations, strict=True)
            )
        )
        added += sum(1 for r in results if r is not None)
    return added


async def enqueue_retry(redis: ArqRedis, subscription_id: UUID | str, *, due_at: datetime, in_s: float) -> bool:
    """Wake the endpoint's batch job when its next retry falls due (`in_s` by the database's clock)."""
    second = math.ceil(due_at.timestamp())
    job = await redis.enqueue_job(
        BATCH_JOB, str(subscription_id), _job_id=f"batch:{subscription_id}:at{second}",
        _queue_name=get_settings().arq_queue_name, _defer_by=max(0.0, in_s) + (second - due_at.timestamp()) + _LATE_S,
    )
    return job is not None


async def wake(subscription_ids: list[UUID]) -> None:
    """Best effort, after the request's commit: if Redis is down the sweeper wakes the endpoint."""
    try:
        await enqueue_batches(await api_pool(), subscription_ids)
    except Exception:
        log.warning("could not enqueue a webhook batch; the sweeper will", exc_info=True)
