"""`make run`: one command from a fresh clone to a working, authenticated API with a demo province.

Starts embedded PostgreSQL and Valkey when DATABASE_URL / REDIS_URL are unset,
migrates, seeds the demo province the first time, makes sure a bootstrap admin
key exists (printed and kept in .data/admin.key), then runs the API and one
worker until Ctrl-C, and stops everything it started.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

from sqlalchemy import func, select

from app.devservers import DATA_DIR, ensure_servers
from app.migrate import upgrade_to_head

ADMIN_KEY_FILE = DATA_DIR / "admin.key"


def say(message: str) -> None:
    print(f"[dondoc] {message}", flush=True)


async def _prepare() -> str:
    """Seed once and return a working admin key (reusing the one on disk when it still works)."""
    from app.auth.models import Role
    from app.auth.service import authenticate, bootstrap_key
    from app.db import dispose_engine, sessionmaker
    from app.errors import Unauthorized
    from app.units.demo_data import ROOT_CODE
    from app.units.models import Unit
    from app.units.seed import seed_demo

    try:
        async with sessionmaker()() as session, session.begin():
            if not await session.scalar(select(func.count()).select_from(Unit)):
                result = await seed_demo(session)
                say(f"seeded the demo province: {result.created + 1} units")
            if ADMIN_KEY_FILE.exists():
                secret = ADMIN_KEY_FILE.read_text().strip()
                try:
                    await authenticate(secret)
                    return secret
                except Unauthorized:
                    say(f"{ADMIN_KEY_FILE} holds a key this database does not know; minting a new one")
            _, secret = await bootstrap_key(session, unit_code=ROOT_CODE, role=Role.admin, name="bootstrap admin")
        ADMIN_KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
        ADMIN_KEY_FILE.write_text(secret + "\n")
        ADMIN_KEY_FILE.chmod(0o600)
        return secret
    finally:
        await dispose_engine()


def _spawn(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "app.cli", *args], env=os.environ.copy())


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 25  # workers finish running jobs first (job_completion_wait)
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()


def run_dev() -> int:
    servers = ensure_servers()
    for name in servers.started:
        say(f"started embedded {name} (data in {DATA_DIR})")
    children: list[subprocess.Popen[bytes]] = []
    # Ctrl-C and SIGTERM both stop cleanly, even when started from a shell that ignores SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        upgrade_to_head(os.environ["DATABASE_URL"])
        say("database migrated")
        secret = asyncio.run(_prepare())
        port = os.environ.get("PORT", "8000")
        say(f"admin API key (also in {ADMIN_KEY_FILE}):\n\n    {secret}\n")
        say(f"try: curl -H 'Authorization: Bearer {secret}' http://127.0.0.1:{port}/v1/units?limit=5")
        children = [_spawn("serve", "--port", port), _spawn("worker")]
        say(f"API on http://127.0.0.1:{port} (docs at /docs), one worker; Ctrl-C stops everything")
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        say("a child process exited; stopping")
        return 1
    except KeyboardInterrupt:
        say("stopping")
        return 0
    finally:
        _stop(children)
        servers.stop()
