"""Task rules: naming units by id or code within the caller's scope, and resolving deadlines."""

from __future__ import annotations

import calendar as month_calendar
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple, Protocol
from uuid import UUID, uuid4

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.calendar.service import WorkingCalendar, end_of_local_day, start_of_local_day
from app.db import driver_connection
from app.errors import ValidationProblem
from app.tasks.models import AssignmentRole, DueKind, Recurrence, Task, TaskUnit
from app.tasks.schemas import TaskIn, TaskRead, TaskUnitRead

ROLE_FIELDS = (
    (AssignmentRole.lead, "lead_ids", "lead_codes"),
    (AssignmentRole.coordinating, "coordinating_ids", "coordinating_codes"),
    (AssignmentRole.assignee, "assignee_ids", "assignee_codes"),
)
MONTHS_PER_PERIOD = {Recurrence.monthly: 1, Recurrence.quarterly: 3, Recurrence.semiannual: 6, Recurrence.yearly: 12}
DEFAULT_REPORT_DAYS = 5


class UnitRef(Protocol):
    """What tasks need of a named unit: a row of (id, code, path, active)."""

    id: UUID
    code: str
    path: list[UUID]
    active: bool


class _NamedUnit(NamedTuple):
    id: UUID
    code: str
    path: list[UUID]
    active: bool


_UNITS_BY_ID = "SELECT id, code, path, active FROM units WHERE id = ANY($1::uuid[])"
_UNITS_BY_CODE = "SELECT id, code, path, active FROM units WHERE code = ANY($1::text[])"


class UnitLookup:
    """Every unit the tasks of one request name, fetched in two queries, checked against the caller's scope."""

    def __init__(self, caller: Caller) -> None:
        self.caller = caller
        self.by_id: dict[UUID, UnitRef] = {}
        self.by_code: dict[str, UnitRef] = {}
        # Ids of the named units the caller may assign (in scope and active), by how they were named:
        # most references are fine, and an import checks hundreds of thousands of them.
        self._usable_by_id: dict[UUID, UUID] = {}
        self._usable_by_code: dict[str, UUID] = {}

    async def load(self, session: AsyncSession, tasks: Sequence[TaskIn]) -> None:
        ids: set[UUID] = set()
        codes: set[str] = set()
        for task in tasks:
            for _, id_field, code_field in ROLE_FIELDS:
                ids.update(getattr(task, id_field))
                codes.update(getattr(task, code_field))
            ids.update(x for x in (task.report_to_id, task.assignee_selector and task.assignee_selector.under_id) if x)
            codes.update(x for x in (task.report_to_code, task.assignee_selector and task.assignee_selector.under_code) if x)
        # Plain rows through one array parameter, straight on the driver: an import batch names
        # thousands of units, and an IN list (or SQLAlchemy's per-row work) costs more than the query.
        if ids:
            for unit in await _fetch_units(session, _UNITS_BY_ID, list(ids)):
                self.by_id[unit.id] = unit
                if unit.active and self.caller.covers(unit.path):
                    self._usable_by_id[unit.id] = unit.id
        if codes:
            for unit in await _fetch_units(session, _UNITS_BY_CODE, list(codes)):
                self.by_code[unit.code] = unit
                if unit.active and self.caller.covers(unit.path):
                    self._usable_by_code[unit.code] = unit.id

    def usable_id(self, ref: UUID | str) -> UUID | None:
        """The id of the unit `ref` names if the caller may assign it; None means `get` says why not."""
        return self._usable_by_id.get(ref) if isinstance(ref, UUID) else self._usable_by_code.get(ref)

    def get(self, ref: UUID | str, field: str) -> UnitRef:
        unit = self.by_id.get(ref) if isinstance(ref, UUID) else self.by_code.get(ref)
        if unit is None or not self.caller.covers(unit.path):
            raise ValidationProblem.for_field(field, f"unknown unit {ref}", "unknown_unit")
        if not unit.active:
            raise ValidationProblem.for_field(field, f"unit {unit.code} is deactivated", "inactive_unit")
        return unit


async def _fetch_units(session: AsyncSession, sql: str, refs: list[Any]) -> list[_NamedUnit]:
    """The named units as (id, code, path, active); a read of committed rows, so it may run on the bare driver."""
    driver = await driver_connection(session)
    return [_NamedUnit(*record) for record in await driver.fetch(sql, refs)]


NamedUnits = list[tuple[UUID, str]]


@dataclass(slots=True)
class TaskRow:
    """A task's columns as build_task decides them, as a plain record.

    The single endpoints turn it into a Task row; bulk imports write it with COPY as it is,
    since building thousands of table models per batch costs more than writing them.
    """

    id: UUID
    directive_id: UUID
    position: int
    ordinal: str
    text: str
    report_to_id: UUID | None
    due_at: datetime | None
    due_on: date | None
    due_kind: str | None
    due_in_working_days: int | None
    deadline_phrase: str | None
    recurrence: str | None
    report_days_after_period: int | None
    recurrence_until: date | None
    selector: dict[str, Any] | None


TASK_ROW_FIELDS = tuple(f.name for f in fields(TaskRow))


def build_task(directive_id: UUID, position: int, data: TaskIn, lookup: UnitLookup) -> tuple[Task, NamedUnits]:
    """The task row and its named units with their role (see task_row)."""
    row, named = task_row(directive_id, position, data, lookup)
    return Task(**{name: getattr(row, name) for name in TASK_ROW_FIELDS}), named


def task_row(
    directive_id: UUID, position: int, data: TaskIn, lookup: UnitLookup, task_id: UUID | None = None
) -> tuple[TaskRow, NamedUnits]:
    """The task's columns and its named units with their role; a unit named twice keeps its strongest (lead > coordinating > assignee).

    Named units come back as (unit id, role) pairs rather than TaskUnit rows: bulk imports build
    hundreds of thousands of them and write them with COPY.
    """
    prefix = f"tasks[{position}]"
    roles: dict[UUID, AssignmentRole] = {}
    for role, id_field, code_field in ROLE_FIELDS:
        for name in (id_field, code_field):
            for i, ref in enumerate(getattr(data, name)):
                # The field's path is spelled only for a unit that cannot be assigned (get raises for it).
                unit_id = lookup.usable_id(ref) or lookup.get(ref, f"{prefix}.{name}[{i}]").id
                roles.setdefault(unit_id, role)
    report_to = None
    if data.report_to_id or data.report_to_code:
        field = f"{prefix}.report_to_id" if data.report_to_id else f"{prefix}.report_to_code"
        report_to = lookup.get(data.report_to_id or data.report_to_code, field)  # type: ignore[arg-type]
    selector = None
    if data.assignee_selector is not None:
        sel = data.assignee_selector
        field = f"{prefix}.assignee_selector.under_id" if sel.under_id else f"{prefix}.assignee_selector.under_code"
        root = lookup.get(sel.under_id or sel.under_code, field)  # type: ignore[arg-type]
        selector = {"under_id": str(root.id), "kinds": sel.kinds}
    row = TaskRow(
        id=task_id or uuid4(),  # given, not defaulted: pydantic's default factories are slow to call in bulk
        directive_id=directive_id,
        position=position,
        ordinal=data.ordinal or str(position + 1),
        text=data.text,
        report_to_id=report_to.id if report_to else None,
        due_at=data.due_at,
        due_on=data.due_on,
        due_kind=data.due_kind.value if data.due_kind else None,
        due_in_working_days=data.due_in_working_days,
        deadline_phrase=data.deadline_phrase,
        recurrence=data.recurrence.value if data.recurrence else None,
        report_days_after_period=(
            data.report_days_after_period if data.report_days_after_period is not None
            else (DEFAULT_REPORT_DAYS if data.recurrence else None)
        ),
        recurrence_until=data.recurrence_until,
        selector=selector,
    )
    return row, [(uid, role.value) for uid, role in roles.items()]


async def replace_tasks(session: AsyncSession, caller: Caller, directive_id: UUID, tasks: Sequence[TaskIn]) -> None:
    lookup = UnitLookup(caller)
    await lookup.load(session, tasks)
    built = [build_task(directive_id, i, t, lookup) for i, t in enumerate(tasks)]
    await session.execute(delete(Task).where(Task.directive_id == directive_id))
    for task, _ in built:
        session.add(task)
    await session.flush()
    for task, units in built:
        session.add_all(TaskUnit(task_id=task.id, unit_id=uid, role=role) for uid, role in units)
    await session.flush()


async def tasks_of(session: AsyncSession, directive_id: UUID) -> list[Task]:
    return list(await session.scalars(select(Task).where(Task.directive_id == directive_id).order_by(Task.position)))


async def read_tasks(session: AsyncSession, directive_id: UUID) -> list[TaskRead]:
    tasks = await tasks_of(session, directive_id)
    units = await session.scalars(select(TaskUnit).where(TaskUnit.task_id.in_([t.id for t in tasks])))  # type: ignore[attr-defined]
    by_task: dict[UUID, list[TaskUnitRead]] = {}
    for tu in units:
        by_task.setdefault(tu.task_id, []).append(TaskUnitRead(unit_id=tu.unit_id, role=AssignmentRole(tu.role)))
    return [
        TaskRead.model_validate({**t.model_dump(), "units": by_task.get(t.id, []), "assignee_selector": t.selector})
        for t in tasks
    ]


def due_at_for(task: Task | TaskRow, issued_on: date, calendar: WorkingCalendar) -> datetime | None:
    """The instant a one-off task is due, from however the directive phrased it."""
    if task.due_at is not None:
        return task.due_at
    if task.due_on is not None:
        return start_of_local_day(task.due_on) if task.due_kind == DueKind.before else end_of_local_day(task.due_on)
    if task.due_in_working_days is not None:
        return end_of_local_day(calendar.add_working_days(issued_on, task.due_in_working_days))
    return None


def periods(task: Task | TaskRow, issued_on: date, today: date, calendar: WorkingCalendar) -> list[tuple[date, date, datetime]]:
    """Reporting periods of a recurring task open so far: (start, end, report due), from the issue date's period."""
    months = MONTHS_PER_PERIOD[Recurrence(task.recurrence)]
    start = date(issued_on.year, ((issued_on.month - 1) // months) * months + 1, 1)
    last_open = min(today, task.recurrence_until) if task.recurrence_until else today
    out = []
    while start <= last_open:
        end = _add_months(start, months) - timedelta(days=1)
        # A deadline that falls on a day off moves to the next working day.
        report_day = calendar.next_working_day(end + timedelta(days=task.report_days_after_period or 0))
        out.append((start, end, end_of_local_day(report_day)))
        start = _add_months(start, months)
    return out


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, month_calendar.monthrange(year, month)[1]))
