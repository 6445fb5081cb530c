"""Webhook delivery rules: the retry schedule, what an attempt's result means, and the SSRF guard.

SSRF: the host is resolved, every address it resolves to must be public (unless
`DONDOC_WEBHOOK_ALLOW_PRIVATE`), and the sender (`app.webhooks.sender`) connects to the address
checked, never to the name again: DNS rebinding between check and connect is impossible.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import random
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

# Delay before attempt 1..8: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (Standard Webhooks' advice).
RETRY_SCHEDULE: tuple[int, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
MAX_ATTEMPTS = len(RETRY_SCHEDULE)
JITTER = 0.10
# A receiver may ask for a later retry, but not for one later than a day: attempts stay bounded.
MAX_RETRY_AFTER_S = 86_400
EXCERPT_BYTES = 1024


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


def parse_url(url: str) -> httpx.URL:
    """An http(s) URL with a host, or UnsafeTarget('invalid_url')."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise UnsafeTarget("invalid_url", f"not a URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise UnsafeTarget("invalid_url", "must be an http:// or https:// URL with a host")
    return parsed


def url_parts(url: str) -> tuple[str, int]:
    """(host, port) of an http(s) URL with a host, or UnsafeTarget('invalid_url')."""
    parsed = parse_url(url)
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
