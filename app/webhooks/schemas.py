"""Webhook request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from app.units.schemas import Code
from app.validation import StrictModel
from app.webhooks.delivery import UnsafeTarget, url_parts
from app.webhooks.models import DeliveryStatus

# Every event type Dondoc records (DESIGN.md "Event types"); "*" subscribes to all of them.
EVENT_TYPES = frozenset({
    "directive.issued", "directive.closed", "directive.revoked",
    "assignment.created", "assignment.acknowledged", "assignment.due_soon", "assignment.overdue",
    "assignment.escalated", "assignment.completed", "assignment.cancelled", "assignment.deadline_changed",
    "report.submitted", "report.accepted", "report.returned",
    "unit.digest", "webhook.disabled",
})
ALL_EVENTS = "*"
PING = "webhook.ping"


def _known_type(value: str) -> str:
    if value != ALL_EVENTS and value not in EVENT_TYPES:
        raise ValueError(f"unknown event type {value!r}; known: {', '.join(sorted(EVENT_TYPES))} or '*'")
    return value


def _dedupe(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _http_url(value: str) -> str:
    try:
        url_parts(value)
    except UnsafeTarget as exc:
        raise ValueError(str(exc)) from None
    return value


EventType = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=48), AfterValidator(_known_type)]
EventTypes = Annotated[list[EventType], Field(min_length=1, max_length=32), AfterValidator(_dedupe)]
Url = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=8, max_length=2048), AfterValidator(_http_url),
    Field(description="http:// or https://; must resolve to a public address. Redirects are not followed."),
]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class WebhookCreate(StrictModel):
    url: Url
    event_types: EventTypes = Field(description="Event types to receive, or [\"*\"] for all.")
    unit_id: UUID | None = Field(default=None, description="The subtree whose events it receives; default your key's unit.")
    unit_code: Code | None = None
    description: Description | None = None
    active: bool = True


class WebhookUpdate(StrictModel):
    url: Url | None = None
    event_types: EventTypes | None = None
    unit_id: UUID | None = None
    unit_code: Code | None = None
    description: Description | None = None
    active: bool | None = Field(default=None, description="true re-enables a disabled endpoint.")


class WebhookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    url: str
    event_types: list[str]
    unit_id: UUID
    description: str | None
    active: bool
    disabled_at: datetime | None
    disabled_reason: str | None = Field(description="`gone` (the endpoint answered 410) or `failing` (5 days of failures).")
    failing_since: datetime | None
    previous_secret_expires_at: datetime | None = Field(description="Until then the old secret signs too.")
    version: int = Field(description="Changes with every change to the webhook; its ETag is this number, quoted.")
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(description="The signing secret (whsec_...). Shown once: store it now.")


class WebhookSecret(BaseModel):
    id: UUID
    secret: str = Field(description="The new signing secret. Shown once.")
    previous_secret_expires_at: datetime = Field(description="The old secret keeps signing until then.")


class DeliveryQueued(BaseModel):
    delivery_id: UUID
    status: DeliveryStatus


class AttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    started_at: datetime
    duration_ms: int | None
    status_code: int | None
    error: str | None = Field(description="timeout, connect_error, dns_error, unsafe_address, worker_lost...")
    response_excerpt: str | None = Field(description="At most the first 1 KB of the answer.")


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    subscription_id: UUID
    kind: str
    event_id: int | None
    event_type: str
    message_id: str = Field(description="The `webhook-id` header: the same on every attempt and redelivery.")
    status: DeliveryStatus
    attempt_count: int
    next_attempt_at: datetime | None
    last_error: str | None
    redelivery_of: UUID | None
    created_at: datetime
    finished_at: datetime | None
    attempts: list[AttemptRead] = Field(default_factory=list)
