"""Assignment response bodies."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from app.assignments.models import AssignmentStatus, Timeliness
from app.tasks.models import AssignmentRole


class AssignmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    directive_id: UUID
    task_id: UUID
    unit_id: UUID
    role: AssignmentRole
    period_start: date | None
    period_end: date | None
    due_at: datetime
    original_due_at: datetime
    status: AssignmentStatus
    timeliness: Timeliness | None
    acknowledged_at: datetime | None
    submitted_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class InboxItem(AssignmentRead):
    """An assignment with what a unit needs to recognise it in its inbox."""

    directive_notation: str
    directive_subject: str
    task_ordinal: str
    task_text: str


class LastReport(BaseModel):
    id: UUID
    kind: str
    status: str
    created_at: datetime


class ProgressRow(BaseModel):
    assignment_id: UUID
    task_id: UUID
    task_ordinal: str
    unit_id: UUID
    unit_code: str
    unit_name: str
    role: AssignmentRole
    period_start: date | None
    status: AssignmentStatus
    timeliness: Timeliness | None
    due_at: datetime
    completed_at: datetime | None
    last_report: LastReport | None
