"""The unit of work: writes commit together; read requests run on read-only, autocommit connections."""

import asyncio

import asyncpg
import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app.db import DriverStatement, driver_connection, plan_once, read_sessionmaker, sessionmaker, write_connection
from tests.fixtures import Province


async def test_a_read_session_cannot_write(db: str) -> None:
    async with read_sessionmaker()() as session:
        with pytest.raises(DBAPIError, match="read-only transaction"):
            await session.execute(text("INSERT INTO unit_kinds (code, name) VALUES ('probe', 'Probe')"))
    async with sessionmaker()() as session:
        assert await session.scalar(text("SELECT count(*) FROM unit_kinds WHERE code = 'probe'")) == 0


async def test_a_read_session_runs_each_statement_on_its_own(db: str) -> None:
    """No BEGIN: every statement is its own transaction, so each sees a new transaction start time."""
    async with read_sessionmaker()() as session:
        first = await session.scalar(text("SELECT now()"))
        await session.execute(text("SELECT pg_sleep(0.01)"))
        second = await session.scalar(text("SELECT now()"))
    assert second > first


async def test_write_requests_keep_one_transaction(db: str) -> None:
    async with sessionmaker()() as session:
        first = await session.scalar(text("SELECT now()"))
        await session.execute(text("SELECT pg_sleep(0.01)"))
        second = await session.scalar(text("SELECT now()"))
        await session.rollback()
    assert second == first


async def test_statements_on_the_driver_run_inside_the_sessions_transaction(db: str) -> None:
    """A COPY or raw statement first in a transaction must not commit on its own."""
    async with sessionmaker()() as session:
        driver = await driver_connection(session)
        assert driver.is_in_transaction()
        await driver.execute("INSERT INTO unit_kinds (code, name) VALUES ('probe', 'Probe')")
        await session.rollback()
    async with read_sessionmaker()() as session:
        assert not (await driver_connection(session)).is_in_transaction()
        assert await (await driver_connection(session)).fetchval("SELECT count(*) FROM unit_kinds WHERE code = 'probe'") == 0


async def test_a_get_request_sees_what_a_post_just_committed(client: httpx.AsyncClient, province: Province) -> None:
    """Reads use their own pool, on the same database: nothing a write committed is missing from the next read."""
    for n in range(5):
        body = {"code": f"TYT-N{n}", "name": f"Trạm Y tế số {n}", "kind": "commune_health_station", "parent_code": "TTYT-TH"}
        created = await client.post("/v1/units", json=body, headers=province.auth("root_admin"))
        assert created.status_code == 201, created.text
        read = await client.get(f"/v1/units/{created.json()['id']}", headers=province.auth("station_admin"))
        assert read.status_code == 404  # a station's key does not see its sibling: the read pool applies scope too
        read = await client.get(f"/v1/units/{created.json()['id']}", headers=province.auth("centre_admin"))
        assert read.status_code == 200 and read.json()["code"] == f"TYT-N{n}"


async def test_the_fixed_plan_pool_is_read_only_and_plans_each_statement_once(db: str) -> None:
    """The hottest reads keep one plan per connection; every other read is planned for its own values."""
    settings = select(func.current_setting("plan_cache_mode").label("mode"), func.current_setting("transaction_read_only").label("ro"))
    row = await DriverStatement.of(settings).read_one()
    assert row is not None and (row["mode"], row["ro"]) == ("force_generic_plan", "on")
    for factory in (read_sessionmaker(), sessionmaker()):
        async with factory() as session:
            assert await session.scalar(text("SHOW plan_cache_mode")) == "auto"


async def test_a_fixed_plan_read_sees_only_committed_rows(db: str) -> None:
    """It runs on its own connection, outside the caller's transaction."""
    probes = DriverStatement.of(select(func.count()).select_from(text("unit_kinds")).where(text("code = 'probe'")))
    async with sessionmaker()() as session:
        await session.execute(text("INSERT INTO unit_kinds (code, name) VALUES ('probe', 'Probe')"))
        assert (await probes.read_all())[0][0] == 0
        await session.commit()
    assert (await probes.read_all())[0][0] == 1


async def test_plan_once_lasts_for_the_transaction_only(db: str) -> None:
    async with sessionmaker()() as session:
        await plan_once(session)
        assert await session.scalar(text("SHOW plan_cache_mode")) == "force_generic_plan"
        await session.commit()
        assert await session.scalar(text("SHOW plan_cache_mode")) == "auto"  # the next transaction, same connection


async def test_a_write_connection_commits_each_statement_on_its_own(db: str) -> None:
    """The report endpoint's connection: writable, fixed plans, no transaction around its statements,
    so each is all-or-nothing by itself and nothing waits for the endpoint to return."""
    insert = DriverStatement.of(text("INSERT INTO unit_kinds (code, name) VALUES (:code, :name)"))
    count = DriverStatement.of(text("SELECT count(*) FROM unit_kinds WHERE code LIKE 'probe%'"))
    settings = DriverStatement.of(text("SELECT current_setting('plan_cache_mode') || '/' || current_setting('transaction_read_only')"))

    with pytest.raises(RuntimeError, match="endpoint failed"):
        async with write_connection() as connection:
            assert await settings.fetchval(connection) == "force_generic_plan/off"
            assert not connection.is_in_transaction()
            await insert.execute(connection, code="probe-1", name="Probe")
            assert (await count.read_all())[0][0] == 1  # committed already, seen from another connection
            with pytest.raises(asyncpg.NotNullViolationError):
                await insert.execute(connection, code="probe-2", name=None)
            await insert.execute(connection, code="probe-3", name="Probe")  # the failed statement left nothing open
            raise RuntimeError("endpoint failed")
    assert (await count.read_all())[0][0] == 2


async def test_every_pool_runs_without_jit(db: str) -> None:
    """JIT compilation cost short statements (the deadline scan finding nothing) more than running them."""
    jit = DriverStatement.of(text("SELECT current_setting('jit')"))
    assert (await jit.read_all())[0][0] == "off"
    for factory in (read_sessionmaker(), sessionmaker()):
        async with factory() as session:
            assert await session.scalar(text("SHOW jit")) == "off"
    async with write_connection() as connection:
        assert await jit.fetchval(connection) == "off"


async def _left_in_a_transaction(database_url: str) -> int:
    """Backends of this database in a transaction nobody is running, seen from outside the pools."""
    outside = await asyncpg.connect(database_url)
    try:
        return await outside.fetchval(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND state = 'idle in transaction'"
        )
    finally:
        await outside.close()


async def test_a_task_cancelled_as_it_begins_on_the_driver_spoils_no_pooled_connection(db: str) -> None:
    """A batch prepared ahead is cancelled when its batch fails, perhaps while BEGIN is in flight.

    The connection must not go back to the pool believing a transaction is open that SQLAlchemy
    does not track: the next session's BEGIN would become a SAVEPOINT, its COMMIT a RELEASE, and
    the real transaction would stay open, holding its locks, until the process exits.
    """

    async def begin_on_the_driver() -> None:
        async with sessionmaker()() as session:
            await driver_connection(session)
            await asyncio.sleep(10)

    for attempt in range(40):
        task = asyncio.create_task(begin_on_the_driver())
        await asyncio.sleep(attempt * 0.00005)  # cancel at a different moment: before, during, after BEGIN
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        async with sessionmaker()() as session, session.begin():
            await session.execute(text("SELECT 1"))
        assert await _left_in_a_transaction(db) == 0, f"a committed session stayed in its transaction ({attempt})"
