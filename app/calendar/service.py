"""Deadlines in local time: Vietnam's working days plus the province's declared exceptions.

`national` has the law's calendar (weekends, Bộ luật Lao động holidays and
swapped days); the `calendar_days` table adds what the province declares (an
extra day off, a Saturday worked). `WorkingCalendar` is both, loaded once per
operation: the table holds a handful of rows a year.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.calendar import national
from app.calendar.models import CalendarDay, DayKind

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_MAX_DAYS = 3660


@dataclass(frozen=True)
class WorkingCalendar:
    overrides: dict[date, bool] = field(default_factory=dict)  # day → is a working day

    def is_working_day(self, day: date) -> bool:
        return self.overrides.get(day, national.is_working_day(day))

    def next_working_day(self, day: date) -> date:
        for _ in range(_MAX_DAYS):
            if self.is_working_day(day):
                return day
            day += timedelta(days=1)
        return day

    def shift(self, day: date, count: int) -> date:
        """`count` working days after `day` (before it when negative); the start day is not counted."""
        step = 1 if count >= 0 else -1
        remaining = min(abs(count), _MAX_DAYS)
        while remaining > 0:
            day += timedelta(days=step)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def add_working_days(self, start: date, count: int) -> date:
        return self.shift(start, count) if count > 0 else self.next_working_day(start)

    def shift_instant(self, instant: datetime, count: int) -> datetime:
        """The same local time of day, `count` working days away: how escalation offsets are measured."""
        if count == 0:
            return instant
        local = instant.astimezone(LOCAL_TZ)
        return datetime.combine(self.shift(local.date(), count), local.timetz())


NATIONAL = WorkingCalendar()


async def load_calendar(session: AsyncSession) -> WorkingCalendar:
    rows = await session.scalars(select(CalendarDay))
    return WorkingCalendar({row.day: row.kind == DayKind.working_day for row in rows})


def start_of_local_day(day: date) -> datetime:
    """"trước ngày D": the deadline is 00:00 of D in Vietnam."""
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ)


def end_of_local_day(day: date) -> datetime:
    """"chậm nhất ngày D", "đến ngày D": the deadline is the last instant of D in Vietnam."""
    return datetime.combine(day, time.max, tzinfo=LOCAL_TZ)


def local_date(instant: datetime) -> date:
    return instant.astimezone(LOCAL_TZ).date()
