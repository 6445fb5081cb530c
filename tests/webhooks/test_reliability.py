"""Nothing lost, nothing doubled: real ARQ workers, a real receiver, a killed worker, an emptied Redis."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from typing import Any

import asyncpg
import httpx

from app.settings import get_settings
from tests.fixtures import Province
from tests.webhooks.receiver import (
    Answer,
    Received,
    Receiver,
    arq_pool,
    in_process_worker,
    issue_directive,
    relay_settled,
    shut,
    start_worker,
    stop,
    subscribe,
    wait_for,
)
from workers.webhooks import relay_outbox

UNITS = ["VP", "KHTC", "BVDK", "TTYT-TH", "TYT-TV", "TYT-TG"]


async def statuses() -> Counter[str]:
    conn = await asyncpg.connect(get_settings().database_url)
    try:
        return Counter(r["status"] for r in await conn.fetch("SELECT status FROM webhook_deliveries"))
    finally:
        await conn.close()


async def expected_ids(client: httpx.AsyncClient, province: Province) -> set[str]:
    feed = await client.get("/v1/events", params={"types": "assignment.created"}, headers=province.auth("root_admin"))
    return {str(e["id"]) for e in feed.json()["items"]}


async def test_every_assignment_created_arrives_exactly_once(
    client: httpx.AsyncClient, province: Province, receiver: Receiver
) -> None:
    hook = await subscribe(client, province, await receiver.start())
    worker, task = await in_process_worker()
    try:
        await issue_directive(client, province, UNITS)
        await wait_for(lambda: len(receiver.ids_delivered()) >= len(UNITS), timeout=20)
        await asyncio.sleep(0.5)  # anything doubled would arrive now
    finally:
        await shut(worker, task)
    payloads = receiver.verified(hook["secret"])
    assert sorted(receiver.ids_delivered()) == sorted(await expected_ids(client, province))
    assert len(payloads) == len(UNITS) and {p["data"]["unit_id"] for p in payloads} == {str(province.units[c]) for c in UNITS}


async def recorded_delivery(client: httpx.AsyncClient, province: Province, hook_id: str, timeout: float) -> dict[str, Any]:
    """The endpoint's one delivery once it is no longer in flight (or as it is when time runs out)."""
    deadline = time.monotonic() + timeout
    while True:
        deliveries = await client.get(f"/v1/webhooks/{hook_id}/deliveries", headers=province.auth("root_admin"))
        [delivery] = deliveries.json()["items"]
        if delivery["status"] != "in_flight" or time.monotonic() > deadline:
            return delivery
        await asyncio.sleep(0.1)


async def test_a_worker_killed_mid_delivery_only_delays_it(
    client: httpx.AsyncClient, province: Province, receiver: Receiver
) -> None:
    async def stall_first(request: Received, index: int) -> Answer:
        if index == 0:
            await asyncio.sleep(60)  # the worker is killed while waiting for this answer
        return 200, {}, b"ok"

    receiver.behaviour = stall_first
    hook = await subscribe(client, province, await receiver.start())
    # A short lease so the test is quick, yet long enough that a slow machine kills the worker before
    # its own timeout records the attempt (the point is the lost worker, not a timeout).
    short = {"DONDOC_WEBHOOK_LEASE_S": "7", "DONDOC_WEBHOOK_TOTAL_TIMEOUT_S": "6"}
    first = start_worker(**short)
    second = None
    try:
        await issue_directive(client, province, ["TYT-TV"])
        await wait_for(lambda: len(receiver.requests) == 1, timeout=45)
        stop(first, signal.SIGKILL)
        second = start_worker(**short)
        await wait_for(lambda: len(receiver.ids_delivered()) == 1, timeout=45)
        # The receiver has answered; the worker records the outcome just after.
        delivery = await recorded_delivery(client, province, hook["id"], timeout=15)
    finally:
        stop(first, signal.SIGKILL)
        if second is not None:
            stop(second)
    assert receiver.ids_delivered() == sorted(await expected_ids(client, province))
    assert receiver.requests[0].headers["webhook-id"] == receiver.requests[1].headers["webhook-id"]
    receiver.verified(hook["secret"])
    assert delivery["status"] == "delivered"
    assert [(a["number"], a["error"], a["status_code"]) for a in delivery["attempts"]] == [(1, "worker_lost", None), (2, None, 200)]


async def test_an_emptied_redis_only_delays_deliveries(
    client: httpx.AsyncClient, province: Province, receiver: Receiver
) -> None:
    hook = await subscribe(client, province, await receiver.start())
    redis = await arq_pool()
    try:
        await issue_directive(client, province, UNITS)
        assert await relay_settled({"redis": redis}) == len(UNITS)
        assert await redis.zscore(get_settings().arq_queue_name, f"batch:{hook['id']}:0") is not None  # one job per endpoint
        await redis.flushdb()  # what a restart without persistence leaves
        assert await relay_outbox({"redis": redis}) == 0  # the relay has moved on: only the sweeper can help
    finally:
        await redis.aclose()
    worker, task = await in_process_worker()
    try:
        await wait_for(lambda: len(receiver.ids_delivered()) >= len(UNITS), timeout=20)
        await asyncio.sleep(0.5)
    finally:
        await shut(worker, task)
    assert sorted(receiver.ids_delivered()) == sorted(await expected_ids(client, province))
    assert len(receiver.verified(hook["secret"])) == len(UNITS)


async def test_two_workers_deliver_each_message_once(
    client: httpx.AsyncClient, province: Province, receiver: Receiver
) -> None:
    url = await receiver.start()
    hooks = [await subscribe(client, province, url + "/a"), await subscribe(client, province, url + "/b")]
    workers = [start_worker(), start_worker()]
    try:
        await issue_directive(client, province, UNITS)
        await issue_directive(client, province, UNITS, number="16")
        total = 2 * 2 * len(UNITS)
        await wait_for(lambda: len(receiver.ids_delivered()) >= total, timeout=25)
        await asyncio.sleep(1.0)
    finally:
        for process in workers:
            stop(process)
    per_endpoint = Counter((r.path, r.headers["webhook-id"]) for r in receiver.requests)
    assert len(per_endpoint) == total and set(per_endpoint.values()) == {1}
    for hook, path in zip(hooks, ("/hooks/dondoc/a", "/hooks/dondoc/b"), strict=True):
        mine = [r for r in receiver.requests if r.path == path]
        assert len(Receiver(requests=mine).verified(hook["secret"])) == 2 * len(UNITS)
    assert await statuses() == Counter({"delivered": total})
