"""Recording events in the caller's transaction, and reading the feed.

Events are written by the same transaction as the change they describe, so
both commit or neither does. The feed orders by (txid, id) and shows only
events of transactions older than every write transaction of this database
still in flight (`feed_cutoff`): once a page is read, no event can later
appear before its cursor, so a system that polls never misses one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.events.models import Event
from app.pagination import decode_cursor, encode_cursor, integer
from app.units import service as units

# The scope of an event: every unit on the root-to-unit path of each unit concerned.
_SCOPE_OF_UNITS = "ARRAY(SELECT DISTINCT p FROM units, unnest(units.path) AS p WHERE units.id = ANY(CAST(:unit_ids AS uuid[])))"


async def record(session: AsyncSession, event_type: str, *, units: list[UUID | None], **data: Any) -> None:
    """Write one event concerning `units` (the unit acted on, the issuer, the report-to unit...)."""
    await session.execute(
        text(f"INSERT INTO events (type, data, scope) VALUES (:type, CAST(:data AS jsonb), {_SCOPE_OF_UNITS})"),
        {"type": event_type, "data": orjson.dumps(data, default=str).decode(), "unit_ids": [u for u in units if u]},
    )


# What an assignment event says and whom it concerns, from `a` (the assignment's columns) and the units
# `u` (its own), `issuer` and `report_to`: one definition for events read from the table and for
# events of assignments an import holds in memory.
_ASSIGNMENT_EVENT_DATA = """jsonb_build_object('assignment_id', a.id, 'directive_id', a.directive_id, 'task_id', a.task_id,
                                  'unit_id', a.unit_id, 'role', a.role, 'due_at', a.due_at, 'period_start', a.period_start)"""
_ASSIGNMENT_EVENT_SCOPE = "u.path || issuer.path || COALESCE(report_to.path, '{}')"

def assignment_events_insert(ids: str = "CAST(:ids AS uuid[])") -> str:
    """One event per assignment in `ids` (SQL for a uuid[]); each concerns the unit, the issuer and the
    report-to unit. Parameters: :type, :extra (a JSON object merged into each event's data), and :ids
    by default. Also a data-modifying CTE for statements that write more than events in one round
    trip; `ids` may then name another CTE's rows, so that no event is written when it wrote nothing."""
    return f"""
    INSERT INTO events (type, data, scope)
    SELECT :type, {_ASSIGNMENT_EVENT_DATA} || CAST(:extra AS jsonb), {_ASSIGNMENT_EVENT_SCOPE}
    FROM assignments a
    JOIN units u ON u.id = a.unit_id
    JOIN directives d ON d.id = a.directive_id
    JOIN units issuer ON issuer.id = d.issuer_id
    JOIN tasks t ON t.id = a.task_id
    LEFT JOIN units report_to ON report_to.id = t.report_to_id
    WHERE a.id = ANY({ids})
    ORDER BY a.id
"""


_ASSIGNMENT_EVENTS_INSERT = assignment_events_insert()


def assignment_events_params(event_type: str, assignment_ids: list[UUID], **extra: Any) -> dict[str, Any]:
    return {"type": event_type, "ids": assignment_ids, "extra": orjson.dumps(extra, default=str).decode()}


async def record_for_assignments(session: AsyncSession, event_type: str, assignment_ids: list[UUID], **extra: Any) -> None:
    """One event per assignment in a single statement; each concerns the unit, the issuer and the report-to unit."""
    if not assignment_ids:
        return
    await session.execute(text(_ASSIGNMENT_EVENTS_INSERT), assignment_events_params(event_type, assignment_ids, **extra))


@dataclass(frozen=True, slots=True)
class NewAssignments:
    """Assignments written by this transaction, column by column, with what their events need to know.

    Columns rather than one object per assignment: an import batch holds ten thousand of them, and
    they go to PostgreSQL as one array each.
    """

    ids: list[UUID]
    directive_ids: list[UUID]
    task_ids: list[UUID]
    unit_ids: list[UUID]
    roles: list[str]
    due_ats: list[datetime]
    period_starts: list[date | None]
    issuer_ids: list[UUID]
    report_to_ids: list[UUID | None]


async def record_for_new_assignments(session: AsyncSession, event_type: str, assignments: NewAssignments) -> None:
    """The same events as record_for_assignments, for assignments whose columns the caller already holds.

    Bulk imports build the assignments in memory: passing their columns along spares reading
    every assignment, directive and task back, and leaves only the units' paths to look up.
    """
    if not assignments.ids:
        return
    await session.execute(
        text(
            f"""
            INSERT INTO events (type, data, scope)
            SELECT :type, {_ASSIGNMENT_EVENT_DATA}, {_ASSIGNMENT_EVENT_SCOPE}
            FROM unnest(CAST(:ids AS uuid[]), CAST(:directive_ids AS uuid[]), CAST(:task_ids AS uuid[]),
                        CAST(:unit_ids AS uuid[]), CAST(:roles AS text[]), CAST(:due_ats AS timestamptz[]),
                        CAST(:period_starts AS date[]), CAST(:issuer_ids AS uuid[]), CAST(:report_to_ids AS uuid[]))
                 AS a(id, directive_id, task_id, unit_id, role, due_at, period_start, issuer_id, report_to_id)
            JOIN units u ON u.id = a.unit_id
            JOIN units issuer ON issuer.id = a.issuer_id
            LEFT JOIN units report_to ON report_to.id = a.report_to_id
            ORDER BY a.id
            """
        ),
        {
            "type": event_type, "ids": assignments.ids, "directive_ids": assignments.directive_ids,
            "task_ids": assignments.task_ids, "unit_ids": assignments.unit_ids, "roles": assignments.roles,
            "due_ats": assignments.due_ats, "period_starts": assignments.period_starts,
            "issuer_ids": assignments.issuer_ids, "report_to_ids": assignments.report_to_ids,
        },
    )


XID_WRAP = 2**32


async def feed_cutoff(session: AsyncSession) -> int:
    """The txid below which every event of this database is final (committed, or never to be).

    `pg_snapshot_xmin` would do, but it counts transactions of every database on
    the server, so one long transaction anywhere would stall the feed. Instead:
    the oldest write transaction of *this* database still running, read from
    pg_stat_activity after this statement's snapshot, capped by the snapshot's
    xmax (anything that starts later gets a larger txid). Statements after this
    one take newer snapshots, so an event below the cutoff is visible to them
    if it ever commits. The stats snapshot is cleared first because PostgreSQL
    caches pg_stat_activity for the rest of a transaction.
    """
    await session.execute(text("SELECT pg_stat_clear_snapshot()"))
    row = (
        await session.execute(
            text(
                "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax, "
                "ARRAY(SELECT backend_xid::text::bigint FROM pg_stat_activity "
                "      WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()) AS running"
            )
        )
    ).one()
    cutoff: int = row.xmax
    for xid32 in row.running:
        behind = (row.xmax - xid32) % XID_WRAP  # how far below xmax, in the 32-bit xid space
        if 0 < behind < XID_WRAP // 2:  # otherwise it began after our snapshot: a larger txid anyway
            cutoff = min(cutoff, row.xmax - behind)
    return cutoff


async def feed(
    session: AsyncSession,
    caller: Caller,
    *,
    after: str | None,
    types: list[str] | None,
    unit_id: UUID | None,
    limit: int,
) -> tuple[list[Event], str | None]:
    key = decode_cursor(after, fields={"txid": integer, "id": integer})
    scope_unit = unit_id or caller.unit_id
    if unit_id is not None:
        await units.require_filter_unit(caller, unit_id)
    rows = (
        await session.execute(
            text(
                """
                SELECT id, txid, type, occurred_at, data FROM events
                WHERE scope @> ARRAY[CAST(:unit AS uuid)]
                  AND txid < :cutoff
                  AND (CAST(:after_txid AS bigint) IS NULL OR (txid, id) > (CAST(:after_txid AS bigint), CAST(:after_id AS bigint)))
                  AND (CAST(:types AS text[]) IS NULL OR type = ANY(CAST(:types AS text[])))
                ORDER BY txid, id
                LIMIT :limit
                """
            ),
            {
                "cutoff": await feed_cutoff(session),
                "unit": scope_unit,
                "after_txid": key["txid"] if key else None,
                "after_id": key["id"] if key else None,
                "types": types or None,
                "limit": limit,
            },
        )
    ).all()
    events = [Event(id=r.id, txid=r.txid, type=r.type, occurred_at=r.occurred_at, data=r.data, scope=[]) for r in rows]
    # The cursor always advances to the last event returned; an empty page keeps the caller's cursor.
    next_cursor = encode_cursor({"txid": rows[-1].txid, "id": rows[-1].id}) if rows else after
    return events, next_cursor
