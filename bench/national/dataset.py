"""The national dataset, built with set-based SQL into a scratch database migrated to head.

At scale 1: 34 provinces (~10,000 units), 200,000 directives, ~2,000,000 assignments with
deadlines over the last two years (and the next six weeks), statuses as a province's record
looks (old work mostly completed, some of it late, some never done; recent work open, overdue,
submitted or blocked), a report for each completed, submitted or blocked assignment and for
some in progress, the escalation steps of every open assignment armed and fired as the deadline
scan would have left them, and the event outbox for the last 60 days.

Documented subsets: events older than 60 days are not loaded (a partitioned deployment would
have detached them; the README's Scale-out section), nor the audit log of the loaded history,
nor the escalation steps of assignments already completed or cancelled. The relay cursor is set
after the loaded events, as a relay that kept up would have left it. Recurring tasks are not
generated. `--scale` keeps each province's size and density and changes the number of
provinces and directives.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from app.calendar.service import WorkingCalendar, local_date
from app.escalation.schemas import DEFAULT_STEPS, URGENT_STEPS
from bench.national import bulk
from bench.national.plan import DIRECTIVE_COLUMNS, TASK_COLUMNS, build_plan
from bench.national.tree import Province, provinces

DIRECTIVES = 200_000
EVENT_DAYS = 60
OPEN = "('pending', 'in_progress', 'submitted', 'blocked')"
LOADED = ["directives", "tasks", "task_units", "assignments", "reports", "escalation_steps", "events"]
UNIT_COLUMNS = ("id", "code", "name", "short_name", "kind", "parent_id", "path", "depth", "aliases", "search_key")


@dataclass
class Built:
    provinces: list[Province]
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


class _Clock:
    def __init__(self, built: Built) -> None:
        self.built, self.started = built, time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.built.seconds[name] = round(now - self.started, 2)
        self.started = now


def province_count(scale: float) -> int:
    return max(2, round(34 * scale))


async def build(url: str, *, scale: float, now: datetime, log: Any = print) -> Built:
    built = Built(provinces(province_count(scale)))
    clock = _Clock(built)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SET maintenance_work_mem = '512MB'; SET work_mem = '256MB'; SET synchronous_commit = off")
        await conn.copy_records_to_table(
            "units", records=[u.record() for p in built.provinces for u in p.units], columns=UNIT_COLUMNS
        )
        clock.lap("units")
        gc.disable()  # a million small tuples: the collector would only walk them again and again
        try:
            plan = build_plan(built.provinces, round(DIRECTIVES * scale), local_date(now))
        finally:
            gc.enable()
        clock.lap("plan")
        log(f"  plan: {len(plan.directives):,} directives, {len(plan.tasks):,} tasks, "
            f"~{plan.expected_assignments:,} assignments ({built.seconds['plan']:.1f} s)")
        async with conn.transaction():
            saved = await bulk.strip(conn, LOADED)
            await conn.copy_records_to_table("directives", records=plan.directives, columns=DIRECTIVE_COLUMNS)
            await conn.copy_records_to_table("tasks", records=plan.tasks, columns=TASK_COLUMNS)
            await conn.copy_records_to_table("task_units", records=plan.task_units, columns=("task_id", "unit_id", "role"))
            await _helper_tables(conn, plan)
            clock.lap("directives_tasks")
            await conn.execute(ASSIGNMENTS, now)
            clock.lap("assignments")
            log(f"  assignments inserted ({built.seconds['assignments']:.1f} s)")
            for statement in REPORTS:
                await conn.execute(statement, now)
            clock.lap("reports")
            await _steps(conn, now)
            clock.lap("escalation_steps")
            await conn.execute(events_sql(), now - timedelta(days=EVENT_DAYS))
            await conn.execute(RELAY_CURSOR)
            clock.lap("events")
        log(f"  rows loaded; rebuilding indexes and foreign keys ({sum(built.seconds.values()):.0f} s so far)")
        await bulk.restore(url, saved)
        clock.lap("indexes")
        await conn.execute("VACUUM ANALYZE")
        clock.lap("vacuum_analyze")
        # Write the build's pages out before anything is measured: with shared buffers and
        # max_wal_size sized to the machine, the next timed checkpoint otherwise spends four
        # minutes writing ~1 GB during the first phases (the bare app's among them).
        await conn.execute("CHECKPOINT")
        clock.lap("checkpoint")
        for table in ("units", *LOADED):
            built.counts[table] = await conn.fetchval(f"SELECT count(*) FROM {table}")
    finally:
        await conn.close()
    return built


async def _helper_tables(conn: asyncpg.Connection, plan: Any) -> None:
    await conn.execute(
        "CREATE TEMP TABLE bench_task_groups (task_id uuid, directive_id uuid, group_id int, due_at timestamptz, issued_at timestamptz);"
        "CREATE TEMP TABLE bench_groups (group_id int, unit_id uuid, role text)"
    )
    await conn.copy_records_to_table("bench_task_groups", records=plan.task_groups)
    await conn.copy_records_to_table("bench_groups", records=plan.groups)
    await conn.execute("ANALYZE bench_task_groups; ANALYZE bench_groups")


# Status by where the deadline lies: long past (mostly completed, some late, a few never done),
# recently past (open and overdue, or awaiting review), ahead (mostly open). 2% had an extension.
# `finish` is when the unit finished (or reported): on time for 80%, up to 20 days late otherwise.
ASSIGNMENTS = """
INSERT INTO assignments (id, task_id, directive_id, unit_id, role, due_at, original_due_at, status, version,
                         created_at, updated_at, acknowledged_at, submitted_at, completed_at, cancelled_at)
SELECT gen_random_uuid(), task_id, directive_id, unit_id, role, due_at, original_due_at, status,
       CASE status WHEN 'pending' THEN 1 WHEN 'in_progress' THEN 2 WHEN 'completed' THEN 4 ELSE 3 END,
       issued_at, COALESCE(completed_at, submitted_at, cancelled_at, acknowledged_at, issued_at),
       acknowledged_at, submitted_at, completed_at, cancelled_at
FROM (
    SELECT c.*,
           CASE WHEN status <> 'pending' AND status <> 'cancelled' THEN issued_at + (finish - issued_at) * 0.2 END AS acknowledged_at,
           CASE WHEN status IN ('submitted', 'completed') THEN finish END AS submitted_at,
           CASE WHEN status = 'completed' THEN finish END AS completed_at,
           CASE WHEN status = 'cancelled' THEN finish END AS cancelled_at
    FROM (
        SELECT b.*,
               LEAST($1::timestamptz, CASE WHEN r2 < 0.8 THEN issued_at + (due_at - issued_at) * (0.3 + 0.7 * r3)
                                           ELSE due_at + r3 * interval '20 days' END) AS finish,
               CASE WHEN role = 'coordinating' AND s = 'submitted' THEN 'in_progress' ELSE s END AS status
        FROM (
            SELECT x.*, CASE
                WHEN due_at < $1::timestamptz - interval '60 days' THEN
                    CASE WHEN r < 0.92 THEN 'completed' WHEN r < 0.94 THEN 'cancelled' WHEN r < 0.955 THEN 'submitted'
                         WHEN r < 0.975 THEN 'in_progress' ELSE 'pending' END
                WHEN due_at < $1::timestamptz THEN
                    CASE WHEN r < 0.75 THEN 'completed' WHEN r < 0.83 THEN 'submitted' WHEN r < 0.85 THEN 'blocked'
                         WHEN r < 0.93 THEN 'in_progress' ELSE 'pending' END
                ELSE
                    CASE WHEN r < 0.10 THEN 'completed' WHEN r < 0.20 THEN 'submitted' WHEN r < 0.22 THEN 'blocked'
                         WHEN r < 0.57 THEN 'in_progress' ELSE 'pending' END
                END AS s
            FROM (
                SELECT tg.task_id, tg.directive_id, g.unit_id, g.role, tg.issued_at, tg.due_at AS original_due_at,
                       CASE WHEN random() < 0.02 THEN tg.due_at + interval '7 days' ELSE tg.due_at END AS due_at,
                       random() AS r, random() AS r2, random() AS r3
                FROM bench_task_groups tg JOIN bench_groups g USING (group_id)
                ORDER BY tg.issued_at, tg.task_id
            ) x
        ) b
    ) c
) f
"""

_REPORT = """
INSERT INTO reports (id, assignment_id, unit_id, kind, status, content, figures, attachments, decided_at, version, created_at)
SELECT gen_random_uuid(), id, unit_id, '{kind}', '{status}', '{content}',
       CASE WHEN random() < 0.3 THEN jsonb_build_object('done', (random() * 100)::int) END, '[]', {decided}, {version}, {created}
FROM assignments WHERE {where}
"""
REPORTS = [
    _REPORT.format(kind="final", status="accepted", content="Đơn vị đã hoàn thành nhiệm vụ được giao.", version=2,
                   decided="LEAST($1::timestamptz, completed_at + random() * interval '2 days')", created="completed_at",
                   where="status = 'completed' AND role <> 'coordinating'"),
    _REPORT.format(kind="final", status="submitted", content="Đơn vị báo cáo kết quả thực hiện.", version=1, decided="NULL",
                   created="submitted_at", where="status = 'submitted' AND $1::timestamptz IS NOT NULL"),
    _REPORT.format(kind="difficulty", status="submitted", content="Đơn vị gặp khó khăn về nhân lực, đề nghị hướng dẫn.", version=1,
                   decided="NULL", created="updated_at", where="status = 'blocked' AND $1::timestamptz IS NOT NULL"),
    _REPORT.format(kind="progress", status="received", content="Đơn vị đang triển khai thực hiện.", version=1, decided="NULL",
                   created="acknowledged_at + (GREATEST(LEAST($1::timestamptz, due_at), acknowledged_at) - acknowledged_at) * random()",
                   where="status = 'in_progress' AND random() < 0.4"),
]


async def _steps(conn: asyncpg.Connection, now: datetime) -> None:
    """Each open assignment's steps, from the policy's moments per distinct (deadline, urgent), computed as arming does."""
    pairs = await conn.fetch(
        f"SELECT DISTINCT a.due_at, d.urgency <> 'normal' AS urgent FROM assignments a JOIN directives d ON d.id = a.directive_id "
        f"WHERE a.status IN {OPEN}"
    )
    calendar = WorkingCalendar()
    moments = [
        (p["due_at"], p["urgent"], s.key, s.kind.value, s.level, [a.value for a in s.notify],
         calendar.shift_instant(p["due_at"], s.offset_working_days))
        for p in pairs for s in (URGENT_STEPS if p["urgent"] else DEFAULT_STEPS)
    ]
    await conn.execute(
        "CREATE TEMP TABLE bench_moments (due_at timestamptz, urgent bool, step_key text, kind text, level int, notify text[], "
        "fire_at timestamptz)"
    )
    await conn.copy_records_to_table("bench_moments", records=moments)
    # Armed if still ahead when issued; fired once its moment passed while the assignment was being chased. Steps of
    # assignments awaiting review or a decision stay pending, except reminders whose deadline has passed (skipped).
    await conn.execute(
        f"""
        INSERT INTO escalation_steps (assignment_id, step_key, kind, level, notify, due_at, fire_at, status, fired_at)
        SELECT id, step_key, kind, level, notify, due_at, fire_at,
               CASE WHEN fired THEN 'fired' WHEN kind = 'reminder' AND fire_at <= $1 AND due_at <= $1 THEN 'skipped'
                    ELSE 'pending' END,
               CASE WHEN fired THEN fire_at END
        FROM (
            SELECT a.id, m.step_key, m.kind, m.level, m.notify, a.due_at, m.fire_at,
                   m.fire_at <= CASE WHEN a.status IN ('pending', 'in_progress') THEN $1 ELSE a.updated_at END AS fired
            FROM assignments a
            JOIN directives d ON d.id = a.directive_id
            JOIN bench_moments m ON m.due_at = a.due_at AND m.urgent = (d.urgency <> 'normal')
            WHERE a.status IN {OPEN} AND m.fire_at > a.created_at
        ) s
        """,
        now,
    )


_ASSIGNMENT_DATA = (
    "jsonb_build_object('assignment_id', a.id, 'directive_id', a.directive_id, 'task_id', a.task_id, 'unit_id', a.unit_id, "
    "'role', a.role, 'due_at', a.due_at, 'period_start', a.period_start)"
)
_ASSIGNMENT_JOINS = (
    "JOIN units u ON u.id = a.unit_id JOIN directives d ON d.id = a.directive_id JOIN units iu ON iu.id = d.issuer_id "
    "JOIN tasks t ON t.id = a.task_id LEFT JOIN units rt ON rt.id = t.report_to_id"
)
_SCOPE = "u.path || iu.path || COALESCE(rt.path, '{}')"


def events_sql() -> str:
    """The outbox since $1, as issuing, reporting, reviewing and the scan write it, in time order."""
    branches = [
        "SELECT 'directive.issued' AS type, d.issued_at AS at, jsonb_build_object('directive_id', d.id, 'notation', d.notation, "
        "'assignments', n.count) AS data, iu.path AS scope FROM directives d JOIN units iu ON iu.id = d.issuer_id "
        "JOIN (SELECT directive_id, count(*) FROM assignments GROUP BY 1) n ON n.directive_id = d.id WHERE d.issued_at >= $1",
        f"SELECT 'assignment.created', a.created_at, {_ASSIGNMENT_DATA}, {_SCOPE} FROM assignments a {_ASSIGNMENT_JOINS} "
        "WHERE a.created_at >= $1",
        f"SELECT 'report.submitted', r.created_at, {_ASSIGNMENT_DATA} || jsonb_build_object('report_id', r.id, 'kind', r.kind), "
        f"{_SCOPE} FROM reports r JOIN assignments a ON a.id = r.assignment_id {_ASSIGNMENT_JOINS} WHERE r.created_at >= $1",
        f"SELECT 'report.accepted', r.decided_at, {_ASSIGNMENT_DATA} || jsonb_build_object('report_id', r.id, 'kind', r.kind), "
        f"{_SCOPE} FROM reports r JOIN assignments a ON a.id = r.assignment_id {_ASSIGNMENT_JOINS} "
        "WHERE r.decided_at >= $1 AND r.status = 'accepted'",
        f"SELECT 'assignment.completed', a.completed_at, {_ASSIGNMENT_DATA}, {_SCOPE} FROM assignments a {_ASSIGNMENT_JOINS} "
        "WHERE a.completed_at >= $1",
        "SELECT CASE s.kind WHEN 'reminder' THEN 'assignment.due_soon' WHEN 'overdue' THEN 'assignment.overdue' "
        f"ELSE 'assignment.escalated' END, s.fired_at, {_ASSIGNMENT_DATA} || jsonb_build_object('step', s.step_key, "
        f"'level', s.level, 'fire_at', s.fire_at), {_SCOPE} FROM escalation_steps s JOIN assignments a ON a.id = s.assignment_id "
        f"{_ASSIGNMENT_JOINS} WHERE s.status = 'fired' AND s.fired_at >= $1",
    ]
    return (
        "INSERT INTO events (type, occurred_at, data, scope) SELECT type, at, data, scope FROM ("
        + " UNION ALL ".join(branches) + ") e ORDER BY at"
    )


RELAY_CURSOR = (
    "UPDATE webhook_relay_cursor SET txid = e.txid, event_id = e.id, updated_at = now() "
    "FROM (SELECT txid, id FROM events ORDER BY txid DESC, id DESC LIMIT 1) e WHERE webhook_relay_cursor.id = 1"
)

