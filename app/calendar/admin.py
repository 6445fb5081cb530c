"""Province-declared days: listing and (top-level admins only) declaring or withdrawing them."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.caller import Caller
from app.auth.models import Role
from app.calendar import national
from app.calendar.models import CalendarDay
from app.calendar.schemas import CalendarDayIn, WorkingDayAnswer
from app.errors import Forbidden, NotFound, ValidationProblem
from app.timeutil import utcnow
from app.units.models import Unit


async def _require_top_admin(session: AsyncSession, caller: Caller) -> None:
    caller.require(Role.admin)
    root = await session.get(Unit, caller.unit_id)
    if root is None or root.depth != 0:
        raise Forbidden("Only an admin key of a top-level unit declares days off and working days.")


async def list_days(session: AsyncSession, date_from: date, date_to: date) -> list[CalendarDay]:
    if date_to < date_from:
        raise ValidationProblem.for_field("to", "must not be before from", "empty_window")
    stmt = select(CalendarDay).where(CalendarDay.day >= date_from, CalendarDay.day <= date_to).order_by(CalendarDay.day)
    return list(await session.scalars(stmt))


async def put_day(session: AsyncSession, caller: Caller, day: date, data: CalendarDayIn) -> CalendarDay:
    await _require_top_admin(session, caller)
    row = await session.get(CalendarDay, day)
    if row is None:
        row = CalendarDay(day=day, kind=data.kind.value, note=data.note, updated_at=utcnow())
        session.add(row)
    else:
        row.kind, row.note, row.updated_at = data.kind.value, data.note, utcnow()
    await session.flush()
    audit.record(
        session, actor_key_id=caller.key_id, action="calendar.day_declared", entity_type="calendar_day",
        entity_id=caller.unit_id, unit_id=caller.unit_id, changes={"day": day.isoformat(), "kind": data.kind.value},
    )
    return row


async def delete_day(session: AsyncSession, caller: Caller, day: date) -> None:
    await _require_top_admin(session, caller)
    row = await session.get(CalendarDay, day)
    if row is None:
        raise NotFound(f"{day} has no province declaration.")
    await session.delete(row)
    audit.record(
        session, actor_key_id=caller.key_id, action="calendar.day_withdrawn", entity_type="calendar_day",
        entity_id=caller.unit_id, unit_id=caller.unit_id, changes={"day": day.isoformat()},
    )


async def working_day(session: AsyncSession, day: date) -> WorkingDayAnswer:
    row = await session.get(CalendarDay, day)
    if row is not None:
        return WorkingDayAnswer(day=day, is_working_day=row.kind == "working_day", source="province")
    return WorkingDayAnswer(day=day, is_working_day=national.is_working_day(day), source="national")
