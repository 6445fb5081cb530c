"""`make bench`: build the national dataset, run every phase, write bench/results/<UTC>-national.json, print the table.

    .venv/bin/python -m bench.national [--scale 1] [--duration 30] [--warmup 5] [--connections 16] [--processes 1]
                                       [--only scan,baseline,healthz,mixed,inbox,read,report,stats,webhooks,imports] [--keep]

Uses DATABASE_URL / REDIS_URL when set, else the embedded servers (as `make test` does). One
`dondoc serve` (one process) and one `dondoc worker` run as subprocesses against a scratch
database, the bare baseline the same way; the load comes from separate processes. The scratch
database is dropped at the end unless --keep (then --reuse NAME runs the phases on it again).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.national import dataset, keys, load, phases, report
from bench.national.procs import Services, free_port
from bench.scratch import database_on_server

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
PHASES = ("scan", "baseline", "healthz", "mixed", "inbox", "read", "report", "stats", "webhooks", "imports")


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench.national", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", 1.0)), help="1 = 34 provinces, 200k directives")
    ap.add_argument("--duration", type=float, default=float(os.environ.get("BENCH_DURATION", 30)), help="seconds per load phase")
    ap.add_argument("--warmup", type=float, default=5.0, help="seconds at the start of each phase not counted")
    ap.add_argument("--connections", type=int, default=16, help="concurrent connections per load process")
    ap.add_argument("--processes", type=int, default=1, help="load generator processes")
    ap.add_argument("--only", default=",".join(PHASES), help="comma-separated phases to run")
    ap.add_argument("--webhook-events", type=int, default=None, help="default 5,000 x scale (at least 500)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch database (prints its name)")
    ap.add_argument("--reuse", metavar="NAME", help="run the phases on a database kept by --keep (no build)")
    ap.add_argument("--no-save", action="store_true", help="print only; write no results file")
    return ap.parse_args(argv)


def load_phases(args: argparse.Namespace, only: set[str], api: str, measured: list[dict[str, Any]]) -> list[load.Phase]:
    common = {"duration": args.duration, "warmup": args.warmup, "connections": args.connections, "processes": args.processes}
    out = []
    if "mixed" in only:
        out.append(load.Phase("mixed", api, dict(load.MIX), **common))
    for name in ("healthz", "inbox", "read", "report"):  # healthz: Dondoc's middleware and routing, no key, no query
        if name in only:
            out.append(load.Phase(name, api, {name: 1}, **common))
    out += paced_phases(args, only, api, measured, bare=False)
    if "stats" in only:  # answer time: one request at a time
        out.append(load.Phase("stats", api, {"stats": 1}, **{**common, "connections": 1, "processes": 1}))
    return out


def paced_phases(args: argparse.Namespace, only: set[str], url: str, measured: list[dict[str, Any]], *, bare: bool) -> list[load.Phase]:
    """A latency target holds at a throughput: offered the target share of the bare rate measured in
    this run (open loop), is p99 under the limit? Without a baseline in the run there is no rate.
    With `bare`, the baseline's own operations at the same rates (for the phases that will run), for comparison.

    Four times the connections, each mostly idle: with few, one slow answer makes every later
    request of its connection late, and the phase measures the generator's queue again.
    """
    common = {"duration": args.duration, "warmup": args.warmup, "connections": 4 * args.connections, "processes": args.processes}
    out = []
    for phase, base, share in report.paced_targets():
        measured_bare = report.row(measured, base, base)
        op = base if bare else phase
        if phase in only and measured_bare and measured_bare["rps"]:
            out.append(load.Phase(report.paced(op), url, {op: 1}, **common, rate=share * measured_bare["rps"]))
    return out


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from app.devservers import ensure_servers

    only = set(args.only.split(","))
    servers = ensure_servers(database="postgres", persist_redis=False)
    result: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": {k: getattr(args, k) for k in ("scale", "duration", "warmup", "connections", "processes")},
        "machine": await report.machine(os.environ["DATABASE_URL"]), "phases": [],
    }
    try:
        async with database_on_server("dondoc_national", keep=args.keep, reuse=args.reuse) as url:
            now = datetime.now(UTC)
            built = dataset.Built(dataset.provinces(dataset.province_count(args.scale)))
            if not args.reuse:
                print(f"building the national dataset at scale {args.scale} ...")
                started = time.perf_counter()
                built = await dataset.build(url, scale=args.scale, now=now)
                result["dataset"] = {"build_s": round(time.perf_counter() - started, 1), "counts": built.counts, "steps_s": built.seconds}
                print(f"built in {result['dataset']['build_s']} s: " + ", ".join(f"{k} {v:,}" for k, v in built.counts.items()))
            pools = await keys.mint(url, built.provinces)
            if "scan" in only:
                result["scan"] = await phases.deadline_scan(url, now, max(100, round(10_000 * args.scale)))
                print(f"deadline scan: {result['scan']}")
            await _serve_and_load(args, only, url, pools, result)
    finally:
        servers.stop()
    result["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["machine"]["loadavg_end"] = list(os.getloadavg())
    result["ratios"], result["targets"] = report.ratios(result["phases"])
    return result


async def _serve_and_load(args: argparse.Namespace, only: set[str], url: str, pools: keys.Pools, result: dict[str, Any]) -> None:
    queue = f"dondoc-bench:{uuid.uuid4().hex[:8]}"
    try:
        await _phases(args, only, url, pools, result, queue)
    finally:  # the run's queue and worker metrics, on a Redis that may be shared
        from redis.asyncio import Redis

        redis = Redis.from_url(os.environ["REDIS_URL"])
        try:
            async for key in redis.scan_iter(match=f"{queue}*"):
                await redis.delete(key)
        finally:
            await redis.aclose()


async def _phases(args: argparse.Namespace, only: set[str], url: str, pools: keys.Pools, result: dict[str, Any], queue: str) -> None:
    env = {"DATABASE_URL": url, "ARQ_QUEUE_NAME": queue, "DONDOC_WEBHOOK_ALLOW_PRIVATE": "true"}
    if "baseline" in only:
        with Services(env) as services:
            base = await services.baseline()
            for name in ("bare_read", "bare_list", "bare_insert"):
                _run_phase(load.Phase(name, base, {name: 1}, args.duration, args.warmup, args.connections, args.processes), pools, result)
            for phase in paced_phases(args, only, base, result["phases"], bare=True):
                _run_phase(phase, pools, result)  # the bare app at the same offered rates: what this machine's tail is
    wanted = load_phases(args, only, "", result["phases"])
    if not (wanted or only & {"webhooks", "imports"}):
        return
    with Services(env) as services:
        api = await services.dondoc()
        await services.worker()
        for phase in wanted:
            phase.base_url = api
            _run_phase(phase, pools, result)
        if "webhooks" in only:
            events = args.webhook_events or max(500, round(5000 * args.scale))
            p = pools.provinces[0]
            result["webhooks"] = await phases.webhooks(url, api, p.admin, p.root_id, free_port(), events)
            print(f"webhooks: {result['webhooks']}")
        if "imports" in only:
            result["imports"] = await phases.imports(url, api, args.scale)
            print(f"imports: {json.dumps(result['imports'], default=str)}")


def _run_phase(phase: load.Phase, pools: keys.Pools, result: dict[str, Any]) -> None:
    print(f"phase {phase.name}: {phase.duration:.0f} s, {phase.processes} x {phase.connections} connections ...", flush=True)
    rows = load.summarize(phase, load.run_phase(phase, pools))
    result["phases"] += rows
    print(report.table(rows), flush=True)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    result = asyncio.run(run(args))
    print()
    print(report.summary(result))
    if not args.no_save:
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-national.json"
        path.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
        print(f"\nresults written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
