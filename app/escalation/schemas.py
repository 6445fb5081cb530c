"""Escalation policy bodies and the armed steps as the API shows them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.escalation.models import StepKind, StepStatus
from app.validation import StrictModel


class Audience(enum.StrEnum):
    """Who a step tells."""

    unit = "unit"  # the assigned unit
    parent = "parent"  # the unit above it
    report_to = "report_to"  # the unit the task reports to (often the issuer's office), else the issuer
    issuer = "issuer"  # the directive's issuer


class StepSpec(StrictModel):
    key: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,32}$")]
    kind: StepKind
    offset_working_days: Annotated[int, Field(ge=-30, le=60, description="Negative: before the deadline.")]
    level: Annotated[int, Field(ge=1, le=9)] | None = None
    notify: Annotated[list[Audience], Field(min_length=1, max_length=4)]

    @model_validator(mode="after")
    def _consistent(self) -> StepSpec:
        if self.kind == StepKind.reminder and self.offset_working_days >= 0:
            raise ValueError("a reminder comes before the deadline: offset_working_days < 0")
        if self.kind != StepKind.reminder and self.offset_working_days < 0:
            raise ValueError("overdue and escalation steps come at or after the deadline: offset_working_days >= 0")
        if (self.kind == StepKind.escalation) != (self.level is not None):
            raise ValueError("escalation steps, and only they, have a level")
        return self


class PolicyIn(StrictModel):
    steps: Annotated[list[StepSpec], Field(min_length=1, max_length=12)]

    @model_validator(mode="after")
    def _unique_keys(self) -> PolicyIn:
        keys = [s.key for s in self.steps]
        if len(keys) != len(set(keys)):
            raise ValueError("step keys must be unique")
        return self


class PolicyRead(BaseModel):
    directive_id: str | None
    is_default: bool
    steps: list[StepSpec]
    version: int


class EscalationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    step_key: str
    kind: StepKind
    level: int | None
    notify: list[str]
    due_at: datetime
    fire_at: datetime
    status: StepStatus
    fired_at: datetime | None


DEFAULT_STEPS = [
    StepSpec(key="remind_3", kind=StepKind.reminder, offset_working_days=-3, notify=[Audience.unit]),
    StepSpec(key="remind_1", kind=StepKind.reminder, offset_working_days=-1, notify=[Audience.unit]),
    StepSpec(key="overdue", kind=StepKind.overdue, offset_working_days=0, notify=[Audience.unit]),
    StepSpec(key="escalate_1", kind=StepKind.escalation, offset_working_days=3, level=1, notify=[Audience.parent, Audience.report_to]),
    StepSpec(key="escalate_2", kind=StepKind.escalation, offset_working_days=7, level=2, notify=[Audience.issuer]),
]

# Khẩn, thượng khẩn and hỏa tốc directives are chased harder unless they carry a policy of their own.
URGENT_STEPS = [
    StepSpec(key="remind_1", kind=StepKind.reminder, offset_working_days=-1, notify=[Audience.unit]),
    StepSpec(key="overdue", kind=StepKind.overdue, offset_working_days=0, notify=[Audience.unit, Audience.parent]),
    StepSpec(key="escalate_1", kind=StepKind.escalation, offset_working_days=1, level=1, notify=[Audience.parent, Audience.report_to]),
    StepSpec(key="escalate_2", kind=StepKind.escalation, offset_working_days=3, level=2, notify=[Audience.issuer]),
]
