"""Escalation policies, the armed steps of each assignment, and digest runs."""

import enum
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlmodel import Field, SQLModel


class StepKind(enum.StrEnum):
    reminder = "reminder"  # nhắc việc, before the deadline: assignment.due_soon
    overdue = "overdue"  # quá hạn, at the deadline: assignment.overdue
    escalation = "escalation"  # báo cáo cấp trên, after it: assignment.escalated


class StepStatus(enum.StrEnum):
    pending = "pending"
    fired = "fired"
    skipped = "skipped"  # its assignment finished first, or a reminder's deadline passed while it could not fire
    held = "held"  # came due while its assignment awaited review or a decision; pending again if the work is handed back


EVENT_OF_KIND = {StepKind.reminder: "assignment.due_soon", StepKind.overdue: "assignment.overdue", StepKind.escalation: "assignment.escalated"}


class EscalationPolicy(SQLModel, table=True):
    """The default policy (directive_id null, one row) or one directive's override."""

    __tablename__ = "escalation_policies"
    __table_args__ = (
        Index("uq_escalation_policies_default", text("(directive_id IS NULL)"), unique=True, postgresql_where=text("directive_id IS NULL")),
    )

    id: UUID = Field(default_factory=uuid4, sa_column=Column(PgUUID(as_uuid=True), primary_key=True))
    directive_id: UUID | None = Field(
        default=None,
        sa_column=Column(PgUUID(as_uuid=True), ForeignKey("directives.id", ondelete="CASCADE"), nullable=True, unique=True),
    )
    steps: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()")))


class EscalationStep(SQLModel, table=True):
    """One step armed for one assignment against one deadline; fires once (pending → fired) or is skipped.

    Unique per (assignment, step, deadline): an extension arms the steps again
    against the new deadline, and only those whose moment is still ahead.
    """

    __tablename__ = "escalation_steps"
    __table_args__ = (
        # Also the index for an assignment's steps: every lookup is by assignment_id, and a second
        # index on it would cost each armed step one more insert for nothing.
        UniqueConstraint("assignment_id", "step_key", "due_at", name="uq_escalation_steps_assignment_step_due"),
        Index("ix_escalation_steps_pending_fire_at", "fire_at", postgresql_where=text("status = 'pending'")),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(always=False), primary_key=True))
    assignment_id: UUID = Field(
        sa_column=Column(PgUUID(as_uuid=True), ForeignKey("assignments.id", ondelete="CASCADE"), nullable=False)
    )
    step_key: str = Field(sa_column=Column(String(32), nullable=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    level: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    notify: list[str] = Field(sa_column=Column(ARRAY(String(16)), nullable=False))
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    fire_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    status: str = Field(default="pending", sa_column=Column(String(8), nullable=False, server_default="pending"))
    fired_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class DigestRun(SQLModel, table=True):
    """A day's digest was sent: the claim that makes `unit.digest` once a day however many workers run."""

    __tablename__ = "digest_runs"

    day: date = Field(sa_column=Column(Date, primary_key=True))
    ran_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()")))
