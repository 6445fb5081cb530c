"""An endpoint's batch job: it claims only its own due deliveries, never twice, records a mixed batch
outcome by outcome, keeps its concurrency, and one slow endpoint never holds up another."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any
from uuid import UUID

import httpx
import pytest

from app.db import sessionmaker
from app.settings import get_settings
from app.webhooks import batch, claims, relay
from tests.fixtures import Province, sql
from tests.webhooks.receiver import (
    Answer,
    Received,
    Receiver,
    in_process_worker,
    issue_directive,
    shut,
    subscribe,
    wait_for,
)
from workers.webhooks import deliver_batch

UNITS = ["VP", "KHTC", "BVDK", "TTYT-TH", "TYT-TV", "TYT-TG"]


async def pings(client: httpx.AsyncClient, province: Province, hook: dict[str, Any], n: int) -> list[str]:
    """`n` test pings to the endpoint; each one's `webhook-id` is its delivery id."""
    ids = []
    for _ in range(n):
        response = await client.post(f"/v1/webhooks/{hook['id']}/test", headers=province.auth("root_admin"))
        assert response.status_code == 202, response.text
        ids.append(str(response.json()["delivery_id"]))
    return ids


def slowly(seconds: float) -> Any:
    async def behaviour(request: Received, index: int) -> Answer:
        await asyncio.sleep(seconds)
        return 200, {}, b"ok"
    return behaviour


async def test_a_batch_claims_only_due_deliveries_of_its_own_endpoint(
    client: httpx.AsyncClient, province: Province, receiver: Receiver, ctx: dict[str, Any]
) -> None:
    url = await receiver.start()
    mine, other = await subscribe(client, province, url + "/a"), await subscribe(client, province, url + "/b")
    due, later = await pings(client, province, mine, 2)
    await pings(client, province, other, 2)
    await sql("UPDATE webhook_deliveries SET next_attempt_at = now() + interval '1 hour' WHERE id = $1", UUID(later))
    assert await deliver_batch(ctx, mine["id"]) == {"delivered": 1}
    assert [r.headers["webhook-id"] for r in receiver.requests] == [due]
    left = await sql("SELECT status, count(*) AS n FROM webhook_deliveries WHERE id <> $1 GROUP BY status", UUID(due))
    assert {r["status"]: r["n"] for r in left} == {"pending": 3}


async def test_two_batches_of_one_endpoint_at_once_never_send_a_delivery_twice(
    client: httpx.AsyncClient, province: Province, receiver: Receiver, ctx: dict[str, Any]
) -> None:
    receiver.behaviour = slowly(0.02)
    hook = await subscribe(client, province, await receiver.start())
    ids = await pings(client, province, hook, batch.CLAIM + 16)  # more than one claim holds
    first, second = await asyncio.gather(deliver_batch(ctx, hook["id"]), deliver_batch(ctx, hook["id"]))
    assert Counter(r.headers["webhook-id"] for r in receiver.requests) == Counter(ids)
    assert first.get("delivered", 0) + second.get("delivered", 0) == len(ids)


async def test_a_claim_takes_nothing_while_another_job_holds_leases_of_the_endpoint(
    client: httpx.AsyncClient, province: Province, receiver: Receiver
) -> None:
    hook = await subscribe(client, province, await receiver.start())
    await pings(client, province, hook, 3)
    lease = get_settings().webhook_lease_s
    async with sessionmaker()() as session, session.begin():
        held = await claims.claim_batch(session, UUID(hook["id"]), limit=1, lease_s=lease)
    async with sessionmaker()() as session, session.begin():
        other = await claims.claim_batch(session, UUID(hook["id"]), limit=10, lease_s=lease)
    async with sessionmaker()() as session, session.begin():
        holder = await claims.claim_batch(
            session, UUID(hook["id"]), limit=10, lease_s=lease, held=[c.delivery_id for c in held.claims]
        )
    assert (len(held.claims), len(other.claims), len(holder.claims)) == (1, 0, 2)


async def test_a_mixed_batch_records_each_outcome(
    client: httpx.AsyncClient, province: Province, receiver: Receiver, ctx: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(get_settings(), "webhook_total_timeout_s", 1.0)
    hook = await subscribe(client, province, await receiver.start())
    ok, error, busy, stalled = await pings(client, province, hook, 4)
    answers = {ok: (200, {}), error: (500, {}), busy: (503, {"Retry-After": "120"})}

    async def by_delivery(request: Received, index: int) -> Answer:
        if request.headers["webhook-id"] == stalled:
            await asyncio.sleep(30)
        status, headers = answers[request.headers["webhook-id"]]
        return status, headers, b"answer"

    receiver.behaviour = by_delivery
    assert await deliver_batch(ctx, hook["id"]) == {"delivered": 1, "retrying": 3}
    rows = await sql(
        "SELECT d.id::text, d.status, d.last_error, round(extract(epoch FROM d.next_attempt_at - now())) AS wait, "
        "a.number, a.status_code, a.error FROM webhook_deliveries d JOIN webhook_attempts a ON a.delivery_id = d.id"
    )
    got = {r["id"]: (r["status"], r["last_error"], r["number"], r["status_code"], r["error"]) for r in rows}
    assert got == {
        ok: ("delivered", None, 1, 200, None),
        error: ("pending", "http_500", 1, 500, None),
        busy: ("pending", "http_503", 1, 503, None),
        stalled: ("pending", "timeout", 1, None, "timeout"),
    }
    waits = {r["id"]: r["wait"] for r in rows}
    assert waits[ok] is None and 4 <= waits[error] <= 6 and 4 <= waits[stalled] <= 6 and 118 <= waits[busy] <= 120


async def test_a_410_in_a_batch_disables_the_endpoint_and_fails_what_waits(
    client: httpx.AsyncClient, province: Province, receiver: Receiver, ctx: dict[str, Any]
) -> None:
    hook = await subscribe(client, province, await receiver.start())
    ok, gone, error = await pings(client, province, hook, 3)
    statuses = {ok: 200, gone: 410, error: 500}

    async def by_delivery(request: Received, index: int) -> Answer:
        return statuses[request.headers["webhook-id"]], {}, b""

    receiver.behaviour = by_delivery
    assert await deliver_batch(ctx, hook["id"]) == {"delivered": 1, "failed": 1, "retrying": 1}
    rows = await sql("SELECT id::text, status, last_error FROM webhook_deliveries")
    assert {r["id"]: (r["status"], r["last_error"]) for r in rows} == {
        ok: ("delivered", None), gone: ("failed", "http_410"), error: ("failed", "endpoint_disabled"),
    }
    [disabled] = await sql("SELECT data->>'reason' AS reason FROM events WHERE type = 'webhook.disabled'")
    assert disabled["reason"] == "gone"


async def test_an_endpoint_never_has_more_requests_in_flight_than_its_concurrency(
    client: httpx.AsyncClient, province: Province, receiver: Receiver, ctx: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(batch, "CONCURRENCY", 4)
    receiver.behaviour = slowly(0.05)
    hook = await subscribe(client, province, await receiver.start())
    await pings(client, province, hook, 20)
    assert await deliver_batch(ctx, hook["id"]) == {"delivered": 20}
    assert receiver.most_at_once == 4


async def test_a_batch_reuses_its_connections_to_a_keep_alive_receiver(
    client: httpx.AsyncClient, province: Province, receiver: Receiver, ctx: dict[str, Any]
) -> None:
    receiver.keep_alive = True
    hook = await subscribe(client, province, await receiver.start())
    await pings(client, province, hook, 3 * batch.CONCURRENCY)
    assert await deliver_batch(ctx, hook["id"]) == {"delivered": 3 * batch.CONCURRENCY}
    assert receiver.connections <= batch.CONCURRENCY and len(receiver.verified(hook["secret"])) == 3 * batch.CONCURRENCY


async def test_a_delivery_that_could_not_start_before_its_lease_ends_goes_back_untried(
    client: httpx.AsyncClient, province: Province, receiver: Receiver, ctx: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One connection, and a lease so short that whatever waits for it would outlive its lease.
    monkeypatch.setattr(batch, "CONCURRENCY", 1)
    monkeypatch.setattr(get_settings(), "webhook_lease_s", 1.0)
    monkeypatch.setattr(get_settings(), "webhook_total_timeout_s", 1.0)
    receiver.behaviour = slowly(0.05)
    hook = await subscribe(client, province, await receiver.start())
    await pings(client, province, hook, 4)
    assert await deliver_batch(ctx, hook["id"]) == {"delivered": 4}
    tried = await sql("SELECT d.attempt_count, array_agg(a.number) AS numbers FROM webhook_deliveries d "
                      "JOIN webhook_attempts a ON a.delivery_id = d.id GROUP BY d.id")
    assert [(r["attempt_count"], r["numbers"]) for r in tried] == [(1, [1])] * 4


async def test_deliveries_to_an_endpoint_switched_off_fail_without_a_call(
    client: httpx.AsyncClient, province: Province, receiver: Receiver, ctx: dict[str, Any]
) -> None:
    hook = await subscribe(client, province, await receiver.start())
    await pings(client, province, hook, batch.CLAIM + 6)  # more than one claim takes
    off = await client.patch(f"/v1/webhooks/{hook['id']}", json={"active": False}, headers=province.auth("root_admin"))
    assert off.status_code == 200
    await deliver_batch(ctx, hook["id"])
    rows = await sql("SELECT status, last_error, count(*) AS n FROM webhook_deliveries GROUP BY 1, 2")
    assert [tuple(r) for r in rows] == [("failed", "endpoint_disabled", batch.CLAIM + 6)] and receiver.requests == []


async def test_an_expired_lease_is_recorded_as_lost_and_tried_again(
    client: httpx.AsyncClient, province: Province, receiver: Receiver, ctx: dict[str, Any]
) -> None:
    hook = await subscribe(client, province, await receiver.start())
    [delivery_id] = await pings(client, province, hook, 1)
    await sql(
        "UPDATE webhook_deliveries SET status = 'in_flight', attempt_count = 1, last_attempt_at = now() - interval '1 minute', "
        "locked_until = now() - interval '1 second' WHERE id = $1", UUID(delivery_id),
    )
    assert await deliver_batch(ctx, hook["id"]) == {"delivered": 1}
    tried = await sql("SELECT number, error, status_code FROM webhook_attempts ORDER BY number")
    assert [tuple(r) for r in tried] == [(1, "worker_lost", None), (2, None, 200)]


async def test_a_retry_wakes_the_endpoints_batch_when_it_falls_due(
    client: httpx.AsyncClient, province: Province, receiver: Receiver, ctx: dict[str, Any]
) -> None:
    async def refuse(request: Received, index: int) -> Answer:
        return 500, {}, b""

    receiver.behaviour = refuse
    hook = await subscribe(client, province, await receiver.start())
    await pings(client, province, hook, 1)
    await deliver_batch(ctx, hook["id"])
    [row] = await sql("SELECT extract(epoch FROM next_attempt_at) AS due FROM webhook_deliveries")
    jobs = await ctx["redis"].zrange(get_settings().arq_queue_name, 0, -1, withscores=True)
    [score] = [s for j, s in jobs if j.decode().startswith(f"batch:{hook['id']}:at")]
    assert 0 < score / 1000 - float(row["due"]) < 1.5


async def test_the_sweeper_wakes_endpoints_with_due_deliveries_but_not_one_a_job_is_working(
    client: httpx.AsyncClient, province: Province, receiver: Receiver
) -> None:
    url = await receiver.start()
    idle, busy = await subscribe(client, province, url + "/a"), await subscribe(client, province, url + "/b")
    await pings(client, province, idle, 1)
    await pings(client, province, busy, 2)
    async with sessionmaker()() as session, session.begin():
        await claims.claim_batch(session, UUID(busy["id"]), limit=1, lease_s=30)
    async with sessionmaker()() as session:
        assert await relay.due_subscriptions(session) == [UUID(idle["id"])]


async def test_a_slow_endpoint_does_not_delay_another_endpoint(
    client: httpx.AsyncClient, province: Province, ctx: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "webhook_allow_private", True)
    stalled, quick = Receiver(behaviour=slowly(60)), Receiver()
    slow_hook = await subscribe(client, province, await stalled.start())
    quick_hook = await subscribe(client, province, await quick.start())
    # Fewer job slots than the slow endpoint has deliveries waiting: it must hold one slot, not all.
    worker, task = await in_process_worker(max_jobs=3)
    try:
        await issue_directive(client, province, UNITS)
        await issue_directive(client, province, UNITS, number="16")
        await wait_for(lambda: len(stalled.requests) > 0, timeout=10)  # its job now sits in a slot, waiting
        await wait_for(lambda: len(quick.ids_delivered()) == 2 * len(UNITS), timeout=10)
        assert stalled.ids_delivered() == []
    finally:
        await shut(worker, task)
        await stalled.close()
        await quick.close()
    assert len(quick.verified(quick_hook["secret"])) == 2 * len(UNITS)
    assert stalled.verified(slow_hook["secret"])


async def test_a_delivery_due_while_its_endpoint_stalls_does_not_wait_for_the_stalled_one(
    client: httpx.AsyncClient, province: Province, receiver: Receiver, ctx: dict[str, Any]
) -> None:
    release = asyncio.Event()

    async def stall_first(request: Received, index: int) -> Answer:
        if index == 0:
            await release.wait()
        return 200, {}, b"ok"

    receiver.behaviour = stall_first
    hook = await subscribe(client, province, await receiver.start())
    [first] = await pings(client, province, hook, 1)
    job = asyncio.create_task(deliver_batch(ctx, hook["id"]))
    try:
        await wait_for(lambda: len(receiver.requests) == 1, timeout=5)
        [later] = await pings(client, province, hook, 1)  # its own wake finds the endpoint's job at work
        await wait_for(lambda: receiver.ids_delivered() == [later], timeout=batch.CLAIM_POLL_S + 2)
    finally:
        release.set()
    assert await job == {"delivered": 2} and sorted(receiver.ids_delivered()) == sorted([first, later])
