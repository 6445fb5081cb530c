"""Assignment rules: who sees which assignment, acknowledging, and timeliness (the inbox is in inbox.py).

Timeliness is derived from the deadline, the status and the clock, never stored.
An assignment is visible to its unit's subtree and to the issuer side (the
directive's issuer or the task's report-to unit, and the units above them).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import ARRAY, ColumnElement, DateTime, Interval, String, and_, any_, bindparam, case, literal, literal_column, or_, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.ext.asyncio import AsyncSession

from app.assignments.models import OPEN_STATUSES, Assignment, AssignmentStatus, Timeliness
from app.assignments.schemas import AssignmentRead
from app.audit import service as audit
from app.auth.caller import Caller
from app.auth.models import Role
from app.db import DriverStatement, InTransaction
from app.directives.models import Directive
from app.errors import Forbidden, InvalidTransition, NotFound, ValidationProblem
from app.events import service as events
from app.responses import field_order
from app.tasks.models import Task
from app.timeutil import utcnow
from app.units import service as units
from app.units.models import Unit

DUE_SOON = timedelta(days=3)
READ_FIELDS = field_order(AssignmentRead)


def _units_in_scope(caller: Caller) -> Any:
    return select(Unit.id).where(units.in_scope(caller))


def visible_by(in_scope: Any) -> list[ColumnElement[bool]]:
    """The three ways an assignment is visible: its unit, its directive's issuer, its task's report-to unit."""
    return [
        Assignment.unit_id.in_(in_scope),  # type: ignore[attr-defined]
        Assignment.directive_id.in_(select(Directive.id).where(Directive.issuer_id.in_(in_scope))),  # type: ignore[attr-defined]
        Assignment.task_id.in_(select(Task.id).where(Task.report_to_id.in_(in_scope))),  # type: ignore[union-attr, attr-defined]
    ]


def visible(caller: Caller) -> ColumnElement[bool]:
    return or_(*visible_by(_units_in_scope(caller)))


# One assignment by id, if the caller may see it, built once: SQLAlchemy then computes its cache key
# once too (building and keying this statement per request cost more CPU than running it).
SCOPE_UNIT = bindparam("scope_unit_id", type_=PgUUID(as_uuid=True))
UNITS_IN_BOUND_SCOPE = select(Unit.id).where(Unit.path.contains(array([SCOPE_UNIT])))  # type: ignore[attr-defined]
_BY_ID = select(Assignment).where(
    Assignment.id == bindparam("assignment_id", type_=PgUUID(as_uuid=True)),
    or_(*visible_by(UNITS_IN_BOUND_SCOPE)),
)
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update(of=Assignment)  # type: ignore[arg-type]
# The same, locked, and whether the assignment's own unit is in the caller's subtree (`covers`), in one round trip.
_OWN_UNIT = Assignment.unit_id.in_(UNITS_IN_BOUND_SCOPE).label("own_unit")  # type: ignore[attr-defined]
_BY_ID_FOR_UNIT = _BY_ID_FOR_UPDATE.add_columns(_OWN_UNIT)
# As a plain row and unlocked, for a report: its submission writes with one statement, only if the
# assignment's version is still the one read here (reports.service), and needs no ORM object.
ROW_FOR_UNIT = _BY_ID.with_only_columns(*Assignment.__table__.columns, _OWN_UNIT)  # type: ignore[attr-defined]


def timeliness_of(status: str, due_at: datetime, completed_at: datetime | None, now: datetime) -> Timeliness | None:
    if status == AssignmentStatus.completed:
        assert completed_at is not None
        return Timeliness.completed_on_time if completed_at <= due_at else Timeliness.completed_late
    if status == AssignmentStatus.cancelled:
        return None
    if due_at < now:
        return Timeliness.overdue
    return Timeliness.due_soon if due_at - now <= DUE_SOON else Timeliness.on_time


def _constant(value: Any, type_: Any) -> ColumnElement[Any]:
    """A constant of the code written into the SQL rather than bound: hot statements built from these
    conditions then send only their real parameters."""
    sql = literal(value, type_).compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    return literal_column(str(sql), type_)


_OPEN = _constant([s.value for s in OPEN_STATUSES], ARRAY(String))
_COMPLETED = _constant(AssignmentStatus.completed.value, String())
_DUE_SOON = _constant(DUE_SOON, Interval())


def timeliness_condition(value: Timeliness, now: Any) -> ColumnElement[bool]:
    """The same rule as `timeliness_of`, as SQL for filtering."""
    is_open = Assignment.status == any_(_OPEN)
    completed = Assignment.status == _COMPLETED
    return {
        Timeliness.overdue: and_(is_open, Assignment.due_at < now),
        Timeliness.due_soon: and_(is_open, Assignment.due_at >= now, Assignment.due_at <= now + _DUE_SOON),
        Timeliness.on_time: and_(is_open, Assignment.due_at > now + _DUE_SOON),
        Timeliness.completed_on_time: and_(completed, Assignment.completed_at <= Assignment.due_at),  # type: ignore[operator]
        Timeliness.completed_late: and_(completed, Assignment.completed_at > Assignment.due_at),  # type: ignore[operator]
    }[value]


NOW = bindparam("now", type_=DateTime(timezone=True))


def read_columns(fields: tuple[str, ...], others: Mapping[str, ColumnElement[Any]] | None = None) -> list[ColumnElement[Any]]:
    """The columns of a response model's `fields`, in order, for rows the API writes as they come.

    An assignment's own columns by name, `timeliness` as `timeliness_of` in SQL (built from the
    filters' conditions, at the `now` parameter), anything else from `others`.
    """
    timeliness = case(*((timeliness_condition(value, NOW), _constant(value.value, String())) for value in Timeliness), else_=None)
    columns = {**Assignment.__table__.columns, "timeliness": timeliness, **(others or {})}  # type: ignore[attr-defined]
    return [columns[name].label(name) for name in fields]


# GET /v1/assignments/{id}: AssignmentRead's fields straight from the row, no ORM object.
_BY_ID_FOR_READING = DriverStatement.of(_BY_ID.with_only_columns(*read_columns(READ_FIELDS)))


def read_dict(assignment: Assignment, now: datetime | None = None) -> dict[str, Any]:
    data = assignment.model_dump()
    data["timeliness"] = timeliness_of(assignment.status, assignment.due_at, assignment.completed_at, now or utcnow())
    return data


async def read_assignment(caller: Caller, assignment_id: UUID) -> dict[str, Any]:
    """One assignment as the API shows it (AssignmentRead's fields, in order), if the caller may see it.

    The hot read: straight to asyncpg on the fixed-plan pool, and the router writes this dict as JSON
    without re-validating it.
    """
    row = await _BY_ID_FOR_READING.read_one(assignment_id=assignment_id, scope_unit_id=caller.unit_id, now=utcnow())
    if row is None:
        raise NotFound(f"Assignment {assignment_id} not found.")
    return dict(row)


async def get_assignment(session: AsyncSession, caller: Caller, assignment_id: UUID, *, for_update: bool = False) -> Assignment:
    stmt = _BY_ID_FOR_UPDATE if for_update else _BY_ID
    params = {"assignment_id": assignment_id, "scope_unit_id": caller.unit_id}
    assignment = (await session.execute(stmt, params)).scalar_one_or_none()
    if assignment is None:
        raise NotFound(f"Assignment {assignment_id} not found.")
    return assignment


async def get_for_unit(session: AsyncSession, caller: Caller, assignment_id: UUID) -> Assignment:
    """The assignment, locked, for an action only its own unit's side may take (acknowledge, report)."""
    caller.require(Role.member)
    params = {"assignment_id": assignment_id, "scope_unit_id": caller.unit_id}
    row = (await session.execute(_BY_ID_FOR_UNIT, params)).one_or_none()
    _require_own(assignment_id, None if row is None else row.own_unit)
    assert row is not None
    return row[0]


async def row_for_unit(within: InTransaction, read: DriverStatement, caller: Caller, assignment_id: UUID, **params: Any) -> asyncpg.Record:
    """get_for_unit's assignment as a plain row, unlocked, read by `read` (ROW_FOR_UNIT and what else the
    writer needs to know), for writers that need no ORM object."""
    caller.require(Role.member)
    row = await read.fetchrow(within, assignment_id=assignment_id, scope_unit_id=caller.unit_id, **params)
    _require_own(assignment_id, None if row is None else row["own_unit"])
    assert row is not None
    return row


def _require_own(assignment_id: UUID, own_unit: bool | None) -> None:
    """None: not visible at all (404). False: visible as the issuer's side, but not the assigned unit's (403)."""
    if own_unit is None:
        raise NotFound(f"Assignment {assignment_id} not found.")
    if not own_unit:
        raise Forbidden("Only the assigned unit (or a unit above it) acts on this assignment.")


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

