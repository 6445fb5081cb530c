"""What the workers count, summed over every worker and served on the API's /metrics.

Deliveries, escalation steps and deadline scans happen in worker processes, but operators scrape
the API. Each worker adds its counts to Redis hashes after every job (`flush`); the API reads the
hashes when scraped (`exposition`). Redis is not the record here either: if it restarts, these
counters start again from zero, which Prometheus reads as an ordinary counter reset. The worker's
own Prometheus counters (on WORKER_METRICS_PORT) stay as they are.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily
from redis.asyncio import Redis

from app.settings import get_settings


def _key(name: str) -> str:
    # Under the queue's name: deployments (and test runs) sharing one Redis keep their counts apart.
    return f"{get_settings().arq_queue_name}:metrics:{name}"


# name → (help text, label name); every one is a counter summed across workers.
COUNTERS: dict[str, tuple[str, str]] = {
    "webhook_deliveries": ("Webhook delivery attempts by outcome, all workers", "outcome"),
    "escalation_steps_fired": ("Escalation steps fired by step, all workers", "step"),
    "deadline_scans": ("Deadline scan batches run, all workers", "result"),
}
SECONDS = {"deadline_scan_seconds": "Time spent in deadline scan batches, all workers"}

_pending: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))


def count(name: str, label: str, amount: float = 1.0) -> None:
    """Add to a cluster-wide counter; sent to Redis with the next flush (no I/O here, so safe in any code path)."""
    _pending[name][label] += amount


async def flush(redis: Redis) -> None:
    """Send what this process counted since the last flush (HINCRBYFLOAT is atomic, so workers never clash)."""
    if not _pending:
        return
    taken = {name: dict(values) for name, values in _pending.items()}
    _pending.clear()
    async with redis.pipeline(transaction=False) as pipe:
        for name, values in taken.items():
            for label, amount in values.items():
                pipe.hincrbyfloat(_key(name), label, amount)
        await pipe.execute()


async def read(redis: Redis) -> dict[str, dict[str, float]]:
    names = [*COUNTERS, *SECONDS]
    async with redis.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.hgetall(_key(name))
        hashes = await pipe.execute()
    return {name: {_text(k): float(v) for k, v in values.items()} for name, values in zip(names, hashes, strict=True)}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class _Snapshot:
    """A collector over values already read from Redis (collectors are synchronous; the read is not)."""

    def __init__(self, values: dict[str, dict[str, float]]) -> None:
        self.values = values

    def collect(self) -> Any:
        for name, (doc, label) in COUNTERS.items():
            family = CounterMetricFamily(f"dondoc_workers_{name}", doc, labels=[label])
            for value_label, amount in sorted(self.values.get(name, {}).items()):
                family.add_metric([value_label], amount)
            yield family
        for name, doc in SECONDS.items():
            family = CounterMetricFamily(f"dondoc_workers_{name}", doc)
            family.add_metric([], self.values.get(name, {}).get("total", 0.0))
            yield family


async def exposition(redis: Redis) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(await read(redis)))  # type: ignore[arg-type]
    return generate_latest(registry)
