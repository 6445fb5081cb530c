"""Streaming an NDJSON body into `import_lines` with COPY, a few thousand lines per short transaction.

Short transactions keep the event feed moving (its horizon is the oldest running write
transaction) and bound memory: the body is never held whole. Two of them are written at once,
on two connections, while the next lines are read: PostgreSQL's COPY, one core per backend, is
most of an upload's time. Lines that cannot even be
stored (not UTF-8, a NUL character, longer than MAX_LINE_BYTES) are staged already failed,
so every line of the file still gets an answer with its number.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import text

from app.db import copy_records, sessionmaker
from app.imports.models import LineStatus

MAX_LINE_BYTES = 2_000_000  # a directive's body may be up to 1 MB of text, escaped
FLUSH_LINES = 5_000
FLUSH_BYTES = 8_000_000
FLUSHES_AT_ONCE = 2
LINE_COLUMNS = ["job_id", "line_no", "raw", "status", "errors"]


@dataclass
class _Buffer:
    records: list[tuple[Any, ...]] = field(default_factory=list)
    size: int = 0
    failed: int = 0


@dataclass
class StagedCounts:
    total: int = 0
    failed: int = 0
    bytes: int = 0


async def stage_body(job_id: UUID, chunks: AsyncIterator[bytes]) -> StagedCounts:
    """Split the stream into lines and store each non-blank one; returns how many were stored.

    If the stream or a write fails, the writes still running are let end before the error goes up,
    so that the caller's cleanup finds every line that was stored.
    """
    counts = StagedCounts()
    buffer = _Buffer()
    writing: list[asyncio.Task[None]] = []
    pending = bytearray()
    line_no = 0
    skipping = False  # inside an over-long line: drop bytes until its end
    try:
        async for chunk in chunks:
            counts.bytes += len(chunk)
            start = 0
            while True:
                newline = chunk.find(b"\n", start)
                piece = chunk[start:] if newline < 0 else chunk[start:newline]
                if not skipping:
                    pending += piece
                    if len(pending) > MAX_LINE_BYTES:
                        skipping = True
                        pending.clear()
                if newline < 0:
                    break
                line_no += 1
                _add(buffer, job_id, line_no, None if skipping else bytes(pending))
                pending.clear()
                skipping = False
                start = newline + 1
            if len(buffer.records) >= FLUSH_LINES or buffer.size >= FLUSH_BYTES:
                await _start_flush(job_id, buffer, counts, writing)
                buffer = _Buffer()
        if pending or skipping:
            line_no += 1
            _add(buffer, job_id, line_no, None if skipping else bytes(pending))
        await _start_flush(job_id, buffer, counts, writing)
        while writing:
            await writing.pop(0)
    finally:
        await asyncio.gather(*writing, return_exceptions=True)  # on an error: let them end, for the cleanup to see
    return counts


async def _start_flush(job_id: UUID, buffer: _Buffer, counts: StagedCounts, writing: list[asyncio.Task[None]]) -> None:
    """Write the buffer on a connection of its own, once fewer than FLUSHES_AT_ONCE writes are running."""
    if not buffer.records:
        return
    while len(writing) >= FLUSHES_AT_ONCE:
        await writing.pop(0)
    writing.append(asyncio.create_task(_flush(job_id, buffer, counts.bytes, counts)))


def _add(buffer: _Buffer, job_id: UUID, line_no: int, raw: bytes | None) -> None:
    if raw is None:
        buffer.records.append(_failed(job_id, line_no, "line_too_long", f"a line may hold at most {MAX_LINE_BYTES} bytes"))
        buffer.failed += 1
        return
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        buffer.records.append(_failed(job_id, line_no, "not_utf8", f"not valid UTF-8 (byte {exc.start} of the line)"))
        buffer.failed += 1
        return
    decoded = decoded.removesuffix("\r").removeprefix("\ufeff") if line_no == 1 else decoded.removesuffix("\r")
    if not decoded.strip():
        return  # blank lines are allowed and keep their number
    if "\x00" in decoded:
        buffer.records.append(_failed(job_id, line_no, "nul_character", "a raw NUL character; escape it as \\u0000 in JSON"))
        buffer.failed += 1
        return
    buffer.records.append((job_id, line_no, decoded, LineStatus.pending.value, None))
    buffer.size += len(raw)


def _failed(job_id: UUID, line_no: int, code: str, message: str) -> tuple[Any, ...]:
    errors = orjson.dumps([{"field": None, "code": code, "message": message}]).decode()
    return (job_id, line_no, "", LineStatus.failed.value, errors)


async def _flush(job_id: UUID, buffer: _Buffer, bytes_received: int, counts: StagedCounts) -> None:
    async with sessionmaker()() as session, session.begin():
        await copy_records(session, "import_lines", LINE_COLUMNS, buffer.records)
        await session.execute(
            text(
                "UPDATE import_jobs SET total = total + :n, processed = processed + :f, failed = failed + :f, "
                "bytes_received = GREATEST(bytes_received, :b), updated_at = now() WHERE id = :id"
            ),
            {"n": len(buffer.records), "f": buffer.failed, "b": bytes_received, "id": job_id},
        )
    counts.total += len(buffer.records)
    counts.failed += buffer.failed
