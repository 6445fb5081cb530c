"""The working-day calendar over HTTP: /v1/calendar/days."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, status

from app.auth.deps import CurrentCaller
from app.calendar import admin
from app.calendar.schemas import CalendarDayIn, CalendarDayRead, WorkingDayAnswer
from app.db import Session

router = APIRouter(tags=["calendar"])


@router.get("/calendar/days")
async def list_days(
    session: Session,
    caller: CurrentCaller,
    date_from: Annotated[date, Query(alias="from")],
    date_to: Annotated[date, Query(alias="to")],
) -> list[CalendarDayRead]:
    """Days the province declared off, or declared working (a Saturday worked in exchange)."""
    return [CalendarDayRead.model_validate(d) for d in await admin.list_days(session, date_from, date_to)]


@router.get("/calendar/days/{day}")
async def get_day(day: date, session: Session, caller: CurrentCaller) -> WorkingDayAnswer:
    """Is this a working day, and by whose rule (the province's or the national calendar)?"""
    return await admin.working_day(session, day)


@router.put("/calendar/days/{day}")
async def put_day(day: date, body: CalendarDayIn, session: Session, caller: CurrentCaller) -> CalendarDayRead:
    """Applies to deadlines and escalation moments computed from now on."""
    return CalendarDayRead.model_validate(await admin.put_day(session, caller, day, body))


@router.delete("/calendar/days/{day}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_day(day: date, session: Session, caller: CurrentCaller) -> None:
    await admin.delete_day(session, caller, day)
