"""Reports over HTTP: listing, reading, and the issuer side's accept / return."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query, Response

from app.auth.deps import CurrentCaller
from app.db import Session
from app.etags import etag
from app.pagination import Cursor, Limit, Page
from app.reports import service
from app.reports.models import ReportKind, ReportStatus
from app.reports.schemas import ReportAccept, ReportRead, ReportReturn

router = APIRouter(tags=["reports"])

IfMatch = Annotated[str | None, Header(description="The report's ETag; 412 if it changed since.")]


@router.get("/reports")
async def list_reports(
    session: Session,
    caller: CurrentCaller,
    assignment_id: UUID | None = None,
    directive_id: UUID | None = None,
    unit_id: Annotated[UUID | None, Query(description="Reports of this unit and the units under it.")] = None,
    kind: ReportKind | None = None,
    status: Annotated[ReportStatus | None, Query(description="`submitted` lists what awaits a decision.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ReportRead]:
    rows, next_cursor = await service.list_reports(
        session, caller, assignment_id=assignment_id, directive_id=directive_id, unit_id=unit_id, kind=kind,
        status=status, cursor=cursor, limit=limit,
    )
    return Page(items=[ReportRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/reports/{report_id}")
async def get_report(report_id: UUID, session: Session, caller: CurrentCaller, response: Response) -> ReportRead:
    report = await service.get_report(session, caller, report_id)
    response.headers["ETag"] = etag(report.version)
    return ReportRead.model_validate(report)


@router.post("/reports/{report_id}/accept")
async def accept_report(
    report_id: UUID, body: ReportAccept, session: Session, caller: CurrentCaller, if_match: IfMatch = None
) -> ReportRead:
    """Final: completes the assignment. Extension: moves the deadline. Difficulty: extend, cancel or keep."""
    return ReportRead.model_validate(await service.accept_report(session, caller, report_id=report_id, data=body, if_match=if_match))


@router.post("/reports/{report_id}/return")
async def return_report(
    report_id: UUID, body: ReportReturn, session: Session, caller: CurrentCaller, if_match: IfMatch = None
) -> ReportRead:
    return ReportRead.model_validate(await service.return_report(session, caller, report_id=report_id, data=body, if_match=if_match))
