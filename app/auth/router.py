"""API keys over HTTP: /v1/api-keys."""

from uuid import UUID

from fastapi import APIRouter, status

from app.auth import service
from app.auth.deps import CurrentCaller
from app.auth.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from app.db import Session
from app.pagination import Cursor, Limit, Page

router = APIRouter(tags=["api-keys"])


@router.post("/api-keys", status_code=status.HTTP_201_CREATED)
async def create_key(body: ApiKeyCreate, session: Session, caller: CurrentCaller) -> ApiKeyCreated:
    key, secret = await service.create_key(
        session, caller, name=body.name, role=body.role, unit_id=body.unit_id, unit_code=body.unit_code,
        expires_at=body.expires_at,
    )
    return ApiKeyCreated.model_validate({**ApiKeyRead.model_validate(key).model_dump(), "secret": secret})


@router.get("/api-keys")
async def list_keys(
    session: Session,
    caller: CurrentCaller,
    unit_id: UUID | None = None,
    include_revoked: bool = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ApiKeyRead]:
    keys, next_cursor = await service.list_keys(
        session, caller, unit_id=unit_id, include_revoked=include_revoked, cursor=cursor, limit=limit
    )
    return Page(items=[ApiKeyRead.model_validate(k) for k in keys], next_cursor=next_cursor)


@router.get("/api-keys/{key_id}")
async def get_key(key_id: UUID, session: Session, caller: CurrentCaller) -> ApiKeyRead:
    return ApiKeyRead.model_validate(await service.get_key(session, caller, key_id))


@router.delete("/api-keys/{key_id}")
async def revoke_key(key_id: UUID, session: Session, caller: CurrentCaller) -> ApiKeyRead:
    """Revoke a key: it stops working at once. The record stays for the audit trail."""
    return ApiKeyRead.model_validate(await service.revoke_key(session, caller, key_id))
