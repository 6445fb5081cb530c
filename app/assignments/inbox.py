"""A unit's inbox: the assignments a key may see, soonest deadline first, keyset-paged on (due_at, id).

Visibility is an OR of three index paths (the assignment's unit, its directive's issuer, its
task's report-to unit). As one OR condition it can only be checked row by row over the whole
table, so each path takes its own first page through its own index, and the page is the first
rows of their union: the same rows in the same order, for a few hundred rows read instead of
every assignment.

The statement for each shape of request (which filters are present, the page size) is built and
compiled once, with bound parameters, and run straight on asyncpg: building, cache-keying and
executing it through SQLAlchemy per request cost more CPU than PostgreSQL spends answering it.
A page is read, never changed, so rows stay plain records.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

from sqlalchemy import ARRAY, ColumnElement, DateTime, Select, String, any_, bindparam, select, tuple_, union
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.dialects.postgresql import array

from app.assignments.models import Assignment, AssignmentStatus, Timeliness
from app.assignments.schemas import InboxItem
from app.assignments.service import NOW, UNITS_IN_BOUND_SCOPE, read_columns, timeliness_condition, visible_by
from app.auth.caller import Caller
from app.db import DriverStatement
from app.directives.models import Directive
from app.pagination import decode_cursor, encode_cursor, instant
from app.responses import field_order
from app.tasks.models import Task
from app.timeutil import utcnow
from app.units import service as units
from app.units.models import Unit

# InboxItem's fields in order, timeliness included: a row is written as JSON as it comes.
_COLUMNS = read_columns(
    field_order(InboxItem),
    {
        "directive_notation": Directive.notation, "directive_subject": Directive.subject,
        "task_ordinal": Task.ordinal, "task_text": Task.text,
    },
)


def _uuid(name: str) -> Any:
    return bindparam(name, type_=PgUUID(as_uuid=True))


def _instant(name: str) -> Any:
    return bindparam(name, type_=DateTime(timezone=True))


class _Shape(NamedTuple):
    """Which filters a request uses (their values are bound at execution)."""

    unit: bool
    directive: bool
    status: bool
    timeliness: Timeliness | None
    due_before: bool
    due_after: bool
    role: bool
    cursor: bool
    limit: int


@functools.lru_cache(maxsize=256)
def _driver_statement(shape: _Shape) -> DriverStatement:
    return DriverStatement.of(_statement(shape))


def _statement(shape: _Shape) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = []
    if shape.unit:
        under = select(Unit.id).where(Unit.path.contains(array([_uuid("filter_unit_id")])))  # type: ignore[attr-defined]
        conditions.append(Assignment.unit_id.in_(under))  # type: ignore[attr-defined]
    if shape.directive:
        conditions.append(Assignment.directive_id == _uuid("directive_id"))
    if shape.status:
        # One array parameter rather than an expanding IN: the SQL stays the same for any number of statuses.
        conditions.append(Assignment.status == any_(bindparam("statuses", type_=ARRAY(String))))
    if shape.timeliness is not None:
        conditions.append(timeliness_condition(shape.timeliness, NOW))
    if shape.due_before:
        conditions.append(Assignment.due_at < _instant("due_before"))
    if shape.due_after:
        conditions.append(Assignment.due_at >= _instant("due_after"))
    if shape.role:
        conditions.append(Assignment.role == bindparam("role"))
    if shape.cursor:
        conditions.append(tuple_(Assignment.due_at, Assignment.id) > tuple_(_instant("after_due_at"), _uuid("after_id")))
    pages = union(
        *(
            select(Assignment.id).where(path, *conditions).order_by(Assignment.due_at, Assignment.id).limit(shape.limit + 1)
            for path in visible_by(UNITS_IN_BOUND_SCOPE)
        )
    ).subquery()
    return (
        select(*_COLUMNS)
        .join(Directive, Directive.id == Assignment.directive_id)
        .join(Task, Task.id == Assignment.task_id)
        .where(Assignment.id.in_(select(pages.c.id)))  # type: ignore[attr-defined]
        .order_by(Assignment.due_at, Assignment.id)
        .limit(shape.limit + 1)
    )


async def list_inbox(
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
) -> tuple[list[dict[str, Any]], str | None]:
    """Assignments ordered by deadline (soonest first), keyset-paged on (due_at, id), as InboxItem's JSON objects."""
    now = utcnow()
    key = decode_cursor(cursor, fields={"due_at": instant, "id": UUID})
    if unit_id is not None:
        await units.require_filter_unit(caller, unit_id)
    shape = _Shape(
        unit=unit_id is not None, directive=directive_id is not None, status=bool(status), timeliness=timeliness,
        due_before=due_before is not None, due_after=due_after is not None, role=role is not None, cursor=key is not None,
        limit=limit,
    )
    params: dict[str, Any] = {
        "scope_unit_id": caller.unit_id, "filter_unit_id": unit_id, "directive_id": directive_id,
        "statuses": [s.value for s in status or ()], "now": now, "due_before": due_before, "due_after": due_after,
        "role": role, "after_due_at": key["due_at"] if key else None, "after_id": key["id"] if key else None,
    }
    rows = await _driver_statement(shape).read_all(**params)
    items = [dict(row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor({"due_at": last["due_at"].isoformat(), "id": str(last["id"])})
    return items, next_cursor
