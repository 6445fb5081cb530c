"""The event table (outbox)."""

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, Column, DateTime, Identity, Index, String, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlmodel import Field, SQLModel


class Event(SQLModel, table=True):
    """A state change. `txid` is the writing transaction's id: the feed pages on (txid, id) and only
    shows transactions older than every one still running, so a poller never skips a late commit.
    `scope` holds the root-to-unit paths of the units concerned; a key sees the event when its unit is in it.
    """

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_txid_id", "txid", "id"),
        Index("ix_events_scope", "scope", postgresql_using="gin"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(always=False), primary_key=True))
    txid: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=False, server_default=text("pg_current_xact_id()::text::bigint"))
    )
    type: str = Field(sa_column=Column(String(48), nullable=False))
    occurred_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()")))
    data: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    scope: list[UUID] = Field(sa_column=Column(ARRAY(PgUUID(as_uuid=True)), nullable=False))
