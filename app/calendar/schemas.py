"""Calendar day bodies."""

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from app.calendar.models import DayKind
from app.validation import StrictModel


class CalendarDayIn(StrictModel):
    kind: DayKind
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class CalendarDayRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    day: date
    kind: DayKind
    note: str | None
    updated_at: datetime


class WorkingDayAnswer(BaseModel):
    day: date
    is_working_day: bool
    source: str  # "province" when declared here, else "national"
