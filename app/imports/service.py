"""Import jobs: creating one from an upload, reading its progress and errors, and running it in batches.

The worker holds a job by a lease (`lease_token`, `locked_until`). A batch locks the job
row, checks the lease is still its own, applies the lines and records their outcomes and the
counters in the same transaction. A worker that dies loses at most the batch it was in, which
rolls back; whoever takes the lease next starts at the first line still pending.

While the database applies one batch, the worker prepares the next (parses and validates its
lines, reads the units they name) on a second connection that writes nothing. The batch's own
transaction then uses that work only if it finds exactly the lines it was done for still pending.

Directive batches that only create go further: the next one's transaction starts while the one
before it commits (`_overlapped_pass`). Those transactions do not lock the job row up front; the
statement that records their counters checks the lease instead, and rolls the batch back if it
is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import orjson
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.caller import Caller
from app.auth.models import ApiKey, Role
from app.db import DriverStatement, sessionmaker
from app.errors import NotFound, ValidationProblem
from app.imports import staging
from app.imports.lines import Applier, LineOutcome, StagedLine, WaitForBefore
from app.imports.models import ImportJob, ImportKind, ImportLine, ImportStatus, LineStatus
from app.imports.schemas import ImportLineErrors, ImportRead, LineError
from app.pagination import decode_cursor, encode_cursor, integer, newest_first
from app.settings import get_settings
from app.timeutil import utcnow
from app.units.models import Unit

log = logging.getLogger("dondoc.imports")

# Who may import what: the same role the single-item endpoint asks for.
ROLE_FOR_KIND = {ImportKind.units: Role.admin, ImportKind.directives: Role.issuer, ImportKind.reports: Role.member}
BATCH_LINES = {ImportKind.units: 5_000, ImportKind.directives: 400, ImportKind.reports: 1_000}


# ---- the upload -------------------------------------------------------------------------------------------------


async def find_by_idempotency_key(caller: Caller, key: str) -> ImportJob | None:
    """The job an earlier upload with this Idempotency-Key started (the body is not read again)."""
    async with sessionmaker()() as session:
        return await session.scalar(
            select(ImportJob).where(ImportJob.key_id == caller.key_id, ImportJob.idempotency_key == key)  # type: ignore[arg-type]
        )


async def create_job(caller: Caller, kind: ImportKind, idempotency_key: str | None) -> ImportJob:
    """The job row, committed at once so the upload's progress is visible while it streams."""
    caller.require(ROLE_FOR_KIND[kind])
    async with sessionmaker()() as session, session.begin():
        job = ImportJob(
            kind=kind.value, key_id=caller.key_id, unit_id=caller.unit_id, role=caller.role.value,
            idempotency_key=idempotency_key,
        )
        session.add(job)
    return job


async def receive(job: ImportJob, chunks: AsyncIterator[bytes]) -> ImportJob:
    """Stage the body; then the job is queued (or, if the upload broke off, failed and its lines dropped)."""
    try:
        counts = await staging.stage_body(job.id, chunks)
    except BaseException:
        await _abandon(job.id, "the upload was cut off before the end of the body")
        raise
    if counts.total == 0:  # bad input leaves nothing behind, not even the job
        async with sessionmaker()() as session, session.begin():
            await session.execute(text("DELETE FROM import_jobs WHERE id = :id"), {"id": job.id})
        raise ValidationProblem.for_field("body", "holds no NDJSON lines", "empty")
    async with sessionmaker()() as session, session.begin():
        done = counts.total == counts.failed  # every line already failed at staging: nothing to run
        status = ImportStatus.completed if done else ImportStatus.queued
        await session.execute(
            text(
                "UPDATE import_jobs SET status = :s, updated_at = now(), "
                "finished_at = CASE WHEN :done THEN now() END WHERE id = :id"
            ),
            {"s": status.value, "done": done, "id": job.id},
        )
        audit.record(
            session, actor_key_id=job.key_id, action="import.created", entity_type="import", entity_id=job.id,
            unit_id=job.unit_id, changes={"kind": job.kind, "lines": counts.total, "bytes": counts.bytes},
        )
        fresh = await session.get(ImportJob, job.id, populate_existing=True)
    assert fresh is not None
    return fresh


async def _abandon(job_id: UUID, reason: str) -> None:
    async with sessionmaker()() as session, session.begin():
        await session.execute(text("DELETE FROM import_lines WHERE job_id = :id"), {"id": job_id})
        await session.execute(
            text("UPDATE import_jobs SET status = 'failed', error = :e, finished_at = now(), updated_at = now() WHERE id = :id"),
            {"e": reason, "id": job_id},
        )


# ---- reading ----------------------------------------------------------------------------------------------------


async def get_job(session: AsyncSession, caller: Caller, job_id: UUID) -> ImportJob:
    """A job started by a key of the caller's subtree; anyone else's is a 404."""
    row = (
        await session.execute(select(ImportJob, Unit.path).join(Unit, Unit.id == ImportJob.unit_id).where(ImportJob.id == job_id))
    ).first()
    if row is None or not caller.covers(row.path):
        raise NotFound(f"Import {job_id} not found.")
    return row.ImportJob


def read_model(job: ImportJob, now: datetime | None = None) -> ImportRead:
    rate, eta = progress_rate(job, now or utcnow())
    return ImportRead.model_validate({**job.model_dump(), "rate_per_s": rate, "eta_s": eta})


def progress_rate(job: ImportJob, now: datetime) -> tuple[float | None, float | None]:
    """Lines per second since the worker started, and the seconds left at that rate."""
    if job.started_at is None:
        return None, None
    end = job.finished_at or now
    elapsed = max((end - job.started_at).total_seconds(), 0.001)
    rate = round(job.processed / elapsed, 1)
    if job.finished_at is not None:
        return rate, 0.0
    return rate, (round((job.total - job.processed) / rate, 1) if rate > 0 else None)


async def list_jobs(
    session: AsyncSession, caller: Caller, *, cursor: str | None, limit: int
) -> tuple[list[ImportJob], str | None]:
    stmt = select(ImportJob).join(Unit, Unit.id == ImportJob.unit_id).where(Unit.path.contains([caller.unit_id]))  # type: ignore[attr-defined]
    return await newest_first(session, stmt, ImportJob, cursor=cursor, limit=limit)


async def list_errors(
    session: AsyncSession, caller: Caller, job_id: UUID, *, cursor: str | None, limit: int
) -> tuple[list[ImportLineErrors], str | None]:
    """Failed lines in file order, each with its errors; keyset-paged on the line number."""
    await get_job(session, caller, job_id)
    after = decode_cursor(cursor, fields={"line": integer})
    stmt = (
        select(ImportLine.line_no, ImportLine.errors)
        .where(ImportLine.job_id == job_id, ImportLine.status == LineStatus.failed.value)  # type: ignore[arg-type]
        .order_by(ImportLine.line_no)  # type: ignore[arg-type]
        .limit(limit + 1)
    )
    if after is not None:
        stmt = stmt.where(ImportLine.line_no > after["line"])  # type: ignore[arg-type]
    rows = (await session.execute(stmt)).all()
    items = [ImportLineErrors(line=r.line_no, errors=[LineError(**e) for e in (r.errors or [])]) for r in rows[:limit]]
    next_cursor = encode_cursor({"line": rows[limit - 1].line_no}) if len(rows) > limit else None
    return items, next_cursor


# ---- running ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Lease:
    job_id: UUID
    token: UUID
    kind: ImportKind
    caller: Caller


async def claim(job_id: UUID) -> Lease | None:
    """Take the job if it is queued, or running under an expired lease; None if there is nothing to do."""
    async with sessionmaker()() as session, session.begin():
        row = (
            await session.execute(
                text(
                    """
                    UPDATE import_jobs
                    SET status = 'running', lease_token = :token, locked_until = now() + make_interval(secs => :lease),
                        started_at = COALESCE(started_at, now()), updated_at = now()
                    WHERE id = :id AND status IN ('queued', 'running') AND (locked_until IS NULL OR locked_until < now())
                    RETURNING kind, key_id, unit_id, role
                    """
                ),
                {"id": job_id, "token": (token := uuid4()), "lease": get_settings().import_lease_s},
            )
        ).first()
        if row is None:
            return None
        problem = await _key_problem(session, row.key_id)
        if problem:
            await _fail(session, job_id, problem)
            return None
    return Lease(job_id, token, ImportKind(row.kind), Caller(key_id=row.key_id, unit_id=row.unit_id, role=Role(row.role)))


async def _key_problem(session: AsyncSession, key_id: UUID | None) -> str | None:
    """An import acts for its key: if the key was revoked or expired since the upload, the rest is not applied."""
    if key_id is None:
        return None
    key = await session.get(ApiKey, key_id)
    if key is None or key.revoked_at is not None:
        return "the API key that started this import was revoked"
    if key.expires_at is not None and key.expires_at <= utcnow():
        return "the API key that started this import has expired"
    return None


async def _fail(session: AsyncSession, job_id: UUID, reason: str) -> None:
    await session.execute(
        text(
            "UPDATE import_jobs SET status = 'failed', error = :e, finished_at = now(), updated_at = now(), "
            "lease_token = NULL, locked_until = NULL WHERE id = :id"
        ),
        {"e": reason, "id": job_id},
    )


async def run(lease: Lease, applier: Applier, *, max_seconds: float = 600.0) -> bool:
    """Apply pending lines batch by batch; True when the job is finished, False if the lease was lost or time ran out.

    Lines whose outcome is `deferred` (they wait for a later line) are given another round once
    the pending ones are done, as long as the previous round let at least one more line through.
    """
    started = time.monotonic()
    size = BATCH_LINES[lease.kind]
    progressed = True
    ahead: Ahead | None = None
    try:
        while time.monotonic() - started < max_seconds:
            if applier.overlaps is not None:
                step = await _overlapped_pass(lease, applier, size, deadline=started + max_seconds)
            else:
                step, ahead = await _run_batch(lease, applier, size, ahead)
            if step is None:
                return False
            if step >= 0:
                progressed = progressed or step > 0
                continue
            if await _retry_deferred(lease, progressed):
                progressed = False
                continue
            return await _finish(lease)
        return False
    finally:
        if ahead is not None:
            await ahead.discard()


async def run_batch(lease: Lease, applier: Applier, size: int) -> int | None:
    """One batch in one transaction; the number of lines that got a final outcome, -1 when none was pending, None if the lease is gone."""
    step, ahead = await _run_batch(lease, applier, size, None, prepare_next=False)
    assert ahead is None
    return step


async def _run_batch(
    lease: Lease, applier: Applier, size: int, ahead: Ahead | None, *, prepare_next: bool = True
) -> tuple[int | None, Ahead | None]:
    """As run_batch, using (and then starting) the preparation of the batch after it.

    If the batch raises (a bug, or a database error no check foresaw), it is rolled back and its
    lines are retried one by one, so a single poisonous line fails alone.
    """
    try:
        return await _apply_batch(lease, applier, size, ahead, prepare_next=prepare_next)
    except Exception:
        if size == 1:
            return await _fail_poison_line(lease), None
        log.exception("import batch failed; retrying its lines one by one", extra={"import_id": str(lease.job_id)})
        return await _one_by_one(lease, applier, size), None


async def _one_by_one(lease: Lease, applier: Applier, count: int) -> int | None:
    """The first `count` pending lines, each in its own transaction (a line that still raises fails alone)."""
    total = 0
    for _ in range(count):
        step = await run_batch(lease, applier, 1)
        if step is None:
            return None
        if step < 0:
            break
        total += step
    return total


async def _overlapped_pass(lease: Lease, applier: Applier, size: int, *, deadline: float) -> int | None:
    """The pending lines in file order, batch by batch, each batch's transaction starting while the one before commits.

    The worker prepares batch N+1 while the database writes batch N, then starts N+1's transaction
    before N has committed, so the database works on both and the worker's Python overlaps them.
    Returns the lines given a final outcome (-1 when none was pending, None if the lease was lost).
    If a batch raises, the batch after it is let finish, the failed batch's lines are applied one by
    one, and the pass ends; the next pass starts again from the first line still pending.
    """
    assert applier.overlaps is not None
    total, after = 0, 0
    writing: list[asyncio.Task[int | None]] = []  # at most two: the batch committing and the one after it
    before: Any | None = None  # what was prepared for the batch started last (None if it was not prepared)
    try:
        while time.monotonic() < deadline:
            lines, prepared = await _read_and_prepare(lease, applier, size, after=after)
            if not lines:
                break
            # A batch that changes stored rows or shares a key with the batch before it (or either could not be
            # prepared) starts once that batch has committed.
            wait_first = prepared is None or before is None or not applier.overlaps(prepared, before)
            while writing and (wait_first or len(writing) == 2):
                step = await writing.pop(0)
                if step is None:
                    return None
                total += step
            beside = _waiter(writing[-1]) if writing else None
            writing.append(asyncio.create_task(_write_overlapped(lease, applier, after, lines, prepared, beside)))
            after, before = lines[-1].line_no, prepared
        while writing:
            step = await writing.pop(0)
            if step is None:
                return None
            total += step
    except Exception:
        log.exception("import batch failed; retrying its lines one by one", extra={"import_id": str(lease.job_id)})
        total += sum(s for s in await asyncio.gather(*writing, return_exceptions=True) if isinstance(s, int))
        writing.clear()
        singles = await _one_by_one(lease, applier, size)
        return None if singles is None else total + singles
    finally:
        for task in writing:  # only when cancelled: their transactions roll back
            task.cancel()
        await asyncio.gather(*writing, return_exceptions=True)
    return total if total or after else -1


async def _read_and_prepare(
    lease: Lease, applier: Applier, size: int, *, after: int
) -> tuple[list[StagedLine], Any | None]:
    """The pending lines after `after`, as committed now, and what `prepare` made of them (on a
    connection that writes nothing, beside the batch being written).

    None for what was prepared when the kind prepares nothing or preparing failed: the batch then
    prepares its lines itself, in its transaction.
    """
    async with sessionmaker()() as session:
        lines = await _pending_lines(session, lease, size, after=after)
        if not lines or applier.prepare is None:
            return lines, None
        try:
            return lines, await applier.prepare(session, lease.caller, lines)
        except Exception:
            log.exception("preparing an import batch ahead failed; it is prepared again in its transaction")
            return lines, None


class _LeaseLost(Exception):
    """Raised inside a batch's transaction to roll it back: another worker holds the job now."""


# How long a batch waits for the one written beside it (a batch of units takes well under a second).
# That batch never waits for this one, but both can wait for a third party's tree write queued for
# the lock between them: this batch, holding the lock shared, then goes on without the other, and its
# lines that needed the other's units wait for the next round.
WAIT_FOR_BEFORE_S = 10.0


def _waiter(batch: asyncio.Task[int | None]) -> WaitForBefore:
    """Waits for a batch being written to end, whatever its result (which its own awaiter handles)."""

    async def wait() -> None:
        done, _ = await asyncio.wait([batch], timeout=WAIT_FOR_BEFORE_S)
        if not done:
            log.error("an import batch waited %s s for the batch before it; going on without it", WAIT_FOR_BEFORE_S)

    return wait


async def _write_overlapped(
    lease: Lease, applier: Applier, after: int, lines: list[StagedLine], prepared: Any | None, before: WaitForBefore | None
) -> int | None:
    """One batch of an overlapped pass: the pending lines after `after`, with what was prepared for `lines`.

    The job row is not locked up front, or the next batch would wait for this one to commit: the
    lease is read at the start and checked again by the last statement, which updates the job's
    counters only while the lease is still this worker's (and rolls everything back otherwise).
    """
    try:
        async with sessionmaker()() as session, session.begin():
            if not await _still_held(session, lease, lock=False):
                return None
            pending = await _pending_lines(session, lease, len(lines), after=after, read_ahead=lines)
            if not pending:
                return 0
            usable = prepared if _same_lines(pending, lines) else None
            outcomes = await applier.apply(session, lease.caller, pending, usable, before)
            if not await _record_outcomes(session, lease, outcomes):
                raise _LeaseLost
            return sum(1 for o in outcomes if o.status != LineStatus.deferred)
    except _LeaseLost:
        return None


class Ahead:
    """The preparation of the batch after the current one, running on its own connection meanwhile."""

    def __init__(self, lease: Lease, applier: Applier, size: int, after_line: int) -> None:
        self.task: asyncio.Task[tuple[list[StagedLine], Any | None]] = asyncio.create_task(
            _read_and_prepare(lease, applier, size, after=after_line)
        )

    async def result(self) -> tuple[list[StagedLine], Any | None]:
        """The lines read ahead and what was prepared of them (none if that failed: the batch reads and prepares itself)."""
        try:
            return await self.task
        except Exception:
            log.exception("reading an import batch ahead failed; it is read and prepared again in its transaction")
            return [], None

    async def discard(self) -> None:
        self.task.cancel()
        with contextlib.suppress(BaseException):
            await self.task


def _same_lines(these: list[StagedLine], those: list[StagedLine]) -> bool:
    return [line.line_no for line in these] == [line.line_no for line in those]


# Run on the driver: making SQLAlchemy rows of a 5,000-line batch, read twice (ahead and in the
# batch's transaction), cost more of the worker than the read itself.
_PENDING_LINES = DriverStatement.of(
    text(
        "SELECT line_no, raw FROM import_lines WHERE job_id = :id AND status = 'pending' AND line_no > :after "
        "ORDER BY line_no LIMIT :n"
    )
)


_DELETE_LINES = DriverStatement.of(text("DELETE FROM import_lines WHERE job_id = :job AND line_no = ANY(:lines)"))


_PENDING_LINE_NUMBERS = DriverStatement.of(
    text(
        "SELECT array_agg(line_no ORDER BY line_no) FROM (SELECT line_no FROM import_lines "
        "WHERE job_id = :id AND status = 'pending' AND line_no > :after ORDER BY line_no LIMIT :n) AS pending"
    )
)


async def _pending_lines(
    session: AsyncSession, lease: Lease, size: int, *, after: int = 0, read_ahead: list[StagedLine] | None = None
) -> list[StagedLine]:
    """The first `size` pending lines after `after`, as this transaction sees them.

    When `read_ahead` holds the lines read a moment before on another connection, and they are
    still exactly the pending ones, only their numbers are read again: a staged line's text never
    changes once stored. Reading a unit batch's 5,000 lines back was ~15 ms of its transaction.
    """
    if read_ahead:
        numbers = await _PENDING_LINE_NUMBERS.fetchval(session, id=lease.job_id, after=after, n=size)
        if numbers == [line.line_no for line in read_ahead]:
            return read_ahead
    rows = await _PENDING_LINES.fetch(session, id=lease.job_id, after=after, n=size)
    return [StagedLine(*row) for row in rows]


async def _apply_batch(
    lease: Lease, applier: Applier, size: int, ahead: Ahead | None, *, prepare_next: bool
) -> tuple[int | None, Ahead | None]:
    following: Ahead | None = None
    try:
        async with sessionmaker()() as session, session.begin():
            if not await _still_held(session, lease):
                return None, None
            read_ahead, prepared = await ahead.result() if ahead is not None else ([], None)
            lines = await _pending_lines(session, lease, size, read_ahead=read_ahead)
            if not lines:
                return -1, None
            if not _same_lines(lines, read_ahead):
                prepared = None
            if prepare_next and applier.prepare is not None:
                following = Ahead(lease, applier, size, after_line=lines[-1].line_no)
            outcomes = await applier.apply(session, lease.caller, lines, prepared, None)
            await _record_outcomes(session, lease, outcomes)
            step = sum(1 for o in outcomes if o.status != LineStatus.deferred) or 0
        return step, following
    except BaseException:
        if following is not None:
            await following.discard()
        raise
    finally:
        if ahead is not None:
            await ahead.discard()


async def _still_held(session: AsyncSession, lease: Lease, *, lock: bool = True) -> bool:
    held = await session.scalar(
        text(
            "SELECT 1 FROM import_jobs WHERE id = :id AND lease_token = :t AND status = 'running'"
            + (" FOR UPDATE" if lock else "")
        ),
        {"id": lease.job_id, "t": lease.token},
    )
    return bool(held)


async def _record_outcomes(session: AsyncSession, lease: Lease, outcomes: list[LineOutcome]) -> bool:
    """Each line's outcome, then the job's counters, last, so that the job row is locked only until commit.

    A line that succeeded is deleted: what became of it is in the job's counters, and the row it
    wrote carries its own audit entry. Updating it instead wrote a new copy of every staged line,
    index entry included, and was a fifth of a unit import's database time. A failed line keeps
    its errors for GET /v1/imports/{id}/errors; a deferred one waits for the next round.
    False (nothing counted) if the lease is no longer this worker's: the caller must roll back.
    """
    succeeded = [o.line_no for o in outcomes if o.status == LineStatus.succeeded]
    if succeeded:
        await _DELETE_LINES.execute(session, job=lease.job_id, lines=succeeded)
    unfinished = [o for o in outcomes if o.status != LineStatus.succeeded]
    if unfinished:
        await session.execute(
            text(
                """
                UPDATE import_lines l SET status = o.status, errors = CAST(o.errors AS jsonb)
                FROM unnest(CAST(:lines AS int[]), CAST(:statuses AS text[]), CAST(:errors AS text[])) AS o(line_no, status, errors)
                WHERE l.job_id = :job AND l.line_no = o.line_no
                """
            ),
            {
                "job": lease.job_id,
                "lines": [o.line_no for o in unfinished],
                "statuses": [o.status.value for o in unfinished],
                "errors": [orjson.dumps(o.errors).decode() if o.errors else None for o in unfinished],
            },
        )
    final = [o for o in outcomes if o.status != LineStatus.deferred]
    by_outcome: dict[str, int] = {}
    for o in final:
        if o.outcome:
            by_outcome[o.outcome] = by_outcome.get(o.outcome, 0) + 1
    counted = await session.execute(
        text(
            """
            UPDATE import_jobs
            SET processed = processed + :done, succeeded = succeeded + :ok, failed = failed + :bad,
                counts = COALESCE((
                    SELECT jsonb_object_agg(k, n) FROM (
                        SELECT k, sum(CAST(v AS int)) AS n
                        FROM (SELECT * FROM jsonb_each_text(counts) UNION ALL SELECT * FROM jsonb_each_text(CAST(:by AS jsonb))) AS e(k, v)
                        GROUP BY k
                    ) AS merged
                ), '{}'::jsonb),
                locked_until = now() + make_interval(secs => :lease), updated_at = now()
            WHERE id = :id AND lease_token = :token AND status = 'running'
            """
        ),
        {
            "id": lease.job_id, "token": lease.token, "lease": get_settings().import_lease_s, "done": len(final),
            "ok": sum(1 for o in final if o.status == LineStatus.succeeded),
            "bad": sum(1 for o in final if o.status == LineStatus.failed),
            "by": orjson.dumps(by_outcome).decode(),
        },
    )
    return bool(counted.rowcount)  # type: ignore[attr-defined]


async def _fail_poison_line(lease: Lease) -> int | None:
    """The first pending line raised even alone: it fails with an internal error and the import goes on."""
    async with sessionmaker()() as session, session.begin():
        if not await _still_held(session, lease):
            return None
        line_no = await session.scalar(
            text("SELECT min(line_no) FROM import_lines WHERE job_id = :id AND status = 'pending'"), {"id": lease.job_id}
        )
        if line_no is None:
            return -1
        outcome = LineOutcome.error(line_no, "internal_error", "this line could not be applied; the error is in the server log")
        await _record_outcomes(session, lease, [outcome])
    return 1


async def _retry_deferred(lease: Lease, progressed: bool) -> bool:
    """Put deferred lines back to pending for another round (True), or fail them when the last round changed nothing."""
    async with sessionmaker()() as session, session.begin():
        if not await _still_held(session, lease):
            return False
        if progressed:
            moved = await session.execute(
                text("UPDATE import_lines SET status = 'pending' WHERE job_id = :id AND status = 'deferred'"),
                {"id": lease.job_id},
            )
            return bool(moved.rowcount)  # type: ignore[attr-defined]
        failed = await session.execute(
            text("UPDATE import_lines SET status = 'failed' WHERE job_id = :id AND status = 'deferred'"), {"id": lease.job_id}
        )
        count = failed.rowcount  # type: ignore[attr-defined]
        if count:
            await session.execute(
                text("UPDATE import_jobs SET processed = processed + :n, failed = failed + :n, updated_at = now() WHERE id = :id"),
                {"n": count, "id": lease.job_id},
            )
    return False


async def _finish(lease: Lease) -> bool:
    async with sessionmaker()() as session, session.begin():
        job = await session.scalar(
            select(ImportJob).where(ImportJob.id == lease.job_id, ImportJob.lease_token == lease.token).with_for_update()  # type: ignore[arg-type]
        )
        if job is None or job.status != ImportStatus.running:
            return False
        job.status, job.finished_at, job.updated_at = ImportStatus.completed.value, utcnow(), utcnow()
        job.lease_token, job.locked_until = None, None
        audit.record(
            session, actor_key_id=job.key_id, action="import.completed", entity_type="import", entity_id=job.id,
            unit_id=job.unit_id,
            changes={"kind": job.kind, "total": job.total, "succeeded": job.succeeded, "failed": job.failed, **job.counts},
        )
    log.info("import completed", extra={"import_id": str(lease.job_id)})
    return True


async def resumable(session: AsyncSession) -> list[tuple[UUID, str]]:
    """Jobs with work left and nobody holding them: (id, a job id naming this takeover) for the sweeper."""
    rows = await session.execute(
        text(
            "SELECT id, locked_until FROM import_jobs WHERE status IN ('queued', 'running') "
            "AND (locked_until IS NULL OR locked_until < now()) AND updated_at < now() - interval '10 seconds'"
        )
    )
    return [(r.id, f"import:{r.id}:{int(r.locked_until.timestamp()) if r.locked_until else 0}") for r in rows]


async def abandon_stale_uploads(session: AsyncSession) -> int:
    """An upload whose API process died leaves a `receiving` job; after an hour without a line it is failed."""
    stale = await session.execute(
        text(
            "UPDATE import_jobs SET status = 'failed', error = 'the upload stopped before the end of the body', "
            "finished_at = now(), updated_at = now() "
            "WHERE status = 'receiving' AND updated_at < now() - interval '1 hour' RETURNING id"
        )
    )
    ids = [r.id for r in stale]
    if ids:
        await session.execute(text("DELETE FROM import_lines WHERE job_id = ANY(:ids)"), {"ids": ids})
    return len(ids)


def applier_for(kind: ImportKind) -> Applier:
    from app.imports import directives, reports, units

    return {
        ImportKind.units: Applier(apply=units.apply, prepare=units.prepare, overlaps=units.writes_beside),
        ImportKind.directives: Applier(apply=directives.apply, prepare=directives.prepare, overlaps=directives.writes_beside),
        ImportKind.reports: Applier(apply=reports.apply),
    }[kind]


async def run_import(job_id: UUID, *, max_seconds: float = 300.0) -> str:
    """Claim the job and apply what is left: `completed`, `paused` (time is up or the lease was lost) or `nothing_to_do`."""
    lease = await claim(job_id)
    if lease is None:
        return "nothing_to_do"
    if await run(lease, applier_for(lease.kind), max_seconds=max_seconds):
        return "completed"
    await release(lease)
    return "paused"


async def release(lease: Lease) -> None:
    """Give the lease back so the next job (or the sweeper's) can go on at once."""
    async with sessionmaker()() as session, session.begin():
        await session.execute(
            text("UPDATE import_jobs SET locked_until = NULL, lease_token = NULL WHERE id = :id AND lease_token = :t"),
            {"id": lease.job_id, "t": lease.token},
        )
