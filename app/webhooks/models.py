"""Webhook tables: subscriptions, deliveries, their attempts, and the relay's cursor over the event outbox."""

import enum
from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlmodel import Field, SQLModel


class DeliveryStatus(enum.StrEnum):
    pending = "pending"  # waiting for `next_attempt_at`
    in_flight = "in_flight"  # a worker holds it until `locked_until`
    delivered = "delivered"  # a 2xx answer
    failed = "failed"  # out of attempts, or the endpoint was disabled


class DeliveryKind(enum.StrEnum):
    event = "event"  # relayed from the outbox, at most one per (subscription, event)
    redelivery = "redelivery"  # asked for again through the API
    ping = "ping"  # POST /webhooks/{id}/test


class WebhookSubscription(SQLModel, table=True):
    """An integrating system's endpoint: the event types and unit subtree it receives, and its signing secret.

    `secret` is a signing key (it must be readable to sign), not a password, so it is stored as is.
    """

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (
        Index("ix_webhook_subscriptions_unit_created", "unit_id", "created_at", "id"),
        Index("ix_webhook_subscriptions_created", "created_at", "id"),
        Index("ix_webhook_subscriptions_active_unit", "unit_id", postgresql_where=text("active")),
    )

    id: UUID = Field(default_factory=uuid4, sa_column=Column(PgUUID(as_uuid=True), primary_key=True))
    unit_id: UUID = Field(sa_column=Column(PgUUID(as_uuid=True), ForeignKey("units.id"), nullable=False))
    url: str = Field(sa_column=Column(Text, nullable=False))
    event_types: list[str] = Field(sa_column=Column(ARRAY(String(48)), nullable=False))
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, server_default=text("true")))
    secret: str = Field(sa_column=Column(String(64), nullable=False))
    previous_secret: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    previous_secret_expires_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    failing_since: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    disabled_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    disabled_reason: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    # Bumped by every change a client could have read (settings, secret, enabled or disabled, failing): the ETag.
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))
    created_by_key_id: UUID | None = Field(default=None, sa_column=Column(PgUUID(as_uuid=True), nullable=True))
    created_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )
    updated_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )


class WebhookDelivery(SQLModel, table=True):
    """One message to one endpoint, tried until delivered or out of attempts.

    `message_id` is the `webhook-id` header: the event id (or the first ping's id), the same on every
    attempt and every redelivery, so the receiver de-duplicates.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint("status IN ('pending','in_flight','delivered','failed')", name="status"),
        CheckConstraint("kind IN ('event','redelivery','ping')", name="kind"),
        Index("ix_webhook_deliveries_subscription_created", "subscription_id", "created_at", "id"),
        # The sweeper's two scans and /readyz's oldest-due age.
        Index("ix_webhook_deliveries_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
        # A batch job's claim and its next retry: one endpoint's waiting deliveries in due order.
        Index(
            "ix_webhook_deliveries_subscription_due", "subscription_id", "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_webhook_deliveries_leased", "locked_until", postgresql_where=text("status = 'in_flight'")),
        # The relay never doubles a delivery, even if it ever re-read an event.
        Index(
            "uq_webhook_deliveries_event", "subscription_id", "event_id", unique=True,
            postgresql_where=text("kind = 'event'"),
        ),
    )

    id: UUID = Field(default_factory=uuid4, sa_column=Column(PgUUID(as_uuid=True), primary_key=True))
    subscription_id: UUID = Field(
        sa_column=Column(
            PgUUID(as_uuid=True), ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), nullable=False
        )
    )
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    event_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    event_type: str = Field(sa_column=Column(String(48), nullable=False))
    message_id: str = Field(sa_column=Column(String(64), nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False, server_default="pending"))
    attempt_count: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    locked_until: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    last_attempt_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    last_error: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    redelivery_of: UUID | None = Field(default=None, sa_column=Column(PgUUID(as_uuid=True), nullable=True))
    created_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )
    finished_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class WebhookAttempt(SQLModel, table=True):
    """One HTTP call (or one lost to a dead worker): its status code or error kind and a bounded excerpt."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (UniqueConstraint("delivery_id", "number", name="uq_webhook_attempts_delivery_number"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(always=False), primary_key=True))
    delivery_id: UUID = Field(
        sa_column=Column(
            PgUUID(as_uuid=True), ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), nullable=False
        )
    )
    number: int = Field(sa_column=Column(Integer, nullable=False))
    started_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    duration_ms: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    status_code: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    error: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    response_excerpt: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class RelayCursor(SQLModel, table=True):
    """The one row saying how far the relay has read the outbox, in the feed's (txid, id) order."""

    __tablename__ = "webhook_relay_cursor"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: int = Field(default=1, sa_column=Column(SmallInteger, primary_key=True, autoincrement=False))
    txid: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    event_id: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    updated_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )
