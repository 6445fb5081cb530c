"""The outbox relay (chuyển tiếp sự kiện) and the sweeper: from committed events to due delivery jobs.

The relay reads events in the feed's (txid, id) order, only below the feed's cutoff
(`app.events.service.feed_cutoff`: a transaction that commits late can never land behind the cursor), inserts one delivery per matching
active subscription with one `INSERT ... SELECT`, and moves its one-row cursor in the same
transaction: a crash before commit redoes the batch, after commit never repeats it, and the unique
(subscription, event) index makes a repeat harmless anyway. Jobs are enqueued after the commit.

The sweeper finds what is due in the database (pending and due, or held by a worker whose lease
expired) and enqueues it again, so a lost Redis job or a dead worker only delays a delivery.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.events.service import feed_cutoff
from app.webhooks.queue import DeliveryJob, attempt_job, reclaim_job

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
    RETURNING id
    """
)


async def relay_batch(session: AsyncSession) -> tuple[int, list[DeliveryJob]] | None:
    """Relay one batch in the caller's transaction: (events passed, jobs to enqueue after commit).

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
    return int(passed or 0), [attempt_job(delivery_id, 1) for delivery_id in created]


async def due_jobs(session: AsyncSession, *, limit: int = SWEEP_LIMIT) -> list[DeliveryJob]:
    """Everything a worker should be running now: due pending deliveries and expired leases."""
    pending = await session.execute(
        text(
            "SELECT id, attempt_count FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= now() "
            "ORDER BY next_attempt_at LIMIT :n"
        ),
        {"n": limit},
    )
    jobs = [attempt_job(r.id, r.attempt_count + 1) for r in pending]
    leased = await session.execute(
        text(
            "SELECT id, attempt_count, locked_until FROM webhook_deliveries "
            "WHERE status = 'in_flight' AND locked_until < now() ORDER BY locked_until LIMIT :n"
        ),
        {"n": limit},
    )
    jobs += [reclaim_job(r.id, r.attempt_count, r.locked_until) for r in leased]
    return jobs
