"""Webhook jobs: deliver one endpoint's due deliveries, relay the outbox, sweep what is due. Each is idempotent.

A delivery job carries a subscription id only; PostgreSQL decides whether there is anything to do.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from uuid import UUID

from app.db import sessionmaker
from app.settings import get_settings
from app.webhooks import attempts, batch, queue, relay

log = logging.getLogger("dondoc.webhooks")

RELAY_MAX_BATCHES = 20  # per run; the next run (seconds later) goes on
BATCH_JOB_TIMEOUT_S = batch.job_timeout_s(get_settings())


async def deliver_batch(ctx: dict[str, Any], subscription_id: str) -> dict[str, int]:
    """The endpoint's batch: claim, POST concurrently, record; then wake the job that comes next, if any."""
    started = time.perf_counter()
    redis = ctx["redis"]
    await queue.batch_started(redis, subscription_id)
    run = await batch.run(UUID(subscription_id), settings=get_settings())
    if run.cut_short:
        await queue.enqueue_batches(redis, [subscription_id])
    async with sessionmaker()() as session, session.begin():
        retry = await attempts.next_retry(session, UUID(subscription_id))
    if retry is not None:
        await queue.enqueue_retry(redis, subscription_id, due_at=retry[0], in_s=retry[1])
    counts = {outcome.value: n for outcome, n in run.counts.items()}
    if counts:
        log.info(
            "webhook batch",
            extra={"subscription_id": subscription_id, "outcomes": counts, "cut_short": run.cut_short,
                   "duration_ms": int((time.perf_counter() - started) * 1000)},
        )
    return counts


async def relay_outbox(ctx: dict[str, Any]) -> int:
    """Turn newly committed events into deliveries, then wake their endpoints' batch jobs at once."""
    relayed = 0
    for _ in range(RELAY_MAX_BATCHES):
        async with sessionmaker()() as session, session.begin():
            relayed_batch = await relay.relay_batch(session)
        if relayed_batch is None:  # another relay holds the cursor
            break
        events, created = relayed_batch
        if created:
            await queue.enqueue_batches(ctx["redis"], created)
        relayed += len(created)
        if events < relay.RELAY_BATCH:
            break
    return relayed


async def sweep_deliveries(ctx: dict[str, Any]) -> int:
    """Wake the endpoints with something due that may have no job (Redis lost it, a worker died)."""
    async with sessionmaker()() as session, session.begin():
        endpoints = await relay.due_subscriptions(session)
    added = await queue.enqueue_batches(ctx["redis"], endpoints) if endpoints else 0
    if added:
        log.info("webhook sweeper woke endpoints", extra={"enqueued": added, "due": len(endpoints)})
    return added
