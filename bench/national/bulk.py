"""Bulk loading: drop a table's secondary indexes, unique and foreign-key constraints, load, rebuild.

Building an index once over sorted data is several times faster than maintaining it row by row,
and one foreign-key validation join is faster than millions of per-row checks. The definitions
are read back from the catalogue (`pg_get_indexdef`, `pg_get_constraintdef`) and replayed
verbatim, so the schema afterwards is exactly what the migrations built. Primary keys stay.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import asyncpg

_INDEXES = """
SELECT c.relname AS table, i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
WHERE c.relname = ANY($1::text[]) AND NOT i.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x'))
"""
_CONSTRAINTS = """
SELECT c.relname AS table, k.conname AS name, k.contype::text AS type, pg_get_constraintdef(k.oid) AS definition
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
WHERE c.relname = ANY($1::text[]) AND k.contype IN ('u', 'f')
"""


@dataclass
class Saved:
    indexes: list[asyncpg.Record]
    constraints: list[asyncpg.Record]


async def strip(conn: asyncpg.Connection, tables: list[str]) -> Saved:
    saved = Saved(list(await conn.fetch(_INDEXES, tables)), list(await conn.fetch(_CONSTRAINTS, tables)))
    for k in sorted(saved.constraints, key=lambda r: r["type"] != "f"):  # foreign keys first
        await conn.execute(f'ALTER TABLE "{k["table"]}" DROP CONSTRAINT "{k["name"]}"')
    for i in saved.indexes:
        await conn.execute(f"DROP INDEX {i['name']}")
    return saved


async def restore(url: str, saved: Saved, *, parallel: int = 2) -> None:
    """Rebuild indexes on `parallel` connections, then the foreign keys (which may need the unique ones)."""
    statements = [i["definition"] for i in saved.indexes] + [
        f'ALTER TABLE "{k["table"]}" ADD CONSTRAINT "{k["name"]}" {k["definition"]}' for k in saved.constraints if k["type"] == "u"
    ]
    await _run_all(url, statements, parallel)
    foreign_keys = [
        f'ALTER TABLE "{k["table"]}" ADD CONSTRAINT "{k["name"]}" {k["definition"]}' for k in saved.constraints if k["type"] == "f"
    ]
    await _run_all(url, foreign_keys, 1)  # each locks two tables: one at a time cannot deadlock
    conn = await asyncpg.connect(url)
    try:
        tables = sorted({r["table"] for r in saved.indexes + saved.constraints})
        back = (len(await conn.fetch(_INDEXES, tables)), len(await conn.fetch(_CONSTRAINTS, tables)))
    finally:
        await conn.close()
    assert back == (len(saved.indexes), len(saved.constraints)), f"rebuilt {back}, expected {len(saved.indexes)}, {len(saved.constraints)}"


async def _run_all(url: str, statements: list[str], parallel: int) -> None:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for s in statements:
        queue.put_nowait(s)

    async def drain() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("SET maintenance_work_mem = '512MB'; SET max_parallel_maintenance_workers = 0")
            while not queue.empty():
                await conn.execute(queue.get_nowait())
        finally:
            await conn.close()

    await asyncio.gather(*(drain() for _ in range(parallel)))
