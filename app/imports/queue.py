"""Waking a worker for an import. Redis only wakes it: if the job is lost, the sweeper enqueues the import again."""

from __future__ import annotations

import logging
from uuid import UUID

from arq import ArqRedis

from app.jobqueue import api_pool
from app.settings import get_settings

log = logging.getLogger("dondoc.imports")

RUN_IMPORT = "run_import"

async def enqueue(redis: ArqRedis, job_id: UUID, arq_job_id: str) -> bool:
    """True if ARQ took it (it refuses an id it still holds)."""
    job = await redis.enqueue_job(RUN_IMPORT, str(job_id), _job_id=arq_job_id, _queue_name=get_settings().arq_queue_name)
    return job is not None


async def wake(job_id: UUID) -> None:
    """Best effort, after the upload committed: if Redis is down, the sweeper starts the import."""
    try:
        await enqueue(await api_pool(), job_id, f"import:{job_id}:0")
    except Exception:
        log.warning("could not enqueue the import; the sweeper will", exc_info=True, extra={"import_id": str(job_id)})
