"""Claiming (nhận việc gửi) a batch of one endpoint's due deliveries, in one statement, with their messages signed.

A claim is a lease (`locked_until`). Claims of one endpoint are serialised on its subscription
row, and a claim takes nothing while another job holds live leases of that endpoint: one job at a
time works an endpoint, whatever the number of jobs or workers, so its concurrency is that job's.
A dead worker's expired lease is taken over here, and its lost attempt recorded as `worker_lost`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.timeutil import utcnow
from app.webhooks import signing
from app.webhooks.attempts import Claim, Outcome, count_deliveries
from app.webhooks.delivery import MAX_ATTEMPTS
from app.webhooks.models import DeliveryKind, DeliveryStatus, WebhookSubscription


@dataclass(frozen=True, slots=True)
class ClaimedBatch:
    """Due deliveries of one endpoint, claimed together; `url` as the subscription said at the claim.

    `taken` counts those that ended at the claim too (endpoint disabled, event gone, attempts used up).
    """

    subscription_id: UUID
    url: str
    claims: list[Claim]
    taken: int = 0


# Up to `limit` of one endpoint's due deliveries, a dead worker's expired leases first, then oldest
# due first; none while another job holds live leases of the endpoint (`held` are the caller's own).
# The caller holds the subscription row, so claims of one endpoint never overlap; SKIP LOCKED keeps
# any other reader of these rows from blocking us.
_CLAIM = text(
    """
    WITH room AS (
        SELECT CASE WHEN EXISTS (
            SELECT 1 FROM webhook_deliveries
            WHERE subscription_id = :s AND status = 'in_flight' AND locked_until >= now()
              AND id <> ALL(CAST(:held AS uuid[]))
        ) THEN 0 ELSE :limit END AS n
    ),
    lost AS (
        SELECT id, status, attempt_count, last_attempt_at FROM webhook_deliveries
        WHERE subscription_id = :s AND status = 'in_flight' AND locked_until < now()
        ORDER BY locked_until LIMIT (SELECT n FROM room)
        FOR UPDATE SKIP LOCKED
    ),
    due AS (
        SELECT id, status, attempt_count, last_attempt_at FROM webhook_deliveries
        WHERE subscription_id = :s AND status = 'pending' AND next_attempt_at <= now()
        ORDER BY next_attempt_at LIMIT (SELECT n FROM room) - (SELECT count(*) FROM lost)
        FOR UPDATE SKIP LOCKED
    ),
    target AS (SELECT * FROM lost UNION ALL SELECT * FROM due)
    UPDATE webhook_deliveries d
    SET status = 'in_flight', attempt_count = d.attempt_count + 1, last_attempt_at = now(),
        locked_until = now() + make_interval(secs => :lease)
    FROM target WHERE d.id = target.id
    RETURNING d.id, d.subscription_id, d.kind, d.event_id, d.event_type, d.message_id, d.created_at,
              d.attempt_count, target.status AS old_status, target.attempt_count AS old_count,
              target.last_attempt_at AS old_started
    """
)

_LOST_ATTEMPTS = text(
    """
    INSERT INTO webhook_attempts (delivery_id, number, started_at, error)
    SELECT d, n, COALESCE(s, now()), 'worker_lost'
    FROM unnest(CAST(:ids AS uuid[]), CAST(:numbers AS int[]), CAST(:started AS timestamptz[])) AS v(d, n, s)
    ON CONFLICT DO NOTHING
    """
)

_FINISH = text(
    """
    UPDATE webhook_deliveries d
    SET status = 'failed', last_error = v.error, finished_at = now(), locked_until = NULL, next_attempt_at = NULL
    FROM unnest(CAST(:ids AS uuid[]), CAST(:errors AS text[])) AS v(id, error)
    WHERE d.id = v.id
    """
)


async def claim_batch(
    session: AsyncSession, subscription_id: UUID, *, limit: int, lease_s: float, held: Sequence[UUID] = ()
) -> ClaimedBatch | None:
    """Take up to `limit` due deliveries of the endpoint; none while another job holds some. None if it is gone.

    `held`: the deliveries the caller itself has claimed and not yet recorded.
    """
    subscription = await session.scalar(
        select(WebhookSubscription).where(WebhookSubscription.id == subscription_id).with_for_update(key_share=True)
    )
    if subscription is None:  # deleted: its deliveries went with it
        return None
    rows = (
        await session.execute(_CLAIM, {"s": subscription_id, "limit": limit, "lease": lease_s, "held": list(held)})
    ).all()
    if not rows:
        return ClaimedBatch(subscription_id, subscription.url, [])
    lost = [r for r in rows if r.old_status == DeliveryStatus.in_flight]
    if lost:
        await session.execute(
            _LOST_ATTEMPTS,
            {"ids": [r.id for r in lost], "numbers": [r.old_count for r in lost], "started": [r.old_started for r in lost]},
        )
        count_deliveries(Outcome.worker_lost.value, len(lost))
    if not subscription.active:
        await _fail(session, {r.id: "endpoint_disabled" for r in rows})
        return ClaimedBatch(subscription_id, subscription.url, [], taken=len(rows))
    exhausted = {r.id: "attempts_exhausted" for r in rows if r.attempt_count > MAX_ATTEMPTS}  # lost workers used them up
    count_deliveries(Outcome.failed.value, len(exhausted))
    messages = await _messages(session, [r for r in rows if r.id not in exhausted])
    missing = {r.id: "event_missing" for r in rows if r.id not in exhausted and r.id not in messages}
    await _fail(session, exhausted | missing)
    secrets_in_use = signing_secrets(subscription)
    timestamp = int(time.time())
    claims = []
    for row in rows:
        if row.id in messages:
            body = orjson.dumps(messages[row.id])
            headers = signing.headers(secrets_in_use, message_id=row.message_id, timestamp=timestamp, body=body)
            claims.append(Claim(row.id, row.attempt_count, headers, body, row.old_started))
    return ClaimedBatch(subscription_id, subscription.url, claims, taken=len(rows))


async def _fail(session: AsyncSession, errors: dict[UUID, str]) -> None:
    if errors:
        await session.execute(_FINISH, {"ids": list(errors), "errors": list(errors.values())})


def signing_secrets(subscription: WebhookSubscription) -> list[str]:
    """The current secret, and the previous one while its 24 hours of overlap last."""
    keys = [subscription.secret]
    expires = subscription.previous_secret_expires_at
    if subscription.previous_secret and expires is not None and expires > utcnow():
        keys.append(subscription.previous_secret)
    return keys


def _utc_z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def _messages(session: AsyncSession, rows: Sequence[Any]) -> dict[UUID, dict[str, Any]]:
    """The Standard Webhooks bodies `{"type", "timestamp", "data"}`, the same bytes on every attempt; one query."""
    event_ids = list({r.event_id for r in rows if r.kind != DeliveryKind.ping and r.event_id is not None})
    found = {}
    if event_ids:
        result = await session.execute(
            text("SELECT id, type, occurred_at, data FROM events WHERE id = ANY(CAST(:ids AS bigint[]))"), {"ids": event_ids}
        )
        found = {e.id: e for e in result}
    messages: dict[UUID, dict[str, Any]] = {}
    for row in rows:
        if row.kind == DeliveryKind.ping or row.event_id is None:
            data = {"id": row.message_id, "occurred_at": _utc_z(row.created_at), "subscription_id": str(row.subscription_id)}
            messages[row.id] = {"type": row.event_type, "timestamp": _utc_z(row.created_at), "data": data}
        elif (event := found.get(row.event_id)) is not None:
            data = {**event.data, "id": event.id, "occurred_at": _utc_z(event.occurred_at)}
            messages[row.id] = {"type": event.type, "timestamp": _utc_z(event.occurred_at), "data": data}
    return messages
