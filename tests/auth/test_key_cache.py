"""An API process remembers keys it authenticated, and forgets them the moment keys change.

These tests run the app's lifespan, which starts the listener (the other tests run without it,
so every request there asks the database). The grants are easy; the denials are the point:
revocation, expiry, a deactivated unit, a lost listening connection.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from uuid import uuid4

import asyncpg
import httpx
import pytest

from app.auth.keycache import KeyCache, KeyRecord, key_cache
from app.auth.service import hash_secret
from app.main import app
from tests.fixtures import Province


@pytest.fixture
async def listening(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        assert key_cache.listening
        yield client


async def _status_becomes(client: httpx.AsyncClient, path: str, headers: dict[str, str], expected: int) -> float:
    """Seconds until `path` answers `expected` (fails after 3 s)."""
    started = time.monotonic()
    while (status := (await client.get(path, headers=headers)).status_code) != expected:
        assert time.monotonic() - started < 3, f"still {status} after 3 s"
        await asyncio.sleep(0.01)
    return time.monotonic() - started


async def _remembered(province: Province, key: str) -> bool:
    return key_cache.get(hash_secret(province.keys[key])) is not None


async def test_a_key_is_remembered_after_its_first_request(listening: httpx.AsyncClient, province: Province) -> None:
    assert not await _remembered(province, "station_member")
    response = await listening.get("/v1/units", headers=province.auth("station_member"))
    assert response.status_code == 200
    assert await _remembered(province, "station_member")


async def test_revoking_through_the_api_refuses_the_key_at_once(listening: httpx.AsyncClient, province: Province) -> None:
    path, member = "/v1/units", province.auth("station_member")
    assert (await listening.get(path, headers=member)).status_code == 200
    keys = (await listening.get("/v1/api-keys", headers=province.auth("station_admin"))).json()["items"]
    member_key = next(k for k in keys if k["name"] == "station_member")
    revoked = await listening.delete(f"/v1/api-keys/{member_key['id']}", headers=province.auth("station_admin"))
    assert revoked.status_code == 200
    assert await _status_becomes(listening, path, member, 401) < 1
    assert (await listening.get(path, headers=province.auth("station_admin"))).status_code == 200


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE api_keys SET revoked_at = now() WHERE unit_id = $1",
        "UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE unit_id = $1",
        "UPDATE units SET active = false WHERE id = $1",
    ],
    ids=["revoked", "expired", "unit_deactivated"],
)
async def test_a_change_made_directly_in_the_database_refuses_the_key(
    listening: httpx.AsyncClient, province: Province, database_url: str, change: str
) -> None:
    """Another process (or an operator at psql) changes keys: the triggers tell every API process."""
    path, member = "/v1/units", province.auth("station_member")
    assert (await listening.get(path, headers=member)).status_code == 200
    assert await _remembered(province, "station_member")
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(change, province.units["TYT-TV"])
    finally:
        await conn.close()
    assert await _status_becomes(listening, path, member, 401) < 1
    assert (await listening.get(path, headers=province.auth("centre_admin"))).status_code == 200


async def test_an_unrelated_unit_change_keeps_keys_remembered(
    listening: httpx.AsyncClient, province: Province, database_url: str
) -> None:
    assert (await listening.get("/v1/units", headers=province.auth("station_member"))).status_code == 200
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("UPDATE units SET name = name || ' (mới)' WHERE id = $1", province.units["TYT-TV"])
    finally:
        await conn.close()
    await asyncio.sleep(0.2)
    assert await _remembered(province, "station_member")


async def test_without_its_listening_connection_the_process_remembers_nothing(
    listening: httpx.AsyncClient, province: Province, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, member = "/v1/units", province.auth("station_member")
    assert (await listening.get(path, headers=member)).status_code == 200
    # It reconnects within milliseconds; hold it off (a refusing server) to look at the gap.
    monkeypatch.setattr(key_cache, "_dsn", "postgresql://postgres@127.0.0.1:1/nowhere")
    conn = await asyncpg.connect(database_url)
    try:
        killed = await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND query = 'LISTEN \"dondoc_auth\"'"
        )
        assert killed == 1
        deadline = time.monotonic() + 3
        while key_cache.listening:
            assert time.monotonic() < deadline, "the process did not notice its listener died"
            await asyncio.sleep(0.01)
        # Revoked while nobody listens: no notification reaches the process, and it must not matter.
        await conn.execute("UPDATE api_keys SET revoked_at = now() WHERE unit_id = $1", province.units["TYT-TV"])
    finally:
        await conn.close()
    assert (await listening.get(path, headers=member)).status_code == 401
    assert (await listening.get(path, headers=province.auth("centre_admin"))).status_code == 200
    assert not await _remembered(province, "centre_admin")  # nothing is remembered while nobody listens
    monkeypatch.setattr(key_cache, "_dsn", database_url)
    deadline = time.monotonic() + 5
    while not key_cache.listening:  # and it listens again by itself
        assert time.monotonic() < deadline, "the listener did not reconnect"
        await asyncio.sleep(0.05)
    assert (await listening.get(path, headers=member)).status_code == 401


def _record() -> KeyRecord:
    return KeyRecord(id=uuid4(), unit_id=uuid4(), role="member", revoked_at=None, expires_at=None, unit_active=True)


async def test_a_lookup_that_raced_a_notification_is_not_remembered(database_url: str) -> None:
    """A key read from the database before a change was notified must not be remembered after it."""
    cache = KeyCache()
    await cache.start(database_url, ttl_s=60)
    conn = await asyncpg.connect(database_url)
    try:
        assert cache.listening
        before = cache.generation  # the lookup starts ...
        await conn.execute("SELECT pg_notify('dondoc_auth', 'api_keys')")  # ... a key changes meanwhile ...
        deadline = time.monotonic() + 3
        while cache.generation == before:
            assert time.monotonic() < deadline, "no notification arrived"
            await asyncio.sleep(0.01)
        cache.put("hash", _record(), before)  # ... and its answer comes back: stale, so not kept
        assert cache.get("hash") is None
        cache.put("hash", _record(), cache.generation)
        assert cache.get("hash") is not None
    finally:
        await conn.close()
        await cache.stop()


async def test_a_cache_with_no_ttl_never_listens(database_url: str) -> None:
    cache = KeyCache()
    await cache.start(database_url, ttl_s=0)
    try:
        assert not cache.listening
        cache.put("hash", _record(), cache.generation)
        assert cache.get("hash") is None
    finally:
        await cache.stop()


async def test_an_unreachable_database_leaves_the_cache_off_and_retrying() -> None:
    cache = KeyCache()
    await cache.start("postgresql://postgres@127.0.0.1:1/none", ttl_s=60)
    try:
        assert not cache.listening
        assert cache._reconnect is not None and not cache._reconnect.done()
    finally:
        await cache.stop()
    assert cache._reconnect is None
