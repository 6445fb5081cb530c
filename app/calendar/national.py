"""Vietnamese working days (ngày làm việc) for deadlines written in days.

Days off are Saturdays, Sundays and the public holidays of Bộ luật Lao động 2019,
Art. 112 — Tết and Giỗ Tổ Hùng Vương included, with the yearly swapped days — as the
``holidays`` package lists them (a Saturday made a working day counts as one).
Counting follows Bộ luật Dân sự 2015, Art. 147-148: the starting day is not
counted, and a deadline that falls on a day off moves to the next working day.

Pure (no database): the directive parser uses it too. Province-declared days off
are a later layer on top of this national calendar.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays

_MAX_DAYS = 3660
"""Ten years: no directive sets a longer term, and it bounds the loops below."""


@lru_cache(maxsize=1)
def _calendar() -> holidays.HolidayBase:
    return holidays.country_holidays("VN")


def is_working_day(day: date) -> bool:
    """True on a day Vietnamese public offices work."""
    return bool(_calendar().is_working_day(day))


def next_working_day(day: date) -> date:
    """``day`` itself if it is a working day, else the first working day after it."""
    for _ in range(_MAX_DAYS):
        if is_working_day(day):
            return day
        day += timedelta(days=1)
    return day


def add_working_days(start: date, count: int) -> date:
    """The ``count``-th working day after ``start`` (``start`` itself is not counted)."""
    count = max(0, min(count, _MAX_DAYS))
    day = start
    remaining = count
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day if count else next_working_day(start)


def add_calendar_days(start: date, count: int) -> date:
    """``count`` days after ``start``, moved to the next working day if that is a day off."""
    count = max(0, min(count, _MAX_DAYS))
    return next_working_day(start + timedelta(days=count))
