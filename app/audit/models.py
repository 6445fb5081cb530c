"""The audit log table."""

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, Column, DateTime, Identity, Index, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlmodel import Field, SQLModel


class AuditEntry(SQLModel, table=True):
    """One change made through the API or the CLI; `changes` holds field → [old, new]."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity_type", "entity_id", "id"),)

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(always=False), primary_key=True)
    )
    occurred_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )
    actor_key_id: UUID | None = Field(default=None, sa_column=Column(PgUUID(as_uuid=True), nullable=True))
    action: str = Field(sa_column=Column(String(64), nullable=False))
    entity_type: str = Field(sa_column=Column(String(32), nullable=False))
    entity_id: UUID = Field(sa_column=Column(PgUUID(as_uuid=True), nullable=False))
    unit_id: UUID | None = Field(
        default=None, sa_column=Column(PgUUID(as_uuid=True), nullable=True, index=True)
    )  # the unit whose subtree owns the entity: who may read this entry
    request_id: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
