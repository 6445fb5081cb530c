"""Webhook jobs: deliver one delivery, relay the outbox, sweep what is due. Each is idempotent.

A job carries a delivery id only; PostgreSQL decides whether there is anything to do.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from app.db import sessionmaker
from app.settings import get_settings
from app.webhooks import attempts, delivery, relay
from app.webhooks.attempts import Outcome
from app.webhooks.queue import attempt_job, enqueue

log = logging.getLogger("dondoc.webhooks")

RELAY_MAX_BATCHES = 20  # per run; the next run (seconds later) goes on


async def deliver_webhook(ctx: dict[str, Any], delivery_id: str) -> str:
    """One attempt: claim (short transaction), POST (no transaction held), record the outcome (short transaction)."""
    settings = get_settings()
    async with sessionmaker()() as session, session.begin():
        claim = await attempts.claim(session, UUID(delivery_id), lease_s=settings.webhook_lease_s)
    if claim is None:
        return "nothing_due"
    result = await delivery.post(claim.url, headers=claim.headers, body=claim.body, settings=settings)
    async with sessionmaker()() as session, session.begin():
        decision = await attempts.record(session, claim, result)
    if decision.outcome == Outcome.retrying and decision.retry_in_s is not None:
        # A little late rather than early: an early job finds the row not yet due and does nothing.
        retry = attempt_job(claim.delivery_id, decision.attempt + 1, defer_s=decision.retry_in_s + 0.05)
        await enqueue(ctx["redis"], [retry])
    log.info(
        "webhook attempt",
        extra={"delivery_id": delivery_id, "attempt": claim.attempt, "outcome": decision.outcome.value,
               "status_code": result.status_code, "error": result.error, "duration_ms": result.duration_ms},
    )
    return decision.outcome.value


async def relay_outbox(ctx: dict[str, Any]) -> int:
    """Turn newly committed events into deliveries, then wake workers for them at once."""
    relayed = 0
    for _ in range(RELAY_MAX_BATCHES):
        async with sessionmaker()() as session, session.begin():
            batch = await relay.relay_batch(session)
        if batch is None:  # another relay holds the cursor
            break
        events, jobs = batch
        if jobs:
            await enqueue(ctx["redis"], jobs)
        relayed += len(jobs)
        if events < relay.RELAY_BATCH:
            break
    return relayed


async def sweep_deliveries(ctx: dict[str, Any]) -> int:
    """Re-enqueue what is due but may have no job (Redis lost it, a worker died); duplicates are refused by job id."""
    async with sessionmaker()() as session, session.begin():
        jobs = await relay.due_jobs(session)
    added = await enqueue(ctx["redis"], jobs) if jobs else 0
    if added:
        log.info("webhook sweeper re-enqueued deliveries", extra={"enqueued": added, "due": len(jobs)})
    return added
