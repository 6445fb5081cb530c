"""Assignments over HTTP: the inbox, one assignment, acknowledging, submitting reports."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from app.assignments import inbox, service
from app.assignments.models import AssignmentStatus, Timeliness
from app.assignments.schemas import AssignmentRead, InboxItem
from app.auth.deps import CurrentCaller
from app.db import Session, write_connection
from app.pagination import Cursor, Limit, Page
from app.reports import service as reports
from app.reports.schemas import ReportCreate, ReportRead
from app.responses import json_response
from app.tasks.models import AssignmentRole

router = APIRouter(tags=["assignments"])


@router.get("/assignments", response_model=Page[InboxItem])
async def list_assignments(
    caller: CurrentCaller,
    unit_id: Annotated[UUID | None, Query(description="This unit and everything under it.")] = None,
    directive_id: UUID | None = None,
    status: Annotated[list[AssignmentStatus] | None, Query()] = None,
    timeliness: Timeliness | None = None,
    due_before: datetime | None = None,
    due_after: datetime | None = None,
    role: AssignmentRole | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    service.validate_window(due_before, due_after)
    items, next_cursor = await inbox.list_inbox(
        caller, unit_id=unit_id, directive_id=directive_id, status=status, timeliness=timeliness,
        due_before=due_before, due_after=due_after, role=role, cursor=cursor, limit=limit,
    )
    return json_response({"items": items, "next_cursor": next_cursor})


@router.get("/assignments/{assignment_id}", response_model=AssignmentRead)
async def get_assignment(assignment_id: UUID, caller: CurrentCaller) -> Response:
    return json_response(await service.read_assignment(caller, assignment_id))


@router.post("/assignments/{assignment_id}/acknowledge")
async def acknowledge(assignment_id: UUID, session: Session, caller: CurrentCaller) -> AssignmentRead:
    return AssignmentRead.model_validate(service.read_dict(await service.acknowledge(session, caller, assignment_id)))


@router.post("/assignments/{assignment_id}/reports", status_code=status.HTTP_201_CREATED)
async def submit_report(assignment_id: UUID, body: ReportCreate, caller: CurrentCaller) -> ReportRead:
    async with write_connection() as connection:
        return await reports.submit_report(connection, caller, assignment_id=assignment_id, data=body)
