"""Assignment rules: who sees which assignment, the inbox, acknowledging, and timeliness.

Timeliness is derived from the deadline, the status and the clock, never stored.
An assignment is visible to its unit's subtree and to the issuer side (the
directive's issuer or the task's report-to unit, and the units above them).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.assignments.models import OPEN_STATUSES, Assignment, AssignmentStatus, Timeliness
from app.assignments.schemas import InboxItem
from app.audit import service as audit
from app.auth.caller import Caller
from app.auth.models import Role
from app.directives.models import Directive
from app.errors import Forbidden, InvalidTransition, NotFound, ValidationProblem
from app.events import service as events
from app.pagination import decode_cursor, encode_cursor, instant
from app.tasks.models import Task
from app.timeutil import utcnow
from app.units import service as units
from app.units.models import Unit

DUE_SOON = timedelta(days=3)


def _units_in_scope(caller: Caller) -> Any:
    return select(Unit.id).where(units.in_scope(caller))


def visible(caller: Caller) -> ColumnElement[bool]:
    in_scope = _units_in_scope(caller)
    return or_(
        Assignment.unit_id.in_(in_scope),  # type: ignore[attr-defined]
        Assignment.directive_id.in_(select(Directive.id).where(Directive.issuer_id.in_(in_scope))),  # type: ignore[attr-defined]
        Assignment.task_id.in_(select(Task.id).where(Task.report_to_id.in_(in_scope))),  # type: ignore[union-attr, attr-defined]
    )


def timeliness_of(status: str, due_at: datetime, completed_at: datetime | None, now: datetime) -> Timeliness | None:
    if status == AssignmentStatus.completed:
        assert completed_at is not None
        return Timeliness.completed_on_time if completed_at <= due_at else Timeliness.completed_late
    if status == AssignmentStatus.cancelled:
        return None
    if due_at < now:
        return Timeliness.overdue
    return Timeliness.due_soon if due_at - now <= DUE_SOON else Timeliness.on_time


def timeliness_condition(value: Timeliness, now: datetime) -> ColumnElement[bool]:
    """The same rule as `timeliness_of`, as SQL for filtering."""
    is_open = Assignment.status.in_([s.value for s in OPEN_STATUSES])  # type: ignore[attr-defined]
    completed = Assignment.status == AssignmentStatus.completed
    return {
        Timeliness.overdue: and_(is_open, Assignment.due_at < now),
        Timeliness.due_soon: and_(is_open, Assignment.due_at >= now, Assignment.due_at <= now + DUE_SOON),
        Timeliness.on_time: and_(is_open, Assignment.due_at > now + DUE_SOON),
        Timeliness.completed_on_time: and_(completed, Assignment.completed_at <= Assignment.due_at),  # type: ignore[operator]
        Timeliness.completed_late: and_(completed, Assignment.completed_at > Assignment.due_at),  # type: ignore[operator]
    }[value]


def read_dict(assignment: Assignment, now: datetime | None = None) -> dict[str, Any]:
    data = assignment.model_dump()
    data["timeliness"] = timeliness_of(assignment.status, assignment.due_at, assignment.completed_at, now or utcnow())
    return data


async def get_assignment(session: AsyncSession, caller: Caller, assignment_id: UUID, *, for_update: bool = False) -> Assignment:
    stmt = select(Assignment).where(Assignment.id == assignment_id, visible(caller))
    if for_update:
        stmt = stmt.with_for_update(of=Assignment)  # type: ignore[arg-type]
    assignment = (await session.execute(stmt)).scalar_one_or_none()
    if assignment is None:
        raise NotFound(f"Assignment {assignment_id} not found.")
    return assignment


async def get_for_unit(session: AsyncSession, caller: Caller, assignment_id: UUID) -> Assignment:
    """The assignment, locked, for an action only its own unit's side may take (acknowledge, report)."""
    caller.require(Role.member)
    assignment = await get_assignment(session, caller, assignment_id, for_update=True)
    unit = await session.get(Unit, assignment.unit_id)
    if unit is None or not caller.covers(unit.path):
        raise Forbidden("Only the assigned unit (or a unit above it) acts on this assignment.")
    return assignment


async def list_inbox(
    session: AsyncSession,
    caller: Caller,
    *,
    unit_id: UUID | None = None,
    directive_id: UUID | None = None,
    status: list[AssignmentStatus] | None = None,
    timeliness: Timeliness | None = None,
    due_before: datetime | None = None,
    due_after: datetime | None = None,
    role: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[InboxItem], str | None]:
    """Assignments ordered by deadline (soonest first), keyset-paged on (due_at, id)."""
    now = utcnow()
    conditions: list[ColumnElement[bool]] = [visible(caller)]
    if unit_id is not None:
        conditions.append(
            Assignment.unit_id.in_(select(Unit.id).where(Unit.path.contains([unit_id])))  # type: ignore[attr-defined]
        )
    if directive_id is not None:
        conditions.append(Assignment.directive_id == directive_id)
    if status:
        conditions.append(Assignment.status.in_([s.value for s in status]))  # type: ignore[attr-defined]
    if timeliness is not None:
        conditions.append(timeliness_condition(timeliness, now))
    if due_before is not None:
        conditions.append(Assignment.due_at < due_before)
    if due_after is not None:
        conditions.append(Assignment.due_at >= due_after)
    if role is not None:
        conditions.append(Assignment.role == role)
    key = decode_cursor(cursor, fields={"due_at": instant, "id": UUID})
    if key is not None:
        conditions.append(tuple_(Assignment.due_at, Assignment.id) > (key["due_at"], key["id"]))
    stmt = (
        select(Assignment, Directive.notation, Directive.subject, Task.ordinal, Task.text)
        .join(Directive, Directive.id == Assignment.directive_id)
        .join(Task, Task.id == Assignment.task_id)
        .where(*conditions)
        .order_by(Assignment.due_at, Assignment.id)
        .limit(limit + 1)
    )
    rows = (await session.execute(stmt)).all()
    items = [
        InboxItem.model_validate(
            {**read_dict(a, now), "directive_notation": n, "directive_subject": s, "task_ordinal": o, "task_text": t}
        )
        for a, n, s, o, t in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1][0]
        next_cursor = encode_cursor({"due_at": last.due_at.isoformat(), "id": str(last.id)})
    return items, next_cursor


async def acknowledge(session: AsyncSession, caller: Caller, assignment_id: UUID) -> Assignment:
    """The unit has seen it (đã tiếp nhận): pending becomes in_progress. Acknowledging twice is harmless."""
    assignment = await get_for_unit(session, caller, assignment_id)
    if assignment.status in (AssignmentStatus.completed, AssignmentStatus.cancelled):
        raise InvalidTransition(
            f"The assignment is {assignment.status}; there is nothing to acknowledge.", current_status=assignment.status
        )
    if assignment.acknowledged_at is not None:
        return assignment
    assignment.acknowledged_at = utcnow()
    if assignment.status == AssignmentStatus.pending:
        assignment.status = AssignmentStatus.in_progress.value
    touch(assignment)
    await session.flush()
    await events.record_for_assignments(session, "assignment.acknowledged", [assignment.id])
    audit.record(
        session, actor_key_id=caller.key_id, action="assignment.acknowledged", entity_type="assignment",
        entity_id=assignment.id, unit_id=assignment.unit_id, changes={"status": assignment.status},
    )
    return assignment


def touch(assignment: Assignment) -> None:
    assignment.version += 1
    assignment.updated_at = utcnow()


def validate_window(due_before: datetime | None, due_after: datetime | None) -> None:
    if due_before is not None and due_after is not None and due_after >= due_before:
        raise ValidationProblem.for_field("due_after", "must be earlier than due_before", "empty_window")

