"""Task tables: the task, and the units named on it with their role."""

import enum
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import Column, Date, DateTime, ForeignKey, Index, Integer, PrimaryKeyConstraint, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlmodel import Field, SQLModel


class AssignmentRole(enum.StrEnum):
    lead = "lead"  # chủ trì
    coordinating = "coordinating"  # phối hợp
    assignee = "assignee"  # thực hiện


class DueKind(enum.StrEnum):
    before = "before"  # "trước ngày D": the start of day D
    by = "by"  # "chậm nhất ngày D", "đến ngày D": the end of day D


class Recurrence(enum.StrEnum):
    monthly = "monthly"  # hàng tháng
    quarterly = "quarterly"  # hàng quý
    semiannual = "semiannual"  # 6 tháng
    yearly = "yearly"  # hàng năm


class Task(SQLModel, table=True):
    """One task of a directive. The deadline is kept as given and resolved to an instant at issue."""

    __tablename__ = "tasks"
    __table_args__ = (
        # Tasks reporting to a unit, with their ids: one of the three ways an assignment is visible (index-only).
        Index("ix_tasks_report_to_id", "report_to_id", "id"),
        # A directive's tasks; unique so that an assignment's key can name its task and directive together.
        UniqueConstraint("directive_id", "id", name="uq_tasks_directive_id_id"),
    )

    id: UUID = Field(default_factory=uuid4, sa_column=Column(PgUUID(as_uuid=True), primary_key=True))
    directive_id: UUID = Field(
        sa_column=Column(PgUUID(as_uuid=True), ForeignKey("directives.id", ondelete="CASCADE"), nullable=False)
    )
    position: int = Field(sa_column=Column(Integer, nullable=False))
    ordinal: str = Field(sa_column=Column(String(16), nullable=False))
    text: str = Field(sa_column=Column(Text, nullable=False))
    report_to_id: UUID | None = Field(
        default=None, sa_column=Column(PgUUID(as_uuid=True), ForeignKey("units.id"), nullable=True)
    )
    due_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    due_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    due_kind: str | None = Field(default=None, sa_column=Column(String(8), nullable=True))
    due_in_working_days: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    deadline_phrase: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    recurrence: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    report_days_after_period: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    recurrence_until: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    # none_as_null: "no selector" is SQL NULL, not the JSON value null (bulk imports write NULL too).
    selector: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB(none_as_null=True), nullable=True))


class TaskUnit(SQLModel, table=True):
    """A unit named on a task with its role (lead, coordinating, assignee)."""

    __tablename__ = "task_units"
    __table_args__ = (PrimaryKeyConstraint("task_id", "unit_id", name="pk_task_units"),)

    task_id: UUID = Field(sa_column=Column(PgUUID(as_uuid=True), ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False))
    unit_id: UUID = Field(sa_column=Column(PgUUID(as_uuid=True), ForeignKey("units.id"), nullable=False, index=True))
    role: str = Field(sa_column=Column(String(16), nullable=False))
