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
    """HTTP/1.1, one request per connection; `behaviour(request, index)` decides the answer."""

    behaviour: Behaviour = answer_ok
    requests: list[Received] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/hooks/dondoc"

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            path = head[0].split(" ")[1]
            headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in head[1:] if line)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            request = Received(path, headers, body)
            self.requests.append(request)
            status, extra, payload = await self.behaviour(request, len(self.requests) - 1)
            request.status = status
            lines = "".join(f"{k}: {v}\r\n" for k, v in extra.items())
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Length: {len(payload)}\r\nConnection: close\r\n{lines}\r\n".encode()
                + payload
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            self._tasks.discard(task)

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
