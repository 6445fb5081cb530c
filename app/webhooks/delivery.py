"""One webhook HTTP call, made safely (SSRF guard, pinned address, bounded time), and the retry schedule.

SSRF: the host is resolved once, every address it resolves to must be public (unless
`DONDOC_WEBHOOK_ALLOW_PRIVATE`), and the connection is made to the address checked: a small
httpcore network backend dials that IP whatever the URL says, while the URL keeps its hostname,
so the `Host` header, TLS SNI and certificate verification all still use the real name. DNS
rebinding between check and connect is therefore impossible. Redirects are never followed and
proxies from the environment are ignored (a proxy would dial the name itself).
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import random
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import certifi
import httpcore
import httpx

from app.settings import Settings
from app.timeutil import utcnow

# Delay before attempt 1..8: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (Standard Webhooks' advice).
RETRY_SCHEDULE: tuple[int, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
MAX_ATTEMPTS = len(RETRY_SCHEDULE)
JITTER = 0.10
# A receiver may ask for a later retry, but not for one later than a day: attempts stay bounded.
MAX_RETRY_AFTER_S = 86_400
EXCERPT_BYTES = 1024
USER_AGENT = "Dondoc-Webhooks/1"


class UnsafeTarget(Exception):
    """The URL may not be called: `kind` is the attempt's error (`unsafe_address`, `dns_error`, `invalid_url`)."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class AttemptResult:
    started_at: datetime
    duration_ms: int
    status_code: int | None = None
    error: str | None = None
    excerpt: str | None = None
    retry_after_s: float | None = None

    @property
    def succeeded(self) -> bool:
        # 3xx is a failure: redirects are never followed, the receiver must give its final URL.
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == 410


# --- the schedule -------------------------------------------------------------------------------


def jittered(seconds: float, rng: Callable[[], float] = random.random) -> float:
    """±10 %, so a receiver that comes back is not hit by every endpoint's retries at the same second."""
    return seconds * (1 - JITTER + 2 * JITTER * rng())


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """`Retry-After` as delta-seconds or an HTTP date (RFC 9110 §10.2.3); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def next_delay(failed_attempt: int, result: AttemptResult, rng: Callable[[], float] = random.random) -> float | None:
    """Seconds until the attempt after `failed_attempt` (1-based), or None when attempts are used up."""
    if failed_attempt >= MAX_ATTEMPTS:
        return None
    delay = jittered(RETRY_SCHEDULE[failed_attempt], rng)
    if result.status_code in (429, 503) and result.retry_after_s is not None:
        delay = max(delay, min(result.retry_after_s, MAX_RETRY_AFTER_S))
    return delay


# --- the SSRF guard -----------------------------------------------------------------------------


def forbidden_address(address: str) -> bool:
    """Loopback, private, link-local, multicast, reserved, unspecified, or anything not globally routable."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast
        or ip.is_reserved or ip.is_unspecified or not ip.is_global
    )


def url_parts(url: str) -> tuple[str, int]:
    """(host, port) of an http(s) URL with a host, or UnsafeTarget('invalid_url')."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise UnsafeTarget("invalid_url", f"not a URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise UnsafeTarget("invalid_url", "must be an http:// or https:// URL with a host")
    return parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80)


async def resolve_checked(host: str, port: int, *, allow_private: bool) -> str:
    """The address to connect to; every address the name resolves to must pass the guard."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeTarget("dns_error", f"cannot resolve {host}: {exc}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise UnsafeTarget("dns_error", f"{host} has no address")
    if not allow_private:
        refused = [a for a in addresses if forbidden_address(a)]
        if refused:
            raise UnsafeTarget("unsafe_address", f"{host} resolves to a non-public address ({refused[0]})")
    return addresses[0]


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Dials the checked address for every connection; TLS still verifies the URL's hostname."""

    def __init__(self, address: str) -> None:
        self._address = address
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        return await self._inner.connect_tcp(
            self._address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certifi.where())


def _client(address: str, settings: Settings) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(verify=_ssl_context(), retries=0)
    # httpx (pinned at 0.28) has no public hook for the network backend; swap the pool it built.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=_ssl_context(), max_connections=1, retries=0, network_backend=PinnedBackend(address)
    )
    timeout = httpx.Timeout(settings.webhook_total_timeout_s, connect=settings.webhook_connect_timeout_s)
    return httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False, trust_env=False)


async def _excerpt(response: httpx.Response) -> str:
    """At most 1 KB of the body: a huge or endless answer costs nothing more."""
    taken = b""
    async for chunk in response.aiter_raw():
        taken += chunk
        if len(taken) >= EXCERPT_BYTES:
            break
    return taken[:EXCERPT_BYTES].decode("utf-8", errors="replace")


async def post(url: str, *, headers: dict[str, str], body: bytes, settings: Settings) -> AttemptResult:
    """POST once; every failure becomes an AttemptResult, never an exception."""
    started, clock = utcnow(), time.perf_counter()

    def done(**fields: Any) -> AttemptResult:
        return AttemptResult(started_at=started, duration_ms=int((time.perf_counter() - clock) * 1000), **fields)

    try:
        async with asyncio.timeout(settings.webhook_total_timeout_s):
            host, port = url_parts(url)
            address = await resolve_checked(host, port, allow_private=settings.webhook_allow_private)
            async with _client(address, settings) as client, client.stream(
                "POST", url, content=body, headers={**headers, "user-agent": USER_AGENT}
            ) as response:
                excerpt = await _excerpt(response)
    except UnsafeTarget as exc:
        return done(error=exc.kind, excerpt=str(exc)[:EXCERPT_BYTES])
    except (TimeoutError, httpx.TimeoutException):
        return done(error="timeout")
    except httpx.ConnectError:
        return done(error="connect_error")
    except httpx.HTTPError as exc:
        return done(error="network_error", excerpt=type(exc).__name__)
    retry_after = retry_after_seconds(response.headers.get("retry-after"), utcnow())
    return done(status_code=response.status_code, excerpt=excerpt, retry_after_s=retry_after)
