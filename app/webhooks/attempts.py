"""A delivery attempt (lần gửi): claim the row, call the endpoint outside any transaction, record the outcome.

Claim and outcome are separate short transactions; the HTTP call holds no database connection.
The claim is a lease (`locked_until`): if a worker dies mid-call, the lease expires, the sweeper
re-enqueues, the next claim records the lost attempt as `worker_lost` and tries again. The outcome
is recorded only by the holder of the current claim, so a late answer can never overwrite a newer one.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import orjson
from prometheus_client import Counter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.events import service as events
from app.timeutil import utcnow
from app.webhooks import signing
from app.webhooks.delivery import MAX_ATTEMPTS, AttemptResult, next_delay
from app.webhooks.models import DeliveryKind, DeliveryStatus, WebhookSubscription

# An endpoint whose deliveries have failed without a single success for this long is disabled.
FAILING_LIMIT = timedelta(days=5)

DELIVERIES = Counter("dondoc_webhook_deliveries", "Webhook delivery attempts by outcome", ["outcome"])


class Outcome(enum.StrEnum):
    delivered = "delivered"
    retrying = "retrying"
    failed = "failed"
    stale = "stale"  # our lease was taken over; the newer claim decides


@dataclass(frozen=True, slots=True)
class Claim:
    """What one attempt sends, fixed in the claim's transaction."""

    delivery_id: UUID
    subscription_id: UUID
    attempt: int
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    attempt: int
    retry_in_s: float | None = None


_CLAIM = text(
    """
    WITH target AS (
        SELECT id, status AS old_status, attempt_count AS old_count, last_attempt_at AS old_started
        FROM webhook_deliveries
        WHERE id = :id
          AND ((status = 'pending' AND next_attempt_at <= now()) OR (status = 'in_flight' AND locked_until < now()))
        FOR UPDATE SKIP LOCKED
    )
    UPDATE webhook_deliveries d
    SET status = 'in_flight', attempt_count = d.attempt_count + 1, last_attempt_at = now(),
        locked_until = now() + make_interval(secs => :lease)
    FROM target WHERE d.id = target.id
    RETURNING d.id, d.subscription_id, d.kind, d.event_id, d.event_type, d.message_id, d.created_at,
              d.attempt_count, target.old_status, target.old_count, target.old_started
    """
)


async def claim(session: AsyncSession, delivery_id: UUID, *, lease_s: float) -> Claim | None:
    """Take the delivery if it is due and nobody holds it; None when there is nothing to do."""
    row = (await session.execute(_CLAIM, {"id": delivery_id, "lease": lease_s})).first()
    if row is None:
        return None
    if row.old_status == DeliveryStatus.in_flight:
        await _record_lost_attempt(session, delivery_id, row.old_count, row.old_started)
    subscription = await session.get(WebhookSubscription, row.subscription_id)
    if subscription is None or not subscription.active:
        await _finish(session, delivery_id, DeliveryStatus.failed, "endpoint_disabled")
        return None
    if row.attempt_count > MAX_ATTEMPTS:  # lost workers used the attempts up
        await _finish(session, delivery_id, DeliveryStatus.failed, "attempts_exhausted")
        DELIVERIES.labels(Outcome.failed).inc()
        return None
    message = await _message(session, row)
    if message is None:
        await _finish(session, delivery_id, DeliveryStatus.failed, "event_missing")
        return None
    body = orjson.dumps(message)
    return Claim(
        delivery_id=delivery_id, subscription_id=subscription.id, attempt=row.attempt_count, url=subscription.url,
        headers=signing.headers(
            signing_secrets(subscription), message_id=row.message_id, timestamp=int(time.time()), body=body
        ),
        body=body,
    )


def signing_secrets(subscription: WebhookSubscription) -> list[str]:
    """The current secret, and the previous one while its 24 hours of overlap last."""
    keys = [subscription.secret]
    expires = subscription.previous_secret_expires_at
    if subscription.previous_secret and expires is not None and expires > utcnow():
        keys.append(subscription.previous_secret)
    return keys


def _utc_z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def _message(session: AsyncSession, row: Any) -> dict[str, Any] | None:
    """The Standard Webhooks body `{"type", "timestamp", "data"}`; the same bytes on every attempt."""
    if row.kind == DeliveryKind.ping or row.event_id is None:
        data = {"id": row.message_id, "occurred_at": _utc_z(row.created_at), "subscription_id": str(row.subscription_id)}
        return {"type": row.event_type, "timestamp": _utc_z(row.created_at), "data": data}
    event = (
        await session.execute(text("SELECT id, type, occurred_at, data FROM events WHERE id = :id"), {"id": row.event_id})
    ).first()
    if event is None:
        return None
    data = {**event.data, "id": event.id, "occurred_at": _utc_z(event.occurred_at)}
    return {"type": event.type, "timestamp": _utc_z(event.occurred_at), "data": data}


async def _record_lost_attempt(session: AsyncSession, delivery_id: UUID, number: int, started: datetime | None) -> None:
    await session.execute(
        text(
            "INSERT INTO webhook_attempts (delivery_id, number, started_at, error) "
            "VALUES (:d, :n, COALESCE(:s, now()), 'worker_lost') ON CONFLICT DO NOTHING"
        ),
        {"d": delivery_id, "n": number, "s": started},
    )
    DELIVERIES.labels("worker_lost").inc()


async def _finish(session: AsyncSession, delivery_id: UUID, status: DeliveryStatus, error: str | None) -> None:
    await session.execute(
        text(
            "UPDATE webhook_deliveries SET status = :status, last_error = :error, finished_at = now(), "
            "locked_until = NULL, next_attempt_at = NULL WHERE id = :id"
        ),
        {"id": delivery_id, "status": status.value, "error": error},
    )


async def record(session: AsyncSession, claim: Claim, result: AttemptResult) -> Decision:
    """Store the attempt and decide: delivered, retry later, or failed for good (and maybe disable the endpoint)."""
    await _store_attempt(session, claim, result)
    held = await session.scalar(
        text(
            "SELECT 1 FROM webhook_deliveries WHERE id = :id AND status = 'in_flight' AND attempt_count = :n FOR UPDATE"
        ),
        {"id": claim.delivery_id, "n": claim.attempt},
    )
    if not held:
        return _counted(Decision(Outcome.stale, claim.attempt))
    if result.succeeded:
        await _finish(session, claim.delivery_id, DeliveryStatus.delivered, None)
        await session.execute(
            text("UPDATE webhook_subscriptions SET failing_since = NULL WHERE id = :s AND failing_since IS NOT NULL"),
            {"s": claim.subscription_id},
        )
        return _counted(Decision(Outcome.delivered, claim.attempt))
    error = result.error or f"http_{result.status_code}"
    if result.gone:
        await _finish(session, claim.delivery_id, DeliveryStatus.failed, error)
        await disable_subscription(session, claim.subscription_id, reason="gone")
        return _counted(Decision(Outcome.failed, claim.attempt))
    decision = await _retry_or_fail(session, claim, result, error)
    if await _failing_too_long(session, claim.subscription_id, result.started_at):
        await disable_subscription(session, claim.subscription_id, reason="failing")
    return _counted(decision)


def _counted(decision: Decision) -> Decision:
    DELIVERIES.labels(decision.outcome.value).inc()
    return decision


async def _store_attempt(session: AsyncSession, claim: Claim, result: AttemptResult) -> None:
    # ON CONFLICT: a reclaimer may have written `worker_lost` for this number; the real answer replaces it.
    await session.execute(
        text(
            """
            INSERT INTO webhook_attempts (delivery_id, number, started_at, duration_ms, status_code, error, response_excerpt)
            VALUES (:d, :n, :started, :ms, :code, :error, :excerpt)
            ON CONFLICT (delivery_id, number) DO UPDATE
            SET started_at = EXCLUDED.started_at, duration_ms = EXCLUDED.duration_ms, status_code = EXCLUDED.status_code,
                error = EXCLUDED.error, response_excerpt = EXCLUDED.response_excerpt
            """
        ),
        {
            "d": claim.delivery_id, "n": claim.attempt, "started": result.started_at, "ms": result.duration_ms,
            "code": result.status_code, "error": result.error, "excerpt": result.excerpt,
        },
    )


async def _retry_or_fail(session: AsyncSession, claim: Claim, result: AttemptResult, error: str) -> Decision:
    delay = next_delay(claim.attempt, result)
    if delay is None:
        await _finish(session, claim.delivery_id, DeliveryStatus.failed, error)
        return Decision(Outcome.failed, claim.attempt)
    await session.execute(
        text(
            "UPDATE webhook_deliveries SET status = 'pending', last_error = :error, locked_until = NULL, "
            "next_attempt_at = now() + make_interval(secs => :delay) WHERE id = :id"
        ),
        {"id": claim.delivery_id, "error": error, "delay": delay},
    )
    return Decision(Outcome.retrying, claim.attempt, retry_in_s=delay)


async def _failing_too_long(session: AsyncSession, subscription_id: UUID, failed_at: datetime) -> bool:
    """Mark when the endpoint started failing (kept until a success); True once that is 5 days ago."""
    since = await session.scalar(
        text(
            "UPDATE webhook_subscriptions SET failing_since = COALESCE(failing_since, :at) WHERE id = :s "
            "RETURNING failing_since"
        ),
        {"s": subscription_id, "at": failed_at},
    )
    return since is not None and utcnow() - since >= FAILING_LIMIT


async def disable_subscription(session: AsyncSession, subscription_id: UUID, *, reason: str) -> bool:
    """Stop an endpoint: its waiting deliveries fail and `webhook.disabled` goes to the event feed. Once only."""
    row = (
        await session.execute(
            text(
                "UPDATE webhook_subscriptions SET active = false, disabled_at = now(), disabled_reason = :reason, "
                "updated_at = now() WHERE id = :s AND active RETURNING unit_id, url"
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
