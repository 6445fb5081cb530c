"""Opaque cursors for keyset pagination (Stripe-style `limit` + `cursor` → `next_cursor`).

A cursor is the sort key of the last row returned, base64url-encoded JSON.
Keyset paging stays stable while rows are inserted concurrently, unlike OFFSET.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

import orjson
from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ValidationProblem

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=500, description="Page size (1-500).")]
Cursor = Annotated[
    str | None, Query(max_length=512, description="`next_cursor` from the previous page; omit for the first page.")
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, fields: dict[str, Callable[[Any], Any]]) -> dict[str, Any] | None:
    """The cursor's key with each value converted by its field's type, or a 422 on `cursor` if tampered with."""
    if cursor is None:
        return None
    try:
        raw = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, dict) or set(raw) != set(fields):
            raise ValueError("keys")
        return {name: convert(raw[name]) for name, convert in fields.items()}
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise ValidationProblem.for_field("cursor", "not a cursor this endpoint issued", "invalid_cursor") from None


def integer(value: Any) -> int:
    """A cursor's integer: exactly an int (JSON true/false and floats are not)."""
    if type(value) is not int:
        raise TypeError("not an integer")
    return value


def instant(value: Any) -> datetime:
    return datetime.fromisoformat(value)

async def newest_first(
    session: AsyncSession, stmt: Select[Any], model: Any, *, cursor: str | None, limit: int
) -> tuple[list[Any], str | None]:
    """One page of `stmt`'s rows, newest first, keyset-paged on (created_at, id)."""
    key = decode_cursor(cursor, fields={"created_at": instant, "id": UUID})
    if key is not None:
        stmt = stmt.where(tuple_(model.created_at, model.id) < (key["created_at"], key["id"]))
    rows = list(await session.scalars(stmt.order_by(model.created_at.desc(), model.id.desc()).limit(limit + 1)))
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor({"created_at": last.created_at.isoformat(), "id": str(last.id)})
