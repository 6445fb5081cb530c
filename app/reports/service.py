"""Report rules: what a unit may submit in each state, and the issuer side's decisions.

A decision locks the assignment and report rows (SELECT ... FOR UPDATE) first, so of two
concurrent accept/return calls exactly one wins and the other sees the report already
decided (409). A submission takes no lock before it writes: it writes only if the
assignment's version is still the one it was decided on (see submit_report).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import orjson
from sqlalchemy import ColumnElement, String, bindparam, select, text
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
from app.reports.models import EXTERNAL_ID_INDEX, DifficultyDecision, Report, ReportKind, ReportStatus
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
    """A unit's report on its assignment, over a bare connection (the API) or in a session's transaction (imports).

    Optimistic: the assignment is read without a lock, the report decided on what was read, and
    written by one statement that changes nothing unless the assignment's version is still the one
    read; if it is not, the report is decided again on the new state. Each report bumps the version,
    so two concurrent reports can never both be decided on the same state. Over the API's bare
    connection that is two round trips and no transaction of its own: BEGIN, a locked read and
    COMMIT made a report twice as many, and round trips are most of its cost. Its fixed statements
    cost more to plan than to run: the API's connection keeps one plan each, and a session should be
    `plan_once` first.
    """
    for _ in range(_ATTEMPTS):
        assignment = await assignments.row_for_unit(
            within, _ASSIGNMENT_FOR_REPORT, caller, assignment_id, external_id=data.external_id
        )
        report = _decided(assignment, data)
        if await _write(within, caller, assignment, report):
            return report
    raise Conflict(f"Assignment {assignment_id} kept changing while this report was written; send it again.")


# An attempt fails only when another report on the same assignment landed in between: ten at once on
# one assignment is far beyond how a unit reports, so the bound only stops a retry that would never end.
_ATTEMPTS = 10

# The assignment, whether the caller's unit holds it, and what decides a report besides its state:
# a report the unit already sent with this external_id, an extension request awaiting a decision.
_ASSIGNMENT_FOR_REPORT = DriverStatement.of(
    assignments.ROW_FOR_UNIT.add_columns(
        select(Report.id)
        .where(Report.unit_id == Assignment.unit_id, Report.external_id == bindparam("external_id", type_=String))
        .scalar_subquery()
        .label("sent_report_id"),
        select(Report.id)
        .where(
            Report.assignment_id == Assignment.id,
            Report.kind == ReportKind.extension_request.value,
            Report.status == ReportStatus.submitted.value,
        )
        .limit(1)
        .scalar_subquery()
        .label("pending_extension_id"),
    )
)


def _decided(assignment: Mapping[str, Any], data: ReportCreate) -> ReportRead:
    """The report, if the assignment as read accepts it; else the problem it would be."""
    if assignment["sent_report_id"] is not None:  # first: a re-sent report is recognised whatever the assignment's state now
        raise _already_sent(data.external_id, assignment["sent_report_id"])
    kind, before = data.kind, assignment["status"]
    if before not in ALLOWED_FROM[kind]:
        raise InvalidTransition(f"A {kind.value} report cannot be submitted while the assignment is {before}.", current_status=before)
    if kind == ReportKind.final and assignment["role"] == AssignmentRole.coordinating:
        raise InvalidTransition(
            "Coordinating units send no final report of their own; the assignment completes with the lead's.", current_status=before
        )
    if kind == ReportKind.extension_request:
        _check_extension_request(assignment, data)
    return ReportRead(
        id=uuid4(), assignment_id=assignment["id"], unit_id=assignment["unit_id"], kind=kind,
        status=ReportStatus.received if kind == ReportKind.progress else ReportStatus.submitted, external_id=data.external_id,
        content=data.content, figures=data.figures, attachments=[a.model_dump(mode="json") for a in data.attachments],
        requested_due_at=data.requested_due_at, decision=None, decision_comment=None, decided_at=None, version=1, created_at=utcnow(),
    )


def _already_sent(external_id: str | None, existing: UUID | None) -> Conflict:
    extra = {} if existing is None else {"existing_id": str(existing)}
    return Conflict(f"This unit already sent report {external_id!r}.", field="external_id", **extra)


def _check_extension_request(assignment: Mapping[str, Any], data: ReportCreate) -> None:
    assert data.requested_due_at is not None
    if data.requested_due_at <= assignment["due_at"]:
        raise ValidationProblem.for_field("requested_due_at", "must be later than the current deadline", "not_later")
    pending = assignment["pending_extension_id"]
    if pending is not None:
        raise InvalidTransition(
            f"Extension request {pending} is still awaiting a decision.", current_status=assignment["status"], pending_report_id=str(pending)
        )


async def _write(within: InTransaction, caller: Caller, assignment: Mapping[str, Any], report: ReportRead) -> bool:
    """Write the report, the assignment's new state, the event and the audit entry; False (and nothing
    written) if the assignment changed since it was read."""
    before = assignment["status"]
    status, submitted_at = _status_on_submit(assignment, report.kind, report.created_at)
    try:
        written = await _SUBMIT.fetchval(
            within,
            **_report_params(report, caller),
            assignment_status=status, submitted_at=submitted_at, read_version=assignment["version"], updated_at=report.created_at,
            **events.assignment_events_params(
                "report.submitted", [report.assignment_id], report_id=str(report.id), kind=report.kind.value, assignment_status=status
            ),
            **audit.insert_one_params(
                actor_key_id=caller.key_id, action="report.submitted", entity_type="report", entity_id=report.id,
                unit_id=report.unit_id, changes={"kind": report.kind.value, "assignment_status": [before, status]},
            ),
        )
    except asyncpg.UniqueViolationError as exc:
        # The same report sent twice at once: the other one is in. (Its id is not read here: in an
        # import's transaction, nothing can be read after a failed statement.)
        if exc.constraint_name != EXTERNAL_ID_INDEX:
            raise
        raise _already_sent(report.external_id, None) from exc
    return bool(written)


def _status_on_submit(assignment: Mapping[str, Any], kind: ReportKind, now: datetime) -> tuple[str, datetime | None]:
    """The assignment's status and submitted_at once this report is in."""
    if kind == ReportKind.final:
        return AssignmentStatus.submitted.value, now
    if kind == ReportKind.difficulty:
        return AssignmentStatus.blocked.value, assignment["submitted_at"]
    if assignment["status"] == AssignmentStatus.pending:
        return AssignmentStatus.in_progress.value, assignment["submitted_at"]  # the first sign of work
    return assignment["status"], assignment["submitted_at"]


# The assignment's new state if its version is still the one read, and only then the report, its event
# and its audit entry: one statement, compiled once and run straight on the driver. The event reads
# the assignment's unchanging columns, so seeing the row before this statement's UPDATE is right.
# (The report's values are cast: a SELECT's values take no type from the table they go into.)
_SUBMIT_SQL = f"""
    WITH assignment AS (
        UPDATE assignments SET status = :assignment_status, submitted_at = :submitted_at, version = version + 1,
                               updated_at = :updated_at
        WHERE id = :assignment_id AND version = :read_version
        RETURNING id
    ), report AS (
        INSERT INTO reports (id, assignment_id, unit_id, kind, external_id, status, content, figures, attachments,
                             requested_due_at, submitted_by_key_id, version, created_at)
        SELECT CAST(:id AS uuid), assignment.id, CAST(:unit_id AS uuid), CAST(:kind AS varchar), CAST(:external_id AS varchar),
               CAST(:status AS varchar), CAST(:content AS text), CAST(:figures AS jsonb), CAST(:attachments AS jsonb),
               CAST(:requested_due_at AS timestamptz), CAST(:submitted_by_key_id AS uuid), CAST(:report_version AS integer),
               CAST(:created_at AS timestamptz)
        FROM assignment
    ), event AS ({events.assignment_events_insert(ids="ARRAY(SELECT id FROM assignment)")}
    ), audit AS ({audit.insert_one_for_each("assignment")}
    )
    SELECT count(*) FROM assignment
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
