"""Webhook deliveries per second from one worker process to a local receiver that answers at once.

    .venv/bin/python bench/webhook_bench.py [--events 5000]

Uses DATABASE_URL / REDIS_URL when set, else the embedded servers (as `make test` does).
Creates a throw-away database (bench/scratch.py), subscribes one endpoint (a receiver in its own
process on 127.0.0.1), writes `--events` events straight into the outbox, then starts one
`dondoc worker` and times relay + delivery (batch claim, concurrent POSTs, set-based record)
until every delivery is `delivered`. Prints the rate and the attempt latencies. The database is
dropped at the end. Not a test.

The receiver answers `204` at once and keeps connections alive (HTTP/1.1's default), as a real
receiver behind any web server does; the worker reuses its connections within a batch job, so a
receiver that closed every connection would measure TCP set-up on both sides of loopback instead.
`--close` makes it answer `Connection: close` every time, for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.national.procs import free_port
from bench.scratch import scratch_database


def receiver(port: int, close: bool = False) -> None:
    """A minimal HTTP/1.1 server answering 204 at once, keep-alive unless `close` or the client asks to close.

    Run it in its own process, so that it does not share the worker's CPU.
    """
    answer = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n"

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.lower().split(b"\r\n")
                length = next((int(x.split(b":", 1)[1]) for x in lines if x.startswith(b"content-length")), 0)
                await reader.readexactly(length)
                closing = close or any(x.startswith(b"connection:") and b"close" in x for x in lines)
                writer.write(answer + (b"Connection: close\r\n" if closing else b"") + b"\r\n")
                await writer.drain()
                if closing:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client closed the connection
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(serve, "127.0.0.1", port, backlog=1024)
        await server.serve_forever()

    asyncio.run(main())


async def subscribe(url: str) -> None:
    from app.auth.caller import Caller
    from app.auth.models import Role
    from app.db import sessionmaker
    from app.units.schemas import UnitCreate
    from app.units.seed import create_root_unit
    from app.webhooks import service
    from app.webhooks.schemas import WebhookCreate

    async with sessionmaker()() as session, session.begin():
        root = await create_root_unit(session, UnitCreate(code="SYT", name="Sở Y tế", short_name="SYT", kind="department"))
        operator = Caller(key_id=None, unit_id=root.id, role=Role.admin)
        await service.create_subscription(session, operator, WebhookCreate(url=url, event_types=["*"]))


async def write_events(conn: asyncpg.Connection, count: int) -> None:
    await conn.execute(
        """
        INSERT INTO events (type, data, scope)
        SELECT 'assignment.created', jsonb_build_object('assignment_id', gen_random_uuid()), ARRAY[u.id]
        FROM units u, generate_series(1, $1) WHERE u.code = 'SYT'
        """,
        count,
    )


async def run(url: str, events: int) -> tuple[float, list[int]]:
    from app.settings import get_settings

    settings = get_settings()
    conn = await asyncpg.connect(url)
    worker = None
    try:
        await write_events(conn, events)
        env = {
            **os.environ, "DATABASE_URL": url, "ARQ_QUEUE_NAME": f"dondoc-bench:{uuid.uuid4().hex[:8]}",
            "REDIS_URL": settings.redis_url, "DONDOC_WEBHOOK_ALLOW_PRIVATE": "true", "LOG_LEVEL": "WARNING",
        }
        worker = subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: ASYNC220
        while not await conn.fetchval("SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'"):
            await asyncio.sleep(0.01)
        started = time.perf_counter()  # from the first delivery: process start-up is not throughput
        first = await conn.fetchval("SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'")
        while (done := await conn.fetchval("SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'")) < events:
            await asyncio.sleep(0.05)
        rate = (done - first) / (time.perf_counter() - started)
        durations = [r["duration_ms"] for r in await conn.fetch("SELECT duration_ms FROM webhook_attempts")]
        return rate, durations
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=15)
        await conn.close()


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--close", action="store_true", help="the receiver closes the connection after every answer")
    args = ap.parse_args()

    port = free_port()
    process = multiprocessing.Process(target=receiver, args=(port, args.close), daemon=True)
    process.start()
    try:
        async with scratch_database("dondoc_webhook_bench") as url:
            from app.settings import get_settings

            get_settings().webhook_allow_private = True
            await subscribe(f"http://127.0.0.1:{port}/hook")
            rate, durations = await run(url, args.events)
    finally:
        process.terminate()
    durations.sort()
    from app.webhooks.batch import CONCURRENCY

    kind = "closing every connection" if args.close else "keep-alive"
    print(f"{args.events} deliveries, one worker process, {CONCURRENCY} in flight per endpoint, receiver answering 204 at once ({kind}):")
    print(f"  {rate:.0f} deliveries/s (relay + batch claim + concurrent POSTs + set-based record)")
    print(f"  attempt HTTP time: median {statistics.median(durations)} ms, p99 {durations[int(len(durations) * 0.99) - 1]} ms")


if __name__ == "__main__":
    asyncio.run(main())
