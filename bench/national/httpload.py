"""A small keep-alive HTTP/1.1 client for load generation: asyncio protocol + httptools' parser.

Why not httpx: on this 2-core machine the load generator shares the CPU with the server it
measures, and httpx spends several hundred microseconds of CPU per request (more as concurrency
grows, encode/httpx#3215); this client spends a few tens, so more of the machine is left to the
server and to PostgreSQL, for Dondoc and for the bare baseline alike. httptools is already installed
(uvicorn[standard] parses requests with it), so the bench needs no new dependency.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import httptools


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.body: list[bytes] = []
        self.keep_alive = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.keep_alive = False
        self._fail(exc or ConnectionResetError("connection closed"))

    def _fail(self, exc: BaseException) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)

    # httptools callbacks
    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.keep_alive = self.parser.should_keep_alive()
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result((self.parser.get_status_code(), b"".join(self.body)))


class Client:
    """One connection, one request at a time; reconnects when the server closes it."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.authority = f"{self.host}:{self.port}".encode()
        self.protocol: _Protocol | None = None

    async def _connect(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(_Protocol, self.host, self.port)
        return protocol

    async def request(self, method: str, path: str, *, token: str | None = None, body: bytes | None = None) -> tuple[int, bytes]:
        if self.protocol is None or not self.protocol.keep_alive or self.protocol.transport is None:
            self.protocol = await self._connect()
        protocol = self.protocol
        head = [f"{method} {path} HTTP/1.1\r\n".encode(), b"Host: ", self.authority, b"\r\n"]
        if token:
            head += [b"Authorization: Bearer ", token.encode(), b"\r\n"]
        if body is not None:
            head += [b"Content-Type: application/json\r\nContent-Length: ", str(len(body)).encode(), b"\r\n"]
        head.append(b"\r\n")
        protocol.body = []
        protocol.waiter = asyncio.get_running_loop().create_future()
        assert protocol.transport is not None
        protocol.transport.write(b"".join(head) + (body or b""))
        try:
            return await protocol.waiter
        except (ConnectionError, httptools.HttpParserError):
            self.protocol = None
            raise

    def close(self) -> None:
        if self.protocol is not None and self.protocol.transport is not None:
            self.protocol.transport.close()
