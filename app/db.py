"""Engines, sessions and the per-request unit of work.

One request is one transaction: the session dependency commits once after the
endpoint returns, so a state change and its audit entry commit together or not
at all. Relationships refuse lazy loading so a hidden query fails loudly.

Reads (GET, HEAD) use a second pool whose connections are read-only at the
server and run without BEGIN/COMMIT. Under READ COMMITTED every statement takes
its own snapshot whether or not a transaction wraps it, so for a request that
writes nothing a transaction would only add two round trips; and a read
endpoint that tried to write would fail loudly instead of half-committing.

The hottest reads (an API key, an assignment, an inbox page) run on a third pool, read-only
like the read pool but with `plan_cache_mode = force_generic_plan`: PostgreSQL plans each of
their statements once per connection instead of on every execution. Left to choose, it
re-planned the inbox's union of index walks every time, and planning took longer than running
it. The setting is per pool, not global, because other reads need per-execution plans: a
generic plan for a directive search cannot see the search word, and took 20 ms where the custom
plan took 0.2. That pool is asyncpg's own, without SQLAlchemy: checking a connection out and in
through SQLAlchemy cost more CPU than the statement.

The hottest write, a report submission, runs on a fourth pool: writable, with the same fixed
plans, and without SQLAlchemy or a transaction of its own (`write_connection`). Its statements
are DriverStatements only, and the one that writes is all-or-nothing by itself.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import asyncpg
import orjson
from asyncpg.transaction import Transaction
from fastapi import Depends, Request
from sqlalchemy import Executable, MetaData
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlmodel import SQLModel

from app.idempotency.claim import current_claim
from app.settings import async_database_url, driver_database_url, get_settings

# The naming convention is set in app/__init__.py, before any table is defined.
metadata: MetaData = SQLModel.metadata

READ_METHODS = frozenset({"GET", "HEAD"})

_engine: AsyncEngine | None = None
_sessionmaker: async_sessionmaker[AsyncSession] | None = None
_read_engine: AsyncEngine | None = None
_read_sessionmaker: async_sessionmaker[AsyncSession] | None = None
_fixed_plan_pools: dict[bool, asyncpg.Pool] = {}  # by read_only
_READ_ONLY = {"default_transaction_read_only": "on"}
# Every connection turns PostgreSQL's JIT compilation off. It only pays on long analytical queries,
# and the planner's row estimates set it off on short ones: the deadline scan, finding nothing due,
# spent 23 ms compiling for a 1 ms statement (the planner expects many past-due pending steps; the
# previous scan left none), on every tick, as a burst that stalled the API's requests behind it.
_SERVER_SETTINGS = {"jit": "off"}


def _create_engine(server_settings: dict[str, str] | None = None, **options: Any) -> AsyncEngine:
    settings = get_settings()
    return create_async_engine(
        async_database_url(settings.database_url),
        connect_args={"server_settings": {**_SERVER_SETTINGS, **(server_settings or {})}},
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        # No pre-ping: with asyncpg it is BEGIN, a query and ROLLBACK before every checkout, half
        # of a read's round trips. A connection the server dropped fails its first statement
        # instead, and SQLAlchemy then discards every pooled connection made before it.
        pool_pre_ping=False,
        pool_recycle=settings.db_pool_recycle_s,
        # orjson writes UUIDs and datetimes in JSONB columns natively, and fast.
        json_serializer=lambda value: orjson.dumps(value, default=str).decode(),
        json_deserializer=orjson.loads,
        **options,
    )


def get_engine() -> AsyncEngine:
    global _engine, _sessionmaker
    if _engine is None:
        _engine = _create_engine()
        _sessionmaker = async_sessionmaker(_engine, expire_on_commit=False, autoflush=False)
    return _engine


def sessionmaker() -> async_sessionmaker[AsyncSession]:
    get_engine()
    assert _sessionmaker is not None
    return _sessionmaker


def read_sessionmaker() -> async_sessionmaker[AsyncSession]:
    """Sessions for read requests: autocommit, on connections the server keeps read-only."""
    global _read_engine, _read_sessionmaker
    if _read_sessionmaker is None:
        _read_engine = _create_engine(_READ_ONLY, isolation_level="AUTOCOMMIT")
        _read_sessionmaker = async_sessionmaker(_read_engine, expire_on_commit=False, autoflush=False)
    return _read_sessionmaker


class _FixedPlanConnection(asyncpg.Connection):  # type: ignore[misc]
    def get_reset_query(self) -> str:
        # Nothing to reset when one goes back to the pool: these connections run single read-only
        # statements or a report's transaction, never SET, LISTEN, advisory locks or cursors (an open
        # transaction asyncpg always ends itself). The reset was a round trip each.
        return ""


async def fixed_plan_pool(*, read_only: bool = True) -> asyncpg.Pool:
    """Connections on which every statement keeps one plan (see the module docstring): read-only for
    the hottest reads, writable for `write_connection`."""
    pool = _fixed_plan_pools.get(read_only)
    if pool is None:
        settings = get_settings()
        server_settings = {**_SERVER_SETTINGS, **(_READ_ONLY if read_only else {}), "plan_cache_mode": "force_generic_plan"}
        pool = await asyncpg.create_pool(
            driver_database_url(settings.database_url), min_size=0, max_size=settings.db_pool_size + settings.db_max_overflow,
            connection_class=_FixedPlanConnection, server_settings=server_settings,
        )
        if read_only in _fixed_plan_pools:  # another request made one meanwhile
            await pool.close()
        else:
            _fixed_plan_pools[read_only] = pool
    return _fixed_plan_pools[read_only]


async def dispose_engine() -> None:
    global _engine, _sessionmaker, _read_engine, _read_sessionmaker
    for engine in (_engine, _read_engine):
        if engine is not None:
            await engine.dispose()
    for pool in _fixed_plan_pools.values():
        await pool.close()
    _fixed_plan_pools.clear()
    _engine, _sessionmaker, _read_engine, _read_sessionmaker = None, None, None, None


async def unit_of_work(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's transaction: committed once if the endpoint succeeds, rolled back otherwise.

    A GET or HEAD gets a read-only autocommit session (see the module docstring). A write sent with
    an Idempotency-Key is not committed here but handed to its claim, which commits it together
    with the stored response (see app/idempotency/claim.py).
    """
    if request.method in READ_METHODS:
        async with read_sessionmaker()() as session:
            yield session
        return
    claim = current_claim.get()
    session = sessionmaker()()
    try:
        yield session
        if claim is None:
            await session.commit()
    except BaseException:
        await session.rollback()
        await session.close()
        raise
    if claim is None:
        await session.close()
    else:
        claim.hold(_HeldSession(session))


Session = Annotated[AsyncSession, Depends(unit_of_work, scope="function")]


@asynccontextmanager
async def write_connection() -> AsyncIterator[asyncpg.Connection]:
    """A bare asyncpg connection on the fixed-plan write pool, outside any transaction: each statement
    commits on its own.

    For the hottest write (a report submission), which reads, decides, and writes with one statement
    that checks the version it read: SQLAlchemy's session, checkout and commit cost more CPU than its
    statements, and BEGIN and COMMIT would double its round trips. The pool's connections keep one
    plan per statement without a SET per transaction. The endpoint enters it itself: as a FastAPI
    dependency with `yield`, its exit stack and cancel scope cost a twentieth of a report's API CPU.

    A request sent with an Idempotency-Key gets the connection inside a transaction instead, handed
    to its claim on the way out, like unit_of_work's session.
    """
    pool = await fixed_plan_pool(read_only=False)
    claim = current_claim.get()
    if claim is None:
        async with pool.acquire() as connection:
            yield connection
        return
    connection = await pool.acquire()
    held = _HeldConnection(pool, connection, connection.transaction())
    try:
        await held.transaction.start()
    except BaseException:  # BEGIN failed or was cancelled in flight: its state is unknown (see driver_connection)
        connection.terminate()
        await pool.release(connection)
        raise
    try:
        yield connection
    except BaseException:
        await held.rollback()
        raise
    claim.hold(held)


@dataclass(frozen=True, slots=True)
class _HeldSession:
    """A request's session handed to its idempotency claim: committed or rolled back, then closed."""

    session: AsyncSession

    @property
    def within(self) -> AsyncSession:
        return self.session

    async def commit(self) -> None:
        try:
            await self.session.commit()
        finally:
            await self.session.close()

    async def rollback(self) -> None:
        try:
            await self.session.rollback()
        finally:
            await self.session.close()


@dataclass(frozen=True, slots=True)
class _HeldConnection:
    """A report's connection and transaction handed to its idempotency claim: ended, then pooled again."""

    pool: asyncpg.Pool
    connection: asyncpg.Connection
    transaction: Transaction

    @property
    def within(self) -> asyncpg.Connection:
        return self.connection

    async def commit(self) -> None:
        await self._end(self.transaction.commit)

    async def rollback(self) -> None:
        await self._end(self.transaction.rollback)

    async def _end(self, how: Callable[[], Awaitable[None]]) -> None:
        try:
            await how()
        except BaseException:
            # The transaction's state is unknown (a failed COMMIT, a cancelled ROLLBACK): the
            # connection must not go back to the pool with it (see driver_connection).
            self.connection.terminate()
            raise
        finally:
            await self.pool.release(self.connection)


# What a DriverStatement runs in: a session's transaction, or a bare connection (write_connection's).
InTransaction = AsyncSession | asyncpg.Connection


async def driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The session's asyncpg connection, inside the session's transaction, for the few hot or bulk
    statements where SQLAlchemy's per-statement work costs more than the statement itself."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    # SQLAlchemy's asyncpg adapter sends BEGIN only before its own first statement: one run straight
    # on the driver first would otherwise commit on its own. (A read session is autocommit: no BEGIN.)
    adapter = raw.dbapi_connection
    if adapter is not None and adapter._transaction is None:
        try:
            await adapter._start_transaction()
        except BaseException:
            # Cancelled (or failed) while BEGIN was in flight, asyncpg still counts a transaction as
            # begun that SQLAlchemy never tracked. Back in the pool, the connection's next BEGIN would
            # become a SAVEPOINT and its COMMIT a mere RELEASE, leaving a transaction open with its
            # locks. (SQLAlchemy closes a connection an exception interrupts in its own statements.)
            await connection.invalidate()
            raise
    driver = raw.driver_connection
    assert driver is not None
    return driver


async def _in_transaction(within: InTransaction) -> asyncpg.Connection:
    # (A pooled connection is asyncpg's proxy for one, not an asyncpg.Connection.)
    return await driver_connection(within) if isinstance(within, AsyncSession) else within


async def plan_once(session: AsyncSession) -> None:
    """For the rest of the session's transaction, statements keep one plan per connection.

    For hot writes made of a few fixed statements (a report submission): PostgreSQL spent more
    CPU re-planning their joins on every execution than running them. Not for a transaction whose
    statements' best plan depends on their values (bulk imports' arrays, searches).
    """
    await (await driver_connection(session)).execute("SET LOCAL plan_cache_mode = force_generic_plan")


@dataclass(frozen=True, slots=True)
class DriverStatement:
    """A SQLAlchemy statement compiled once to asyncpg's SQL, run without SQLAlchemy's per-execution work.

    For the hottest statements only: reads run on the fixed-plan pool, writes in the session's
    transaction. The statement is still written (and reviewed) as SQLAlchemy, but a row comes back
    as asyncpg decodes it (a jsonb column as text), so columns needing SQLAlchemy's result
    processing don't belong.
    """

    sql: str
    names: tuple[str, ...]
    fixed: dict[str, Any]  # values the statement carries itself, such as a LIMIT

    @classmethod
    def of(cls, statement: Executable) -> "DriverStatement":
        compiled = statement.compile(dialect=asyncpg_dialect())
        if "__[POSTCOMPILE_" in compiled.string:  # expanding IN: its SQL would change with each list's length
            raise ValueError("a DriverStatement takes no expanding IN; bind a list as = ANY(array) instead")
        fixed = {name: value for name, value in compiled.params.items() if value is not None}
        return cls(compiled.string, tuple(compiled.positiontup or ()), fixed)

    def _args(self, params: dict[str, Any]) -> list[Any]:
        return [params[name] if name in params else self.fixed[name] for name in self.names]

    async def fetchrow(self, within: InTransaction, **params: Any) -> asyncpg.Record | None:
        """The first row, in the session's transaction (or on the bare connection)."""
        return await (await _in_transaction(within)).fetchrow(self.sql, *self._args(params))

    async def fetch(self, within: InTransaction, **params: Any) -> list[asyncpg.Record]:
        """Every row, in the session's transaction (or on the bare connection)."""
        return await (await _in_transaction(within)).fetch(self.sql, *self._args(params))

    async def fetchval(self, within: InTransaction, **params: Any) -> Any:
        """The first column of the first row, in the session's transaction (or on the bare connection)."""
        return await (await _in_transaction(within)).fetchval(self.sql, *self._args(params))

    async def execute(self, within: InTransaction, **params: Any) -> None:
        """Run it in the session's transaction (or on the bare connection)."""
        await (await _in_transaction(within)).execute(self.sql, *self._args(params))

    async def read_one(self, **params: Any) -> asyncpg.Record | None:
        """The first row, read on the fixed-plan pool: outside any transaction, so committed rows only."""
        async with (await fixed_plan_pool()).acquire() as driver:
            return await driver.fetchrow(self.sql, *self._args(params))

    async def read_all(self, **params: Any) -> list[asyncpg.Record]:
        """Every row, read on the fixed-plan pool: outside any transaction, so committed rows only."""
        async with (await fixed_plan_pool()).acquire() as driver:
            return await driver.fetch(self.sql, *self._args(params))


async def copy_records(session: AsyncSession, table: str, columns: list[str], records: list[tuple[object, ...]]) -> None:
    """Bulk-insert rows with COPY inside the session's transaction (asyncpg's binary COPY; jsonb values as JSON text)."""
    if not records:
        return
    driver = await driver_connection(session)
    await driver.copy_records_to_table(table, records=records, columns=columns)
