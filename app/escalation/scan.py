"""The deadline scan: fire every armed step whose moment has come, each exactly once.

One statement per batch claims due steps (`FOR UPDATE SKIP LOCKED`, so any
number of workers may scan at once), marks them fired and writes their events,
all in one transaction: a step and its event commit together or not at all.
Assignments that are completed, cancelled, blocked (awaiting a decision) or
submitted (awaiting review) are never chased; a reminder whose deadline has
passed is skipped rather than sent late.

A step that comes due while its assignment awaits review or a decision is
`held`, not left pending: otherwise every scan would re-examine all of them
(108,000 at national scale, 1.8 s a minute with nothing to do). When the work is
handed back (a final report returned, a difficulty kept), `release_held` makes
them pending again and the next scan fires or skips them as it would have.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime
from typing import NamedTuple
from uuid import UUID

from prometheus_client import Counter, Histogram
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.assignments.service import DUE_SOON
from app.db import sessionmaker
from app.ops import worker_metrics
from app.timeutil import utcnow

STEPS_FIRED = Counter("dondoc_escalation_steps_fired_total", "Escalation steps fired", ["kind", "step"])
SCAN_SECONDS = Histogram("dondoc_deadline_scan_seconds", "Duration of one deadline scan batch")

CHASED = "('pending', 'in_progress')"
AWAITING = "('submitted', 'blocked')"
FINISHED = "('completed', 'cancelled')"

# Skipping and holding take at most `:batch` steps per transaction, like firing: after an outage, or
# an import of old work, the steps to set aside can number in the millions. The ones left wait for
# the next batch; firing's own conditions already pass over them. Oldest first, as firing does: the
# order also keeps the plan on the pending steps' index. Given only a LIMIT, the planner expected to
# find enough rows early in a sequential scan of every step, which took 0.85 s with nothing to skip.
_SKIP = f"""
WITH stale AS (
    SELECT s.id FROM escalation_steps s
    JOIN assignments a ON a.id = s.assignment_id
    WHERE s.status = 'pending' AND s.fire_at <= :now
      AND (a.status IN {FINISHED} OR a.due_at <> s.due_at OR (s.kind = 'reminder' AND a.due_at <= :now))
    ORDER BY s.fire_at
    LIMIT :batch
    FOR UPDATE OF s SKIP LOCKED
)
UPDATE escalation_steps s SET status = 'skipped' FROM stale WHERE s.id = stale.id
"""

# The assignment rows are share-locked: if the work is being handed back at this moment, this waits for
# that commit and then sees the assignment chased again (and so leaves the step pending), rather than
# holding a step after `release_held` has run.
_HOLD = f"""
WITH awaiting AS (
    SELECT s.id FROM escalation_steps s
    JOIN assignments a ON a.id = s.assignment_id
    WHERE s.status = 'pending' AND s.fire_at <= :now AND a.status IN {AWAITING} AND a.due_at = s.due_at
    ORDER BY s.fire_at
    LIMIT :batch
    FOR UPDATE OF s SKIP LOCKED FOR SHARE OF a
)
UPDATE escalation_steps s SET status = 'held' FROM awaiting WHERE s.id = awaiting.id
"""

# Who each audience is, for the event's `notify` list and its scope (the units whose subtrees see it).
_FIRE = f"""
WITH due AS (
    SELECT s.id FROM escalation_steps s
    JOIN assignments a ON a.id = s.assignment_id
    WHERE s.status = 'pending' AND s.fire_at <= :now AND a.status IN {CHASED} AND a.due_at = s.due_at
      AND NOT (s.kind = 'reminder' AND a.due_at <= :now)  -- late reminders are skipped, never sent
    ORDER BY s.fire_at
    LIMIT :batch
    FOR UPDATE OF s SKIP LOCKED
), fired AS (
    UPDATE escalation_steps s SET status = 'fired', fired_at = :now FROM due WHERE s.id = due.id
    RETURNING s.assignment_id, s.step_key, s.kind, s.level, s.notify, s.fire_at
), targets AS (
    SELECT f.*, a.directive_id, a.task_id, a.unit_id, a.due_at, a.role,
           u.parent_id, d.issuer_id, COALESCE(t.report_to_id, d.issuer_id) AS report_to_id
    FROM fired f
    JOIN assignments a ON a.id = f.assignment_id
    JOIN units u ON u.id = a.unit_id
    JOIN directives d ON d.id = a.directive_id
    JOIN tasks t ON t.id = a.task_id
)
INSERT INTO events (type, data, scope)
SELECT CASE x.kind WHEN 'reminder' THEN 'assignment.due_soon' WHEN 'overdue' THEN 'assignment.overdue'
                   ELSE 'assignment.escalated' END,
       jsonb_build_object(
           'assignment_id', x.assignment_id, 'directive_id', x.directive_id, 'task_id', x.task_id,
           'unit_id', x.unit_id, 'role', x.role, 'due_at', x.due_at, 'step', x.step_key, 'level', x.level,
           'fire_at', x.fire_at,
           'notify', (SELECT jsonb_agg(jsonb_build_object('audience', n, 'unit_id',
                        CASE n WHEN 'unit' THEN x.unit_id WHEN 'parent' THEN x.parent_id
                               WHEN 'report_to' THEN x.report_to_id ELSE x.issuer_id END))
                      FROM unnest(x.notify) AS n)),
       ARRAY(SELECT DISTINCT p FROM units tu, unnest(tu.path) AS p
             WHERE tu.id IN (x.unit_id,
                             CASE WHEN 'parent' = ANY(x.notify) THEN x.parent_id END,
                             CASE WHEN 'report_to' = ANY(x.notify) THEN x.report_to_id END,
                             CASE WHEN 'issuer' = ANY(x.notify) THEN x.issuer_id END))
FROM targets x
ORDER BY x.fire_at, x.assignment_id
RETURNING type, data->>'step' AS step
"""


class ScanBatch(NamedTuple):
    fired: dict[str, int]  # steps fired, by event type
    skipped: int
    held: int

    def full(self, batch: int) -> bool:
        """Whether a bound was reached, so that more may be left for another batch."""
        return max(sum(self.fired.values()), self.skipped, self.held) >= batch


async def scan_batch(session: AsyncSession, now: datetime, batch: int = 20_000) -> ScanBatch:
    """Set aside up to `batch` stale and awaiting steps of each sort, and fire up to `batch` due ones. The caller commits."""
    started = time.perf_counter()
    with SCAN_SECONDS.time():
        skipped = await session.execute(text(_SKIP), {"now": now, "batch": batch})
        held = await session.execute(text(_HOLD), {"now": now, "batch": batch})
        fired = (await session.execute(text(_FIRE), {"now": now, "batch": batch})).all()
    worker_metrics.count("deadline_scan_seconds", "total", time.perf_counter() - started)
    worker_metrics.count("deadline_scans", "ok")
    counts: dict[str, int] = {}
    for event_type, step in fired:
        counts[event_type] = counts.get(event_type, 0) + 1
        STEPS_FIRED.labels(event_type.removeprefix("assignment."), step).inc()
        worker_metrics.count("escalation_steps_fired", step)
    return ScanBatch(counts, skipped.rowcount, held.rowcount)  # type: ignore[attr-defined]


async def scan_due(clock: Callable[[], datetime] = utcnow, batch: int = 20_000) -> dict[str, int]:
    """A whole scan, as the worker's job runs it: batches, each committed on its own, until one reaches
    no bound. Each batch is at `clock()`. Returns the steps fired, by event type."""
    totals: dict[str, int] = {}
    while True:
        async with sessionmaker()() as session, session.begin():
            scanned = await scan_batch(session, clock(), batch=batch)
        for event_type, n in scanned.fired.items():
            totals[event_type] = totals.get(event_type, 0) + n
        if not scanned.full(batch):
            return totals


async def release_held(session: AsyncSession, assignment_ids: list[UUID]) -> None:
    """The work was handed back: steps held while it awaited review or a decision are pending again."""
    await session.execute(
        text("UPDATE escalation_steps SET status = 'pending' WHERE assignment_id = ANY(CAST(:ids AS uuid[])) AND status = 'held'"),
        {"ids": assignment_ids},
    )


_DIGEST = f"""
INSERT INTO events (type, data, scope)
SELECT 'unit.digest',
       jsonb_build_object(
           'unit_id', a.unit_id, 'day', CAST(:day AS date),
           'due_soon', count(*) FILTER (WHERE a.due_at > :now),
           'overdue', count(*) FILTER (WHERE a.due_at <= :now),
           'due_soon_ids', (array_agg(a.id ORDER BY a.due_at) FILTER (WHERE a.due_at > :now))[1:200],
           'overdue_ids', (array_agg(a.id ORDER BY a.due_at) FILTER (WHERE a.due_at <= :now))[1:200]),
       u.path
FROM assignments a
JOIN units u ON u.id = a.unit_id
WHERE a.status IN {CHASED} AND a.due_at <= :soon
GROUP BY a.unit_id, u.path
"""


async def send_digest(session: AsyncSession, day: date, now: datetime) -> int | None:
    """One `unit.digest` per unit with something due soon or overdue; None if the day's digest already went."""
    claimed = await session.scalar(
        text("INSERT INTO digest_runs (day) VALUES (:day) ON CONFLICT DO NOTHING RETURNING day"), {"day": day}
    )
    if claimed is None:
        return None
    result = await session.execute(text(_DIGEST), {"day": day, "now": now, "soon": now + DUE_SOON})
    return result.rowcount or 0  # type: ignore[attr-defined]


