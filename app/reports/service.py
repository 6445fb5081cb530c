"""Report rules: what a unit may submit in each state, and the issuer side's decisions.

The assignment and report rows are locked (SELECT ... FOR UPDATE) before any
decision, so of two concurrent accept/return calls exactly one wins and the
other sees the report already decided (409).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import orjson
from sqlalchemy import ColumnElement, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app import etags
from app.assignments import service as assignments
from app.assignments.models import OPEN_STATUSES, Assignment, AssignmentStatus
from app.audit import service as audit
from app.auth.caller import Caller
from app.auth.models import Role
from app.db import DriverStatement, InTransaction
from app.directives.models import Directive
from app.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationProblem
from app.escalation import arming, scan
from app.events import service as events
from app.pagination import newest_first
from app.reports.models import DifficultyDecision, Report, ReportKind, ReportStatus
from app.reports.schemas import ReportAccept, ReportCreate, ReportRead, ReportReturn
from app.tasks.models import AssignmentRole, Task
from app.timeutil import utcnow
from app.units.models import Unit

# Which assignment states accept which report kinds, and where the assignment goes.
ALLOWED_FROM = {
    ReportKind.progress: {AssignmentStatus.pending, AssignmentStatus.in_progress, AssignmentStatus.submitted, AssignmentStatus.blocked},
    ReportKind.final: {AssignmentStatus.pending, AssignmentStatus.in_progress},
    ReportKind.difficulty: {AssignmentStatus.pending, AssignmentStatus.in_progress},
    ReportKind.extension_request: {AssignmentStatus.pending, AssignmentStatus.in_progress, AssignmentStatus.blocked},
}


async def submit_report(within: InTransaction, caller: Caller, *, assignment_id: UUID, data: ReportCreate) -> ReportRead:
    """A unit's report on its assignment, in a session's transaction (imports) or a driver transaction (the API).

    Every statement is a DriverStatement, so both run the same SQL. A report's few fixed statements
    cost more to plan than to run: the API's driver transaction keeps one plan per connection, and a
    session should be `plan_once` first.
    """
    assignment = await assignments.row_for_unit(within, caller, assignment_id)
    if data.external_id is not None:  # first: a re-sent report is recognised whatever the assignment's state now
        await _ensure_new_external_id(within, assignment["unit_id"], data.external_id)
    kind, before = data.kind, assignment["status"]
    if before not in ALLOWED_FROM[kind]:
        raise InvalidTransition(f"A {kind.value} report cannot be submitted while the assignment is {before}.", current_status=before)
    if kind == ReportKind.final and assignment["role"] == AssignmentRole.coordinating:
        raise InvalidTransition(
            "Coordinating units send no final report of their own; the assignment completes with the lead's.", current_status=before
        )
    if kind == ReportKind.extension_request:
        await _check_extension_request(within, assignment, data)
    now = utcnow()
    report = ReportRead(
        id=uuid4(), assignment_id=assignment_id, unit_id=assignment["unit_id"], kind=kind,
        status=ReportStatus.received if kind == ReportKind.progress else ReportStatus.submitted, external_id=data.external_id,
        content=data.content, figures=data.figures, attachments=[a.model_dump(mode="json") for a in data.attachments],
        requested_due_at=data.requested_due_at, decision=None, decision_comment=None, decided_at=None, version=1, created_at=now,
    )
    status, submitted_at = _status_on_submit(assignment, kind, now)
    touched = status != before or kind == ReportKind.progress
    await _SUBMIT.execute(
        within,
        **_report_params(report, caller),
        assignment_status=status, submitted_at=submitted_at,
        version=assignment["version"] + 1 if touched else assignment["version"],
        updated_at=now if touched else assignment["updated_at"],
        **events.assignment_events_params(
            "report.submitted", [assignment_id], report_id=str(report.id), kind=kind.value, assignment_status=status
        ),
        **audit.insert_one_params(
            actor_key_id=caller.key_id, action="report.submitted", entity_type="report", entity_id=report.id,
            unit_id=report.unit_id, changes={"kind": kind.value, "assignment_status": [before, status]},
        ),
    )
    return report


_BY_EXTERNAL_ID = DriverStatement.of(
    select(Report.id).where(Report.unit_id == bindparam("unit_id"), Report.external_id == bindparam("external_id"))
)


async def _ensure_new_external_id(within: InTransaction, unit_id: UUID, external_id: str) -> None:
    existing = await _BY_EXTERNAL_ID.fetchval(within, unit_id=unit_id, external_id=external_id)
    if existing is not None:
        raise Conflict(f"This unit already sent report {external_id!r}.", existing_id=str(existing), field="external_id")


def _status_on_submit(assignment: Mapping[str, Any], kind: ReportKind, now: datetime) -> tuple[str, datetime | None]:
    """The assignment's status and submitted_at once this report is in."""
    if kind == ReportKind.final:
        return AssignmentStatus.submitted.value, now
    if kind == ReportKind.difficulty:
        return AssignmentStatus.blocked.value, assignment["submitted_at"]
    if assignment["status"] == AssignmentStatus.pending:
        return AssignmentStatus.in_progress.value, assignment["submitted_at"]  # the first sign of work
    return assignment["status"], assignment["submitted_at"]


# A report, the assignment's new state, its event and its audit entry: one statement, one round trip
# (a submission was seven round trips with BEGIN and COMMIT, and round trips are most of its cost),
# compiled once and run straight on the driver. The event reads the assignment's unchanging columns,
# so seeing the row before this statement's UPDATE is right.
_SUBMIT_SQL = f"""
    WITH report AS (
        INSERT INTO reports (id, assignment_id, unit_id, kind, external_id, status, content, figures, attachments,
                             requested_due_at, submitted_by_key_id, version, created_at)
        VALUES (:id, :assignment_id, :unit_id, :kind, :external_id, :status, :content, CAST(:figures AS jsonb),
                CAST(:attachments AS jsonb), :requested_due_at, :submitted_by_key_id, :report_version, :created_at)
    ), assignment AS (
        UPDATE assignments SET status = :assignment_status, submitted_at = :submitted_at, version = :version, updated_at = :updated_at
        WHERE id = :assignment_id
    ), event AS ({events.ASSIGNMENT_EVENTS_INSERT}
    ), audit AS ({audit.INSERT_ONE}
    )
    SELECT 1
"""
_SUBMIT = DriverStatement.of(text(_SUBMIT_SQL))


def _report_params(report: ReportRead, caller: Caller) -> dict[str, Any]:
    return {
        "id": report.id, "assignment_id": report.assignment_id, "unit_id": report.unit_id, "kind": report.kind.value,
        "external_id": report.external_id, "status": report.status.value, "content": report.content,
        "figures": None if report.figures is None else orjson.dumps(report.figures).decode(),
        "attachments": orjson.dumps(report.attachments).decode(), "requested_due_at": report.requested_due_at,
        "submitted_by_key_id": caller.key_id, "report_version": report.version, "created_at": report.created_at,
    }


_PENDING_EXTENSION = DriverStatement.of(
    select(Report.id).where(
        Report.assignment_id == bindparam("assignment_id"),
        Report.kind == ReportKind.extension_request.value,
        Report.status == ReportStatus.submitted.value,
    )
)


async def _check_extension_request(within: InTransaction, assignment: Mapping[str, Any], data: ReportCreate) -> None:
    assert data.requested_due_at is not None
    if data.requested_due_at <= assignment["due_at"]:
        raise ValidationProblem.for_field("requested_due_at", "must be later than the current deadline", "not_later")
    pending = await _PENDING_EXTENSION.fetchval(within, assignment_id=assignment["id"])
    if pending is not None:
        raise InvalidTransition(
            f"Extension request {pending} is still awaiting a decision.", current_status=assignment["status"], pending_report_id=str(pending)
        )


async def _issuer_side(session: AsyncSession, caller: Caller, assignment: Assignment) -> bool:
    """Does the caller's subtree hold the directive's issuer or the task's report-to unit?"""
    row = (
        await session.execute(
            select(Unit.path)
            .select_from(Task)
            .join(Directive, Directive.id == Task.directive_id)
            .join(Unit, Unit.id.in_([Directive.issuer_id, Task.report_to_id]))  # type: ignore[attr-defined]
            .where(Task.id == assignment.task_id)
        )
    ).all()
    return any(caller.covers(path) for (path,) in row)


async def _get_for_review(
    session: AsyncSession, caller: Caller, report_id: UUID, if_match: str | None
) -> tuple[Report, Assignment]:
    caller.require(Role.issuer)
    report = await get_report(session, caller, report_id)
    assignment = await assignments.get_assignment(session, caller, report.assignment_id, for_update=True)
    await session.refresh(report, with_for_update=True)
    if not await _issuer_side(session, caller, assignment):
        raise Forbidden("Only the issuer's side (the directive's issuer or the task's report-to unit) decides on reports.")
    etags.require_match(if_match, version=report.version, what=f"Report {report.id}")
    if report.status != ReportStatus.submitted:
        raise InvalidTransition(
            f"Report {report.id} is {report.status}; only submitted reports can be decided.", current_status=report.status
        )
    return report, assignment


async def accept_report(
    session: AsyncSession, caller: Caller, *, report_id: UUID, data: ReportAccept, if_match: str | None = None
) -> Report:
    report, assignment = await _get_for_review(session, caller, report_id, if_match)
    kind = ReportKind(report.kind)
    if kind == ReportKind.final:
        await _complete(session, assignment, report.created_at)
    elif kind == ReportKind.extension_request:
        await _move_deadline(session, caller, assignment, data.new_due_at or report.requested_due_at, report)
    else:
        await _decide_difficulty(session, caller, assignment, report, data)
    await _decide(session, caller, report, ReportStatus.accepted, data.comment, "report.accepted", assignment)
    return report


async def return_report(
    session: AsyncSession, caller: Caller, *, report_id: UUID, data: ReportReturn, if_match: str | None = None
) -> Report:
    """Trả lại: a final report goes back for rework; an extension is refused; a difficulty is kept."""
    report, assignment = await _get_for_review(session, caller, report_id, if_match)
    if report.kind in (ReportKind.final, ReportKind.difficulty):
        await _hand_back(session, assignment)
    await _decide(session, caller, report, ReportStatus.returned, data.comment, "report.returned", assignment)
    return report


async def _decide(
    session: AsyncSession, caller: Caller, report: Report, status: ReportStatus, comment: str | None, event: str,
    assignment: Assignment,
) -> None:
    report.status, report.decision_comment = status.value, comment
    report.decided_at, report.decided_by_key_id = utcnow(), caller.key_id
    report.version += 1
    await session.flush()
    await events.record_for_assignments(
        session, event, [assignment.id], report_id=str(report.id), kind=report.kind, assignment_status=assignment.status
    )
    audit.record(
        session, actor_key_id=caller.key_id, action=event, entity_type="report", entity_id=report.id, unit_id=report.unit_id,
        changes={"status": ["submitted", status.value], "decision": report.decision, "comment": comment},
    )


async def _complete(session: AsyncSession, assignment: Assignment, completed_at: datetime) -> None:
    """Completed as of when the final report was submitted: late is late. Coordinating units complete with it."""
    assignment.status, assignment.completed_at = AssignmentStatus.completed.value, completed_at
    assignments.touch(assignment)
    await session.flush()
    result = await session.execute(
        text(
            "UPDATE assignments SET status = 'completed', completed_at = :at, updated_at = now(), version = version + 1 "
            "WHERE task_id = :task AND period_start IS NOT DISTINCT FROM :period AND role = 'coordinating' "
            "AND status = ANY(CAST(:open AS text[])) RETURNING id"
        ),
        {"at": completed_at, "task": assignment.task_id, "period": assignment.period_start, "open": [s.value for s in OPEN_STATUSES]},
    )
    await events.record_for_assignments(session, "assignment.completed", [assignment.id, *[r[0] for r in result]])


async def _move_deadline(
    session: AsyncSession, caller: Caller, assignment: Assignment, new_due_at: datetime | None, report: Report
) -> None:
    """Gia hạn: the deadline moves; `original_due_at` keeps the first one; the change is an event and audited."""
    if new_due_at is None:
        raise ValidationProblem.for_field("new_due_at", "give the new deadline", "missing")
    old = assignment.due_at
    assignment.due_at = new_due_at
    if assignment.status == AssignmentStatus.blocked:
        assignment.status = AssignmentStatus.in_progress.value
    assignments.touch(assignment)
    await session.flush()
    await arming.rearm(session, [assignment.id], utcnow())  # only steps still ahead of the new deadline fire
    await events.record_for_assignments(
        session, "assignment.deadline_changed", [assignment.id], previous_due_at=old.isoformat(), report_id=str(report.id)
    )
    audit.record(
        session, actor_key_id=caller.key_id, action="assignment.deadline_changed", entity_type="assignment",
        entity_id=assignment.id, unit_id=assignment.unit_id, changes={"due_at": [old.isoformat(), new_due_at.isoformat()], "report_id": str(report.id)},
    )


async def _decide_difficulty(
    session: AsyncSession, caller: Caller, assignment: Assignment, report: Report, data: ReportAccept
) -> None:
    if data.decision is None:
        raise ValidationProblem.for_field("decision", "a difficulty report needs a decision: extend, cancel or keep", "missing")
    report.decision = data.decision.value
    if data.decision == DifficultyDecision.extend:
        await _move_deadline(session, caller, assignment, data.new_due_at, report)
    elif data.decision == DifficultyDecision.cancel:
        assignment.status, assignment.cancelled_at = AssignmentStatus.cancelled.value, utcnow()
        assignments.touch(assignment)
        await session.flush()
        await events.record_for_assignments(session, "assignment.cancelled", [assignment.id], reason="difficulty_accepted")
    else:
        await _hand_back(session, assignment)


async def _hand_back(session: AsyncSession, assignment: Assignment) -> None:
    """Back to work: the assignment is chased again, including steps that came due while it waited."""
    assignment.status = AssignmentStatus.in_progress.value
    assignments.touch(assignment)
    await session.flush()  # the assignment's row first: a concurrent scan holding its steps waits for this commit
    await scan.release_held(session, [assignment.id])


def _visible(caller: Caller) -> ColumnElement[bool]:
    return Report.assignment_id.in_(select(Assignment.id).where(assignments.visible(caller)))  # type: ignore[attr-defined]


async def get_report(session: AsyncSession, caller: Caller, report_id: UUID) -> Report:
    report = (await session.execute(select(Report).where(Report.id == report_id, _visible(caller)))).scalar_one_or_none()
    if report is None:
        raise NotFound(f"Report {report_id} not found.")
    return report


async def list_reports(
    session: AsyncSession,
    caller: Caller,
    *,
    assignment_id: UUID | None = None,
    directive_id: UUID | None = None,
    unit_id: UUID | None = None,
    kind: ReportKind | None = None,
    status: ReportStatus | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[Report], str | None]:
    """Newest first. `status=submitted` is the issuer side's review queue."""
    conditions: list[ColumnElement[bool]] = [_visible(caller)]
    if assignment_id is not None:
        conditions.append(Report.assignment_id == assignment_id)
    if directive_id is not None:
        conditions.append(Report.assignment_id.in_(select(Assignment.id).where(Assignment.directive_id == directive_id)))  # type: ignore[attr-defined]
    if unit_id is not None:
        conditions.append(Report.unit_id.in_(select(Unit.id).where(Unit.path.contains([unit_id]))))  # type: ignore[attr-defined]
    if kind is not None:
        conditions.append(Report.kind == kind.value)
    if status is not None:
        conditions.append(Report.status == status.value)
    return await newest_first(session, select(Report).where(*conditions), Report, cursor=cursor, limit=limit)
