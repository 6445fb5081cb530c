"""Directives over HTTP: drafting, reading, listing, the lifecycle, and progress."""

import asyncio
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query, Request, Response, status

from app.assignments.schemas import ProgressRow
from app.auth.deps import CurrentCaller
from app.db import Session
from app.directives import importing, lifecycle, service
from app.directives.models import DirectiveStatus
from app.directives.schemas import (
    DirectiveCreate,
    DirectiveImport,
    DirectiveRead,
    DirectiveSummary,
    DirectiveTextIn,
    DirectiveUpdate,
    DocType,
    ImportResult,
    IssueResult,
    LifecycleResult,
)
from app.etags import etag
from app.pagination import Cursor, Limit, Page, decode_cursor, encode_cursor, integer
from app.parsing import ParseResult, parse
from app.stats import service as stats

router = APIRouter(tags=["directives"])

IfMatch = Annotated[str | None, Header(description="The ETag you read; 412 if the directive changed since.")]


def _etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


@router.post("/directives", status_code=status.HTTP_201_CREATED)
async def create_directive(body: DirectiveCreate, session: Session, caller: CurrentCaller, response: Response) -> DirectiveRead:
    directive = await service.create_directive(session, caller, body)
    _etag(response, directive.version)
    response.headers["Location"] = f"/v1/directives/{directive.id}"
    return await service.read_model(session, caller, directive)


@router.get("/directives")
async def list_directives(
    session: Session,
    caller: CurrentCaller,
    issuer_id: UUID | None = None,
    doc_type: DocType | None = None,
    status: DirectiveStatus | None = None,
    year: Annotated[int | None, Query(ge=1945, le=2200)] = None,
    q: Annotated[str | None, Query(max_length=200, description="Accent-insensitive words in notation or subject.")] = None,
    references: Annotated[str | None, Query(max_length=96, description="Directives that cite this notation.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[DirectiveSummary]:
    rows, next_cursor = await service.list_directives(
        session, caller, issuer_id=issuer_id, doc_type=doc_type, status=status, year=year, q=q, references=references,
        cursor=cursor, limit=limit,
    )
    return Page(items=[DirectiveSummary.model_validate(d) for d in rows], next_cursor=next_cursor)


@router.get("/directives/{directive_id}")
async def get_directive(directive_id: UUID, session: Session, caller: CurrentCaller, response: Response) -> DirectiveRead:
    directive = await service.get_directive(session, caller, directive_id)
    _etag(response, directive.version)
    return await service.read_model(session, caller, directive)


@router.patch("/directives/{directive_id}")
async def update_directive(
    directive_id: UUID, body: DirectiveUpdate, session: Session, caller: CurrentCaller, response: Response,
    if_match: IfMatch = None,
) -> DirectiveRead:
    directive = await service.update_directive(session, caller, directive_id, body, if_match=if_match)
    _etag(response, directive.version)
    return await service.read_model(session, caller, directive)


@router.post("/directives/{directive_id}/issue")
async def issue_directive(directive_id: UUID, session: Session, caller: CurrentCaller, if_match: IfMatch = None) -> IssueResult:
    """Ban hành: creates one assignment per unit per task (per open period for recurring tasks)."""
    directive, created = await lifecycle.issue_directive(session, caller, directive_id, if_match=if_match)
    return IssueResult(directive=DirectiveSummary.model_validate(directive), assignments_created=created)


@router.post("/directives/{directive_id}/close")
async def close_directive(directive_id: UUID, session: Session, caller: CurrentCaller, if_match: IfMatch = None) -> LifecycleResult:
    directive = await lifecycle.close_directive(session, caller, directive_id, if_match=if_match)
    return LifecycleResult(directive=DirectiveSummary.model_validate(directive))


@router.post("/directives/{directive_id}/revoke")
async def revoke_directive(directive_id: UUID, session: Session, caller: CurrentCaller, if_match: IfMatch = None) -> LifecycleResult:
    """Thu hồi: cancels every open assignment."""
    directive, cancelled = await lifecycle.revoke_directive(session, caller, directive_id, if_match=if_match)
    return LifecycleResult(directive=DirectiveSummary.model_validate(directive), assignments_cancelled=cancelled)


@router.get("/directives/{directive_id}/progress")
async def directive_progress(
    directive_id: UUID, session: Session, caller: CurrentCaller, limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    cursor: Cursor = None,
) -> Page[ProgressRow]:
    key = decode_cursor(cursor, fields={"offset": integer})
    offset = key["offset"] if key else 0
    rows, next_offset = await stats.progress(session, caller, directive_id, cursor_after=offset, limit=limit)
    return Page(items=rows, next_cursor=encode_cursor({"offset": next_offset}) if next_offset is not None else None)


TEXT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/plain": {"schema": {"type": "string", "maxLength": 1_048_576}},
            "application/json": {"schema": DirectiveTextIn.model_json_schema()},
        },
    }
}


@router.post("/directives/parse", openapi_extra=TEXT_BODY)
async def parse_directive_text(request: Request, caller: CurrentCaller) -> ParseResult:
    """Read a directive's text (plain UTF-8, or JSON `{"text": ...}`); nothing is stored."""
    text = importing.read_directive_text(request.headers.get("content-type", ""), await request.body())
    return await asyncio.to_thread(parse, text)


@router.post("/directives/import", status_code=status.HTTP_201_CREATED)
async def import_directive(body: DirectiveImport, session: Session, caller: CurrentCaller, response: Response) -> ImportResult:
    """Text → draft directive with tasks; unit mentions matched to your units, the rest returned for mapping."""
    result = await importing.import_directive(session, caller, body)
    response.headers["Location"] = f"/v1/directives/{result.directive.id}"
    return result
