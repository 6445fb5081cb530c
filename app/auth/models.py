"""The API key table. Only a hash of each secret is stored."""

import enum
from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import CheckConstraint, Column, DateTime, ForeignKey, String, func
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlmodel import Field, SQLModel


class Role(enum.StrEnum):
    """What a key may do inside its unit's subtree, from most to least powerful."""

    admin = "admin"  # manage units and keys
    issuer = "issuer"  # issue directives, review reports
    member = "member"  # acknowledge and report on its units' assignments
    reader = "reader"  # read only


ROLE_RANK = {Role.reader: 0, Role.member: 1, Role.issuer: 2, Role.admin: 3}


class ApiKey(SQLModel, table=True):
    """An API key bound to one unit and one role."""

    __tablename__ = "api_keys"
    __table_args__ = (CheckConstraint("role IN ('admin','issuer','member','reader')", name="role"),)

    id: UUID = Field(default_factory=uuid4, sa_column=Column(PgUUID(as_uuid=True), primary_key=True))
    name: str = Field(sa_column=Column(String(120), nullable=False))
    unit_id: UUID = Field(
        sa_column=Column(PgUUID(as_uuid=True), ForeignKey("units.id"), nullable=False, index=True)
    )
    role: str = Field(sa_column=Column(String(16), nullable=False))
    prefix: str = Field(sa_column=Column(String(16), nullable=False))
    secret_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    created_by_key_id: UUID | None = Field(default=None, sa_column=Column(PgUUID(as_uuid=True), nullable=True))
    created_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )
    expires_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
