"""Deadlines as the API resolves them, and the periods of recurring tasks.

Every expected instant is written out in UTC: Vietnam is UTC+7 with no DST, so
"00:00 on D" local is 17:00 on D-1 UTC and "23:59:59.999999 on D" local is
16:59:59.999999 on D UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import httpx
import time_machine

from app.db import sessionmaker
from app.directives.lifecycle import open_due_periods
from tests.directives.helpers import create_directive, local
from tests.fixtures import Province


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def end_of_day_utc(day: date) -> datetime:
    """23:59:59.999999 local on `day`, as the UTC instant."""
    return utc(day.year, day.month, day.day, 16, 59, 59, 999999)


def body(tasks: list[dict[str, Any]], *, number: str = "1", issued_on: str = "2024-03-01") -> dict[str, Any]:
    return {
        "issuer_code": "SYT", "number": number, "symbol": "SYT-VP", "doc_type": "cong_van", "issued_on": issued_on,
        "subject": "Báo cáo định kỳ", "tasks": tasks,
    }


def task(**deadline: Any) -> dict[str, Any]:
    return {"text": "Báo cáo", "assignee_codes": ["TYT-TV", "TYT-TG"], "report_to_code": "VP", **deadline}


async def issue(client: httpx.AsyncClient, province: Province, payload: dict[str, Any]) -> tuple[str, httpx.Response]:
    d = await create_directive(client, province.auth("root_issuer"), payload)
    return d["id"], await client.post(f"/v1/directives/{d['id']}/issue", headers=province.auth("root_issuer"))


async def assignments(client: httpx.AsyncClient, province: Province, directive_id: str) -> list[dict[str, Any]]:
    params = {"directive_id": directive_id, "limit": 500}
    return (await client.get("/v1/assignments", params=params, headers=province.auth("root_issuer"))).json()["items"]


def due(item: dict[str, Any], field: str = "due_at") -> datetime:
    return datetime.fromisoformat(item[field])


async def test_due_on_before_is_the_start_of_that_local_day(client: httpx.AsyncClient, province: Province) -> None:
    d_id, response = await issue(client, province, body([task(due_on="2024-03-20", due_kind="before")]))
    assert response.status_code == 200, response.text
    items = await assignments(client, province, d_id)
    assert {due(a) for a in items} == {utc(2024, 3, 19, 17, 0)}  # 00:00 on 20/3 in Hà Nội


async def test_due_on_by_is_the_end_of_that_local_day(client: httpx.AsyncClient, province: Province) -> None:
    d_id, _ = await issue(client, province, body([task(due_on="2024-03-20", due_kind="by")]))
    items = await assignments(client, province, d_id)
    assert {due(a) for a in items} == {utc(2024, 3, 20, 16, 59, 59, 999999)}  # 23:59:59.999999 on 20/3 in Hà Nội


async def test_due_at_passes_through_as_the_same_instant(client: httpx.AsyncClient, province: Province) -> None:
    d_id, _ = await issue(client, province, body([task(due_at="2024-03-20T10:30:00+07:00")]))
    items = await assignments(client, province, d_id)
    assert {due(a) for a in items} == {utc(2024, 3, 20, 3, 30)}
    assert {due(a, "original_due_at") for a in items} == {utc(2024, 3, 20, 3, 30)}


async def test_working_days_skip_weekends_and_tet(client: httpx.AsyncClient, province: Province) -> None:
    # Issued Monday 5/2/2024. The issue day is not counted: Tue 6 (1), Wed 7 (2); Thu 8 - Wed 14 is Tết
    # (29 Tết to mùng 5); Thu 15 (3), Fri 16 (4); Sat 17 / Sun 18 off; Mon 19 (5). Due at the end of 19/2.
    d_id, _ = await issue(client, province, body([task(due_in_working_days=5)], issued_on="2024-02-05"))
    items = await assignments(client, province, d_id)
    assert {due(a) for a in items} == {end_of_day_utc(date(2024, 2, 19))}


async def test_working_days_count_the_swapped_saturday(client: httpx.AsyncClient, province: Province) -> None:
    # Issued Friday 26/4/2024. Sat 27, Sun 28 off; Mon 29 off (swapped with Sat 4/5); Tue 30/4 and Wed 1/5 are
    # holidays; Thu 2/5 (1), Fri 3/5 (2), Sat 4/5, worked in exchange for 29/4 (3).
    d_id, _ = await issue(client, province, body([task(due_in_working_days=3)], issued_on="2024-04-26"))
    items = await assignments(client, province, d_id)
    assert {due(a) for a in items} == {end_of_day_utc(date(2024, 5, 4))}


def monthly() -> dict[str, Any]:
    return task(recurrence="monthly", report_days_after_period=5)


async def test_monthly_task_opens_every_period_from_the_issue_month_to_today(client: httpx.AsyncClient, province: Province) -> None:
    with time_machine.travel(local("2024-03-10 09:00"), tick=False):
        d_id, response = await issue(client, province, body([monthly()], issued_on="2024-01-15"))
        items = await assignments(client, province, d_id)
    assert response.json()["assignments_created"] == 6  # 3 periods (Jan, Feb, Mar) x 2 stations
    # Period end + 5 days, moved to the next working day if it is a day off:
    #   Jan: 31/1 + 5 = Mon 5/2  (a working day; Tết starts on 8/2)
    #   Feb: 29/2 + 5 = Tue 5/3  (2024 is a leap year)
    #   Mar: 31/3 + 5 = Fri 5/4  (Giỗ Tổ is 18/4 that year)
    expected = {
        ("2024-01-01", "2024-01-31", end_of_day_utc(date(2024, 2, 5))),
        ("2024-02-01", "2024-02-29", end_of_day_utc(date(2024, 3, 5))),
        ("2024-03-01", "2024-03-31", end_of_day_utc(date(2024, 4, 5))),
    }
    for unit in ("TYT-TV", "TYT-TG"):
        mine = [a for a in items if a["unit_id"] == str(province.units[unit])]
        assert {(a["period_start"], a["period_end"], due(a)) for a in mine} == expected, unit


async def test_opening_due_periods_adds_the_new_month_once(client: httpx.AsyncClient, province: Province) -> None:
    with time_machine.travel(local("2024-03-10 09:00"), tick=False):
        d_id, _ = await issue(client, province, body([monthly()], issued_on="2024-01-15"))
    async with sessionmaker()() as session, session.begin():
        opened = await open_due_periods(session, date(2024, 4, 2))
    async with sessionmaker()() as session, session.begin():
        again = await open_due_periods(session, date(2024, 4, 2))
    assert (opened, again) == (2, 0)
    april = [a for a in await assignments(client, province, d_id) if a["period_start"] == "2024-04-01"]
    # 30/4 + 5 = Sun 5/5: a day off, so the report is due on Mon 6/5.
    assert {(a["unit_id"], a["period_end"], due(a)) for a in april} == {
        (str(province.units[u]), "2024-04-30", end_of_day_utc(date(2024, 5, 6))) for u in ("TYT-TV", "TYT-TG")
    }


async def test_opening_due_periods_ignores_drafts(client: httpx.AsyncClient, province: Province) -> None:
    await create_directive(client, province.auth("root_issuer"), body([monthly()], issued_on="2024-01-15"))
    async with sessionmaker()() as session, session.begin():
        assert await open_due_periods(session, date(2024, 4, 2)) == 0


async def test_quarterly_task_opens_quarter_periods(client: httpx.AsyncClient, province: Province) -> None:
    quarterly = task(recurrence="quarterly", report_days_after_period=6)
    with time_machine.travel(local("2024-05-10 09:00"), tick=False):
        d_id, response = await issue(client, province, body([quarterly], issued_on="2024-02-15"))
        items = await assignments(client, province, d_id)
    assert response.json()["assignments_created"] == 4  # Q1 and Q2 x 2 stations
    # Q1: 31/3 + 6 = Sat 6/4 -> Mon 8/4.  Q2: 30/6 + 6 = Sat 6/7 -> Mon 8/7.
    assert {(a["period_start"], a["period_end"], due(a)) for a in items} == {
        ("2024-01-01", "2024-03-31", end_of_day_utc(date(2024, 4, 8))),
        ("2024-04-01", "2024-06-30", end_of_day_utc(date(2024, 7, 8))),
    }


async def test_task_without_a_deadline_blocks_issuing(client: httpx.AsyncClient, province: Province) -> None:
    tasks = [task(due_on="2024-03-20", due_kind="by"), {"text": "Không hạn", "lead_codes": ["VP"]}]
    d_id, response = await issue(client, province, body(tasks))
    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("tasks[1].due_at", "no_deadline")]
    after = await client.get(f"/v1/directives/{d_id}", headers=province.auth("root_issuer"))
    assert after.json()["status"] == "draft"
    assert await assignments(client, province, d_id) == []
