"""The embedded servers leave nothing behind that was meant to be thrown away."""

import os

import pytest

from app import devservers


def test_a_throw_away_valkey_removes_its_directory_when_stopped(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(devservers, "DATA_DIR", tmp_path)
    monkeypatch.setenv("DATABASE_URL", "postgresql://unused")  # only Valkey is started here
    monkeypatch.delenv("REDIS_URL", raising=False)
    servers = devservers.ensure_servers(persist_redis=False)
    try:
        assert servers.started == ["valkey"]
        assert [p.name for p in tmp_path.iterdir()] == [f"valkey-{os.getpid()}"]
    finally:
        servers.stop()
    assert list(tmp_path.iterdir()) == []


def test_the_embedded_postgresql_is_sized_to_the_machine(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """A new data directory starts with initdb's 128 MB of shared buffers; the server is restarted once with more."""
    monkeypatch.setattr(devservers, "DATA_DIR", tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("REDIS_URL", "redis://unused")  # only PostgreSQL is started here
    servers = devservers.ensure_servers(database="postgres")
    try:
        assert servers.started == ["postgresql"]
        for name, value in devservers.server_settings().items():
            out = servers._postgres.psql(
                f"SELECT '{name}:' || (pg_size_bytes(current_setting('{name}')) = pg_size_bytes('{value}'))::text;"
            )
            assert f"{name}:true" in out
        assert devservers.shared_buffers_mb() > 128  # this machine has more than 512 MB: the size did change
    finally:
        servers.stop()
