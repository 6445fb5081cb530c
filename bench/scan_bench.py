"""The deadline scan at scale: 1,000,000 open assignments, 10,000 of them newly overdue.

    .venv/bin/python bench/scan_bench.py [--assignments 1000000] [--due 10000] [--runs 3]

Builds the data with set-based SQL (1,000 units × 1,000 tasks), arms one pending
escalation step per assignment of which `--due` are due now and the rest in the
future, then times one scan batch (claim, mark fired, write the events, commit)
`--runs` times on fresh due steps, and a scan with nothing due. Prints numbers;
not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scratch import scratch_database  # noqa: E402

UNITS = 1000

BUILD = [
    "INSERT INTO units (id, code, name, kind, parent_id, path, depth, aliases, search_key) "
    "VALUES ('00000000-0000-0000-0000-000000000001', 'ROOT', 'Sở Y tế', 'department', NULL, "
    "ARRAY['00000000-0000-0000-0000-000000000001']::uuid[], 0, '{}', 'so y te')",
    "INSERT INTO units (id, code, name, kind, parent_id, path, depth, aliases, search_key) "
    "SELECT gen_random_uuid(), 'TYT-' || i, 'Trạm Y tế ' || i, 'commune_health_station', "
    "'00000000-0000-0000-0000-000000000001', '{}', 1, '{}', 'tram y te ' || i FROM generate_series(1, $1) i",
    "UPDATE units SET path = ARRAY['00000000-0000-0000-0000-000000000001'::uuid, id] WHERE depth = 1",
    "INSERT INTO directives (id, issuer_id, number, symbol, notation, notation_key, doc_type, issued_on, year, subject, "
    "search_key, status, recipients) VALUES ('00000000-0000-0000-0000-0000000000d1', '00000000-0000-0000-0000-000000000001', '1', "
    "'SYT-VP', '1/SYT-VP', '1/syt-vp', 'cong_van', '2024-01-01', 2024, 'bench', 'bench', 'issued', '{}')",
    "INSERT INTO tasks (id, directive_id, position, ordinal, text) "
    "SELECT gen_random_uuid(), '00000000-0000-0000-0000-0000000000d1', i, i::text, 'task ' || i FROM generate_series(1, $1) i",
]


async def build(conn: asyncpg.Connection, assignments: int, due: int, now: datetime) -> None:
    tasks = assignments // UNITS
    await conn.execute(BUILD[0])
    await conn.execute(BUILD[1], UNITS)
    await conn.execute(BUILD[2])
    await conn.execute(BUILD[3])
    await conn.execute(BUILD[4], tasks)
    # Deadlines spread over the coming year; `due` of them (and their steps) just passed.
    await conn.execute(
        "INSERT INTO assignments (id, task_id, directive_id, unit_id, role, due_at, original_due_at) "
        "SELECT gen_random_uuid(), t.id, t.directive_id, u.id, 'assignee', d, d FROM tasks t CROSS JOIN units u, "
        "LATERAL (SELECT $1::timestamptz + (random() * 365) * interval '1 day' AS d) x WHERE u.depth = 1",
        now,
    )
    await conn.execute(
        "INSERT INTO escalation_steps (assignment_id, step_key, kind, notify, due_at, fire_at) "
        "SELECT id, 'overdue', 'overdue', ARRAY['unit'], due_at, due_at FROM assignments"
    )
    await conn.execute("ANALYZE")


async def make_due(conn: asyncpg.Connection, due: int, now: datetime) -> None:
    """Move `due` pending assignments' deadlines (and their steps) to a minute ago."""
    await conn.execute(
        "WITH pick AS (SELECT a.id FROM assignments a JOIN escalation_steps s ON s.assignment_id = a.id "
        "WHERE s.status = 'pending' AND s.fire_at > $2 LIMIT $1), "
        "moved AS (UPDATE assignments a SET due_at = $2 - interval '1 minute' FROM pick WHERE a.id = pick.id RETURNING a.id) "
        "UPDATE escalation_steps s SET due_at = $2 - interval '1 minute', fire_at = $2 - interval '1 minute' "
        "FROM moved WHERE s.assignment_id = moved.id",
        due, now,
    )


async def time_scan(now: datetime, batch: int) -> tuple[float, int]:
    """One scan as the worker's deadline_scan job runs it: batches, each committed, until none is full."""
    from app.escalation.scan import scan_due

    started = time.perf_counter()
    fired = await scan_due(lambda: now, batch=batch)
    return (time.perf_counter() - started) * 1000, sum(fired.values())


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--assignments", type=int, default=1_000_000)
    ap.add_argument("--due", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    now = datetime.now(UTC)
    async with scratch_database("dondoc_scan_bench") as url:
        conn = await asyncpg.connect(url)
        started = time.perf_counter()
        await build(conn, args.assignments, args.due, now + timedelta(minutes=1))
        print(f"built {args.assignments:,} open assignments with armed steps in {time.perf_counter() - started:.1f} s")
        timings = []
        for _ in range(args.runs):
            await make_due(conn, args.due, now)
            await conn.execute("ANALYZE escalation_steps")
            elapsed, fired = await time_scan(now, batch=args.due * 2)
            assert fired == args.due, fired
            timings.append(elapsed)
        idle, fired = await time_scan(now, batch=args.due * 2)
        await conn.close()
    print(f"scan firing {args.due:,} steps (events written, committed): "
          f"min {min(timings):.0f} ms, median {statistics.median(timings):.0f} ms, max {max(timings):.0f} ms")
    print(f"scan with nothing due: {idle:.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
