"""Compliance statistics over HTTP, as JSON or CSV."""

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response

from app.auth.deps import CurrentCaller
from app.db import Session
from app.stats import service
from app.stats.schemas import ComplianceReport, GroupBy

router = APIRouter(tags=["stats"])


@router.get(
    "/stats/compliance",
    responses={200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with `Accept: text/csv`."}},
)
async def compliance(
    session: Session,
    caller: CurrentCaller,
    date_from: Annotated[date, Query(alias="from", description="First local day whose deadlines count.")],
    date_to: Annotated[date, Query(alias="to", description="Last local day whose deadlines count.")],
    unit_id: Annotated[UUID | None, Query(description="Units under this one (default: the key's unit).")] = None,
    group_by: GroupBy = GroupBy.unit,
    directive_id: UUID | None = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> ComplianceReport:
    report = await service.compliance(
        session, caller, unit_id=unit_id, date_from=date_from, date_to=date_to, group_by=group_by, directive_id=directive_id
    )
    if accept and "text/csv" in accept:
        return Response(service.compliance_csv(report), media_type="text/csv; charset=utf-8")  # type: ignore[return-value]
    return report
