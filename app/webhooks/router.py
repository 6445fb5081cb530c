"""Webhooks over HTTP: /v1/webhooks and /v1/webhook-deliveries/{id}/redeliver."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, BackgroundTasks, Header, Response, status

from app import etags
from app.auth.deps import CurrentCaller
from app.db import Session
from app.pagination import Cursor, Limit, Page
from app.webhooks import service
from app.webhooks.models import DeliveryStatus, WebhookDelivery
from app.webhooks.queue import wake
from app.webhooks.schemas import (
    AttemptRead,
    DeliveryQueued,
    DeliveryRead,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookSecret,
    WebhookUpdate,
)

router = APIRouter(tags=["webhooks"])
deliveries_router = APIRouter(tags=["webhooks"])


def _queued(delivery: WebhookDelivery, background: BackgroundTasks) -> DeliveryQueued:
    # Runs after the response, so after the commit; the sweeper covers a failure to enqueue.
    background.add_task(wake, [delivery.subscription_id])
    return DeliveryQueued(delivery_id=delivery.id, status=DeliveryStatus(delivery.status))


@router.post("/webhooks", status_code=status.HTTP_201_CREATED)
async def create_webhook(body: WebhookCreate, session: Session, caller: CurrentCaller) -> WebhookCreated:
    """Subscribe an endpoint. The signing secret is in this answer only."""
    subscription, secret = await service.create_subscription(session, caller, body)
    return WebhookCreated.model_validate({**WebhookRead.model_validate(subscription).model_dump(), "secret": secret})


@router.get("/webhooks")
async def list_webhooks(
    session: Session, caller: CurrentCaller, unit_id: UUID | None = None, active: bool | None = None,
    limit: Limit = 50, cursor: Cursor = None,
) -> Page[WebhookRead]:
    rows, next_cursor = await service.list_subscriptions(
        session, caller, unit_id=unit_id, active=active, cursor=cursor, limit=limit
    )
    return Page(items=[WebhookRead.model_validate(s) for s in rows], next_cursor=next_cursor)


IfMatch = Annotated[str | None, Header(description="The ETag you read; 412 if the webhook changed since.")]


@router.get("/webhooks/{webhook_id}")
async def get_webhook(webhook_id: UUID, session: Session, caller: CurrentCaller, response: Response) -> WebhookRead:
    subscription = await service.get_subscription(session, caller, webhook_id)
    response.headers["ETag"] = etags.etag(subscription.version)
    return WebhookRead.model_validate(subscription)


@router.patch("/webhooks/{webhook_id}")
async def update_webhook(
    webhook_id: UUID, body: WebhookUpdate, session: Session, caller: CurrentCaller, response: Response, if_match: IfMatch = None
) -> WebhookRead:
    subscription = await service.update_subscription(session, caller, webhook_id, body, if_match=if_match)
    response.headers["ETag"] = etags.etag(subscription.version)
    return WebhookRead.model_validate(subscription)


@router.delete("/webhooks/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def delete_webhook(webhook_id: UUID, session: Session, caller: CurrentCaller, if_match: IfMatch = None) -> Response:
    await service.delete_subscription(session, caller, webhook_id, if_match=if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/webhooks/{webhook_id}/rotate-secret")
async def rotate_secret(webhook_id: UUID, session: Session, caller: CurrentCaller) -> WebhookSecret:
    """A new secret, shown once. For 24 hours both secrets sign every message."""
    subscription, secret = await service.rotate_secret(session, caller, webhook_id)
    assert subscription.previous_secret_expires_at is not None
    return WebhookSecret(id=subscription.id, secret=secret, previous_secret_expires_at=subscription.previous_secret_expires_at)


@router.post("/webhooks/{webhook_id}/test", status_code=status.HTTP_202_ACCEPTED)
async def test_webhook(
    webhook_id: UUID, session: Session, caller: CurrentCaller, background: BackgroundTasks
) -> DeliveryQueued:
    """Send a `webhook.ping` to the endpoint; follow it under /deliveries."""
    return _queued(await service.send_test(session, caller, webhook_id), background)


@router.get("/webhooks/{webhook_id}/deliveries")
async def list_deliveries(
    webhook_id: UUID, session: Session, caller: CurrentCaller, status: DeliveryStatus | None = None,
    limit: Limit = 50, cursor: Cursor = None,
) -> Page[DeliveryRead]:
    """Newest first, each with its attempts."""
    rows, next_cursor = await service.list_deliveries(
        session, caller, webhook_id, status=status, cursor=cursor, limit=limit
    )
    items = [
        DeliveryRead.model_validate(
            {**DeliveryRead.model_validate(d).model_dump(exclude={"attempts"}),
             "attempts": [AttemptRead.model_validate(a) for a in attempts]}
        )
        for d, attempts in rows
    ]
    return Page(items=items, next_cursor=next_cursor)


@deliveries_router.post("/webhook-deliveries/{delivery_id}/redeliver", status_code=status.HTTP_202_ACCEPTED)
async def redeliver(
    delivery_id: UUID, session: Session, caller: CurrentCaller, background: BackgroundTasks
) -> DeliveryQueued:
    """The same message again (same `webhook-id`), as a new delivery with its own attempts."""
    return _queued(await service.redeliver(session, caller, delivery_id), background)
