"""Real `dondoc serve` processes for the tests that need more than the in-process app."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time

import httpx

from app.settings import get_settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_api(port: int, **env: str) -> subprocess.Popen[bytes]:
    """`dondoc serve` on `port`, against the test database, Redis and queue (webhooks may reach loopback)."""
    settings = get_settings()
    environment = {
        **os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
        "ARQ_QUEUE_NAME": settings.arq_queue_name, "DONDOC_WEBHOOK_ALLOW_PRIVATE": "true", "LOG_LEVEL": "WARNING", **env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)], env=environment,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


async def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Until `url`/healthz answers 200; fails if the process exits or the time runs out."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=url, timeout=2) as client:
        while time.monotonic() < deadline:
            assert process.poll() is None, f"the API on {url} exited with {process.returncode}"
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"the API on {url} did not start")
