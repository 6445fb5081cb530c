"""Issuing, closing and revoking directives; opening the periods of recurring tasks.

Issuing creates every assignment in one set-based INSERT ... SELECT unnest(...)
and one event per assignment in one more statement, so a directive to 500
commune stations is a single fast request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.assignments.models import OPEN_STATUSES
from app.audit import service as audit
from app.auth.caller import Caller
from app.calendar.service import WorkingCalendar, load_calendar
from app.directives import service as directives
from app.directives.models import Directive, DirectiveStatus
from app.errors import InvalidTransition, ValidationProblem
from app.escalation import arming
from app.events import service as events
from app.tasks import service as tasks
from app.tasks.models import AssignmentRole, Task, TaskUnit
from app.timeutil import utcnow
from app.units.models import Unit

ROLE_ORDER = {AssignmentRole.lead: 0, AssignmentRole.coordinating: 1, AssignmentRole.assignee: 2}


@dataclass
class AssignmentRows:
    """Assignment rows to insert, column by column (the shape unnest() takes)."""

    task_ids: list[UUID] = field(default_factory=list)
    unit_ids: list[UUID] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    period_starts: list[date | None] = field(default_factory=list)
    period_ends: list[date | None] = field(default_factory=list)
    due_ats: list[datetime] = field(default_factory=list)

    def add(self, task_id: UUID, unit_id: UUID, role: str, start: date | None, end: date | None, due: datetime) -> None:
        self.task_ids.append(task_id)
        self.unit_ids.append(unit_id)
        self.roles.append(role)
        self.period_starts.append(start)
        self.period_ends.append(end)
        self.due_ats.append(due)


async def _units_of(session: AsyncSession, task: Task) -> list[tuple[UUID, str]]:
    """Active named units plus the selector's expansion; a unit reached twice keeps its strongest role."""
    roles: dict[UUID, str] = {}
    named = select(TaskUnit).join(Unit, Unit.id == TaskUnit.unit_id).where(TaskUnit.task_id == task.id, Unit.active.is_(True))  # type: ignore[attr-defined]
    for tu in await session.scalars(named):  # a unit deactivated since drafting gets no new periods
        roles[tu.unit_id] = tu.role
    if task.selector:
        for unit_id in await selected_units(session, task.selector):
            roles.setdefault(unit_id, AssignmentRole.assignee.value)
    return ordered_roles(roles)


async def selected_units(session: AsyncSession, selector: dict[str, Any]) -> list[UUID]:
    """The active units of the selector's kinds under its root (not the root itself)."""
    selected = await session.scalars(
        text(
            "SELECT id FROM units WHERE path @> ARRAY[CAST(:under AS uuid)] AND kind = ANY(CAST(:kinds AS text[])) "
            "AND active AND id <> CAST(:under AS uuid)"
        ),
        {"under": selector["under_id"], "kinds": selector["kinds"]},
    )
    return list(selected)


async def _assignment_rows(
    session: AsyncSession, directive: Directive, task_list: list[Task], today: date, calendar: WorkingCalendar
) -> tuple[AssignmentRows, list[dict[str, Any]]]:
    rows, errors = AssignmentRows(), []
    assert directive.issued_on is not None
    for task in task_list:
        add_task_rows(rows, errors, task, await _units_of(session, task), directive.issued_on, today, calendar)
    return rows, errors


def add_task_rows(
    rows: AssignmentRows, errors: list[dict[str, Any]], task: Task, unit_roles: list[tuple[UUID, str]],
    issued_on: date, today: date, calendar: WorkingCalendar,
) -> None:
    """One task's assignments: one per unit, or one per unit and open period of a recurring task."""
    where = f"tasks[{task.position}]"
    if not unit_roles:
        errors.append({"field": where, "message": "names no unit to assign", "code": "no_units"})
    if task.recurrence:
        for start, end, due in tasks.periods(task, issued_on, today, calendar):
            for unit_id, role in unit_roles:
                rows.add(task.id, unit_id, role, start, end, due)
        return
    due_at = tasks.due_at_for(task, issued_on, calendar)
    if due_at is None:
        errors.append({"field": f"{where}.due_at", "message": "has no deadline", "code": "no_deadline"})
        return
    for unit_id, role in unit_roles:
        rows.add(task.id, unit_id, role, None, None, due_at)


def ordered_roles(roles: dict[UUID, str]) -> list[tuple[UUID, str]]:
    """Units and roles in a stable order: leads, then coordinating, then assignees."""
    return sorted(roles.items(), key=lambda item: (ROLE_ORDER[AssignmentRole(item[1])], str(item[0])))


async def _insert_assignments(session: AsyncSession, directive_id: UUID, rows: AssignmentRows) -> list[UUID]:
    if not rows.task_ids:
        return []
    result = await session.execute(
        text(
            """
            INSERT INTO assignments (id, task_id, directive_id, unit_id, role, period_start, period_end, due_at, original_due_at)
            SELECT gen_random_uuid(), r.task_id, CAST(:directive_id AS uuid), r.unit_id, r.role, r.ps, r.pe, r.due, r.due
            FROM unnest(CAST(:task_ids AS uuid[]), CAST(:unit_ids AS uuid[]), CAST(:roles AS text[]),
                        CAST(:ps AS date[]), CAST(:pe AS date[]), CAST(:due AS timestamptz[]))
                 AS r(task_id, unit_id, role, ps, pe, due)
            ON CONFLICT ON CONSTRAINT uq_assignments_task_unit_period DO NOTHING
            RETURNING id
            """
        ),
        {
            "directive_id": directive_id, "task_ids": rows.task_ids, "unit_ids": rows.unit_ids, "roles": rows.roles,
            "ps": rows.period_starts, "pe": rows.period_ends, "due": rows.due_ats,
        },
    )
    return [row[0] for row in result]


async def issue_directive(
    session: AsyncSession, caller: Caller, directive_id: UUID, *, if_match: str | None
) -> tuple[Directive, int]:
    """Ban hành: the draft becomes binding and every named unit gets its assignment."""
    directive = await directives.get_for_issuer(session, caller, directive_id)
    directives.check_etag(directive, if_match)
    _require_status(directive, DirectiveStatus.draft, "issue")
    missing = [
        {"field": name, "message": "is required to issue", "code": "missing"}
        for name in ("number", "issued_on") if getattr(directive, name) is None
    ]
    if missing:
        raise ValidationProblem("A directive needs a number and an issue date to be issued.", errors=missing)
    calendar = await load_calendar(session)
    task_list = await tasks.tasks_of(session, directive.id)
    rows, errors = await _assignment_rows(session, directive, task_list, directives.today_local(), calendar)
    if errors:
        raise ValidationProblem("Some tasks cannot be assigned yet.", errors=errors)
    await directives.ensure_unique(session, directive)
    ids = await _insert_assignments(session, directive.id, rows)
    await events.record_for_assignments(session, "assignment.created", ids)
    await arming.arm(session, ids, utcnow())
    directive.status, directive.issued_at = DirectiveStatus.issued.value, utcnow()
    _touch(directive)
    await session.flush()
    await events.record(
        session, "directive.issued", units=[directive.issuer_id], directive_id=directive.id,
        notation=directive.notation, assignments=len(ids),
    )
    audit.record(
        session, actor_key_id=caller.key_id, action="directive.issued", entity_type="directive", entity_id=directive.id, unit_id=directive.issuer_id,
        changes={"status": ["draft", "issued"], "assignments": len(ids)},
    )
    return directive, len(ids)


async def close_directive(session: AsyncSession, caller: Caller, directive_id: UUID, *, if_match: str | None) -> Directive:
    """Kết thúc: no new periods open; assignments keep their record for compliance."""
    directive = await directives.get_for_issuer(session, caller, directive_id)
    directives.check_etag(directive, if_match)
    _require_status(directive, DirectiveStatus.issued, "close")
    directive.status, directive.closed_at = DirectiveStatus.closed.value, utcnow()
    _touch(directive)
    await session.flush()
    await events.record(session, "directive.closed", units=[directive.issuer_id], directive_id=directive.id)
    audit.record(
        session, actor_key_id=caller.key_id, action="directive.closed", entity_type="directive", entity_id=directive.id, unit_id=directive.issuer_id,
        changes={"status": ["issued", "closed"]},
    )
    return directive


async def revoke_directive(
    session: AsyncSession, caller: Caller, directive_id: UUID, *, if_match: str | None
) -> tuple[Directive, int]:
    """Thu hồi: the directive no longer binds anyone; every open assignment is cancelled."""
    directive = await directives.get_for_issuer(session, caller, directive_id)
    directives.check_etag(directive, if_match)
    _require_status(directive, DirectiveStatus.issued, "revoke")
    result = await session.execute(
        text(
            "UPDATE assignments SET status = 'cancelled', cancelled_at = now(), updated_at = now(), version = version + 1 "
            "WHERE directive_id = :d AND status = ANY(CAST(:open AS text[])) RETURNING id"
        ),
        {"d": directive.id, "open": [s.value for s in OPEN_STATUSES]},
    )
    cancelled = [row[0] for row in result]
    await events.record_for_assignments(session, "assignment.cancelled", cancelled, reason="directive_revoked")
    directive.status, directive.closed_at = DirectiveStatus.revoked.value, utcnow()
    _touch(directive)
    await session.flush()
    await events.record(
        session, "directive.revoked", units=[directive.issuer_id], directive_id=directive.id, assignments_cancelled=len(cancelled)
    )
    audit.record(
        session, actor_key_id=caller.key_id, action="directive.revoked", entity_type="directive", entity_id=directive.id, unit_id=directive.issuer_id,
        changes={"status": ["issued", "revoked"], "assignments_cancelled": len(cancelled)},
    )
    return directive, len(cancelled)


async def open_due_periods(session: AsyncSession, today: date) -> int:
    """Create the assignments of recurring tasks whose next period has opened (a daily worker job; idempotent)."""
    recurring = await session.execute(
        select(Task, Directive)
        .join(Directive, Directive.id == Task.directive_id)
        .where(Task.recurrence.is_not(None), Directive.status == DirectiveStatus.issued)  # type: ignore[union-attr]
    )
    created = 0
    calendar = await load_calendar(session)
    for task, directive in recurring:
        rows, _ = await _assignment_rows(session, directive, [task], today, calendar)
        ids = await _insert_assignments(session, directive.id, rows)
        await events.record_for_assignments(session, "assignment.created", ids)
        await arming.arm(session, ids, utcnow())
        created += len(ids)
    return created


def _require_status(directive: Directive, expected: DirectiveStatus, action: str) -> None:
    if directive.status != expected:
        raise InvalidTransition(
            f"Cannot {action} directive {directive.notation}: it is {directive.status}, not {expected.value}.",
            current_status=directive.status,
        )


def _touch(directive: Directive) -> None:
    directive.version += 1
    directive.updated_at = utcnow()
