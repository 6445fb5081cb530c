"""Bulk imports over HTTP: POST /v1/imports?kind=..., GET /v1/imports/{id}, GET /v1/imports/{id}/errors."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, Query, Request, Response, status

from app.auth.deps import CurrentCaller
from app.db import Session
from app.errors import UnsupportedMediaType, ValidationProblem
from app.imports import queue, service
from app.imports.models import ImportKind, ImportStatus
from app.imports.schemas import ImportLineErrors, ImportRead
from app.pagination import Cursor, Limit, Page

router = APIRouter(tags=["imports"])

NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines")
NDJSON_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "One JSON object per line (UTF-8), each shaped like the single-item endpoint's body.",
        "content": {"application/x-ndjson": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post("/imports", status_code=status.HTTP_202_ACCEPTED, openapi_extra=NDJSON_BODY, responses={200: {"model": ImportRead}})
async def create_import(
    request: Request,
    response: Response,
    caller: CurrentCaller,
    kind: Annotated[ImportKind, Query(description="What each line is: a unit, a directive or a report.")],
    content_type: Annotated[str | None, Header()] = None,
    idempotency_key: Annotated[
        str | None, Header(max_length=255, description="The same key again returns the first upload's job (200).")
    ] = None,
) -> ImportRead:
    """Stage the file and start the import; the answer comes as soon as the body is stored. Poll the job for progress."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type not in NDJSON_TYPES:
        raise UnsupportedMediaType(f"Send application/x-ndjson (one JSON object per line), not {media_type or 'nothing'}.")
    if idempotency_key is not None:
        earlier = await service.find_by_idempotency_key(caller, idempotency_key)
        if earlier is not None:
            if earlier.kind != kind:
                raise ValidationProblem.for_field("Idempotency-Key", "was used for an import of another kind", "reused")
            response.status_code = status.HTTP_200_OK
            response.headers["Idempotent-Replayed"] = "true"
            return service.read_model(earlier)
    job = await service.create_job(caller, kind, idempotency_key)
    job = await service.receive(job, request.stream())
    if job.status == ImportStatus.queued:
        await queue.wake(job.id)
    response.headers["Location"] = f"/v1/imports/{job.id}"
    return service.read_model(job)


@router.get("/imports")
async def list_imports(session: Session, caller: CurrentCaller, limit: Limit = 50, cursor: Cursor = None) -> Page[ImportRead]:
    """Imports started by keys of your subtree, newest first."""
    jobs, next_cursor = await service.list_jobs(session, caller, cursor=cursor, limit=limit)
    return Page(items=[service.read_model(j) for j in jobs], next_cursor=next_cursor)


@router.get("/imports/{import_id}")
async def get_import(import_id: UUID, session: Session, caller: CurrentCaller) -> ImportRead:
    """Progress: lines received, processed, succeeded and failed, the rate and the time left."""
    return service.read_model(await service.get_job(session, caller, import_id))


@router.get("/imports/{import_id}/errors")
async def list_import_errors(
    import_id: UUID, session: Session, caller: CurrentCaller, limit: Limit = 100, cursor: Cursor = None
) -> Page[ImportLineErrors]:
    """Failed lines in file order, each with its line number and every field's error."""
    items, next_cursor = await service.list_errors(session, caller, import_id, cursor=cursor, limit=limit)
    return Page(items=items, next_cursor=next_cursor)
