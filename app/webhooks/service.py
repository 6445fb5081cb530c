"""Webhook subscription rules (đăng ký nhận sự kiện): who may manage them, where they may point, what they see.

Admins manage and read the subscriptions of units in their subtree; anything outside it is 404.
"""

from __future__ import annotations

import asyncio
import ipaddress
from datetime import timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import and_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app import etags
from app.audit import service as audit
from app.auth.caller import Caller
from app.auth.models import Role
from app.errors import Conflict, NotFound, ValidationProblem
from app.pagination import newest_first
from app.settings import get_settings
from app.timeutil import utcnow
from app.units import service as units
from app.units.models import Unit
from app.webhooks import signing
from app.webhooks.delivery import UnsafeTarget, forbidden_address, resolve_checked, url_parts
from app.webhooks.models import (
    DeliveryKind,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from app.webhooks.schemas import PING, WebhookCreate, WebhookUpdate

ROTATION_OVERLAP = timedelta(hours=24)
_RESOLVE_TIMEOUT_S = 2.0
TRACKED = ("url", "event_types", "unit_id", "description", "active")


async def check_target(url: str, field: str = "url") -> None:
    """422 when the URL points at a non-public address. A name that does not resolve yet is accepted:
    every delivery resolves and checks again."""
    if get_settings().webhook_allow_private:
        return
    host, port = url_parts(url)
    refused = ValidationProblem.for_field(field, f"{host} is not a public address", "unsafe_url")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        if forbidden_address(str(literal)):
            raise refused
        return
    if host.lower() == "localhost" or host.lower().endswith((".localhost", ".local", ".internal")):
        raise refused
    try:
        await asyncio.wait_for(resolve_checked(host, port, allow_private=False), _RESOLVE_TIMEOUT_S)
    except UnsafeTarget as exc:
        if exc.kind == "unsafe_address":
            raise refused from None
    except TimeoutError:
        pass


async def _unit_for(session: AsyncSession, caller: Caller, unit_id: UUID | None, unit_code: str | None) -> Unit:
    if unit_id is not None and unit_code is not None:
        raise ValidationProblem.for_field("unit_id", "give unit_id or unit_code, not both", "one_of")
    if unit_id is None and unit_code is None:
        return await units.get_unit(session, caller, caller.unit_id)
    field = "unit_id" if unit_id is not None else "unit_code"
    return await units.resolve_unit_ref(session, caller, unit_id=unit_id, code=unit_code, field=field)


def _snapshot(subscription: WebhookSubscription) -> dict[str, Any]:
    return {f: getattr(subscription, f) for f in TRACKED}


async def create_subscription(
    session: AsyncSession, caller: Caller, data: WebhookCreate
) -> tuple[WebhookSubscription, str]:
    """A new endpoint; its secret is returned once."""
    caller.require(Role.admin)
    unit = await _unit_for(session, caller, data.unit_id, data.unit_code)
    await check_target(data.url)
    secret = signing.new_secret()
    subscription = WebhookSubscription(
        unit_id=unit.id, url=data.url, event_types=data.event_types, description=data.description,
        active=data.active, secret=secret, created_by_key_id=caller.key_id,
    )
    session.add(subscription)
    await session.flush()
    await session.refresh(subscription)
    audit.record(
        session, actor_key_id=caller.key_id, action="webhook.created", entity_type="webhook",
        entity_id=subscription.id, unit_id=unit.id, changes=audit.diff({}, _snapshot(subscription)),
    )
    return subscription, secret


async def get_subscription(session: AsyncSession, caller: Caller, subscription_id: UUID) -> WebhookSubscription:
    caller.require(Role.admin)
    row = (
        await session.execute(
            select(WebhookSubscription)
            .join(Unit, Unit.id == WebhookSubscription.unit_id)
            .where(WebhookSubscription.id == subscription_id, units.in_scope(caller))
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"Webhook {subscription_id} not found.")
    return row


async def list_subscriptions(
    session: AsyncSession, caller: Caller, *, unit_id: UUID | None, active: bool | None, cursor: str | None, limit: int
) -> tuple[list[WebhookSubscription], str | None]:
    """Subscriptions of units in the caller's subtree, newest first."""
    caller.require(Role.admin)
    conditions = [units.in_scope(caller)]
    if unit_id is not None:
        conditions.append(WebhookSubscription.unit_id == unit_id)
    if active is not None:
        conditions.append(WebhookSubscription.active == active)
    stmt = select(WebhookSubscription).join(Unit, Unit.id == WebhookSubscription.unit_id).where(and_(*conditions))
    return await newest_first(session, stmt, WebhookSubscription, cursor=cursor, limit=limit)


async def update_subscription(
    session: AsyncSession, caller: Caller, subscription_id: UUID, data: WebhookUpdate, *, if_match: str | None = None
) -> WebhookSubscription:
    """Change the given fields; `active: true` re-enables an endpoint that was disabled."""
    subscription = await _locked(session, caller, subscription_id, if_match)
    before = _snapshot(subscription)
    given = data.model_dump(exclude_unset=True)
    if "unit_id" in given or "unit_code" in given:
        subscription.unit_id = (await _unit_for(session, caller, data.unit_id, data.unit_code)).id
    if data.url is not None:
        await check_target(data.url)
        subscription.url = data.url
    if data.event_types is not None:
        subscription.event_types = data.event_types
    if "description" in given:
        subscription.description = data.description
    if data.active is not None:
        _set_active(subscription, data.active)
    changes = audit.diff(before, _snapshot(subscription))
    if changes:
        subscription.updated_at = utcnow()
        subscription.version += 1
        await session.flush()
        audit.record(
            session, actor_key_id=caller.key_id, action="webhook.updated", entity_type="webhook",
            entity_id=subscription.id, unit_id=subscription.unit_id, changes=changes,
        )
    return subscription


def _set_active(subscription: WebhookSubscription, active: bool) -> None:
    if active and not subscription.active:
        subscription.disabled_at, subscription.disabled_reason, subscription.failing_since = None, None, None
    subscription.active = active


async def _locked(session: AsyncSession, caller: Caller, subscription_id: UUID, if_match: str | None) -> WebhookSubscription:
    """The subscription, row-locked, if `If-Match` (when given) names its current version; else 412."""
    subscription = await get_subscription(session, caller, subscription_id)
    await session.refresh(subscription, with_for_update=True)
    etags.require_match(if_match, version=subscription.version, what=f"Webhook {subscription.id}")
    return subscription


async def delete_subscription(session: AsyncSession, caller: Caller, subscription_id: UUID, *, if_match: str | None = None) -> None:
    """Remove the endpoint with its delivery history; nothing more is sent to it."""
    subscription = await _locked(session, caller, subscription_id, if_match)
    audit.record(
        session, actor_key_id=caller.key_id, action="webhook.deleted", entity_type="webhook",
        entity_id=subscription.id, unit_id=subscription.unit_id, changes=audit.diff(_snapshot(subscription), {}),
    )
    await session.delete(subscription)
    await session.flush()


async def rotate_secret(session: AsyncSession, caller: Caller, subscription_id: UUID) -> tuple[WebhookSubscription, str]:
    """A new secret, shown once; the old one keeps signing for 24 hours so receivers can switch."""
    subscription = await get_subscription(session, caller, subscription_id)
    await session.refresh(subscription, with_for_update=True)
    secret = signing.new_secret()
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_expires_at = utcnow() + ROTATION_OVERLAP
    subscription.secret = secret
    subscription.updated_at = utcnow()
    subscription.version += 1
    await session.flush()
    audit.record(
        session, actor_key_id=caller.key_id, action="webhook.secret_rotated", entity_type="webhook",
        entity_id=subscription.id, unit_id=subscription.unit_id,
    )
    return subscription, secret


def _new_delivery(subscription: WebhookSubscription, **fields: Any) -> WebhookDelivery:
    return WebhookDelivery(
        subscription_id=subscription.id, status=DeliveryStatus.pending.value, next_attempt_at=utcnow(), **fields
    )


async def send_test(session: AsyncSession, caller: Caller, subscription_id: UUID) -> WebhookDelivery:
    """A `webhook.ping` to the endpoint (not an event in the feed); its `webhook-id` is the delivery id."""
    subscription = await get_subscription(session, caller, subscription_id)
    if not subscription.active:
        raise Conflict(f"Webhook {subscription_id} is disabled; PATCH active=true first.")
    delivery = _new_delivery(subscription, kind=DeliveryKind.ping.value, event_type=PING, message_id="")
    delivery.message_id = str(delivery.id)
    session.add(delivery)
    await session.flush()
    await session.refresh(delivery)
    audit.record(
        session, actor_key_id=caller.key_id, action="webhook.tested", entity_type="webhook",
        entity_id=subscription.id, unit_id=subscription.unit_id, changes={"delivery_id": str(delivery.id)},
    )
    return delivery


async def redeliver(session: AsyncSession, caller: Caller, delivery_id: UUID) -> WebhookDelivery:
    """The same message again as a new delivery (a new series of attempts, the same `webhook-id`)."""
    original = await session.get(WebhookDelivery, delivery_id)
    if original is None:
        raise NotFound(f"Webhook delivery {delivery_id} not found.")
    try:
        subscription = await get_subscription(session, caller, original.subscription_id)
    except NotFound:
        raise NotFound(f"Webhook delivery {delivery_id} not found.") from None
    if not subscription.active:
        raise Conflict(f"Webhook {subscription.id} is disabled; PATCH active=true first.")
    delivery = _new_delivery(
        subscription, kind=DeliveryKind.redelivery.value, event_id=original.event_id, event_type=original.event_type,
        message_id=original.message_id, redelivery_of=original.id,
    )
    session.add(delivery)
    await session.flush()
    await session.refresh(delivery)
    audit.record(
        session, actor_key_id=caller.key_id, action="webhook.redelivered", entity_type="webhook",
        entity_id=subscription.id, unit_id=subscription.unit_id,
        changes={"delivery_id": str(delivery.id), "redelivery_of": str(original.id)},
    )
    return delivery


async def list_deliveries(
    session: AsyncSession, caller: Caller, subscription_id: UUID, *, status: DeliveryStatus | None,
    cursor: str | None, limit: int,
) -> tuple[list[tuple[WebhookDelivery, list[WebhookAttempt]]], str | None]:
    """An endpoint's deliveries, newest first, each with its attempts in order."""
    await get_subscription(session, caller, subscription_id)
    conditions = [WebhookDelivery.subscription_id == subscription_id]
    if status is not None:
        conditions.append(WebhookDelivery.status == status.value)
    stmt = select(WebhookDelivery).where(and_(*conditions))
    rows, next_cursor = await newest_first(session, stmt, WebhookDelivery, cursor=cursor, limit=limit)
    attempts = await _attempts_of(session, [d.id for d in rows])
    return [(d, attempts.get(d.id, [])) for d in rows], next_cursor


async def _attempts_of(session: AsyncSession, delivery_ids: list[UUID]) -> dict[UUID, list[WebhookAttempt]]:
    if not delivery_ids:
        return {}
    rows = await session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id.in_(delivery_ids))  # type: ignore[attr-defined]
        .order_by(WebhookAttempt.delivery_id, WebhookAttempt.number)
    )
    by_delivery: dict[UUID, list[WebhookAttempt]] = {}
    for attempt in rows:
        by_delivery.setdefault(attempt.delivery_id, []).append(attempt)
    return by_delivery


async def webhook_health(session: AsyncSession) -> dict[str, Any]:
    """For /readyz: events not yet relayed (and the oldest one's age), and the oldest due delivery's age."""
    row = (
        await session.execute(
            text(
                """
                WITH c AS (SELECT COALESCE((SELECT txid FROM webhook_relay_cursor WHERE id = 1), 0) AS txid,
                                  COALESCE((SELECT event_id FROM webhook_relay_cursor WHERE id = 1), 0) AS event_id),
                     behind AS (SELECT e.occurred_at FROM events e, c WHERE (e.txid, e.id) > (c.txid, c.event_id)
                                ORDER BY e.txid, e.id LIMIT 10001)
                SELECT (SELECT count(*) FROM behind) AS lag,
                       (SELECT extract(epoch FROM now() - min(occurred_at)) FROM behind) AS lag_age,
                       (SELECT extract(epoch FROM now() - min(next_attempt_at)) FROM webhook_deliveries
                         WHERE status = 'pending' AND next_attempt_at <= now()) AS due_age,
                       (SELECT extract(epoch FROM now() - min(locked_until)) FROM webhook_deliveries
                         WHERE status = 'in_flight' AND locked_until < now()) AS expired_age
                """
            )
        )
    ).one()
    ages = [float(a) for a in (row.due_age, row.expired_age) if a is not None]
    return {
        "outbox_lag_events": int(row.lag),  # capped at 10001: "more than 10000"
        "outbox_lag_oldest_age_s": float(row.lag_age) if row.lag_age is not None else None,
        "oldest_due_delivery_age_s": max(ages) if ages else None,
    }
