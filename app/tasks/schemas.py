"""Task request and response bodies."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.tasks.models import AssignmentRole, DueKind, Recurrence
from app.units.schemas import Code, KindCode
from app.validation import StrictModel

UnitIds = Annotated[list[UUID], Field(max_length=5000)]
UnitCodes = Annotated[list[Code], Field(max_length=5000)]


class UnitSelector(StrictModel):
    """Every active unit of these kinds under a unit: "Các đơn vị trực thuộc", "các trạm y tế xã"."""

    under_id: UUID | None = None
    under_code: Code | None = None
    kinds: Annotated[list[KindCode], Field(min_length=1, max_length=20)]

    @model_validator(mode="after")
    def _one_root(self) -> UnitSelector:
        if (self.under_id is None) == (self.under_code is None):
            raise ValueError("give exactly one of under_id or under_code")
        return self


class TaskIn(StrictModel):
    ordinal: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)] | None = None
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000)]
    lead_ids: UnitIds = Field(default_factory=list)
    lead_codes: UnitCodes = Field(default_factory=list)
    coordinating_ids: UnitIds = Field(default_factory=list)
    coordinating_codes: UnitCodes = Field(default_factory=list)
    assignee_ids: UnitIds = Field(default_factory=list)
    assignee_codes: UnitCodes = Field(default_factory=list)
    assignee_selector: UnitSelector | None = None
    report_to_id: UUID | None = None
    report_to_code: Code | None = None
    due_at: AwareDatetime | None = None
    due_on: date | None = None
    due_kind: DueKind | None = None
    due_in_working_days: Annotated[int, Field(ge=1, le=365)] | None = None
    deadline_phrase: Annotated[str, StringConstraints(max_length=500)] | None = None
    recurrence: Recurrence | None = None
    report_days_after_period: Annotated[int, Field(ge=0, le=90)] | None = None
    recurrence_until: date | None = None

    @model_validator(mode="after")
    def _consistent(self) -> TaskIn:
        given = [self.due_at is not None, self.due_on is not None, self.due_in_working_days is not None]
        if sum(given) > 1:
            raise ValueError("give one deadline: due_at, due_on + due_kind, or due_in_working_days")
        if (self.due_on is None) != (self.due_kind is None):
            raise ValueError("due_on and due_kind go together")
        if self.recurrence is None and (self.report_days_after_period is not None or self.recurrence_until is not None):
            raise ValueError("report_days_after_period and recurrence_until need a recurrence")
        if self.recurrence is not None and any(given):
            raise ValueError("a recurring task's deadlines come from its periods: use report_days_after_period")
        if self.report_to_id is not None and self.report_to_code is not None:
            raise ValueError("give report_to_id or report_to_code, not both")
        return self


class TaskUnitRead(BaseModel):
    unit_id: UUID
    role: AssignmentRole


class TaskRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    ordinal: str
    text: str
    units: list[TaskUnitRead]
    assignee_selector: dict[str, object] | None
    report_to_id: UUID | None
    due_at: datetime | None
    due_on: date | None
    due_kind: DueKind | None
    due_in_working_days: int | None
    deadline_phrase: str | None
    recurrence: Recurrence | None
    report_days_after_period: int | None
    recurrence_until: date | None
