"""Task rules: naming units by id or code within the caller's scope, and resolving deadlines."""

from __future__ import annotations

import calendar as month_calendar
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Protocol
from uuid import UUID, uuid4

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.calendar.service import WorkingCalendar, end_of_local_day, start_of_local_day
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


_UNITS_BY_ID = text("SELECT id, code, path, active FROM units WHERE id = ANY(CAST(:ids AS uuid[]))")
_UNITS_BY_CODE = text("SELECT id, code, path, active FROM units WHERE code = ANY(CAST(:codes AS text[]))")


class UnitLookup:
    """Every unit the tasks of one request name, fetched in two queries, checked against the caller's scope."""

    def __init__(self, caller: Caller) -> None:
        self.caller = caller
        self.by_id: dict[UUID, UnitRef] = {}
        self.by_code: dict[str, UnitRef] = {}

    async def load(self, session: AsyncSession, tasks: Sequence[TaskIn]) -> None:
        ids: set[UUID] = set()
        codes: set[str] = set()
        for task in tasks:
            for _, id_field, code_field in ROLE_FIELDS:
                ids.update(getattr(task, id_field))
                codes.update(getattr(task, code_field))
            ids.update(x for x in (task.report_to_id, task.assignee_selector and task.assignee_selector.under_id) if x)
            codes.update(x for x in (task.report_to_code, task.assignee_selector and task.assignee_selector.under_code) if x)
        # Plain rows through one array parameter, not ORM objects and an IN list: an import batch names
        # thousands of units, and an IN list of that size costs more to compile than to run.
        if ids:
            for unit in await session.execute(_UNITS_BY_ID, {"ids": list(ids)}):
                self.by_id[unit.id] = unit
        if codes:
            for unit in await session.execute(_UNITS_BY_CODE, {"codes": list(codes)}):
                self.by_code[unit.code] = unit

    def get(self, ref: UUID | str, field: str) -> UnitRef:
        unit = self.by_id.get(ref) if isinstance(ref, UUID) else self.by_code.get(ref)
        if unit is None or not self.caller.covers(unit.path):
            raise ValidationProblem.for_field(field, f"unknown unit {ref}", "unknown_unit")
        if not unit.active:
            raise ValidationProblem.for_field(field, f"unit {unit.code} is deactivated", "inactive_unit")
        return unit


NamedUnits = list[tuple[UUID, str]]


def build_task(directive_id: UUID, position: int, data: TaskIn, lookup: UnitLookup) -> tuple[Task, NamedUnits]:
    """The task row and its named units with their role; a unit named twice keeps its strongest (lead > coordinating > assignee).

    Named units come back as (unit id, role) pairs rather than TaskUnit rows: bulk imports build
    hundreds of thousands of them and write them with COPY.
    """
    prefix = f"tasks[{position}]"
    roles: dict[UUID, AssignmentRole] = {}
    for role, id_field, code_field in ROLE_FIELDS:
        refs: list[tuple[UUID | str, str]] = [(u, f"{prefix}.{id_field}[{i}]") for i, u in enumerate(getattr(data, id_field))]
        refs += [(c, f"{prefix}.{code_field}[{i}]") for i, c in enumerate(getattr(data, code_field))]
        for ref, field in refs:
            roles.setdefault(lookup.get(ref, field).id, role)
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
    task = Task(
        id=uuid4(),  # given, not defaulted: pydantic's default factories are slow to call in bulk
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
    return task, [(uid, role.value) for uid, role in roles.items()]


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


def due_at_for(task: Task, issued_on: date, calendar: WorkingCalendar) -> datetime | None:
    """The instant a one-off task is due, from however the directive phrased it."""
    if task.due_at is not None:
        return task.due_at
    if task.due_on is not None:
        return start_of_local_day(task.due_on) if task.due_kind == DueKind.before else end_of_local_day(task.due_on)
    if task.due_in_working_days is not None:
        return end_of_local_day(calendar.add_working_days(issued_on, task.due_in_working_days))
    return None


def periods(task: Task, issued_on: date, today: date, calendar: WorkingCalendar) -> list[tuple[date, date, datetime]]:
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
