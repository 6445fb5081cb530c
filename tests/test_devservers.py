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
