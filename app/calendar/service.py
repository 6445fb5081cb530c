"""Deadlines in local time: Vietnam's working days (see `national`) and day boundaries in Asia/Ho_Chi_Minh."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from app.calendar.national import add_working_days, is_working_day, next_working_day

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

__all__ = ["LOCAL_TZ", "add_working_days", "end_of_local_day", "is_working_day", "local_date", "next_working_day", "start_of_local_day"]


def start_of_local_day(day: date) -> datetime:
    """"trước ngày D": the deadline is 00:00 of D in Vietnam."""
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ)


def end_of_local_day(day: date) -> datetime:
    """"chậm nhất ngày D", "đến ngày D": the deadline is the last instant of D in Vietnam."""
    return datetime.combine(day, time.max, tzinfo=LOCAL_TZ)


def local_date(instant: datetime) -> date:
    return instant.astimezone(LOCAL_TZ).date()
