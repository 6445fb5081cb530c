"""Import jobs: apply a staged NDJSON file in batches; a sweeper restarts imports nobody holds."""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID, uuid4

from app.db import sessionmaker
from app.imports import queue, service

log = logging.getLogger("dondoc.imports")


async def run_import(ctx: dict[str, Any], import_id: str) -> str:
    """Apply the import for up to five minutes; if it is not done, hand it to a fresh job (the lease is given back)."""
    result = await service.run_import(UUID(import_id))
    if result == "paused":
        await queue.enqueue(ctx["redis"], UUID(import_id), f"import:{import_id}:{uuid4().hex}")
    log.info("import job", extra={"import_id": import_id, "result": result})
    return result


async def resume_imports(ctx: dict[str, Any]) -> int:
    """Enqueue imports with work left and no live lease (a worker died, Redis lost the job); fail stale uploads."""
    async with sessionmaker()() as session, session.begin():
        jobs = await service.resumable(session)
        abandoned = await service.abandon_stale_uploads(session)
    started = 0
    for job_id, arq_job_id in jobs:
        started += await queue.enqueue(ctx["redis"], job_id, arq_job_id)
    if started or abandoned:
        log.info("imports resumed", extra={"resumed": started, "abandoned_uploads": abandoned})
    return started
