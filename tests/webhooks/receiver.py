"""A real HTTP receiver on 127.0.0.1 for webhook tests, and helpers shared by them."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from arq import ArqRedis, create_pool
from arq.connections import RedisSettings
from arq.worker import Worker
from standardwebhooks.webhooks import Webhook

from app.settings import get_settings
from tests.fixtures import Province


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int | None = None


Answer = tuple[int, dict[str, str], bytes]
Behaviour = Callable[[Received, int], Awaitable[Answer]]


async def answer_ok(request: Received, index: int) -> Answer:
    return 200, {}, b'{"ok": true}'


@dataclass
class Receiver:
    """HTTP/1.1; `behaviour(request, index)` decides the answer.

    One request per connection (`Connection: close`) unless `keep_alive`; `connections` counts the
    connections accepted and `most_at_once` the most requests it was answering at the same time.
    """

    behaviour: Behaviour = answer_ok
    requests: list[Received] = field(default_factory=list)
    keep_alive: bool = False
    connections: int = 0
    most_at_once: int = 0
    _answering: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    async def start(self, ssl: Any = None) -> str:
        if self._server is None:
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=ssl)
        port = self._server.sockets[0].getsockname()[1]
        return f"{'https' if ssl else 'http'}://127.0.0.1:{port}/hooks/dondoc"

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        try:
            while await self._answer_one(reader, writer) and self.keep_alive:
                pass
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            self._tasks.discard(task)

    async def _answer_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        path = head[0].split(" ")[1]
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in head[1:] if line)}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        request = Received(path, headers, body)
        self.requests.append(request)
        self._answering += 1
        self.most_at_once = max(self.most_at_once, self._answering)
        try:
            status, extra, payload = await self.behaviour(request, len(self.requests) - 1)
        finally:
            self._answering -= 1
        request.status = status
        lines = "".join(f"{k}: {v}\r\n" for k, v in extra.items())
        connection = "" if self.keep_alive else "Connection: close\r\n"
        writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: {len(payload)}\r\n{connection}{lines}\r\n".encode() + payload)
        await writer.drain()
        return True

    def verified(self, secret: str) -> list[dict[str, Any]]:
        """Every request's payload, each checked by the standardwebhooks library as a receiver would."""
        webhook = Webhook(secret)
        return [webhook.verify(r.body, r.headers) for r in self.requests]

    def ids_delivered(self) -> list[str]:
        return [r.headers["webhook-id"] for r in self.requests if r.status is not None and 200 <= r.status < 300]


async def wait_for(condition: Callable[[], bool], timeout: float = 20.0, step: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(step)


async def arq_pool() -> ArqRedis:
    settings = get_settings()
    return await create_pool(RedisSettings.from_dsn(settings.redis_url), default_queue_name=settings.arq_queue_name)


async def subscribe(
    client: httpx.AsyncClient, province: Province, url: str, key: str = "root_admin", **body: Any
) -> dict[str, Any]:
    response = await client.post(
        "/v1/webhooks", json={"url": url, "event_types": ["assignment.created"], **body}, headers=province.auth(key)
    )
    assert response.status_code == 201, response.text
    return response.json()


async def issue_directive(client: httpx.AsyncClient, province: Province, codes: list[str], number: str = "15") -> str:
    """Issue a directive with one task assigned to `codes`: one assignment.created event per unit."""
    body = {
        "issuer_code": "SYT", "number": number, "symbol": "SYT-NVY", "doc_type": "cong_van", "issued_on": "2024-03-01",
        "subject": "Tăng cường phòng chống dịch sốt xuất huyết",
        "tasks": [{"text": "Báo cáo tình hình", "assignee_codes": codes, "due_on": "2024-03-20", "due_kind": "by"}],
    }
    created = await client.post("/v1/directives", json=body, headers=province.auth("root_issuer"))
    assert created.status_code == 201, created.text
    issued = await client.post(f"/v1/directives/{created.json()['id']}/issue", headers=province.auth("root_issuer"))
    assert issued.status_code == 200, issued.text
    return str(created.json()["id"])


async def in_process_worker(**options: Any) -> tuple[Worker, asyncio.Task[Any]]:
    """The real worker settings (jobs and crons), run in this event loop."""
    from workers.settings import WorkerSettings

    redis = await arq_pool()
    worker = Worker(
        functions=WorkerSettings.functions, cron_jobs=WorkerSettings.cron_jobs, redis_pool=redis,
        queue_name=get_settings().arq_queue_name, poll_delay=0.05, handle_signals=False, **options,
    )
    return worker, asyncio.create_task(worker.main())


async def shut(worker: Worker, task: asyncio.Task[Any]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    # Cancel the jobs still running (a stalled delivery) and wait for them here: a job cancelled while
    # arq records its end raises CancelledError, which Worker.close() would re-raise from its gather.
    jobs = list(worker.tasks.values())
    for job in jobs:
        job.cancel()
    await asyncio.gather(*jobs, return_exceptions=True)
    worker.tasks.clear()
    await worker.close()


def start_worker(**env: str) -> subprocess.Popen[bytes]:
    """A real `dondoc worker` process against the test database and queue."""
    settings = get_settings()
    environment = {
        **os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
        "ARQ_QUEUE_NAME": settings.arq_queue_name, "DONDOC_WEBHOOK_ALLOW_PRIVATE": "true", "LOG_LEVEL": "WARNING", **env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"], env=environment,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


async def relay_settled(ctx: dict[str, Any], timeout: float = 15.0) -> int:
    """Run the relay until the outbox is drained: events wait while an older write transaction of this database runs."""
    from app.db import sessionmaker
    from app.webhooks.service import webhook_health
    from workers.webhooks import relay_outbox

    relayed = await relay_outbox(ctx)
    deadline = time.monotonic() + timeout
    while True:
        async with sessionmaker()() as session:
            if (await webhook_health(session))["outbox_lag_events"] == 0:
                return relayed
        if time.monotonic() > deadline:
            raise AssertionError("the outbox did not drain in time")
        await asyncio.sleep(0.1)
        relayed += await relay_outbox(ctx)
