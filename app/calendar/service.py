"""Working days and local dates.

Working days exclude weekends and the public holidays of Bộ luật Lao động 2019
Art. 112 (lunar ones and swapped days included, from the `holidays` package). As
in Bộ luật Dân sự Art. 147-148, the starting day is not counted and a deadline
that falls on a day off moves to the next working day.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("VN", years=year).keys())


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def add_working_days(start: date, count: int) -> date:
    """The day `count` working days after `start` (the start day itself not counted)."""
    day = start
    remaining = count
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def start_of_local_day(day: date) -> datetime:
    """"trước ngày D": the deadline is 00:00 of D in Vietnam."""
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ)


def end_of_local_day(day: date) -> datetime:
    """"chậm nhất ngày D", "đến ngày D": the deadline is the last instant of D in Vietnam."""
    return datetime.combine(day, time.max, tzinfo=LOCAL_TZ)


def local_date(instant: datetime) -> date:
    return instant.astimezone(LOCAL_TZ).date()
