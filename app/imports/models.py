"""Import tables: a bulk import job (đợt nhập dữ liệu) and its staged NDJSON lines.

The request streams the body into `import_lines` and returns at once; a worker
applies the lines in batches. Each batch's changes, its lines' outcomes and the
job's counters commit in one transaction, so a worker killed mid-import resumes
at the first line still `pending`: nothing is applied twice and nothing is lost.
A line that succeeded is deleted by that transaction (the job counts it); a failed
line stays with its errors.
"""

import enum
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlmodel import Field, SQLModel


class ImportKind(enum.StrEnum):
    units = "units"
    directives = "directives"
    reports = "reports"


class ImportStatus(enum.StrEnum):
    receiving = "receiving"  # the body is still streaming in
    queued = "queued"  # staged, waiting for a worker
    running = "running"  # a worker holds it until `locked_until`
    completed = "completed"  # every line has an outcome (some may have failed)
    failed = "failed"  # the job itself could not go on (upload cut off, key revoked)


class LineStatus(enum.StrEnum):
    pending = "pending"
    deferred = "deferred"  # waits for a line later in the file (a unit whose parent comes after it)
    succeeded = "succeeded"  # an outcome only: the line is deleted as it is applied
    failed = "failed"


class ImportJob(SQLModel, table=True):
    """One uploaded NDJSON file and its progress. Acts with the authority of the key that uploaded it."""

    __tablename__ = "import_jobs"
    __table_args__ = (
        CheckConstraint("kind IN ('units', 'directives', 'reports')", name="kind_known"),
        CheckConstraint("status IN ('receiving', 'queued', 'running', 'completed', 'failed')", name="status_known"),
        Index("ix_import_jobs_unit_created", "unit_id", "created_at", "id"),
        Index("ix_import_jobs_key_idempotency", "key_id", "idempotency_key", unique=True,
              postgresql_where=text("idempotency_key IS NOT NULL")),
        Index("ix_import_jobs_unfinished", "status", postgresql_where=text("status IN ('receiving', 'queued', 'running')")),
    )

    id: UUID = Field(default_factory=uuid4, sa_column=Column(PgUUID(as_uuid=True), primary_key=True))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    status: str = Field(default=ImportStatus.receiving.value, sa_column=Column(String(16), nullable=False))
    key_id: UUID | None = Field(default=None, sa_column=Column(PgUUID(as_uuid=True), ForeignKey("api_keys.id"), nullable=True))
    unit_id: UUID = Field(sa_column=Column(PgUUID(as_uuid=True), ForeignKey("units.id"), nullable=False))
    role: str = Field(sa_column=Column(String(16), nullable=False))
    idempotency_key: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    total: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    processed: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    succeeded: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    failed: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    bytes_received: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    counts: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    )
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    lease_token: UUID | None = Field(default=None, sa_column=Column(PgUUID(as_uuid=True), nullable=True))
    locked_until: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()))
    started_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class ImportLine(SQLModel, table=True):
    """One non-blank line of the file as sent, still to apply or failed (with its errors). `line_no` counts
    from 1, blank lines included. A line that succeeds is deleted in the transaction that applies it."""

    __tablename__ = "import_lines"
    __table_args__ = (
        PrimaryKeyConstraint("job_id", "line_no"),
        CheckConstraint("status IN ('pending', 'deferred', 'failed')", name="status_known"),
        Index("ix_import_lines_failed", "job_id", "line_no", postgresql_where=text("status = 'failed'")),
        Index("ix_import_lines_waiting", "job_id", "line_no", postgresql_where=text("status IN ('pending', 'deferred')")),
    )

    job_id: UUID = Field(sa_column=Column(PgUUID(as_uuid=True), ForeignKey("import_jobs.id", ondelete="CASCADE"), nullable=False))
    line_no: int = Field(sa_column=Column(Integer, nullable=False))
    raw: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=LineStatus.pending.value, sa_column=Column(String(16), nullable=False))
    errors: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
