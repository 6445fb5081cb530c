"""API keys: minting, hashing, authenticating and revoking.

A key is `ddk_` + 43 url-safe random characters (256 bits). Only an HMAC-SHA256
of it is stored, so a leaked database reveals no usable key; high-entropy
secrets need no slow hash. The caller sees the secret once, at creation.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime
from uuid import UUID

from sqlalchemy import and_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.caller import Caller
from app.auth.keycache import KeyRecord, key_cache
from app.auth.models import ROLE_RANK, ApiKey, Role
from app.db import DriverStatement
from app.errors import Forbidden, NotFound, Unauthorized, ValidationProblem
from app.pagination import newest_first
from app.settings import get_settings
from app.timeutil import utcnow
from app.units import service as units
from app.units.models import Unit

KEY_PREFIX = "ddk_"


def new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    pepper = get_settings().api_key_pepper.encode()
    # hmac.digest: the one-shot form, done in OpenSSL without building an HMAC object (every request hashes its key).
    return hmac.digest(pepper, secret.encode(), "sha256").hex()


# Every request not answered by the key cache runs this, so it goes straight to asyncpg on the
# fixed-plan pool (one round trip, no transaction) rather than through SQLAlchemy, whose work here
# cost more than the query. A key is only ever looked up once committed.
_KEY_LOOKUP = DriverStatement.of(
    text(
        "SELECT k.id, k.unit_id, k.role, k.revoked_at, k.expires_at, u.active "
        "FROM api_keys k JOIN units u ON u.id = k.unit_id WHERE k.secret_hash = :secret_hash"
    )
)


async def authenticate(secret: str | None) -> Caller:
    """The caller a presented key stands for, or 401 for a missing, unknown, revoked or expired key."""
    if not secret:
        raise Unauthorized("Send your API key as 'Authorization: Bearer ddk_...' or in 'X-API-Key'.")
    if not secret.startswith(KEY_PREFIX) or len(secret) > 128:
        raise Unauthorized("The API key is malformed.")
    key = await _find_key(hash_secret(secret))
    if key is None or key.revoked_at is not None:
        raise Unauthorized("The API key is unknown or revoked.")
    if key.expires_at is not None and key.expires_at <= utcnow():
        raise Unauthorized("The API key has expired.")
    if not key.unit_active:
        raise Unauthorized("The API key's unit is deactivated.")
    return Caller(key_id=key.id, unit_id=key.unit_id, role=Role(key.role))


async def _find_key(secret_hash: str) -> KeyRecord | None:
    """The key with this hash, from this process's key cache or else the database."""
    known = key_cache.get(secret_hash)
    if known is not None:
        return known
    generation = key_cache.generation
    row = await _KEY_LOOKUP.read_one(secret_hash=secret_hash)
    if row is None:
        return None
    key = KeyRecord(
        id=row["id"], unit_id=row["unit_id"], role=row["role"],
        revoked_at=row["revoked_at"], expires_at=row["expires_at"], unit_active=row["active"],
    )
    key_cache.put(secret_hash, key, generation)
    return key


async def create_key(
    session: AsyncSession,
    caller: Caller,
    *,
    name: str,
    role: Role,
    unit_id: UUID | None,
    unit_code: str | None,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Mint a key for a unit in the caller's subtree, with a role no higher than the caller's own."""
    caller.require(Role.admin)
    if ROLE_RANK[role] > ROLE_RANK[caller.role]:
        raise Forbidden("A key cannot mint a key more powerful than itself.")
    if (unit_id is None) == (unit_code is None):
        raise ValidationProblem.for_field("unit_id", "give exactly one of unit_id or unit_code", "one_of")
    field = "unit_id" if unit_id is not None else "unit_code"
    unit = await units.resolve_unit_ref(session, caller, unit_id=unit_id, code=unit_code, field=field)
    if not unit.active:
        raise ValidationProblem.for_field(field, f"unit {unit.code} is deactivated", "inactive_unit")
    if expires_at is not None and expires_at <= utcnow():
        raise ValidationProblem.for_field("expires_at", "must be in the future", "past")
    secret = new_secret()
    key = ApiKey(
        name=name,
        unit_id=unit.id,
        role=role.value,
        prefix=secret[:12],
        secret_hash=hash_secret(secret),
        created_by_key_id=caller.key_id,
        expires_at=expires_at,
    )
    session.add(key)
    await session.flush()
    await session.refresh(key)
    audit.record(
        session, actor_key_id=caller.key_id, action="api_key.created", entity_type="api_key", entity_id=key.id, unit_id=unit.id,
        changes={"name": name, "role": role.value, "unit_id": str(unit.id)},
    )
    return key, secret


async def _get_key(session: AsyncSession, caller: Caller, key_id: UUID) -> ApiKey:
    row = (
        await session.execute(
            select(ApiKey).join(Unit, Unit.id == ApiKey.unit_id).where(ApiKey.id == key_id, units.in_scope(caller))
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"API key {key_id} not found.")
    return row


async def get_key(session: AsyncSession, caller: Caller, key_id: UUID) -> ApiKey:
    caller.require(Role.admin)
    return await _get_key(session, caller, key_id)


async def list_keys(
    session: AsyncSession,
    caller: Caller,
    *,
    unit_id: UUID | None,
    include_revoked: bool,
    cursor: str | None,
    limit: int,
) -> tuple[list[ApiKey], str | None]:
    """Keys of units in the caller's subtree, newest first."""
    caller.require(Role.admin)
    conditions = [units.in_scope(caller)]
    if unit_id is not None:
        conditions.append(ApiKey.unit_id == unit_id)
    if not include_revoked:
        conditions.append(ApiKey.revoked_at.is_(None))  # type: ignore[union-attr]
    stmt = select(ApiKey).join(Unit, Unit.id == ApiKey.unit_id).where(and_(*conditions))
    return await newest_first(session, stmt, ApiKey, cursor=cursor, limit=limit)


async def revoke_key(session: AsyncSession, caller: Caller, key_id: UUID) -> ApiKey:
    """Revoke a key in the caller's subtree; revoking twice is harmless."""
    caller.require(Role.admin)
    key = await _get_key(session, caller, key_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        await session.flush()
        audit.record(
            session, actor_key_id=caller.key_id, action="api_key.revoked", entity_type="api_key", entity_id=key.id, unit_id=key.unit_id
        )
    return key


async def bootstrap_key(session: AsyncSession, *, unit_code: str, role: Role, name: str) -> tuple[ApiKey, str]:
    """The command line's `keys create`: acts with operator authority over the named unit."""
    unit = (await units.find_by_codes(session, [unit_code])).get(unit_code)
    if unit is None:
        raise NotFound(f"No unit with code {unit_code!r}; run `dondoc seed-demo` or create the root unit first.")
    operator = Caller(key_id=None, unit_id=unit.id, role=Role.admin)
    return await create_key(session, operator, name=name, role=role, unit_id=unit.id, unit_code=None)
