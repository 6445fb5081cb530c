"""What the webhook tests share: a local receiver that webhooks may reach, and a worker-like job context."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.settings import get_settings
from tests.webhooks.receiver import Receiver, arq_pool


@pytest.fixture
async def receiver(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Receiver]:
    """A receiver on 127.0.0.1, not yet listening (`await receiver.start()` gives its URL), and private targets allowed."""
    monkeypatch.setattr(get_settings(), "webhook_allow_private", True)
    server = Receiver()
    yield server
    await server.close()


@pytest.fixture
async def ctx() -> AsyncIterator[dict[str, Any]]:
    """The context an ARQ job gets, with a pool on the test queue's Redis."""
    redis = await arq_pool()
    yield {"redis": redis}
    await redis.aclose()
