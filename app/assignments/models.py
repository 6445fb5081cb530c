"""The assignment table."""

import enum
from datetime import date, datetime
from uuid import UUID, uuid4

from sqlalchemy import Column, Date, DateTime, ForeignKey, ForeignKeyConstraint, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlmodel import Field, SQLModel


class AssignmentStatus(enum.StrEnum):
    pending = "pending"  # chưa thực hiện
    in_progress = "in_progress"  # đang thực hiện
    submitted = "submitted"  # đã báo cáo, chờ duyệt
    completed = "completed"  # hoàn thành
    blocked = "blocked"  # vướng mắc, chờ quyết định
    cancelled = "cancelled"


OPEN_STATUSES = (AssignmentStatus.pending, AssignmentStatus.in_progress, AssignmentStatus.submitted, AssignmentStatus.blocked)


class Timeliness(enum.StrEnum):
    on_time = "on_time"
    due_soon = "due_soon"
    overdue = "overdue"
    completed_on_time = "completed_on_time"
    completed_late = "completed_late"


class Assignment(SQLModel, table=True):
    """One unit's obligation. `original_due_at` keeps the first deadline when an extension moves `due_at`."""

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint(
            "task_id", "unit_id", "period_start", name="uq_assignments_task_unit_period", postgresql_nulls_not_distinct=True
        ),
        # A unit's assignments by deadline: the inbox's order, and (with the included columns) compliance
        # statistics and status filters answered from the index alone.
        Index("ix_assignments_unit_due", "unit_id", "due_at", "id", postgresql_include=["status", "completed_at", "directive_id"]),
        Index("ix_assignments_directive", "directive_id", "unit_id"),
        Index("ix_assignments_open_due", "due_at", postgresql_where=text("status IN ('pending','in_progress','submitted','blocked')")),
        # The task, and that it belongs to the assignment's directive, in one check (a task's
        # directive exists by the task's own key).
        ForeignKeyConstraint(
            ["directive_id", "task_id"], ["tasks.directive_id", "tasks.id"], name="fk_assignments_directive_task_tasks"
        ),
    )

    id: UUID = Field(default_factory=uuid4, sa_column=Column(PgUUID(as_uuid=True), primary_key=True))
    # No index of its own: uq_assignments_task_unit_period leads with task_id.
    task_id: UUID = Field(sa_column=Column(PgUUID(as_uuid=True), nullable=False))
    directive_id: UUID = Field(sa_column=Column(PgUUID(as_uuid=True), nullable=False))
    unit_id: UUID = Field(sa_column=Column(PgUUID(as_uuid=True), ForeignKey("units.id"), nullable=False))
    role: str = Field(sa_column=Column(String(16), nullable=False))
    period_start: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    period_end: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    original_due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    status: str = Field(default="pending", sa_column=Column(String(16), nullable=False, server_default="pending"))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()")))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()")))
    acknowledged_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    submitted_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    completed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    cancelled_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
