"""Stored first responses, one per client and Idempotency-Key."""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


class IdempotencyRecord(SQLModel, table=True):
    """The first request made with a key: its fingerprint, and once finished, its response.

    `response_status` is null while the first request is still running; a claim
    whose `locked_until` has passed was abandoned (a crashed process) and may be retaken.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("client_hash", "key", name="uq_idempotency_keys_client_key"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(always=False), primary_key=True))
    client_hash: str = Field(sa_column=Column(String(64), nullable=False))
    key: str = Field(sa_column=Column(String(255), nullable=False))
    fingerprint: str = Field(sa_column=Column(String(64), nullable=False))
    locked_until: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    response_status: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    response_headers: dict[str, str] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    response_body: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now(), index=True)
    )
