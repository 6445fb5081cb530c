"""The audit trail over HTTP, for admins: GET /v1/audit."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from app.audit import service
from app.audit.schemas import AuditEntryRead
from app.auth.deps import CurrentCaller
from app.db import Session
from app.pagination import Cursor, Limit, Page

router = APIRouter(tags=["audit"])


@router.get("/audit")
async def audit_trail(
    session: Session,
    caller: CurrentCaller,
    entity_type: Annotated[str | None, Query(max_length=32)] = None,
    entity_id: UUID | None = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[AuditEntryRead]:
    rows, next_cursor = await service.list_entries(
        session, caller, entity_type=entity_type, entity_id=entity_id, action=action, cursor=cursor, limit=limit
    )
    return Page(items=[AuditEntryRead.model_validate(r) for r in rows], next_cursor=next_cursor)
