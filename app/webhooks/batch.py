"""One endpoint's batch job: claim its due deliveries, POST them concurrently, record the outcomes together.

The job holds up to `CLAIM` claimed deliveries of the endpoint and POSTs them over at most
`CONCURRENCY` connections. Answers are recorded in one transaction when half the claim has
answered, when nothing is left outstanding, or after `RECORD_WAIT_S`; the recorded ones are
claimed again at once, so the database work of one half overlaps the HTTP calls of the other,
and one slow answer holds one connection, not the batch.

The job stops when a claim made with nothing outstanding finds nothing due, or when its time is
up (`BUDGET_S`; the caller then wakes a fresh job): a worker's job slots turn over and a shutdown
waits for at most one round. While it holds leases, claims by any other job of the endpoint take
nothing (`claims.claim_batch`), and it always claims again before it stops: one job at a time
works an endpoint, and nothing due is left without one.

Only this endpoint's deliveries are in the job, so a slow or dead endpoint delays only itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from uuid import UUID

from app.db import sessionmaker
from app.settings import Settings
from app.webhooks import attempts, claims
from app.webhooks.attempts import Claim, Outcome
from app.webhooks.delivery import AttemptResult
from app.webhooks.sender import Sender

log = logging.getLogger("dondoc.webhooks")

# Requests in flight to one endpoint. On a local receiver one process delivers most at 8-16;
# more connections only add load on the receiver and on our event loop.
CONCURRENCY = 16
# Deliveries claimed per statement (at most this many held): fewer, fuller transactions.
CLAIM = 64
RECORD_WAIT_S = 0.2  # an answer waits at most this long to be recorded with others
# While slow answers hold the claim half empty, look this often for newly due deliveries: other
# jobs leave the endpoint to the one holding its leases, so it must find them itself.
CLAIM_POLL_S = 1.0
BUDGET_S = 5.0  # claiming stops after this; what is outstanding then finishes
LEASE_MARGIN_S = 1.0  # a waiting delivery starts only if its attempt ends this long before its lease

Outstanding = dict[asyncio.Task[AttemptResult | None], Claim]


def job_timeout_s(settings: Settings) -> float:
    """ARQ's limit for one batch job: the budget, a last claim's lease, and the database around it."""
    return BUDGET_S + settings.webhook_lease_s + 30


@dataclass
class BatchRun:
    counts: Counter[Outcome] = field(default_factory=Counter)
    cut_short: bool = False  # stopped by the budget while deliveries may still be due


async def run(subscription_id: UUID, *, settings: Settings) -> BatchRun:
    """Deliver the endpoint's due deliveries until none is left or the budget is spent."""
    batch = BatchRun()
    sender = Sender(settings, lanes=CONCURRENCY)
    outstanding: Outstanding = {}
    deadline = time.monotonic() + BUDGET_S
    try:
        while True:
            room, taken = len(outstanding) <= CLAIM // 2, 0
            if room and time.monotonic() < deadline:
                taken = await _claim_and_send(subscription_id, sender, outstanding, settings)
            elif room:
                batch.cut_short = True
            if not outstanding:
                if taken:  # all of them ended at the claim; there may be more
                    continue
                return batch
            polling = len(outstanding) <= CLAIM // 2 and time.monotonic() < deadline
            answered = await _answers(outstanding, poll_s=CLAIM_POLL_S if polling else None)
            if answered:
                async with sessionmaker()() as session, session.begin():
                    batch.counts += await attempts.record_batch(session, subscription_id, answered)
                _log(subscription_id, answered)
    finally:
        for task in outstanding:
            task.cancel()
        await asyncio.gather(*outstanding, return_exceptions=True)
        sender.close()


async def _claim_and_send(subscription_id: UUID, sender: Sender, outstanding: Outstanding, settings: Settings) -> int:
    """Claim what there is room for and start POSTing it; returns how many were claimed."""
    loop = asyncio.get_running_loop()
    # The lease runs from the claim's transaction; counting from before it errs on the safe side.
    start_by = loop.time() + settings.webhook_lease_s - settings.webhook_total_timeout_s - LEASE_MARGIN_S
    async with sessionmaker()() as session, session.begin():
        claimed = await claims.claim_batch(
            session, subscription_id, limit=CLAIM - len(outstanding), lease_s=settings.webhook_lease_s,
            held=[claim.delivery_id for claim in outstanding.values()],
        )
    if claimed is None:
        return 0
    if claimed.claims:
        route = await sender.route(claimed.url)
        for claim in claimed.claims:
            task = asyncio.create_task(sender.post(route, headers=claim.headers, body=claim.body, start_by=start_by))
            outstanding[task] = claim
    return claimed.taken


async def _answers(outstanding: Outstanding, *, poll_s: float | None) -> list[tuple[Claim, AttemptResult | None]]:
    """Wait until half the claim has answered, nothing is outstanding, the first answer has waited long
    enough, or (`poll_s`) it is time to look for newly due deliveries."""
    answered: list[tuple[Claim, AttemptResult | None]] = []
    record_at: float | None = None
    poll_at = None if poll_s is None else time.monotonic() + poll_s
    while outstanding and len(answered) < CLAIM // 2:
        wake_at = min((t for t in (record_at, poll_at) if t is not None), default=None)
        timeout = None if wake_at is None else max(0.0, wake_at - time.monotonic())
        done, _ = await asyncio.wait(outstanding, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if not done:
            break
        answered += [(outstanding.pop(task), task.result()) for task in done]
        record_at = record_at or time.monotonic() + RECORD_WAIT_S
    return answered


def _log(subscription_id: UUID, answered: list[tuple[Claim, AttemptResult | None]]) -> None:
    """Failed attempts one by one (successes are counted per batch by the caller)."""
    for claim, result in answered:
        if result is None:
            log.info("webhook delivery released untried", extra={"delivery_id": str(claim.delivery_id)})
        elif not result.succeeded:
            log.info(
                "webhook attempt failed",
                extra={"subscription_id": str(subscription_id), "delivery_id": str(claim.delivery_id),
                       "attempt": claim.attempt, "status_code": result.status_code, "error": result.error,
                       "duration_ms": result.duration_ms},
            )
