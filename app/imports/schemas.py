"""Import request lines and response bodies.

Each line has the shape of the single-item endpoint's body, plus what an import needs to be
re-runnable: directives are keyed by issuer + notation + year (so `number` and `issued_on` are
required), reports by the client's `external_id`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.directives.schemas import DirectiveCreate
from app.imports.models import ImportKind, ImportStatus
from app.reports.schemas import ExternalId, ReportCreate
from app.units.schemas import UnitCreate


class UnitLine(UnitCreate):
    """A unit, upserted by `code`. `parent_code` may name a unit on a later line."""


class DirectiveLine(DirectiveCreate):
    """A directive, upserted by issuer + notation + year; `issue: true` issues it (creates the assignments)."""

    issue: bool = Field(default=False, description="Issue the directive once created, as POST /directives/{id}/issue does.")

    @model_validator(mode="after")
    def _keyed(self) -> DirectiveLine:
        if self.number is None or self.issued_on is None:
            raise ValueError("an imported directive needs number and issued_on (its key is issuer + notation + year)")
        return self


class ReportLine(ReportCreate):
    """A report on an assignment, submitted as the assigned unit would; upserted by `external_id`."""

    assignment_id: UUID
    external_id: ExternalId  # type: ignore[assignment]  # required here, optional on the single endpoint


LINE_SCHEMAS: dict[ImportKind, type[BaseModel]] = {
    ImportKind.units: UnitLine,
    ImportKind.directives: DirectiveLine,
    ImportKind.reports: ReportLine,
}


class ImportRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    kind: ImportKind
    status: ImportStatus
    total: int = Field(description="Non-blank lines received.")
    processed: int
    succeeded: int
    failed: int
    counts: dict[str, Any] = Field(description="Lines by outcome (created, updated, unchanged) and rows written.")
    rate_per_s: float | None = Field(description="Lines processed per second since the worker started.")
    eta_s: float | None = Field(description="Seconds left at the current rate.")
    error: str | None = Field(description="Why the job itself stopped, when status is failed.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class LineError(BaseModel):
    field: str | None
    code: str
    message: str


class ImportLineErrors(BaseModel):
    line: int = Field(description="1-based line number in the uploaded file.")
    errors: list[LineError]

