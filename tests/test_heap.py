"""Processes freeze what they hold at startup, so collections stop rescanning it."""

import gc

import httpx

from app.main import app
from app.ops.heap import WORKER_GC_THRESHOLDS, freeze_startup_heap
from workers.settings import startup


def test_freezing_moves_the_startup_heap_out_of_collections() -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    freeze_startup_heap()
    assert gc.get_freeze_count() > 10_000  # modules, models and schemas loaded by the test session


async def test_the_api_freezes_its_heap_at_startup(client: httpx.AsyncClient) -> None:
    gc.unfreeze()
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() > 10_000


async def test_the_worker_collects_less_often_than_the_default() -> None:
    default = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    try:
        await startup({})
        assert gc.get_threshold() == WORKER_GC_THRESHOLDS
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.set_threshold(*default)
