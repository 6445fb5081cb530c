"""Importing directives: upsert by issuer + notation + year, optionally issuing them, set-based.

A batch builds every new directive, task and assignment in memory with the same rules the
single endpoints use (`apply_fields`, `build_task`, `add_task_rows`, the working calendar),
then writes them with a few COPY statements, one statement of `assignment.created` events,
one of escalation steps, one of `directive.issued` events and the audit entries. A line whose
key already names an issued directive is `unchanged`; one naming a draft goes through the
same services as PATCH and POST .../issue, on its own savepoint.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.caller import Caller
from app.auth.models import ROLE_RANK, Role
from app.calendar.service import WorkingCalendar, load_calendar
from app.db import copy_records
from app.directives import lifecycle
from app.directives import service as directives
from app.directives.models import Directive, DirectiveStatus
from app.directives.schemas import DirectiveUpdate
from app.errors import DondocError, ValidationProblem
from app.escalation import arming
from app.events import service as events
from app.imports.ids import new_ids
from app.imports.lines import LineOutcome, StagedLine, WaitForBefore, parse
from app.imports.schemas import DirectiveLine
from app.tasks import service as tasks
from app.tasks.models import AssignmentRole, Task
from app.timeutil import utcnow

DIRECTIVE_COLUMNS = [
    "id", "issuer_id", "number", "symbol", "notation", "notation_key", "doc_type", "issued_on", "year", "place", "subject",
    "body", "signer_name", "signer_title", "recipients", "urgency", "status", "search_key", "created_by_key_id", "issued_at",
]
REFERENCE_COLUMNS = ["id", "directive_id", "position", "notation", "notation_key", "doc_type", "issued_on", "year"]
TASK_COLUMNS = [
    "id", "directive_id", "position", "ordinal", "text", "report_to_id", "due_at", "due_on", "due_kind",
    "due_in_working_days", "deadline_phrase", "recurrence", "report_days_after_period", "recurrence_until", "selector",
]
ASSIGNMENT_COLUMNS = ["id", "task_id", "directive_id", "unit_id", "role", "period_start", "period_end", "due_at", "original_due_at"]

Key = tuple[UUID, str, int | None]
YIELD_EVERY_LINES = 8


@dataclass(slots=True)
class _DirectiveRow:
    """A directive to insert, as a plain record holding the columns (and defaults) of the Directive table.

    The same fields `directives.apply_fields` sets on a Directive are set on it; a batch builds
    hundreds, and table models cost more to build than the COPY that writes them.
    """

    id: UUID
    issuer_id: UUID
    symbol: str
    doc_type: str
    subject: str
    created_by_key_id: UUID | None
    number: str | None = None
    notation: str = ""
    notation_key: str = ""
    issued_on: date | None = None
    year: int | None = None
    place: str | None = None
    body: str | None = None
    signer_name: str | None = None
    signer_title: str | None = None
    recipients: list[str] = field(default_factory=list)
    urgency: str = "normal"
    status: str = DirectiveStatus.draft.value
    search_key: str = ""
    issued_at: datetime | None = None


@dataclass
class _New:
    """One directive to create, with its tasks and (if issued) its assignments."""

    line_no: int
    data: DirectiveLine
    directive: _DirectiveRow
    tasks: list[tuple[tasks.TaskRow, tasks.NamedUnits]]
    assignments: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass
class _Context:
    caller: Caller
    issuers: dict[UUID | str, Any]  # rows of (id, code, path)
    lookup: tasks.UnitLookup
    calendar: WorkingCalendar
    today: date
    selections: dict[tuple[str, tuple[str, ...]], list[UUID]] = field(default_factory=dict)


@dataclass
class Prepared:
    """A batch's lines parsed, the units they name read, and each new directive built, ahead of its transaction."""

    outcomes: dict[int, LineOutcome]  # lines that are not a valid directive
    parsed: list[tuple[int, DirectiveLine]]
    context: _Context
    built: dict[int, _New | ValidationProblem]  # by line: what creating its directive writes, or why it cannot be created
    keys: set[Key]  # the keys of the directives it creates


async def prepare(session: AsyncSession, caller: Caller, lines: list[StagedLine]) -> Prepared:
    """Everything about a batch that needs no write: lines whose directive is already stored are not built."""
    outcomes: dict[int, LineOutcome] = {}
    parsed: list[tuple[int, DirectiveLine]] = []
    for index, line in enumerate(lines):
        result = parse(line, DirectiveLine)
        if isinstance(result, LineOutcome):
            outcomes[line.line_no] = result
        else:
            parsed.append((line.line_no, result))
        await _let_others_run(index)
    context = await _context(session, caller, [d for _, d in parsed])
    stored = await _existing(session, context, [d for _, d in parsed])
    built: dict[int, _New | ValidationProblem] = {}
    keys: set[Key] = set()
    for index, (line_no, data) in enumerate(parsed):
        issuer, key = _issuer(context, data), _key(context, data)
        if issuer is None or key is None or key in stored or key in keys:
            continue
        keys.add(key)
        try:
            built[line_no] = await _build(session, context, line_no, data, issuer)
        except ValidationProblem as exc:
            built[line_no] = exc
        await _let_others_run(index)
    return Prepared(outcomes, parsed, context, built, keys)


def writes_beside(prepared: Prepared, before: Prepared) -> bool:
    """May this batch be written while the batch before it (`before`) is still being written?

    Yes when every line creates a new directive, under a key `before` does not create too. A line
    naming a stored directive may change its draft, which the batch before may change too: that
    batch has to commit first, or an earlier line could win over a later one.
    """
    return all(line_no in prepared.built for line_no, _ in prepared.parsed) and not (prepared.keys & before.keys)


async def _let_others_run(index: int) -> None:
    """Preparing runs beside the batch being written: give the event loop back every few lines so it never waits long."""
    if index % YIELD_EVERY_LINES == YIELD_EVERY_LINES - 1:
        await asyncio.sleep(0)


async def apply(
    session: AsyncSession, caller: Caller, lines: list[StagedLine], prepared: Prepared | None, before: WaitForBefore | None
) -> list[LineOutcome]:
    """Write the batch. Its new directives never need the batch written beside it (`before`), so it never waits for it."""
    if ROLE_RANK[caller.role] < ROLE_RANK[Role.issuer]:
        return [LineOutcome.error(line.line_no, "forbidden", "importing directives needs the issuer role") for line in lines]
    if prepared is None:
        prepared = await prepare(session, caller, lines)
    outcomes = dict(prepared.outcomes)
    context = prepared.context
    planned: list[_New] = []
    drafts: list[tuple[int, DirectiveLine, UUID]] = []
    existing = await _existing(session, context, [d for _, d in prepared.parsed])  # again: this transaction decides
    seen: dict[Key, UUID] = {}
    for line_no, data in prepared.parsed:
        outcome = await _plan(session, context, line_no, data, existing, seen, planned, drafts, prepared.built)
        if outcome is not None:
            outcomes[line_no] = outcome
    await _write(session, caller, planned)
    for new in planned:
        outcomes[new.line_no] = LineOutcome.done(new.line_no, "issued" if new.data.issue else "created")
    for line_no, data, directive_id in drafts:
        outcomes[line_no] = await _update_draft(session, caller, line_no, data, directive_id)
    return [outcomes[line.line_no] for line in lines]


async def _context(session: AsyncSession, caller: Caller, lines: list[DirectiveLine]) -> _Context:
    ids = {d.issuer_id for d in lines if d.issuer_id}
    codes = {d.issuer_code for d in lines if d.issuer_code}
    issuers: dict[UUID | str, Any] = {}
    if ids or codes:
        # Plain rows, not ORM objects: the batch may be prepared on another connection than the one that writes it.
        rows = await session.execute(
            text("SELECT id, code, path FROM units WHERE id = ANY(CAST(:ids AS uuid[])) OR code = ANY(CAST(:codes AS text[]))"),
            {"ids": list(ids), "codes": list(codes)},
        )
        for unit in rows:
            issuers[unit.id] = unit
            issuers[unit.code] = unit
    lookup = tasks.UnitLookup(caller)
    await lookup.load(session, [t for d in lines for t in (d.tasks or [])])
    return _Context(caller, issuers, lookup, await load_calendar(session), directives.today_local())


async def _existing(session: AsyncSession, context: _Context, lines: list[DirectiveLine]) -> dict[Key, tuple[UUID, str]]:
    """Directives already stored under the lines' keys: key → (id, status)."""
    keys = {k for k in (_key(context, d) for d in lines) if k is not None}
    if not keys:
        return {}
    rows = await session.execute(
        text(
            """
            SELECT d.id, d.issuer_id, d.notation_key, d.year, d.status
            FROM directives d
            JOIN unnest(CAST(:issuers AS uuid[]), CAST(:notations AS text[]), CAST(:years AS int[])) AS k(issuer_id, notation_key, year)
              ON d.issuer_id = k.issuer_id AND d.notation_key = k.notation_key AND d.year = k.year
            WHERE d.number IS NOT NULL
            """
        ),
        {
            "issuers": [k[0] for k in keys], "notations": [k[1] for k in keys], "years": [k[2] for k in keys],
        },
    )
    return {(r.issuer_id, r.notation_key, r.year): (r.id, r.status) for r in rows}


def _issuer(context: _Context, data: DirectiveLine) -> Any | None:
    unit = context.issuers.get(data.issuer_id or data.issuer_code)  # type: ignore[arg-type]
    return unit if unit is not None and context.caller.covers(unit.path) else None


def _key(context: _Context, data: DirectiveLine) -> Key | None:
    issuer = _issuer(context, data)
    if issuer is None or data.issued_on is None:
        return None
    notation = directives.notation_of(data.number, data.symbol)
    return issuer.id, directives.notation_key(notation), data.issued_on.year


async def _plan(
    session: AsyncSession, context: _Context, line_no: int, data: DirectiveLine,
    existing: dict[Key, tuple[UUID, str]], seen: dict[Key, UUID], planned: list[_New], drafts: list[tuple[int, DirectiveLine, UUID]],
    built: dict[int, _New | ValidationProblem],
) -> LineOutcome | None:
    """Decide what a line does; None when it is planned (a new directive) or left to the draft path."""
    issuer = _issuer(context, data)
    if issuer is None:
        fld = "issuer_id" if data.issuer_id else "issuer_code"
        return LineOutcome.error(line_no, "unknown_unit", f"unknown unit {data.issuer_id or data.issuer_code}", fld)
    key = _key(context, data)
    assert key is not None
    if key in seen:  # the same directive twice in one batch: the first line made it
        return LineOutcome.done(line_no, "unchanged")
    if key in existing:
        directive_id, status = existing[key]
        seen[key] = directive_id
        if status == DirectiveStatus.draft:
            drafts.append((line_no, data, directive_id))
            return None
        return LineOutcome.done(line_no, "unchanged")
    new = built.get(line_no)
    if new is None:  # not built ahead: its key was taken then, or an earlier line of the key failed
        try:
            new = await _build(session, context, line_no, data, issuer)
        except ValidationProblem as exc:
            new = exc
    if isinstance(new, ValidationProblem):
        return LineOutcome.from_problem(line_no, new)
    seen[key] = new.directive.id
    planned.append(new)
    return None


async def _build(session: AsyncSession, context: _Context, line_no: int, data: DirectiveLine, issuer: Any) -> _New:
    """The directive, its tasks and its assignments, with the checks create and issue make."""
    directive_id, *task_ids = new_ids(1 + len(data.tasks or []))
    directive = _DirectiveRow(
        id=directive_id, issuer_id=issuer.id, symbol=data.symbol, doc_type=data.doc_type.value, subject=data.subject,
        created_by_key_id=context.caller.key_id,
    )
    directives.apply_fields(directive, data)  # type: ignore[arg-type]  # the same fields as on a Directive
    built = [
        tasks.task_row(directive.id, i, t, context.lookup, task_id)
        for (i, t), task_id in zip(enumerate(data.tasks or []), task_ids, strict=True)
    ]
    new = _New(line_no, data, directive, built)
    if not data.issue:
        return new
    assert directive.issued_on is not None
    rows, errors = lifecycle.AssignmentRows(), []
    for task, named in built:
        unit_roles = await _unit_roles(session, context, task, named)
        lifecycle.add_task_rows(rows, errors, task, unit_roles, directive.issued_on, context.today, context.calendar)
    if errors:
        raise ValidationProblem("Some tasks cannot be assigned yet.", errors=errors)
    directive.status, directive.issued_at = DirectiveStatus.issued.value, utcnow()
    new.assignments = [
        (assignment_id, task_id, directive.id, unit_id, role, start, end, due, due)
        for assignment_id, task_id, unit_id, role, start, end, due in zip(
            new_ids(len(rows.task_ids)), rows.task_ids, rows.unit_ids, rows.roles, rows.period_starts, rows.period_ends,
            rows.due_ats, strict=True,
        )
    ]
    return new


async def _unit_roles(session: AsyncSession, context: _Context, task: tasks.TaskRow, named: tasks.NamedUnits) -> list[tuple[UUID, str]]:
    """As issuing does: the named units (active, checked by the lookup) plus the selector's units, once per batch."""
    roles = dict(named)
    if task.selector:
        cache_key = (task.selector["under_id"], tuple(task.selector["kinds"]))
        if cache_key not in context.selections:
            context.selections[cache_key] = await lifecycle.selected_units(session, task.selector)
        for unit_id in context.selections[cache_key]:
            roles.setdefault(unit_id, AssignmentRole.assignee.value)
    return lifecycle.ordered_roles(roles)


async def _write(session: AsyncSession, caller: Caller, planned: list[_New]) -> None:
    if not planned:
        return
    await copy_records(session, "directives", DIRECTIVE_COLUMNS, [_directive_record(n.directive) for n in planned])
    await copy_records(session, "directive_references", REFERENCE_COLUMNS, [r for n in planned for r in _reference_records(n)])
    await copy_records(session, "tasks", TASK_COLUMNS, [_task_record(t) for n in planned for t, _ in n.tasks])
    await copy_records(
        session, "task_units", ["task_id", "unit_id", "role"],
        [(task.id, unit_id, role) for n in planned for task, units in n.tasks for unit_id, role in units],
    )
    assignments = [a for n in planned for a in n.assignments]
    await copy_records(session, "assignments", ASSIGNMENT_COLUMNS, assignments)
    await events.record_for_new_assignments(session, "assignment.created", _new_assignments(planned, assignments))
    await arming.arm(session, [a[0] for a in assignments], utcnow())
    issued = [n for n in planned if n.data.issue]
    await _issued_events(session, issued)
    await audit.record_many(
        session, actor_key_id=caller.key_id, action="directive.created", entity_type="directive",
        entries=[
            (n.directive.id, n.directive.issuer_id,
             {"notation": n.directive.notation, "subject": n.directive.subject, "tasks": len(n.tasks), "import": True})
            for n in planned
        ],
    )
    await audit.record_many(
        session, actor_key_id=caller.key_id, action="directive.issued", entity_type="directive",
        entries=[
            (n.directive.id, n.directive.issuer_id, {"status": ["draft", "issued"], "assignments": len(n.assignments)})
            for n in issued
        ],
    )


def _new_assignments(planned: list[_New], assignments: list[tuple[Any, ...]]) -> events.NewAssignments:
    """The assignments just written (`planned`'s, in order), with the issuer and report-to unit their events are scoped to."""
    if not assignments:
        return events.NewAssignments([], [], [], [], [], [], [], [], [])
    ids, task_ids, directive_ids, unit_ids, roles, starts, _ends, dues, _original = (list(c) for c in zip(*assignments, strict=True))
    issuer_of = {new.directive.id: new.directive.issuer_id for new in planned}
    report_to = {task.id: task.report_to_id for new in planned for task, _ in new.tasks}
    return events.NewAssignments(
        ids, directive_ids, task_ids, unit_ids, roles, dues, starts,
        [issuer_of[d] for d in directive_ids], [report_to[t] for t in task_ids],
    )


def _directive_record(d: _DirectiveRow) -> tuple[Any, ...]:
    return (
        d.id, d.issuer_id, d.number, d.symbol, d.notation, d.notation_key, d.doc_type, d.issued_on, d.year, d.place,
        d.subject, d.body, d.signer_name, d.signer_title, d.recipients or [], d.urgency or "normal", d.status,
        d.search_key, d.created_by_key_id, d.issued_at,
    )


def _reference_records(new: _New) -> list[tuple[Any, ...]]:
    return [
        (uuid4(), new.directive.id, position, ref.notation, directives.notation_key(ref.notation),
         ref.doc_type.value if ref.doc_type else None, ref.issued_on, ref.issued_on.year if ref.issued_on else None)
        for position, ref in enumerate(new.data.references or [])
    ]


def _task_record(t: tasks.TaskRow) -> tuple[Any, ...]:
    return (
        t.id, t.directive_id, t.position, t.ordinal, t.text, t.report_to_id, t.due_at, t.due_on, t.due_kind,
        t.due_in_working_days, t.deadline_phrase, t.recurrence, t.report_days_after_period, t.recurrence_until,
        orjson.dumps(t.selector).decode() if t.selector is not None else None,
    )


async def _issued_events(session: AsyncSession, issued: list[_New]) -> None:
    """`directive.issued`, as POST .../issue writes it, for all of them in one statement."""
    if not issued:
        return
    await session.execute(
        text(
            """
            INSERT INTO events (type, data, scope)
            SELECT 'directive.issued',
                   jsonb_build_object('directive_id', d.id, 'notation', d.notation, 'assignments', d.n),
                   u.path
            FROM unnest(CAST(:ids AS uuid[]), CAST(:issuers AS uuid[]), CAST(:notations AS text[]), CAST(:ns AS int[]))
                 WITH ORDINALITY AS d(id, issuer_id, notation, n, ord)
            JOIN units u ON u.id = d.issuer_id
            ORDER BY d.ord
            """
        ),
        {
            "ids": [n.directive.id for n in issued], "issuers": [n.directive.issuer_id for n in issued],
            "notations": [n.directive.notation for n in issued], "ns": [len(n.assignments) for n in issued],
        },
    )


async def _update_draft(session: AsyncSession, caller: Caller, line_no: int, data: DirectiveLine, directive_id: UUID) -> LineOutcome:
    """A draft already stored under this key: changed (and issued, if asked) through the single-item services."""
    fields = data.model_dump(exclude_unset=True, exclude={"issue", "issuer_id", "issuer_code"})
    try:
        if not data.issue and await _draft_matches(session, caller, directive_id, data):
            return LineOutcome.done(line_no, "unchanged")
        async with session.begin_nested():
            await directives.update_directive(
                session, caller, directive_id, DirectiveUpdate.model_validate(fields), if_match=None
            )
            if data.issue:
                await lifecycle.issue_directive(session, caller, directive_id, if_match=None)
                return LineOutcome.done(line_no, "issued")
    except DondocError as exc:
        return LineOutcome.from_problem(line_no, exc)
    return LineOutcome.done(line_no, "updated")


async def _draft_matches(session: AsyncSession, caller: Caller, directive_id: UUID, data: DirectiveLine) -> bool:
    """Does the stored draft already say what the line says? Then re-running the file leaves it alone."""
    stored = await directives.get_for_issuer(session, caller, directive_id)
    wanted = Directive(
        issuer_id=stored.issuer_id, symbol=data.symbol, notation="", notation_key="", doc_type=data.doc_type.value,
        subject=data.subject, search_key="",
    )
    directives.apply_fields(wanted, data)
    if any(getattr(wanted, f) != getattr(stored, f) for f in directives.PLAIN_FIELDS):
        return False
    lookup = tasks.UnitLookup(caller)
    await lookup.load(session, data.tasks or [])
    built = [tasks.build_task(directive_id, i, t, lookup) for i, t in enumerate(data.tasks or [])]
    stored_tasks = await tasks.read_tasks(session, directive_id)
    return [_task_shape(t, units) for t, units in built] == [_read_shape(t) for t in stored_tasks] and (
        [(r.notation, r.doc_type, r.issued_on) for r in await directives.references_of(session, directive_id)]
        == [(r.notation, r.doc_type.value if r.doc_type else None, r.issued_on) for r in data.references or []]
    )


def _task_shape(task: Task, units: tasks.NamedUnits) -> tuple[Any, ...]:
    return (
        task.ordinal, task.text, task.report_to_id, task.due_at, task.due_on, task.due_kind, task.due_in_working_days,
        task.deadline_phrase, task.recurrence, task.report_days_after_period, task.recurrence_until, task.selector,
        sorted(units),
    )


def _read_shape(task: Any) -> tuple[Any, ...]:
    return (
        task.ordinal, task.text, task.report_to_id, task.due_at, task.due_on, task.due_kind, task.due_in_working_days,
        task.deadline_phrase, task.recurrence, task.report_days_after_period, task.recurrence_until, task.assignee_selector,
        sorted((u.unit_id, u.role.value) for u in task.units),
    )
