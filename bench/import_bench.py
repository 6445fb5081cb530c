"""Bulk import rates through the real API: 100,000 units, then 20,000 directives holding 500,000 assignments.

    .venv/bin/python bench/import_bench.py [--units 100000] [--directives 20000] [--per-directive 25]

Uses DATABASE_URL / REDIS_URL when set, else the embedded servers (as `make test` does). In a
throw-away database it creates a province root and keys, starts one `dondoc serve` and one
`dondoc worker`, streams each generated NDJSON file to POST /v1/imports and polls the job until it
is done. Prints lines (units) or assignments (directives) per second, from the first byte sent to
the job's end, and the worker's own rate. `run()` is reused by the national benchmark. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.national.procs import free_port
from bench.scratch import scratch_database

ROOT = "SYT-BENCH"
STATIONS_PER_CENTRE = 150


@dataclass
class ImportRate:
    kind: str
    lines: int
    rows: int  # lines for units, assignments for directives
    seconds: float  # first byte sent to job finished
    worker_seconds: float  # job started to finished
    failed: int

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rows_per_s": round(self.rows_per_s), "worker_rows_per_s": round(self.rows / self.worker_seconds)}


def unit_lines(count: int) -> Iterator[bytes]:
    """District centres under the root, each with STATIONS_PER_CENTRE commune stations (parents first)."""
    centres = max(1, count // (STATIONS_PER_CENTRE + 1))
    made = 0
    for c in range(centres):
        code = f"TTYT-B{c:04}"
        yield orjson.dumps({"code": code, "name": f"Trung tâm Y tế huyện {c}", "kind": "health_centre", "parent_code": ROOT})
        made += 1
        for s in range(STATIONS_PER_CENTRE):
            if made >= count:
                return
            yield orjson.dumps(
                {"code": f"TYT-B{c:04}-{s:03}", "name": f"Trạm Y tế xã {c}-{s}", "kind": "commune_health_station", "parent_code": code}
            )
            made += 1


def directive_lines(count: int, per_directive: int, units: int) -> Iterator[bytes]:
    """Issued directives of the root, each with one task for `per_directive` stations, deadlines spread over a year."""
    centres = max(1, units // (STATIONS_PER_CENTRE + 1))
    for d in range(count):
        centre = d % centres
        first = (d * per_directive) % (STATIONS_PER_CENTRE - per_directive + 1)
        codes = [f"TYT-B{centre:04}-{s:03}" for s in range(first, first + per_directive)]
        yield orjson.dumps({
            "issuer_code": ROOT, "number": str(d + 1), "symbol": "SYT-NVY", "doc_type": "cong_van",
            "issued_on": f"2025-{d % 12 + 1:02}-{d % 27 + 1:02}", "subject": f"Triển khai nhiệm vụ số {d + 1}", "issue": True,
            "tasks": [{"text": "Tổ chức thực hiện và báo cáo kết quả", "assignee_codes": codes,
                       "due_on": f"2026-{d % 12 + 1:02}-{d % 27 + 1:02}", "due_kind": "by"}],
        })


def _file(lines: Iterator[bytes], path: Path) -> int:
    count = 0
    with path.open("wb") as out:
        for line in lines:
            out.write(line + b"\n")
            count += 1
    return count


async def _prepare() -> dict[str, str]:
    from app.auth.models import Role
    from app.auth.service import bootstrap_key
    from app.db import sessionmaker
    from app.units.schemas import UnitCreate
    from app.units.seed import create_root_unit

    async with sessionmaker()() as session, session.begin():
        await create_root_unit(session, UnitCreate(code=ROOT, name="Sở Y tế (benchmark)", kind="department"))
        _, admin = await bootstrap_key(session, unit_code=ROOT, role=Role.admin, name="bench admin")
    return {"admin": admin}


async def _wait_up(url: str) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(300):
            try:
                if (await http.get(f"{url}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(url)


async def import_file(url: str, key: str, kind: str, path: Path, lines: int, rows_per_line: int) -> ImportRate:
    """Stream the file to the API and follow the job; the rate counts from the first byte sent."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"}

    async def body() -> Any:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                yield chunk

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, timeout=600) as http:
        response = await http.post("/v1/imports", params={"kind": kind}, content=body(), headers=headers)
        response.raise_for_status()
        job = response.json()
        while job["status"] in ("receiving", "queued", "running"):
            await asyncio.sleep(0.05)  # end to end is read to the poll; at 0.25 s that added ~0.13 s to a 5 s import
            job = (await http.get(f"/v1/imports/{job['id']}", headers=headers)).json()
    elapsed = time.perf_counter() - started
    if job["status"] != "completed":
        raise RuntimeError(f"import {job['id']} ended {job['status']}: {job.get('error')}")
    worker = (_parse(job["finished_at"]) - _parse(job["started_at"])) if job["started_at"] else elapsed
    return ImportRate(kind, lines, (lines - job["failed"]) * rows_per_line, elapsed, worker, job["failed"])


def _parse(moment: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(moment).timestamp()


async def run(units: int, directives: int, per_directive: int, workdir: Path) -> list[ImportRate]:
    """Both imports in the current DATABASE_URL (a fresh database), one API process and one worker."""
    keys = await _prepare()
    port = free_port()
    env = {**os.environ, "ARQ_QUEUE_NAME": f"dondoc-bench:{uuid.uuid4().hex[:8]}", "LOG_LEVEL": "WARNING"}
    api = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    worker = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, "-m", "app.cli", "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_up(url)
        unit_path, directive_path = workdir / "units.ndjson", workdir / "directives.ndjson"
        unit_count = _file(unit_lines(units), unit_path)
        directive_count = _file(directive_lines(directives, per_directive, units), directive_path)
        return [
            await import_file(url, keys["admin"], "units", unit_path, unit_count, 1),
            await import_file(url, keys["admin"], "directives", directive_path, directive_count, per_directive),
        ]
    finally:
        for process in (worker, api):
            process.terminate()
            process.wait(timeout=30)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--directives", type=int, default=20_000)
    parser.add_argument("--per-directive", type=int, default=25)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        async with scratch_database("dondoc_import_bench"):
            rates = await run(args.units, args.directives, args.per_directive, Path(tmp))
    if args.json:
        print(json.dumps([r.as_dict() for r in rates], indent=2))
        return
    for rate in rates:
        unit = "lines" if rate.kind == "units" else "assignments"
        print(
            f"{rate.kind:>10}: {rate.lines:,} lines, {rate.rows:,} {unit} in {rate.seconds:.1f} s = {rate.rows_per_s:,.0f} {unit}/s "
            f"(worker alone {rate.rows / rate.worker_seconds:,.0f}/s), {rate.failed} failed"
        )


if __name__ == "__main__":
    asyncio.run(main())
