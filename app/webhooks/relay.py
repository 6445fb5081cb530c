"""The outbox relay (chuyển tiếp sự kiện) and the sweeper: from committed events to due delivery jobs.

The relay reads events in the feed's (txid, id) order, only below the feed's cutoff
(`app.events.service.feed_cutoff`: a transaction that commits late can never land behind the cursor), inserts one delivery per matching
active subscription with one `INSERT ... SELECT`, and moves its one-row cursor in the same
transaction: a crash before commit redoes the batch, after commit never repeats it, and the unique
(subscription, event) index makes a repeat harmless anyway. The endpoints that got deliveries have
their batch jobs woken after the commit.

The sweeper finds the endpoints with something due in the database (pending and due, or held by a
worker whose lease expired) and wakes their batch jobs again, so a lost Redis job or a dead worker
only delays a delivery. An endpoint with live leases is left alone: the job holding them claims
again before it stops.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.events.service import feed_cutoff

RELAY_BATCH = 1000
SWEEP_LIMIT = 1000

_ENSURE_CURSOR = text("INSERT INTO webhook_relay_cursor (id, txid, event_id) VALUES (1, 0, 0) ON CONFLICT DO NOTHING")

# The last (txid, id) of the next batch of settled events after the cursor.
_BATCH_END = text(
    """
    SELECT txid, id FROM (
        SELECT txid, id FROM events
        WHERE (txid, id) > (:txid, :id) AND txid < :cutoff
        ORDER BY txid, id LIMIT :batch
    ) batch
    ORDER BY txid DESC, id DESC LIMIT 1
    """
)

# A subscription receives an event of a type it asked for ("*" = all) concerning a unit in its subtree,
# if the event happened after it subscribed.
_FAN_OUT = text(
    """
    INSERT INTO webhook_deliveries
        (id, subscription_id, kind, event_id, event_type, message_id, status, attempt_count, next_attempt_at, created_at)
    SELECT gen_random_uuid(), s.id, 'event', e.id, e.type, e.id::text, 'pending', 0, now(), now()
    FROM events e
    JOIN webhook_subscriptions s
      ON s.active
     AND e.scope @> ARRAY[s.unit_id]
     AND (e.type = ANY(s.event_types) OR '*' = ANY(s.event_types))
     AND e.occurred_at >= s.created_at
    WHERE (e.txid, e.id) > (:from_txid, :from_id) AND (e.txid, e.id) <= (:to_txid, :to_id)
    ORDER BY e.txid, e.id
    ON CONFLICT (subscription_id, event_id) WHERE kind = 'event' DO NOTHING
    RETURNING subscription_id
    """
)


async def relay_batch(session: AsyncSession) -> tuple[int, list[UUID]] | None:
    """Relay one batch in the caller's transaction: (events passed, the endpoint of each delivery created).

    The endpoints' batch jobs are woken after the commit.

    None when another relay holds the cursor right now.
    """
    await session.execute(_ENSURE_CURSOR)
    cursor = (
        await session.execute(
            text("SELECT txid, event_id FROM webhook_relay_cursor WHERE id = 1 FOR UPDATE SKIP LOCKED")
        )
    ).first()
    if cursor is None:
        return None
    end = (
        await session.execute(
            _BATCH_END,
            {"txid": cursor.txid, "id": cursor.event_id, "batch": RELAY_BATCH, "cutoff": await feed_cutoff(session)},
        )
    ).first()
    if end is None:
        return 0, []
    bounds = {"from_txid": cursor.txid, "from_id": cursor.event_id, "to_txid": end.txid, "to_id": end.id}
    created = list((await session.execute(_FAN_OUT, bounds)).scalars())
    await session.execute(
        text("UPDATE webhook_relay_cursor SET txid = :t, event_id = :i, updated_at = now() WHERE id = 1"),
        {"t": end.txid, "i": end.id},
    )
    passed = await session.scalar(
        text("SELECT count(*) FROM events WHERE (txid, id) > (:from_txid, :from_id) AND (txid, id) <= (:to_txid, :to_id)"),
        bounds,
    )
    return int(passed or 0), created


# Endpoints with a delivery due or a lease expired, unless a live lease says a job is at work on them.
# One probe of the indexes per endpoint, however many deliveries are due.
_DUE = text(
    """
    SELECT s.id FROM webhook_subscriptions s
    WHERE (
        EXISTS (SELECT 1 FROM webhook_deliveries d
                WHERE d.subscription_id = s.id AND d.status = 'pending' AND d.next_attempt_at <= now())
        OR EXISTS (SELECT 1 FROM webhook_deliveries d
                   WHERE d.subscription_id = s.id AND d.status = 'in_flight' AND d.locked_until < now())
    )
    AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                    WHERE d.subscription_id = s.id AND d.status = 'in_flight' AND d.locked_until >= now())
    LIMIT :n
    """
)


async def due_subscriptions(session: AsyncSession, *, limit: int = SWEEP_LIMIT) -> list[UUID]:
    """The endpoints whose batch job should be running now and may have no job."""
    return list((await session.execute(_DUE, {"n": limit})).scalars())
