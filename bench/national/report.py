"""The machine a run happened on, the ratios to the bare baseline, the targets, and the tables printed."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import asyncpg

from app.settings import driver_database_url

ROOT = Path(__file__).resolve().parents[2]

# (name, phase, op, baseline op, minimum ratio, maximum p99 ms)
# The inbox is held to the bare 50-row page by index (the same page size and index walk, without
# auth, visibility or the directive and task columns); its ratio to the bare one-row read is
# reported too. Where a target has both, the ratio is the closed-loop phase's throughput and the
# p99 is measured in a paced phase offered exactly that share of the bare rate: under closed loops
# p99 is only the length of the queue (16 connections at 300 req/s wait ~50 ms whatever the server).
TARGETS = (
    ("inbox listing", "inbox", "inbox", "bare_list", 0.5, 50.0),
    ("single assignment read", "read", "read", "bare_read", 0.5, 50.0),
    ("report submission", "report", "report", "bare_insert", 1 / 3, None),
    ("compliance stats, a province over a year", "stats", "stats", None, None, 200.0),
)


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
    except OSError:
        return ""


async def machine(database_url: str) -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), platform.processor())
    mem_kb = next((int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemTotal")), 0)
    conn = await asyncpg.connect(driver_database_url(database_url))  # DATABASE_URL may name the +asyncpg dialect
    try:
        pg = await conn.fetchval("SHOW server_version")
        shared_buffers = await conn.fetchval("SHOW shared_buffers")
    finally:
        await conn.close()
    return {
        "cpu": model, "cores": os.cpu_count(), "ram_gb": round(mem_kb / 1024 / 1024, 1), "postgresql": pg,
        "postgresql_shared_buffers": shared_buffers, "embedded_postgresql": "host=/" in database_url or "?host=" in database_url,
        "python": platform.python_version(), "platform": platform.platform(),
        "git_commit": _git("rev-parse", "--short", "HEAD"), "git_dirty": bool(_git("status", "--porcelain")),
        "loadavg_start": list(os.getloadavg()),
    }


def row(rows: list[dict[str, Any]], phase: str, op: str) -> dict[str, Any] | None:
    return next((r for r in rows if r["phase"] == phase and r["op"] == op), None)


def paced(phase: str) -> str:
    return f"{phase}_paced"


def paced_targets() -> list[tuple[str, str, float]]:
    """(phase, baseline op, share of its rate) for each target with both a throughput ratio and a p99 limit."""
    return [(phase, base, ratio) for _, phase, _, base, ratio, max_p99 in TARGETS if base and ratio and max_p99]


def ratios(rows: list[dict[str, Any]]) -> tuple[dict[str, float], dict[str, dict[str, Any]]]:
    out: dict[str, float] = {}
    for phase, op, base in (("healthz", "healthz", "bare_read"), ("inbox", "inbox", "bare_read"), ("inbox", "inbox", "bare_list"),
                            ("read", "read", "bare_read"), ("report", "report", "bare_insert"), ("mixed", "inbox", "bare_read")):
        mine, bare = row(rows, phase, op), row(rows, base, base)
        if mine and bare and bare["rps"]:
            out[f"{phase}.{op} / {base}"] = round(mine["rps"] / bare["rps"], 3)
    targets: dict[str, dict[str, Any]] = {}
    for name, phase, op, base, min_ratio, max_p99 in TARGETS:
        mine = row(rows, phase, op)
        if mine is None:
            continue
        checks, met = [], True
        if base and min_ratio:
            bare = row(rows, base, base)
            ratio = round(mine["rps"] / bare["rps"], 3) if bare and bare["rps"] else None
            checks.append(f"{mine['rps']:.0f} req/s = {ratio} x {base} (target >= {min_ratio:.2f})")
            met = met and ratio is not None and ratio >= min_ratio
        at_rate = row(rows, paced(phase), op)
        if max_p99 and at_rate:
            # Offered the target rate, it must keep up (within 5 %) and answer in time.
            bare_at_rate = row(rows, paced(base), base) if base else None
            checks.append(
                f"p99 {at_rate['p99_ms']} ms at {at_rate['offered_rps']:.0f} req/s offered "
                f"({at_rate['rps']:.0f} answered; target < {max_p99:.0f}"
                + (f"; the bare app at that rate: p99 {bare_at_rate['p99_ms']} ms)" if bare_at_rate else ")")
            )
            met = met and at_rate["p99_ms"] < max_p99 and at_rate["rps"] >= 0.95 * at_rate["offered_rps"]
        elif max_p99:
            checks.append(f"p99 {mine['p99_ms']} ms (target < {max_p99:.0f})")
            met = met and mine["p99_ms"] < max_p99
        targets[name] = {"met": met, "measured": "; ".join(checks), "errors": mine["errors"]}
    return out, targets


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| phase | operation | count | req/s | p50 ms | p95 ms | p99 ms | errors |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['phase']} | {r['op']} | {r['count']:,} | {r['rps']:,.0f} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | {r['errors']} |")
        lines += [f"|  | error: {s[:100]} | | | | | | |" for s in r["error_samples"][:1]]
    return "\n".join(lines)


def summary(result: dict[str, Any]) -> str:
    m, c = result["machine"], result["config"]
    parts = [
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM; PostgreSQL {m['postgresql']}"
        f"{' (embedded)' if m['embedded_postgresql'] else ''}; Python {m['python']}; commit {m['git_commit']}"
        f"{' (uncommitted changes)' if m['git_dirty'] else ''}; load average {m['loadavg_start'][0]:.2f} at start, "
        f"{m.get('loadavg_end', [0])[0]:.2f} at end.",
        f"Scale {c['scale']}: {', '.join(f'{k} {v:,}' for k, v in result.get('dataset', {}).get('counts', {}).items())}"
        f"{'; built in ' + str(result['dataset']['build_s']) + ' s' if 'dataset' in result else ''}.",
        f"Load: {c['processes']} process x {c['connections']} connections, {c['duration']:.0f} s per phase "
        f"({c['warmup']:.0f} s warm-up not counted); stats one request at a time.",
        "", table(result["phases"]), "",
        "| target | measured | met |", "|---|---|---|",
        *[f"| {name} | {t['measured']} | {'yes' if t['met'] else '**no**'} |" for name, t in result["targets"].items()],
    ]
    mixed = [r for r in result["phases"] if r["phase"] == "mixed"]
    if mixed:
        parts.append(f"\nMixed load, all operations: {sum(r['rps'] for r in mixed):,.0f} req/s.")
    parts += ["", "| background work | measured |", "|---|---|"]
    if "scan" in result:
        s = result["scan"]
        parts.append(f"| deadline scan, {s['pending_steps']:,} pending steps: fire {s['due_per_run']:,} due (events written, committed) "
                     f"| median {s['median_ms']:,} ms (runs {', '.join(str(t) for t in s['runs_ms'])}) |")
        parts.append(f"| deadline scan with nothing new due | {s['idle_ms']:,.0f} ms |")
    w = result.get("webhooks", {})
    if "deliveries_per_s" in w:
        parts.append(f"| webhook deliveries, one worker, {w['events']:,} events to a local receiver | {w['deliveries_per_s']:,.0f}/s "
                     f"(attempt p50 {w['attempt_ms_p50']} ms, p99 {w['attempt_ms_p99']} ms) |")
    elif w:
        parts.append(f"| webhook deliveries | {w} |")
    for kind, rows in (("units", "lines"), ("directives", "assignments")):
        job = result.get("imports", {}).get(kind)
        if not job:
            continue
        if "skipped" in job or "error" in job and job["error"]:
            parts.append(f"| import {kind} | {job.get('skipped') or job.get('error')} |")
            continue
        count = job["succeeded"] if kind == "units" else job.get("assignments", 0)
        what = f"{job['lines']:,} lines" + (f", {count:,} {rows}" if rows != "lines" else "")
        parts.append(f"| import {kind}: {what} ({job['status']}) "
                     f"| {job.get('rows_per_s_worker', 0):,} {rows}/s in the worker, {job.get('rows_per_s_wall', 0):,}/s end to end |")
    return "\n".join(parts)


if __name__ == "__main__":  # print a results file's table again: python -m bench.national.report bench/results/<file>.json
    import json
    import sys

    print(summary(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))))
