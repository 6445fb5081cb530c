"""Progress and compliance, computed in SQL over the assignments in the caller's view.

Counted per assignment whose deadline falls in the window: completed on time
(completed_at ≤ due_at), completed late, overdue (open, deadline passed), open
(deadline ahead) and cancelled (not part of the total). The on-time rate is
completed on time over the total.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.assignments import service as assignments
from app.assignments.models import OPEN_STATUSES, Assignment
from app.assignments.schemas import LastReport, ProgressRow
from app.auth.caller import Caller
from app.calendar.service import start_of_local_day
from app.directives import service as directives
from app.errors import ValidationProblem
from app.stats.schemas import ComplianceReport, ComplianceRow, GroupBy
from app.timeutil import utcnow
from app.units import service as units

_COUNTS = """
    count(*) FILTER (WHERE a.status <> 'cancelled') AS total,
    count(*) FILTER (WHERE a.status = 'completed' AND a.completed_at <= a.due_at) AS completed_on_time,
    count(*) FILTER (WHERE a.status = 'completed' AND a.completed_at > a.due_at) AS completed_late,
    count(*) FILTER (WHERE a.status = ANY(CAST(:open AS text[])) AND a.due_at < :now) AS overdue,
    count(*) FILTER (WHERE a.status = ANY(CAST(:open AS text[])) AND a.due_at >= :now) AS open,
    count(*) FILTER (WHERE a.status = 'cancelled') AS cancelled
"""
_GROUPS = {
    GroupBy.unit: ("u.id", "u.code", "u.name"),
    GroupBy.directive: ("d.id", "d.notation", "d.subject"),
}


async def compliance(
    session: AsyncSession, caller: Caller, *, unit_id: UUID | None, date_from: date, date_to: date, group_by: GroupBy,
    directive_id: UUID | None = None,
) -> ComplianceReport:
    if date_to < date_from:
        raise ValidationProblem.for_field("to", "must not be before from", "empty_window")
    root = await units.get_unit(session, caller, unit_id or caller.unit_id)
    key_id, key_code, key_name = _GROUPS[group_by]
    # Every assignment has its directive (a foreign key), so LEFT JOIN counts the same rows; PostgreSQL drops
    # the join when the grouping is by unit, and the counts come from ix_assignments_unit_due alone.
    rows = (
        await session.execute(
            text(
                f"""
                SELECT {key_id} AS key_id, {key_code} AS key_code, {key_name} AS key_name, {_COUNTS}
                FROM assignments a
                JOIN units u ON u.id = a.unit_id
                LEFT JOIN directives d ON d.id = a.directive_id
                WHERE u.path @> ARRAY[CAST(:root AS uuid)]
                  AND a.due_at >= :start AND a.due_at < :end
                  AND (CAST(:directive AS uuid) IS NULL OR a.directive_id = CAST(:directive AS uuid))
                GROUP BY 1, 2, 3
                ORDER BY 2
                """
            ),
            {
                "root": root.id, "start": start_of_local_day(date_from), "end": start_of_local_day(date_to + timedelta(days=1)),
                "open": [s.value for s in OPEN_STATUSES], "now": utcnow(), "directive": directive_id,
            },
        )
    ).mappings().all()
    out = [_row(dict(r)) for r in rows]
    return ComplianceReport(group_by=group_by, rows=out, totals=_totals(out, root))


def _row(values: dict[str, Any]) -> ComplianceRow:
    total = values["total"]
    values["on_time_rate"] = round(values["completed_on_time"] / total, 4) if total else None
    return ComplianceRow.model_validate(values)


def _totals(rows: list[ComplianceRow], root: Any) -> ComplianceRow:
    sums = {f: sum(getattr(r, f) for r in rows) for f in ("total", "completed_on_time", "completed_late", "overdue", "open", "cancelled")}
    return _row({"key_id": root.id, "key_code": root.code, "key_name": root.name, **sums})


def compliance_csv(report: ComplianceReport) -> str:
    buffer = io.StringIO()
    fields = list(ComplianceRow.model_fields)
    writer = csv.DictWriter(buffer, fieldnames=[report.group_by.value + "_" + f if f.startswith("key_") else f for f in fields])
    writer.writeheader()
    for row in report.rows:
        data = row.model_dump(mode="json")
        writer.writerow({(report.group_by.value + "_" + k if k.startswith("key_") else k): v for k, v in data.items()})
    return buffer.getvalue()


async def progress(
    session: AsyncSession, caller: Caller, directive_id: UUID, *, cursor_after: int, limit: int
) -> tuple[list[ProgressRow], int | None]:
    """One row per assignment of the directive the caller may see, in task order then unit code."""
    await directives.get_directive(session, caller, directive_id)
    now = utcnow()
    rows = (
        await session.execute(
            text(
                """
                SELECT a.id AS assignment_id, a.task_id, t.ordinal AS task_ordinal, u.id AS unit_id, u.code AS unit_code,
                       u.name AS unit_name, a.role, a.period_start, a.status, a.due_at, a.completed_at,
                       r.id AS report_id, r.kind AS report_kind, r.status AS report_status, r.created_at AS report_at
                FROM assignments a
                JOIN tasks t ON t.id = a.task_id
                JOIN units u ON u.id = a.unit_id
                LEFT JOIN LATERAL (
                    SELECT id, kind, status, created_at FROM reports WHERE assignment_id = a.id
                    ORDER BY created_at DESC LIMIT 1
                ) r ON true
                WHERE a.directive_id = :d AND a.id = ANY(CAST(:visible AS uuid[]))
                ORDER BY t.position, u.code, a.period_start NULLS FIRST, a.id
                OFFSET :offset LIMIT :limit
                """
            ),
            {
                "d": directive_id, "offset": cursor_after, "limit": limit + 1,
                "visible": await _visible_assignment_ids(session, caller, directive_id),
            },
        )
    ).mappings().all()
    items = [_progress_row(dict(r), now) for r in rows[:limit]]
    return items, (cursor_after + limit if len(rows) > limit else None)


async def _visible_assignment_ids(session: AsyncSession, caller: Caller, directive_id: UUID) -> list[UUID]:
    stmt = select(Assignment.id).where(Assignment.directive_id == directive_id, assignments.visible(caller))
    return list(await session.scalars(stmt))


def _progress_row(r: dict[str, Any], now: Any) -> ProgressRow:
    last = None
    if r["report_id"] is not None:
        last = LastReport(id=r["report_id"], kind=r["report_kind"], status=r["report_status"], created_at=r["report_at"])
    return ProgressRow(
        **{k: r[k] for k in ("assignment_id", "task_id", "task_ordinal", "unit_id", "unit_code", "unit_name", "role",
                              "period_start", "status", "due_at", "completed_at")},
        timeliness=assignments.timeliness_of(r["status"], r["due_at"], r["completed_at"], now),
        last_report=last,
    )
