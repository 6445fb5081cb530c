"""Processes freeze what they hold at startup, so collections stop rescanning it."""

import gc

import httpx

from app.main import app
from app.ops.heap import freeze_startup_heap


def test_freezing_moves_the_startup_heap_out_of_collections() -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    freeze_startup_heap()
    assert gc.get_freeze_count() > 10_000  # modules, models and schemas loaded by the test session


async def test_the_api_freezes_its_heap_at_startup(client: httpx.AsyncClient) -> None:
    gc.unfreeze()
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() > 10_000
