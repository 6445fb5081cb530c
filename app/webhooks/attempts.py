"""Delivery attempts (lần gửi): what one sends, and their outcomes recorded a batch at a time.

Claim (`app.webhooks.claims`) and outcome are separate short transactions; the HTTP calls hold
no database connection. An outcome is recorded only by the holder of the current claim, so a
late answer can never overwrite a newer one. Recording is set-based: one statement stores a
batch's attempts, one moves its deliveries on. A claimed delivery the job could not start in time
(its lease would run out mid-call) is released untried.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from prometheus_client import Counter as PromCounter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.events import service as events
from app.ops import worker_metrics
from app.timeutil import utcnow
from app.webhooks.delivery import AttemptResult, next_delay
from app.webhooks.models import DeliveryStatus

# An endpoint whose deliveries have failed without a single success for this long is disabled.
FAILING_LIMIT = timedelta(days=5)

DELIVERIES = PromCounter("dondoc_webhook_deliveries", "Webhook delivery attempts by outcome", ["outcome"])


def count_deliveries(outcome: str, n: int = 1) -> None:
    """This worker's counter (WORKER_METRICS_PORT) and the cluster-wide one the API serves on /metrics."""
    DELIVERIES.labels(outcome).inc(n)
    worker_metrics.count("webhook_deliveries", outcome, n)


class Outcome(enum.StrEnum):
    delivered = "delivered"
    retrying = "retrying"
    failed = "failed"
    stale = "stale"  # our lease was taken over; the newer claim decides
    worker_lost = "worker_lost"  # a dead worker's attempt, found by a later claim


@dataclass(frozen=True, slots=True)
class Claim:
    """What one attempt sends, fixed in the claim's transaction."""

    delivery_id: UUID
    attempt: int
    headers: dict[str, str]
    body: bytes
    previous_attempt_at: datetime | None = None  # restored if the attempt is released untried


# ON CONFLICT: a reclaimer may have written `worker_lost` for this number; the real answer replaces it.
_STORE_ATTEMPTS = text(
    """
    INSERT INTO webhook_attempts (delivery_id, number, started_at, duration_ms, status_code, error, response_excerpt)
    SELECT * FROM unnest(
        CAST(:ids AS uuid[]), CAST(:numbers AS int[]), CAST(:started AS timestamptz[]), CAST(:ms AS int[]),
        CAST(:codes AS int[]), CAST(:errors AS text[]), CAST(:excerpts AS text[])
    )
    ON CONFLICT (delivery_id, number) DO UPDATE
    SET started_at = EXCLUDED.started_at, duration_ms = EXCLUDED.duration_ms, status_code = EXCLUDED.status_code,
        error = EXCLUDED.error, response_excerpt = EXCLUDED.response_excerpt
    """
)

# Only rows still held by the claim that made the attempt move on; the others are stale.
_MOVE_ON = text(
    """
    UPDATE webhook_deliveries d
    SET status = v.status, last_error = v.error, locked_until = NULL,
        next_attempt_at = CASE WHEN v.status = 'pending' THEN now() + make_interval(secs => v.delay) END,
        finished_at = CASE WHEN v.status = 'pending' THEN d.finished_at ELSE now() END
    FROM unnest(
        CAST(:ids AS uuid[]), CAST(:numbers AS int[]), CAST(:statuses AS text[]), CAST(:errors AS text[]),
        CAST(:delays AS float8[])
    ) AS v(id, number, status, error, delay)
    WHERE d.id = v.id AND d.status = 'in_flight' AND d.attempt_count = v.number
    RETURNING d.id
    """
)


# A claimed delivery that was never tried goes back as it was, due again at once.
_RELEASE = text(
    """
    UPDATE webhook_deliveries d
    SET status = 'pending', attempt_count = v.number - 1, last_attempt_at = v.previous, locked_until = NULL,
        next_attempt_at = COALESCE(d.next_attempt_at, now())
    FROM unnest(CAST(:ids AS uuid[]), CAST(:numbers AS int[]), CAST(:previous AS timestamptz[])) AS v(id, number, previous)
    WHERE d.id = v.id AND d.status = 'in_flight' AND d.attempt_count = v.number
    """
)


@dataclass(frozen=True, slots=True)
class _Decision:
    outcome: Outcome
    status: DeliveryStatus
    error: str | None
    delay_s: float | None = None


def _decide(claim: Claim, result: AttemptResult) -> _Decision:
    """Delivered, retry later, or failed for good; 3xx is a failure, 410 is final."""
    if result.succeeded:
        return _Decision(Outcome.delivered, DeliveryStatus.delivered, None)
    error = result.error or f"http_{result.status_code}"
    delay = None if result.gone else next_delay(claim.attempt, result)
    if delay is None:
        return _Decision(Outcome.failed, DeliveryStatus.failed, error)
    return _Decision(Outcome.retrying, DeliveryStatus.pending, error, delay)


async def record_batch(
    session: AsyncSession, subscription_id: UUID, answered: Sequence[tuple[Claim, AttemptResult | None]]
) -> Counter[Outcome]:
    """Store every attempt, move on the deliveries still held, and keep the endpoint's failing clock.

    A result of None is a delivery released untried. 410 disables the endpoint; so do five days of
    failures without a single success.
    """
    untried = [claim for claim, result in answered if result is None]
    if untried:
        await session.execute(
            _RELEASE,
            {"ids": [c.delivery_id for c in untried], "numbers": [c.attempt for c in untried],
             "previous": [c.previous_attempt_at for c in untried]},
        )
    sent = [(claim, result) for claim, result in answered if result is not None]
    if not sent:
        return Counter()
    await session.execute(
        _STORE_ATTEMPTS,
        {
            "ids": [c.delivery_id for c, _ in sent], "numbers": [c.attempt for c, _ in sent],
            "started": [r.started_at for _, r in sent], "ms": [r.duration_ms for _, r in sent],
            "codes": [r.status_code for _, r in sent], "errors": [r.error for _, r in sent],
            "excerpts": [r.excerpt for _, r in sent],
        },
    )
    decisions = [_decide(claim, result) for claim, result in sent]
    held = set(
        (
            await session.execute(
                _MOVE_ON,
                {
                    "ids": [c.delivery_id for c, _ in sent], "numbers": [c.attempt for c, _ in sent],
                    "statuses": [d.status.value for d in decisions], "errors": [d.error for d in decisions],
                    "delays": [d.delay_s for d in decisions],
                },
            )
        ).scalars()
    )
    counts: Counter[Outcome] = Counter()
    answered, failed_at, gone = False, None, False
    for (claim, result), decision in zip(sent, decisions, strict=True):
        if claim.delivery_id not in held:
            counts[Outcome.stale] += 1
            continue
        counts[decision.outcome] += 1
        if result.succeeded:
            answered = True
        elif result.gone:
            gone = True
        else:
            failed_at = min(failed_at or result.started_at, result.started_at)
    for outcome, n in counts.items():
        count_deliveries(outcome.value, n)
    if gone:
        await disable_subscription(session, subscription_id, reason="gone")
    if await _failing_too_long(session, subscription_id, answered=answered, failed_at=failed_at):
        await disable_subscription(session, subscription_id, reason="failing")
    return counts


async def _failing_too_long(
    session: AsyncSession, subscription_id: UUID, *, answered: bool, failed_at: datetime | None
) -> bool:
    """Keep when the endpoint started failing without a single success; True once that is 5 days ago.

    A success clears the clock; failures in the same batch as a success start it again.
    """
    if failed_at is None:
        if answered:
            await session.execute(
                text(
                    "UPDATE webhook_subscriptions SET failing_since = NULL, version = version + 1 "
                    "WHERE id = :s AND failing_since IS NOT NULL"
                ),
                {"s": subscription_id},
            )
        return False
    since = await session.scalar(
        text(
            "WITH next AS (SELECT CASE WHEN :answered THEN CAST(:at AS timestamptz) ELSE COALESCE(failing_since, :at) END AS since "
            "              FROM webhook_subscriptions WHERE id = :s) "
            "UPDATE webhook_subscriptions w SET failing_since = next.since, "
            "       version = w.version + CASE WHEN w.failing_since IS DISTINCT FROM next.since THEN 1 ELSE 0 END "
            "FROM next WHERE w.id = :s RETURNING w.failing_since"
        ),
        {"s": subscription_id, "at": failed_at, "answered": answered},
    )
    return since is not None and utcnow() - since >= FAILING_LIMIT


async def disable_subscription(session: AsyncSession, subscription_id: UUID, *, reason: str) -> bool:
    """Stop an endpoint: its waiting deliveries fail and `webhook.disabled` goes to the event feed. Once only."""
    row = (
        await session.execute(
            text(
                "UPDATE webhook_subscriptions SET active = false, disabled_at = now(), disabled_reason = :reason, "
                "updated_at = now(), version = version + 1 WHERE id = :s AND active RETURNING unit_id, url"
            ),
            {"s": subscription_id, "reason": reason},
        )
    ).first()
    if row is None:
        return False
    await session.execute(
        text(
            "UPDATE webhook_deliveries SET status = 'failed', last_error = 'endpoint_disabled', finished_at = now(), "
            "next_attempt_at = NULL WHERE subscription_id = :s AND status = 'pending'"
        ),
        {"s": subscription_id},
    )
    await events.record(
        session, "webhook.disabled", units=[row.unit_id], webhook_id=subscription_id, unit_id=row.unit_id,
        url=row.url, reason=reason,
    )
    return True


async def next_retry(session: AsyncSession, subscription_id: UUID) -> tuple[datetime, float] | None:
    """When the endpoint's next waiting delivery falls due (and in how many seconds, by the database's clock)."""
    row = (
        await session.execute(
            text(
                "SELECT next_attempt_at AS at, extract(epoch FROM next_attempt_at - now()) AS wait "
                "FROM webhook_deliveries WHERE subscription_id = :s AND status = 'pending' AND next_attempt_at > now() "
                "ORDER BY next_attempt_at LIMIT 1"
            ),
            {"s": subscription_id},
        )
    ).first()
    return None if row is None else (row.at, float(row.wait))
