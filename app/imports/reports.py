"""Importing reports: each line is submitted as POST /v1/assignments/{id}/reports would, keyed by `external_id`.

Reports change an assignment's state one at a time (status, timeliness, events, audit), so
each line goes through the reports service on its own savepoint; a line whose `external_id`
the unit already used is `unchanged`, which makes re-running a file harmless.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.db import plan_once
from app.errors import Conflict, DondocError, NotFound
from app.imports.lines import LineOutcome, StagedLine, parse
from app.imports.schemas import ReportLine
from app.reports import service as reports


async def apply(
    session: AsyncSession, caller: Caller, lines: list[StagedLine], prepared: None = None, before: None = None
) -> list[LineOutcome]:
    """Each line on its own savepoint; reports have nothing to prepare ahead."""
    return [await _apply_one(session, caller, line) for line in lines]


async def _apply_one(session: AsyncSession, caller: Caller, line: StagedLine) -> LineOutcome:
    data = parse(line, ReportLine)
    if isinstance(data, LineOutcome):
        return data
    try:
        async with session.begin_nested():
            await plan_once(session)
            await reports.submit_report(session, caller, assignment_id=data.assignment_id, data=data)
    except Conflict as exc:
        if exc.extra.get("existing_id") and exc.extra.get("field") == "external_id":
            return LineOutcome.done(line.line_no, "unchanged")
        return LineOutcome.from_problem(line.line_no, exc)
    except NotFound:
        return LineOutcome.error(line.line_no, "unknown_assignment", f"unknown assignment {data.assignment_id}", "assignment_id")
    except DondocError as exc:
        return LineOutcome.from_problem(line.line_no, exc)
    return LineOutcome.done(line.line_no, "created")
