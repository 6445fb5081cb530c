"""Report request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    AnyHttpUrl,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from app.reports.models import DifficultyDecision, ReportKind, ReportStatus
from app.validation import StrictModel

ExternalId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128, pattern=r"^[^\s]+$")]
Comment = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]


class Attachment(StrictModel):
    url: AnyHttpUrl
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)] | None = None


class ReportCreate(StrictModel):
    kind: ReportKind
    content: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100_000)]
    figures: dict[str, Any] | None = Field(default=None, description="Structured figures, e.g. {\"vaccinated\": 1200}.")
    attachments: Annotated[list[Attachment], Field(max_length=50)] = Field(default_factory=list)
    requested_due_at: AwareDatetime | None = Field(default=None, description="For extension_request: the deadline asked for.")
    external_id: ExternalId | None = Field(
        default=None, description="Your system's id for this report, unique per unit: sending it again is a 409 naming the report."
    )

    @model_validator(mode="after")
    def _extension_needs_a_date(self) -> ReportCreate:
        if self.kind == ReportKind.extension_request and self.requested_due_at is None:
            raise ValueError("an extension_request needs requested_due_at")
        if self.kind != ReportKind.extension_request and self.requested_due_at is not None:
            raise ValueError("requested_due_at belongs to extension_request reports only")
        return self


class ReportAccept(StrictModel):
    comment: Comment | None = None
    decision: DifficultyDecision | None = Field(default=None, description="For difficulty reports: extend, cancel or keep.")
    new_due_at: AwareDatetime | None = Field(
        default=None, description="For an extension (or a difficulty decided `extend`): the new deadline; defaults to the one asked for."
    )


class ReportReturn(StrictModel):
    comment: Comment


class ReportRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    assignment_id: UUID
    unit_id: UUID
    kind: ReportKind
    status: ReportStatus
    external_id: str | None
    content: str
    figures: dict[str, Any] | None
    attachments: list[dict[str, Any]]
    requested_due_at: datetime | None
    decision: str | None
    decision_comment: str | None
    decided_at: datetime | None
    version: int
    created_at: datetime
