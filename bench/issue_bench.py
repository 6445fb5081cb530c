"""Issuing one directive to 500 commune stations, through the ASGI app, timed.

    .venv/bin/python bench/issue_bench.py [--stations 500] [--runs 5]

Uses DATABASE_URL's server when set, else the embedded PostgreSQL (as `make test`
does). Creates a throw-away database, migrates it, builds a province (Sở → one
district health centre → N commune stations) through the services, then times
POST /v1/directives/{id}/issue for `--runs` fresh directives (after one untimed
warm-up) and prints min / median / max in milliseconds. The database is dropped
at the end. Not a test: a number to compare between commits.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scratch import scratch_database  # noqa: E402


async def build_province(stations: int) -> str:
    """The units and an issuer key at the Sở; returns the key's secret."""
    from app.auth.caller import Caller
    from app.auth.models import Role
    from app.auth.service import create_key
    from app.db import sessionmaker
    from app.units import batch
    from app.units.schemas import UnitCreate
    from app.units.seed import create_root_unit

    async with sessionmaker()() as session, session.begin():
        root = await create_root_unit(
            session, UnitCreate(code="SYT", name="Sở Y tế tỉnh Thanh Hóa", short_name="SYT", kind="department")
        )
        operator = Caller(key_id=None, unit_id=root.id, role=Role.admin)
        items = [
            {"code": "VP", "name": "Văn phòng Sở", "short_name": "VP", "kind": "office", "parent_code": "SYT"},
            {"code": "TTYT-TH", "name": "Trung tâm Y tế huyện Thiệu Hóa", "kind": "health_centre", "parent_code": "SYT"},
        ] + [
            {"code": f"TYT-S{i:03d}", "name": f"Trạm Y tế xã số {i}", "kind": "commune_health_station", "parent_code": "TTYT-TH"}
            for i in range(stations)
        ]
        result = await batch.upsert_units(session, operator, items)
        assert result.errors == 0, result
        _, secret = await create_key(session, operator, name="bench", role=Role.issuer, unit_id=root.id, unit_code=None)
    return secret


def directive(number: int) -> dict[str, object]:
    return {
        "issuer_code": "SYT", "number": str(number), "symbol": "SYT-VP", "doc_type": "cong_van", "issued_on": "2024-03-01",
        "subject": "Đôn đốc báo cáo tiêm chủng mở rộng",
        "tasks": [{
            "text": "Các trạm y tế xã báo cáo kết quả tiêm chủng mở rộng.",
            "assignee_selector": {"under_code": "TTYT-TH", "kinds": ["commune_health_station"]},
            "report_to_code": "TTYT-TH", "due_on": "2024-03-20", "due_kind": "by",
        }],
    }


async def time_issuing(secret: str, stations: int, runs: int) -> list[float]:
    from app.main import app

    for noisy in ("httpx", "dondoc.access"):  # one log line per request would drown the result
        logging.getLogger(noisy).setLevel(logging.WARNING)
    headers = {"Authorization": f"Bearer {secret}"}
    timings: list[float] = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench.test") as client:
        for number in range(runs + 1):  # the first run warms up connections and caches and is not counted
            created = await client.post("/v1/directives", json=directive(number + 1), headers=headers)
            assert created.status_code == 201, created.text
            started = time.perf_counter()
            issued = await client.post(f"/v1/directives/{created.json()['id']}/issue", headers=headers)
            elapsed = (time.perf_counter() - started) * 1000
            assert issued.status_code == 200, issued.text
            assert issued.json()["assignments_created"] == stations, issued.text
            if number:
                timings.append(elapsed)
    return timings


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stations", type=int, default=500)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    async with scratch_database("dondoc_issue_bench"):
        secret = await build_province(args.stations)
        timings = await time_issuing(secret, args.stations, args.runs)
    print(f"issue a directive to {args.stations} stations, {len(timings)} runs (after 1 warm-up):")
    print(f"min {min(timings):.1f} ms  median {statistics.median(timings):.1f} ms  max {max(timings):.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
