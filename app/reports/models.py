"""The report table."""

import enum
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlmodel import Field, SQLModel


class ReportKind(enum.StrEnum):
    progress = "progress"  # báo cáo tiến độ
    final = "final"  # báo cáo kết quả
    difficulty = "difficulty"  # báo cáo khó khăn, vướng mắc
    extension_request = "extension_request"  # xin gia hạn


class ReportStatus(enum.StrEnum):
    received = "received"  # progress reports need no decision
    submitted = "submitted"  # awaiting the issuer's decision
    accepted = "accepted"
    returned = "returned"


class DifficultyDecision(enum.StrEnum):
    extend = "extend"  # move the deadline and carry on
    cancel = "cancel"  # the unit is relieved of the task
    keep = "keep"  # carry on with the same deadline


# The unique index on a unit's own ids for its reports; a submission names it when a resend races it.
EXTERNAL_ID_INDEX = "ix_reports_unit_external_id"


class Report(SQLModel, table=True):
    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_assignment_created", "assignment_id", "created_at"),
        # The client's own id for a report: a re-sent or re-imported report is recognised, not doubled.
        Index(EXTERNAL_ID_INDEX, "unit_id", "external_id", unique=True, postgresql_where=text("external_id IS NOT NULL")),
    )

    id: UUID = Field(default_factory=uuid4, sa_column=Column(PgUUID(as_uuid=True), primary_key=True))
    assignment_id: UUID = Field(sa_column=Column(PgUUID(as_uuid=True), ForeignKey("assignments.id"), nullable=False))
    unit_id: UUID = Field(sa_column=Column(PgUUID(as_uuid=True), ForeignKey("units.id"), nullable=False, index=True))
    kind: str = Field(sa_column=Column(String(24), nullable=False))
    external_id: str | None = Field(default=None, sa_column=Column(String(128), nullable=True))
    status: str = Field(sa_column=Column(String(16), nullable=False, index=True))
    content: str = Field(sa_column=Column(Text, nullable=False))
    figures: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    attachments: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False, server_default="[]"))
    requested_due_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    decision: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    decision_comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    decided_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    decided_by_key_id: UUID | None = Field(default=None, sa_column=Column(PgUUID(as_uuid=True), nullable=True))
    submitted_by_key_id: UUID | None = Field(default=None, sa_column=Column(PgUUID(as_uuid=True), nullable=True))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()")))
