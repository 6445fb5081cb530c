"""Keys an API process has authenticated, forgotten the moment the database says keys changed.

Every request authenticates, and on this machine each database round trip costs a request
more CPU than anything else it does: without this, the key lookup was half of a simple read.
So an API process remembers what a key stood for and asks the database again only when:

- it has not asked within `auth_cache_ttl_s` (a bound, not the mechanism);
- it heard `NOTIFY dondoc_auth`, which triggers send at the commit of any change to a key
  (revocation, expiry, role, unit), of a unit's `active` flag, or any delete or truncate of
  either table (migration 8b41d0c7e5a3). It then forgets every key: such changes are rare;
- its listening connection is down: then it remembers nothing, so a notification it could not
  hear cannot keep a revoked key alive. It reconnects in the background.

The one window left is the notification's trip after commit (about a millisecond on one host):
a request in that window acts as if it had arrived just before the revocation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

CHANNEL = "dondoc_auth"
RECONNECT_S = 1.0

log = logging.getLogger("dondoc.auth")


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """What the key lookup returns: enough to decide 401 or a `Caller` without the database."""

    id: UUID
    unit_id: UUID
    role: str
    revoked_at: datetime | None
    expires_at: datetime | None
    unit_active: bool


@dataclass(slots=True)
class _Entry:
    record: KeyRecord
    fetched_at: float


class KeyCache:
    """Per-process memory of authenticated keys (by secret hash), kept honest by LISTEN/NOTIFY."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._connection: asyncpg.Connection | None = None
        self._reconnect: asyncio.Task[None] | None = None
        self._dsn = ""
        self._ttl_s = 0.0
        self._stopped = True
        # Bumped by every notification: a lookup that began before one must not be remembered after it.
        self.generation = 0

    @property
    def listening(self) -> bool:
        return self._connection is not None and not self._connection.is_closed()

    def get(self, secret_hash: str) -> KeyRecord | None:
        if not self.listening:
            return None
        entry = self._entries.get(secret_hash)
        if entry is None or time.monotonic() - entry.fetched_at > self._ttl_s:
            return None
        return entry.record

    def put(self, secret_hash: str, record: KeyRecord, generation: int) -> None:
        """Remember `record`, read from the database when `self.generation` was `generation`."""
        if self.listening and generation == self.generation:
            self._entries[secret_hash] = _Entry(record, time.monotonic())

    def forget_all(self) -> None:
        self.generation += 1
        self._entries.clear()

    async def start(self, dsn: str, ttl_s: float) -> None:
        """Listen for key changes; with `ttl_s` 0 the cache stays off. Never fails: it retries instead."""
        self._dsn, self._ttl_s, self._stopped = dsn, ttl_s, False
        if ttl_s > 0 and not await self._listen():
            self._reconnect_later()

    async def stop(self) -> None:
        self._stopped = True
        if self._reconnect is not None:
            self._reconnect.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reconnect
            self._reconnect = None
        connection, self._connection = self._connection, None
        self.forget_all()
        if connection is not None and not connection.is_closed():
            await connection.close()

    async def _listen(self) -> bool:
        try:
            connection = await asyncpg.connect(self._dsn)
            connection.add_termination_listener(self._lost)
            await connection.add_listener(CHANNEL, self._notified)
        except (OSError, asyncpg.PostgresError) as error:
            log.warning("key cache: cannot listen for key changes, every request asks the database", extra={"error": str(error)})
            return False
        self.forget_all()  # anything remembered before this connection may have missed a notification
        self._connection = connection
        return True

    def _notified(self, connection: object, pid: int, channel: str, payload: str) -> None:
        self.forget_all()

    def _lost(self, connection: object) -> None:
        self._connection = None
        self.forget_all()
        if not self._stopped:
            self._reconnect_later()

    def _reconnect_later(self) -> None:
        if self._reconnect is None or self._reconnect.done():
            self._reconnect = asyncio.get_running_loop().create_task(self._reconnect_loop())

    async def _reconnect_loop(self) -> None:
        while not self._stopped and not await self._listen():
            await asyncio.sleep(RECONNECT_S)


key_cache = KeyCache()
