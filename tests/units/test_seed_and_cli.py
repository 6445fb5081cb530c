"""The demo province loads once and again without change; the CLI mints a working key."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import httpx

from app.db import sessionmaker
from app.units.seed import seed_demo


async def test_seed_demo_loads_the_province_and_is_idempotent(client: httpx.AsyncClient) -> None:
    async with sessionmaker()() as session, session.begin():
        first = await seed_demo(session)
    async with sessionmaker()() as session, session.begin():
        second = await seed_demo(session)
    assert first.errors == 0 and first.created >= 279
    assert second.created == 0 and second.updated == 0 and second.unchanged == first.created


async def test_cli_keys_create_mints_a_key_for_the_seeded_root(client: httpx.AsyncClient) -> None:
    async with sessionmaker()() as session, session.begin():
        await seed_demo(session)
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "app.cli", "keys", "create", "--unit-code", "SYT-TH", "--role", "reader"],
        capture_output=True, text=True, env=os.environ.copy(), timeout=60,
    )
    assert result.returncode == 0, result.stderr
    secret = result.stdout.strip()
    found = await client.get("/v1/units", params={"q": "tram y te thieu van"}, headers={"X-API-Key": secret})
    assert [u["name"] for u in found.json()["items"]] == ["Trạm Y tế xã Thiệu Vận"]


async def test_cli_keys_create_for_an_unknown_unit_fails_clearly(client: httpx.AsyncClient) -> None:
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "app.cli", "keys", "create", "--unit-code", "NOPE"],
        capture_output=True, text=True, env=os.environ.copy(), timeout=60,
    )
    assert result.returncode == 2
    assert "No unit with code 'NOPE'" in result.stderr
