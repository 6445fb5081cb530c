"""Compliance rows."""

from __future__ import annotations

import enum
from uuid import UUID

from pydantic import BaseModel


class GroupBy(enum.StrEnum):
    unit = "unit"
    directive = "directive"


class ComplianceRow(BaseModel):
    key_id: UUID
    key_code: str
    key_name: str
    total: int
    completed_on_time: int
    completed_late: int
    overdue: int
    open: int
    cancelled: int
    on_time_rate: float | None


class ComplianceReport(BaseModel):
    group_by: GroupBy
    rows: list[ComplianceRow]
    totals: ComplianceRow | None = None
