"""The servers under test as subprocesses: `dondoc serve`, `dondoc worker`, and the bare baseline under uvicorn."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Services:
    """Everything started here is stopped on exit (SIGTERM, then SIGKILL), whatever happened."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = {**os.environ, "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "INFO"), **env}
        self.logs = Path(tempfile.mkdtemp(prefix="dondoc-bench-"))
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def __enter__(self) -> Services:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in reversed(self.procs):
            try:
                proc.wait(timeout=25)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if kind is not None:
            for name, _ in self.procs:
                print(f"--- last lines of {name}'s log:\n{self.tail(name)}", file=sys.stderr)
        shutil.rmtree(self.logs, ignore_errors=True)

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        proc = subprocess.Popen([sys.executable, *args], env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append((name, proc))
        return proc

    def tail(self, name: str, lines: int = 15) -> str:
        path = self.logs / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    async def _ready(self, name: str, proc: subprocess.Popen[bytes], url: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.tail(name)}")
                try:
                    if (await client.get(url)).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        raise RuntimeError(f"{name} did not answer {url} within {timeout} s:\n{self.tail(name)}")

    async def dondoc(self) -> str:
        """One `dondoc serve` process (uvicorn, uvloop, httptools, as deployed)."""
        port = free_port()
        proc = self.start("dondoc-serve", "-m", "app.cli", "serve", "--port", str(port))
        await self._ready("dondoc-serve", proc, f"http://127.0.0.1:{port}/healthz")
        return f"http://127.0.0.1:{port}"

    async def baseline(self) -> str:
        """The bare app, with the settings `dondoc serve` passes to uvicorn."""
        port = free_port()
        proc = self.start(
            "baseline", "-m", "uvicorn", "bench.national.baseline:app", "--host", "127.0.0.1", "--port", str(port),
            "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--proxy-headers", "--log-level", "warning",
        )
        await self._ready("baseline", proc, f"http://127.0.0.1:{port}/bare/assignments/00000000-0000-0000-0000-000000000000")
        return f"http://127.0.0.1:{port}"

    async def worker(self) -> None:
        proc = self.start("dondoc-worker", "-m", "app.cli", "worker")
        await asyncio.sleep(3)
        if proc.poll() is not None:
            raise RuntimeError(f"dondoc worker exited with {proc.returncode}:\n{self.tail('dondoc-worker')}")
