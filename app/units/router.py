"""Units over HTTP: /v1/units, /v1/units/{id}, /v1/units/{id}/subtree, /v1/units/batch, /v1/unit-kinds."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query, Response, status

from app.auth.deps import CurrentCaller
from app.db import Session
from app.etags import etag
from app.pagination import Cursor, Limit, Page
from app.units import batch, service
from app.units.schemas import (
    UnitBatchRequest,
    UnitBatchResponse,
    UnitCreate,
    UnitKindCreate,
    UnitKindRead,
    UnitRead,
    UnitUpdate,
)

router = APIRouter(tags=["units"])

IfMatch = Annotated[str | None, Header(description="The ETag you read; 412 if the unit changed since.")]
KindFilter = Annotated[str | None, Query(max_length=64)]
SearchQuery = Annotated[str | None, Query(max_length=200, description="Accent-insensitive words to find.")]


def _with_etag(response: Response, unit_version: int) -> None:
    response.headers["ETag"] = etag(unit_version)


@router.get("/units")
async def list_units(
    session: Session,
    caller: CurrentCaller,
    parent_id: UUID | None = None,
    kind: KindFilter = None,
    active: bool | None = None,
    q: SearchQuery = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[UnitRead]:
    units, next_cursor = await service.list_units(
        session, caller, parent_id=parent_id, kind=kind, active=active, q=q, cursor=cursor, limit=limit
    )
    return Page(items=[UnitRead.model_validate(u) for u in units], next_cursor=next_cursor)


@router.post("/units", status_code=status.HTTP_201_CREATED)
async def create_unit(body: UnitCreate, session: Session, caller: CurrentCaller, response: Response) -> UnitRead:
    unit = await service.create_unit(session, caller, body)
    _with_etag(response, unit.version)
    response.headers["Location"] = f"/v1/units/{unit.id}"
    return UnitRead.model_validate(unit)


@router.post("/units/batch")
async def upsert_units(body: UnitBatchRequest, session: Session, caller: CurrentCaller) -> UnitBatchResponse:
    return await batch.upsert_units(session, caller, body.items)


@router.get("/units/{unit_id}")
async def get_unit(unit_id: UUID, session: Session, caller: CurrentCaller, response: Response) -> UnitRead:
    unit = await service.get_unit(session, caller, unit_id)
    _with_etag(response, unit.version)
    return UnitRead.model_validate(unit)


@router.patch("/units/{unit_id}")
async def update_unit(
    unit_id: UUID, body: UnitUpdate, session: Session, caller: CurrentCaller, response: Response, if_match: IfMatch = None
) -> UnitRead:
    unit = await service.update_unit(session, caller, unit_id, body, if_match=if_match)
    _with_etag(response, unit.version)
    return UnitRead.model_validate(unit)


@router.delete("/units/{unit_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_unit(unit_id: UUID, session: Session, caller: CurrentCaller, if_match: IfMatch = None) -> None:
    await service.delete_unit(session, caller, unit_id, if_match=if_match)


@router.get("/units/{unit_id}/subtree")
async def get_subtree(
    unit_id: UUID,
    session: Session,
    caller: CurrentCaller,
    max_depth: Annotated[int | None, Query(ge=0, le=64, description="Levels below the unit; 0 is the unit alone.")] = None,
    active: bool | None = None,
    limit: Limit = 200,
    cursor: Cursor = None,
) -> Page[UnitRead]:
    units, next_cursor = await service.list_subtree(
        session, caller, unit_id, max_depth=max_depth, active=active, cursor=cursor, limit=limit
    )
    return Page(items=[UnitRead.model_validate(u) for u in units], next_cursor=next_cursor)


@router.get("/units/{unit_id}/ancestors")
async def get_ancestors(unit_id: UUID, session: Session, caller: CurrentCaller) -> list[UnitRead]:
    """From the top of the key's scope down to the unit's parent."""
    return [UnitRead.model_validate(u) for u in await service.list_ancestors(session, caller, unit_id)]


@router.get("/unit-kinds")
async def list_unit_kinds(session: Session, caller: CurrentCaller) -> list[UnitKindRead]:
    return [UnitKindRead.model_validate(k) for k in await service.list_kinds(session)]


@router.post("/unit-kinds", status_code=status.HTTP_201_CREATED)
async def create_unit_kind(body: UnitKindCreate, session: Session, caller: CurrentCaller) -> UnitKindRead:
    return UnitKindRead.model_validate(await service.create_kind(session, caller, body))
