"""Claiming a key, replaying a finished response, releasing a claim that failed.

Each step is its own short transaction, separate from the request's: the claim
must be visible to a concurrent retry (which then gets 409) before the work runs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert

from app.db import sessionmaker
from app.errors import IdempotencyInProgress, IdempotencyKeyReused
from app.idempotency.models import IdempotencyRecord
from app.timeutil import utcnow

CLAIM_SECONDS = 60  # a request running longer than this is presumed dead; its key may be retaken
RETENTION = timedelta(hours=24)
REPLAYED_HEADERS = ("content-type", "location", "etag")


@dataclass(frozen=True)
class StoredResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), query.encode(), body])).hexdigest()


def client_hash(credential: str) -> str:
    return hashlib.sha256(credential.encode()).hexdigest()


async def claim(client: str, key: str, print_: str) -> StoredResponse | None:
    """Claim the key for this request; or the stored response to replay; or 409 / 422."""
    now = utcnow()
    async with sessionmaker()() as session, session.begin():
        inserted = await session.scalar(
            insert(IdempotencyRecord)
            .values(client_hash=client, key=key, fingerprint=print_, locked_until=now + timedelta(seconds=CLAIM_SECONDS))
            .on_conflict_do_nothing(constraint="uq_idempotency_keys_client_key")
            .returning(IdempotencyRecord.id)
        )
        if inserted is not None:
            return None
        record = await session.scalar(
            select(IdempotencyRecord)
            .where(IdempotencyRecord.client_hash == client, IdempotencyRecord.key == key)
            .with_for_update()
        )
        assert record is not None
        if record.fingerprint != print_:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was used with a different request; use a new key for a new request."
            )
        if record.response_status is not None:
            return StoredResponse(record.response_status, dict(record.response_headers or {}), record.response_body or b"")
        if record.locked_until > now:
            raise IdempotencyInProgress("The first request with this Idempotency-Key is still running; retry shortly.")
        record.locked_until = now + timedelta(seconds=CLAIM_SECONDS)  # the first attempt died; take over
        return None


async def finish(client: str, key: str, response: StoredResponse) -> None:
    async with sessionmaker()() as session, session.begin():
        await session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.client_hash == client, IdempotencyRecord.key == key)
            .values(response_status=response.status, response_headers=response.headers, response_body=response.body)
        )


async def release(client: str, key: str) -> None:
    """Forget a claim whose request failed on our side, so a retry runs it afresh."""
    async with sessionmaker()() as session, session.begin():
        await session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.client_hash == client,
                IdempotencyRecord.key == key,
                IdempotencyRecord.response_status.is_(None),  # type: ignore[union-attr]
            )
        )


async def purge_expired() -> int:
    """Drop records older than the retention window (a worker cron job)."""
    async with sessionmaker()() as session, session.begin():
        result = await session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - RETENTION)
        )
        return result.rowcount or 0  # type: ignore[attr-defined]
