"""An endpoint's batch job against a real local receiver: signed pings and events, redirects, 410, Retry-After, giving up."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
import pytest

from app.db import sessionmaker
from app.settings import get_settings
from app.webhooks.service import webhook_health
from tests.fixtures import Province, metric_sample, sql
from tests.webhooks.receiver import (
    Answer,
    Received,
    Receiver,
    issue_directive,
    relay_settled,
    subscribe,
)
from workers.webhooks import deliver_batch, relay_outbox


async def ping(client: httpx.AsyncClient, province: Province, hook: dict[str, Any]) -> str:
    response = await client.post(f"/v1/webhooks/{hook['id']}/test", headers=province.auth("root_admin"))
    assert response.status_code == 202, response.text
    return str(response.json()["delivery_id"])


def answering(status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> Any:
    async def behaviour(request: Received, index: int) -> Answer:
        return status, headers or {}, body
    return behaviour


async def deliveries(client: httpx.AsyncClient, province: Province, hook: dict[str, Any]) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=province.auth("root_admin"))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_ping_arrives_signed_with_the_delivery_id(
    client: httpx.AsyncClient, province: Province, receiver: Receiver, ctx: dict[str, Any]
) -> None:
    hook = await subscribe(client, province, await receiver.start())
    delivery_id = await ping(client, province, hook)
    assert await deliver_batch(ctx, hook["id"]) == {"delivered": 1}
    payload = receiver.verified(hook["secret"])[0]
    assert receiver.requests[0].headers["webhook-id"] == delivery_id and payload["type"] == "webhook.ping"
    [listed] = await deliveries(client, province, hook)
    assert listed["status"] == "delivered" and listed["attempts"][0]["status_code"] == 200
    assert listed["attempts"][0]["response_excerpt"] == '{"ok": true}'


async def test_event_body_follows_standard_webhooks(
    client: httpx.AsyncClient, province: Province, receiver: Receiver, ctx: dict[str, Any]
) -> None:
    hook = await subscribe(client, province, await receiver.start())
    await issue_directive(client, province, ["TYT-TV"])
    assert await relay_settled(ctx) == 1
    await deliver_batch(ctx, hook["id"])
    [payload] = receiver.verified(hook["secret"])
    assert set(payload) == {"type", "timestamp", "data"} and payload["type"] == "assignment.created"
    assert receiver.requests[0].headers["webhook-id"] == str(payload["data"]["id"])
    assert payload["data"]["unit_id"] == str(province.units["TYT-TV"]) and "occurred_at" in payload["data"]


async def test_both_secrets_sign_during_rotation(
    client: httpx.AsyncClient, province: Province, receiver: Receiver, ctx: dict[str, Any]
) -> None:
    hook = await subscribe(client, province, await receiver.start())
    rotated = await client.post(f"/v1/webhooks/{hook['id']}/rotate-secret", headers=province.auth("root_admin"))
    await ping(client, province, hook)
    await deliver_batch(ctx, hook["id"])
    assert receiver.verified(rotated.json()["secret"]) == receiver.verified(hook["secret"])


async def test_a_redirect_is_a_failure_and_is_not_followed(
    client: httpx.AsyncClient, province: Province, receiver: Receiver, ctx: dict[str, Any]
) -> None:
    receiver.behaviour = answering(302, {"Location": "/elsewhere"})
    hook = await subscribe(client, province, await receiver.start())
    await ping(client, province, hook)
    assert await deliver_batch(ctx, hook["id"]) == {"retrying": 1}
    [listed] = await deliveries(client, province, hook)
    assert len(receiver.requests) == 1 and listed["status"] == "pending" and listed["last_error"] == "http_302"


async def test_410_disables_the_endpoint_and_tells_the_feed(
    client: httpx.AsyncClient, province: Province, receiver: Receiver, ctx: dict[str, Any]
) -> None:
    receiver.behaviour = answering(410)
    hook = await subscribe(client, province, await receiver.start())
    await ping(client, province, hook)
    assert await deliver_batch(ctx, hook["id"]) == {"failed": 1}
    read = (await client.get(f"/v1/webhooks/{hook['id']}", headers=province.auth("root_admin"))).json()
    assert read["active"] is False and read["disabled_reason"] == "gone"
    feed = await client.get("/v1/events", params={"types": "webhook.disabled"}, headers=province.auth("root_admin"))
    [event] = feed.json()["items"]
    assert event["data"]["webhook_id"] == hook["id"] and event["data"]["reason"] == "gone"


async def test_retry_after_on_503_sets_the_next_attempt(
    client: httpx.AsyncClient, province: Province, receiver: Receiver, ctx: dict[str, Any]
) -> None:
    receiver.behaviour = answering(503, {"Retry-After": "120"})
    hook = await subscribe(client, province, await receiver.start())
    delivery_id = await ping(client, province, hook)
    await deliver_batch(ctx, hook["id"])
    [row] = await sql("SELECT extract(epoch FROM next_attempt_at - now()) AS wait FROM webhook_deliveries WHERE id = $1", UUID(delivery_id))
    assert 115 < row["wait"] <= 120


async def test_a_failure_retries_5_seconds_later(
    client: httpx.AsyncClient, province: Province, receiver: Receiver, ctx: dict[str, Any]
) -> None:
    receiver.behaviour = answering(500, body=b"x" * 5000)
    hook = await subscribe(client, province, await receiver.start())
    delivery_id = await ping(client, province, hook)
    await deliver_batch(ctx, hook["id"])
    [row] = await sql("SELECT extract(epoch FROM next_attempt_at - now()) AS wait FROM webhook_deliveries WHERE id = $1", UUID(delivery_id))
    [listed] = await deliveries(client, province, hook)
    assert 4 < row["wait"] <= 5.5 and len(listed["attempts"][0]["response_excerpt"]) == 1024


async def test_the_eighth_failure_is_final(
    client: httpx.AsyncClient, province: Province, receiver: Receiver, ctx: dict[str, Any]
) -> None:
    receiver.behaviour = answering(500)
    hook = await subscribe(client, province, await receiver.start())
    delivery_id = await ping(client, province, hook)
    await sql("UPDATE webhook_deliveries SET attempt_count = 7 WHERE id = $1", UUID(delivery_id))
    assert await deliver_batch(ctx, hook["id"]) == {"failed": 1}
    [listed] = await deliveries(client, province, hook)
    assert listed["status"] == "failed" and listed["attempts"][0]["number"] == 8


async def test_five_days_of_failure_disables_the_endpoint(
    client: httpx.AsyncClient, province: Province, receiver: Receiver, ctx: dict[str, Any]
) -> None:
    receiver.behaviour = answering(500)
    hook = await subscribe(client, province, await receiver.start())
    await sql("UPDATE webhook_subscriptions SET failing_since = now() - interval '5 days 1 minute'")
    await ping(client, province, hook)
    await deliver_batch(ctx, hook["id"])
    read = (await client.get(f"/v1/webhooks/{hook['id']}", headers=province.auth("root_admin"))).json()
    assert read["active"] is False and read["disabled_reason"] == "failing"


async def test_a_success_clears_the_failing_clock(
    client: httpx.AsyncClient, province: Province, receiver: Receiver, ctx: dict[str, Any]
) -> None:
    hook = await subscribe(client, province, await receiver.start())
    await sql("UPDATE webhook_subscriptions SET failing_since = now() - interval '4 days'")
    await ping(client, province, hook)
    await deliver_batch(ctx, hook["id"])
    read = (await client.get(f"/v1/webhooks/{hook['id']}", headers=province.auth("root_admin"))).json()
    assert read["failing_since"] is None and read["active"] is True


async def test_private_target_is_refused_at_delivery_time(
    client: httpx.AsyncClient, province: Province, receiver: Receiver, ctx: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = await subscribe(client, province, await receiver.start())
    monkeypatch.setattr(get_settings(), "webhook_allow_private", False)
    await ping(client, province, hook)
    await deliver_batch(ctx, hook["id"])
    [listed] = await deliveries(client, province, hook)
    assert receiver.requests == [] and listed["attempts"][0]["error"] == "unsafe_address"


async def test_redelivery_sends_the_same_webhook_id_again(
    client: httpx.AsyncClient, province: Province, receiver: Receiver, ctx: dict[str, Any]
) -> None:
    hook = await subscribe(client, province, await receiver.start())
    first = await ping(client, province, hook)
    await deliver_batch(ctx, hook["id"])
    again = await client.post(f"/v1/webhook-deliveries/{first}/redeliver", headers=province.auth("root_admin"))
    assert again.status_code == 202 and again.json()["delivery_id"] != first
    await deliver_batch(ctx, hook["id"])
    assert [r.headers["webhook-id"] for r in receiver.requests] == [first, first]
    assert len(receiver.verified(hook["secret"])) == 2


async def test_a_delivered_delivery_is_not_sent_again(
    client: httpx.AsyncClient, province: Province, receiver: Receiver, ctx: dict[str, Any]
) -> None:
    hook = await subscribe(client, province, await receiver.start())
    await ping(client, province, hook)
    await deliver_batch(ctx, hook["id"])
    assert await deliver_batch(ctx, hook["id"]) == {} and len(receiver.requests) == 1


async def test_deliveries_filter_by_status(
    client: httpx.AsyncClient, province: Province, receiver: Receiver, ctx: dict[str, Any]
) -> None:
    hook = await subscribe(client, province, await receiver.start())
    await ping(client, province, hook)
    await deliver_batch(ctx, hook["id"])
    await ping(client, province, hook)
    await sql("UPDATE webhook_deliveries SET next_attempt_at = now() + interval '1 hour' WHERE status = 'pending'")
    pending = await client.get(
        f"/v1/webhooks/{hook['id']}/deliveries", params={"status": "pending"}, headers=province.auth("root_admin")
    )
    assert [d["status"] for d in pending.json()["items"]] == ["pending"]


async def test_relay_matches_types_and_subtree_and_never_doubles(
    client: httpx.AsyncClient, province: Province, receiver: Receiver, ctx: dict[str, Any]
) -> None:
    url = await receiver.start()
    await subscribe(client, province, url, key="centre_admin")  # TTYT-TH's subtree only
    await subscribe(client, province, url, event_types=["directive.closed"])
    await subscribe(client, province, url, active=False)
    await issue_directive(client, province, ["TYT-TV", "VP"])
    assert await relay_settled(ctx) == 1
    assert await relay_outbox(ctx) == 0
    health = await _health()
    assert health["outbox_lag_events"] == 0 and health["oldest_due_delivery_age_s"] is not None


async def test_health_reports_events_not_yet_relayed(client: httpx.AsyncClient, province: Province, receiver: Receiver) -> None:
    await subscribe(client, province, await receiver.start())
    await _health()  # creates nothing; the cursor row may be missing after truncation
    await issue_directive(client, province, ["TYT-TV", "VP"])
    assert (await _health())["outbox_lag_events"] >= 2


async def _health() -> dict[str, Any]:
    async with sessionmaker()() as session:
        return await webhook_health(session)


async def test_deliveries_by_outcome_are_counted_on_the_api_metrics(
    client: httpx.AsyncClient, province: Province, receiver: Receiver, ctx: dict[str, Any]
) -> None:
    from app.ops import worker_metrics
    from workers.settings import after_job_end

    name = "dondoc_workers_webhook_deliveries_total"
    await worker_metrics.flush(ctx["redis"])  # counts earlier tests left in this process
    before = (await client.get("/metrics")).text
    receiver.behaviour = answering(500)
    hook = await subscribe(client, province, await receiver.start())
    await ping(client, province, hook)
    assert await deliver_batch(ctx, hook["id"]) == {"retrying": 1}
    await after_job_end(ctx)  # the worker's hook after every job
    after = (await client.get("/metrics")).text
    assert metric_sample(after, name, "retrying") - metric_sample(before, name, "retrying") == 1
    assert metric_sample(after, name, "delivered") == metric_sample(before, name, "delivered")
