"""Claiming a key, replaying a finished response, releasing a claim that failed.

The claim is its own short transaction, committed before the work runs, so that a concurrent
retry sees it (and gets 409). The response is stored in the request's own transaction when the
request handed it over (see claim.py), else in one of its own.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

import orjson
from sqlalchemy import String, bindparam, cast, delete, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert

from app.db import DriverStatement, sessionmaker
from app.errors import IdempotencyInProgress, IdempotencyKeyReused
from app.idempotency.claim import Claim
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


async def finish(claim: Claim, response: StoredResponse) -> bool:
    """Store the response for replay; with the request's own transaction, if it was handed over, in
    it and then commit both. False, with the request's work rolled back, if the key's record had
    already been finished meanwhile: by a retry that took over a claim presumed dead."""
    params = {
        "client": claim.client, "key": claim.key, "status": response.status,
        "headers": orjson.dumps(response.headers).decode(), "body": response.body,
    }
    if claim.held is None:
        async with sessionmaker()() as session, session.begin():
            return await _STORE_RESPONSE.fetchval(session, **params) is not None
    try:
        stored = await _STORE_RESPONSE.fetchval(claim.held.within, **params) is not None
    except BaseException:
        await claim.end(commit=False)
        raise
    await claim.end(commit=stored)
    return stored


_STORE_RESPONSE = DriverStatement.of(
    update(IdempotencyRecord)
    .where(
        IdempotencyRecord.client_hash == bindparam("client"),
        IdempotencyRecord.key == bindparam("key"),
        IdempotencyRecord.response_status.is_(None),  # type: ignore[union-attr]
    )
    .values(
        response_status=bindparam("status"),
        response_headers=cast(bindparam("headers", type_=String), JSONB),
        response_body=bindparam("body"),
    )
    .returning(IdempotencyRecord.id)
)


async def release(claim: Claim) -> None:
    """Roll back the request's transaction if it was handed over, and forget the claim, so that a
    retry runs the request afresh (its request failed on our side, or the client's credential)."""
    try:
        await claim.end(commit=False)
    finally:
        async with sessionmaker()() as session, session.begin():
            await session.execute(
                delete(IdempotencyRecord).where(
                    IdempotencyRecord.client_hash == claim.client,
                    IdempotencyRecord.key == claim.key,
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
