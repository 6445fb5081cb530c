"""Arming escalation steps: each assignment gets one row per step of its policy, with the moment it fires.

Moments are computed in Python (working-day offsets need the calendar) once per
distinct (directive, deadline) pair, then inserted for every assignment with
that pair in one INSERT ... SELECT unnest(...). Only steps still ahead are
armed: a directive issued two days before its deadline sends no "3 days left"
reminder, and an extension re-arms only what now lies in the future.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.calendar.service import WorkingCalendar, load_calendar
from app.directives.models import Directive, Urgency
from app.escalation.models import EscalationPolicy
from app.escalation.schemas import DEFAULT_STEPS, URGENT_STEPS, StepSpec


async def steps_by_directive(session: AsyncSession, directive_ids: set[UUID]) -> dict[UUID, list[StepSpec]]:
    """The steps each directive is chased with: its own policy, else the urgent or the default one."""
    rows = await session.scalars(
        select(EscalationPolicy).where(
            (EscalationPolicy.directive_id.is_(None)) | (EscalationPolicy.directive_id.in_(directive_ids))  # type: ignore[union-attr]
        )
    )
    default, own = list(DEFAULT_STEPS), {}
    for policy in rows:
        steps = [StepSpec.model_validate(s) for s in policy.steps]
        if policy.directive_id is None:
            default = steps
        else:
            own[policy.directive_id] = steps
    urgent = set(
        await session.scalars(
            select(Directive.id).where(Directive.id.in_(directive_ids), Directive.urgency != Urgency.normal)  # type: ignore[attr-defined]
        )
    )
    return {d: own.get(d) or (list(URGENT_STEPS) if d in urgent else default) for d in directive_ids}


def _moments(
    steps: Sequence[StepSpec], due_at: datetime, now: datetime, calendar: WorkingCalendar,
    shifted: dict[tuple[datetime, int], datetime],
) -> list[tuple[StepSpec, datetime]]:
    """The steps still ahead and when they fire; `shifted` remembers offsets already counted on the calendar.

    A bulk import arms thousands of directives that share a few hundred deadlines, and counting
    working days is the slow part.
    """
    out = []
    for step in steps:
        key = (due_at, step.offset_working_days)
        fire_at = shifted.get(key)
        if fire_at is None:
            fire_at = shifted[key] = calendar.shift_instant(due_at, step.offset_working_days)
        if fire_at > now:
            out.append((step, fire_at))
    return out


async def arm(session: AsyncSession, assignment_ids: Sequence[UUID], now: datetime) -> int:
    """Arm the future steps of these assignments against their current deadlines; returns rows armed."""
    if not assignment_ids:
        return 0
    pairs = (
        await session.execute(
            text("SELECT DISTINCT directive_id, due_at FROM assignments WHERE id = ANY(CAST(:ids AS uuid[]))"),
            {"ids": list(assignment_ids)},
        )
    ).all()
    steps = await steps_by_directive(session, {p.directive_id for p in pairs})
    calendar = await load_calendar(session)
    cols: dict[str, list[object]] = {k: [] for k in ("directive", "due", "key", "kind", "level", "notify", "fire")}
    shifted: dict[tuple[datetime, int], datetime] = {}
    for directive_id, due_at in pairs:
        for step, fire_at in _moments(steps[directive_id], due_at, now, calendar, shifted):
            for name, value in zip(
                cols,
                (directive_id, due_at, step.key, step.kind.value, step.level, ",".join(a.value for a in step.notify), fire_at),
                strict=True,
            ):
                cols[name].append(value)
    if not cols["key"]:
        return 0
    result = await session.execute(
        text(
            """
            INSERT INTO escalation_steps (assignment_id, step_key, kind, level, notify, due_at, fire_at)
            SELECT a.id, s.key, s.kind, s.level, string_to_array(s.notify, ','), a.due_at, s.fire
            FROM unnest(CAST(:directive AS uuid[]), CAST(:due AS timestamptz[]), CAST(:key AS text[]), CAST(:kind AS text[]),
                        CAST(:level AS int[]), CAST(:notify AS text[]), CAST(:fire AS timestamptz[]))
                 AS s(directive_id, due_at, key, kind, level, notify, fire)
            JOIN assignments a ON a.directive_id = s.directive_id AND a.due_at = s.due_at
            WHERE a.id = ANY(CAST(:ids AS uuid[]))
            ON CONFLICT ON CONSTRAINT uq_escalation_steps_assignment_step_due DO NOTHING
            """
        ),
        {**cols, "ids": list(assignment_ids)},
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


async def rearm(session: AsyncSession, assignment_ids: Sequence[UUID], now: datetime) -> int:
    """After a deadline or policy change: drop what has not fired (pending or held), arm again what is still ahead."""
    await session.execute(
        text("DELETE FROM escalation_steps WHERE assignment_id = ANY(CAST(:ids AS uuid[])) AND status IN ('pending', 'held')"),
        {"ids": list(assignment_ids)},
    )
    return await arm(session, assignment_ids, now)


async def rearm_directive(session: AsyncSession, directive_id: UUID, now: datetime) -> int:
    ids = list(
        await session.scalars(
            text("SELECT id FROM assignments WHERE directive_id = :d AND status IN ('pending', 'in_progress', 'submitted', 'blocked')"),
            {"d": directive_id},
        )
    )
    return await rearm(session, ids, now)
