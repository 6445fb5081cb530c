"""Engine, sessions and the per-request unit of work.

One request is one transaction: the session dependency commits once after the
endpoint returns, so a state change and its audit entry commit together or not
at all. Relationships refuse lazy loading so a hidden query fails loudly.
"""

from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import Depends
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlmodel import SQLModel

from app.settings import async_database_url, get_settings

# The naming convention is set in app/__init__.py, before any table is defined.
metadata: MetaData = SQLModel.metadata

_engine: AsyncEngine | None = None
_sessionmaker: async_sessionmaker[AsyncSession] | None = None


def get_engine() -> AsyncEngine:
    global _engine, _sessionmaker
    if _engine is None:
        settings = get_settings()
        _engine = create_async_engine(
            async_database_url(settings.database_url),
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_pre_ping=True,
            # orjson writes UUIDs and datetimes in JSONB columns natively, and fast.
            json_serializer=lambda value: orjson.dumps(value, default=str).decode(),
            json_deserializer=orjson.loads,
        )
        _sessionmaker = async_sessionmaker(_engine, expire_on_commit=False, autoflush=False)
    return _engine


def sessionmaker() -> async_sessionmaker[AsyncSession]:
    get_engine()
    assert _sessionmaker is not None
    return _sessionmaker


async def dispose_engine() -> None:
    global _engine, _sessionmaker
    if _engine is not None:
        await _engine.dispose()
    _engine, _sessionmaker = None, None


async def unit_of_work() -> AsyncIterator[AsyncSession]:
    """The request's transaction: committed once if the endpoint succeeds, rolled back otherwise."""
    async with sessionmaker()() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


Session = Annotated[AsyncSession, Depends(unit_of_work, scope="function")]


async def copy_records(session: AsyncSession, table: str, columns: list[str], records: list[tuple[object, ...]]) -> None:
    """Bulk-insert rows with COPY inside the session's transaction (asyncpg's binary COPY; jsonb values as JSON text)."""
    if not records:
        return
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.copy_records_to_table(table, records=records, columns=columns)
