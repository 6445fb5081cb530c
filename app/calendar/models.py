"""Province-declared exceptions to the national working-day calendar."""

import enum
from datetime import date, datetime

from sqlalchemy import Column, Date, DateTime, String, Text, func
from sqlmodel import Field, SQLModel


class DayKind(enum.StrEnum):
    day_off = "day_off"  # ngày nghỉ: an extra day off the province declares
    working_day = "working_day"  # ngày làm việc bù: a Saturday worked in exchange


class CalendarDay(SQLModel, table=True):
    __tablename__ = "calendar_days"

    day: date = Field(sa_column=Column(Date, primary_key=True))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()))
