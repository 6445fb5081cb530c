"""The load: operations as a province's clients make them, mixed by weight, in separate processes.

Each load process runs `connections` closed loops (a request, its answer, the next request) for
`duration` seconds; answers completed during the first `warmup` seconds are not counted. A paced
phase (`rate` set) is an open loop instead: each connection's requests fall due at a fixed
interval, staggered across connections so that together they offer `rate` requests a second, and
a request sent late counts the time it waited (so a stall cannot hide its own queue). That gives a
latency at a stated throughput, where a closed loop's latency is only its queue. The operations,
with the keys they use (see keys.py):

    inbox       a station's inbox (member key): first page of 50, plain (40%), open only (30%),
                overdue only (15%); or a health centre's subtree inbox, open only (15%)
    read        one of the station's assignments (member key)
    report      a progress report on one of its open assignments; every fifth a final report
                on an assignment not reported final before (write + event + audit, one transaction)
    directive   a Sở issuer drafts a directive with two tasks (lead/coordinating offices; every
                station under a health centre) and issues it: `directive_create` + `directive_issue`
    stats       compliance of the reader's whole province over the last 12 months
    bare_*      the baseline app's read by primary key, 50-row list by index, and insert
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import time
from array import array
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import orjson

from bench.national.httpload import Client
from bench.national.keys import Pools

MIX = {"inbox": 60, "read": 20, "report": 10, "directive": 5, "stats": 5}


@dataclass
class Phase:
    name: str
    base_url: str
    weights: dict[str, float]
    duration: float = 30.0
    warmup: float = 5.0
    connections: int = 16
    processes: int = 1
    rate: float | None = None  # paced: requests a second offered over all connections; None: closed loops


@dataclass
class OpResult:
    latencies_ms: array = field(default_factory=lambda: array("d"))  # type: ignore[type-arg]
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)

    def merge(self, other: OpResult) -> None:
        self.latencies_ms.extend(other.latencies_ms)
        self.errors += other.errors
        for status, n in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + n
        self.error_samples = (self.error_samples + other.error_samples)[:5]


class _Context:
    """What one load process's operations draw from."""

    def __init__(self, pools: Pools, process: int, processes: int, seed: int) -> None:
        self.rng = random.Random(seed * 1000 + process)
        self.process = process
        self.pools = pools
        self.stations = [(p, s) for p in pools.provinces for s in p.stations if s.ids]
        # Final reports consume assignments: each process gets its own share so none is reported final twice.
        everyone = [(s.secret, i) for _, s in self.stations for i in s.open_ids if i not in pools.reported_final]
        self.finals = everyone[process::processes]
        self.reporting = [s for _, s in self.stations if s.open_ids]
        self.rng.shuffle(self.finals)
        self.directive_number = 900_000 + process * 100_000
        today = date.today()
        self.window = f"from={today - timedelta(days=365)}&to={today}"
        self.results: dict[str, OpResult] = {}
        self.reported_final: list[str] = []


Sample = tuple[str, float, int, bytes]  # op, latency ms, status, body
Op = Callable[[Client, _Context], Awaitable[list[Sample]]]


async def _timed(client: Client, op: str, method: str, path: str, token: str | None, body: Any = None) -> Sample:
    payload = orjson.dumps(body) if body is not None else None
    started = time.perf_counter()
    status, answer = await client.request(method, path, token=token, body=payload)
    return op, (time.perf_counter() - started) * 1000, status, answer


async def op_inbox(client: Client, ctx: _Context) -> list[Sample]:
    r = ctx.rng.random()
    province, station = ctx.rng.choice(ctx.stations)
    if r < 0.15 and province.centres:
        return [await _timed(client, "inbox", "GET", "/v1/assignments?status=pending&status=in_progress&limit=50",
                             ctx.rng.choice(province.centres))]
    query = "limit=50" if r < 0.55 else "status=pending&status=in_progress&limit=50" if r < 0.85 else "timeliness=overdue&limit=50"
    return [await _timed(client, "inbox", "GET", f"/v1/assignments?{query}", station.secret)]


async def op_read(client: Client, ctx: _Context) -> list[Sample]:
    _, station = ctx.rng.choice(ctx.stations)
    return [await _timed(client, "read", "GET", f"/v1/assignments/{ctx.rng.choice(station.ids)}", station.secret)]


async def op_report(client: Client, ctx: _Context) -> list[Sample]:
    if ctx.finals and ctx.rng.random() < 0.2:
        secret, assignment_id = ctx.finals.pop()
        ctx.reported_final.append(assignment_id)
        body = {"kind": "final", "content": "Đơn vị đã hoàn thành nhiệm vụ.", "figures": {"done": 1}}
    else:
        station = ctx.rng.choice(ctx.reporting)
        secret, assignment_id = station.secret, ctx.rng.choice(station.open_ids)
        body = {"kind": "progress", "content": "Đơn vị đang triển khai, đã thực hiện được 60%.", "figures": {"percent": 60}}
    return [await _timed(client, "report", "POST", f"/v1/assignments/{assignment_id}/reports", secret, body)]


async def op_directive(client: Client, ctx: _Context) -> list[Sample]:
    province = ctx.rng.choice(ctx.pools.provinces)
    ctx.directive_number += 1
    offices = ctx.rng.sample(province.office_codes, 2)
    body = {
        "issuer_code": province.root_code, "number": str(ctx.directive_number), "symbol": "SYT-VP", "doc_type": "cong_van",
        "issued_on": str(date.today()), "subject": "Đôn đốc triển khai tiêm chủng mở rộng",
        "tasks": [
            {"text": "Chủ trì tổng hợp, báo cáo Giám đốc Sở.", "lead_codes": [offices[0]], "coordinating_codes": [offices[1]],
             "due_in_working_days": 10},
            {"text": "Các trạm y tế báo cáo kết quả.", "report_to_code": province.office_codes[0],
             "assignee_selector": {"under_code": ctx.rng.choice(province.health_centre_codes), "kinds": ["commune_health_station"]},
             "due_on": str(date.today() + timedelta(days=20)), "due_kind": "by"},
        ],
    }
    created = await _timed(client, "directive_create", "POST", "/v1/directives", province.issuer, body)
    if created[2] != 201:
        return [created]
    directive_id = orjson.loads(created[3])["id"]
    return [created, await _timed(client, "directive_issue", "POST", f"/v1/directives/{directive_id}/issue", province.issuer)]


async def op_stats(client: Client, ctx: _Context) -> list[Sample]:
    province = ctx.rng.choice(ctx.pools.provinces)
    return [await _timed(client, "stats", "GET", f"/v1/stats/compliance?{ctx.window}", province.reader)]


async def op_bare_read(client: Client, ctx: _Context) -> list[Sample]:
    return [await _timed(client, "bare_read", "GET", f"/bare/assignments/{ctx.rng.choice(ctx.pools.sample_ids)}", None)]


async def op_bare_list(client: Client, ctx: _Context) -> list[Sample]:
    return [await _timed(client, "bare_list", "GET", f"/bare/units/{ctx.rng.choice(ctx.pools.sample_units)}/assignments", None)]


async def op_bare_insert(client: Client, ctx: _Context) -> list[Sample]:
    body = {"assignment_id": ctx.rng.choice(ctx.pools.sample_ids), "content": "Đơn vị đang triển khai, đã thực hiện được 60%."}
    return [await _timed(client, "bare_insert", "POST", "/bare/reports", None, body)]


async def op_healthz(client: Client, ctx: _Context) -> list[Sample]:
    """Calibration only (not in the mix): the app's middleware and routing with no database and no key."""
    return [await _timed(client, "healthz", "GET", "/healthz", None)]


OPS: dict[str, Op] = {
    "healthz": op_healthz,
    "inbox": op_inbox, "read": op_read, "report": op_report, "directive": op_directive, "stats": op_stats,
    "bare_read": op_bare_read, "bare_list": op_bare_list, "bare_insert": op_bare_insert,
}
EXPECTED = {"directive_create": 201, "report": 201, "bare_insert": 201}


async def _loop(phase: Phase, ctx: _Context, start_at: float) -> None:
    names = list(phase.weights)
    cumulative = [sum(phase.weights[n] for n in names[: i + 1]) for i in range(len(names))]
    measure_from, stop_at = start_at + phase.warmup, start_at + phase.duration

    async def connection(index: int) -> None:
        client = Client(phase.base_url)
        slots = phase.connections * phase.processes
        interval = slots / phase.rate if phase.rate else 0.0  # paced: this connection's time between requests
        due = start_at + interval * (ctx.process * phase.connections + index) / slots
        try:
            while time.time() < stop_at:
                late_ms = 0.0
                if interval:
                    wait = due - time.time()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    late_ms = max(0.0, -wait) * 1000
                    due += interval
                op = ctx.rng.choices(names, cum_weights=cumulative)[0]
                try:
                    samples = await OPS[op](client, ctx)
                except (ConnectionError, OSError) as exc:
                    samples = [(op, 0.0, 0, repr(exc).encode())]
                now = time.time()
                if measure_from <= now <= stop_at:
                    for op_name, latency, status, body in samples:
                        _record(ctx, (op_name, latency + late_ms, status, body))
        finally:
            client.close()

    await asyncio.sleep(max(0.0, start_at - time.time()))
    await asyncio.gather(*(connection(i) for i in range(phase.connections)))


def _record(ctx: _Context, sample: Sample) -> None:
    op, latency, status, body = sample
    result = ctx.results.setdefault(op, OpResult())
    result.statuses[status] = result.statuses.get(status, 0) + 1
    if status == EXPECTED.get(op, 200):
        result.latencies_ms.append(latency)
    else:
        result.errors += 1
        if len(result.error_samples) < 3:
            result.error_samples.append(f"{status} {body[:300].decode(errors='replace')}")


def _process(phase: Phase, pools: Pools, process: int, seed: int, start_at: float, out: Any) -> None:
    import uvloop

    ctx = _Context(pools, process, phase.processes, seed)
    uvloop.run(_loop(phase, ctx, start_at))
    out.send((ctx.results, ctx.reported_final))
    out.close()


def run_phase(phase: Phase, pools: Pools, *, seed: int = 7) -> dict[str, OpResult]:
    """Run the phase in `phase.processes` fresh processes and merge what they measured."""
    spawn = multiprocessing.get_context("spawn")
    start_at = time.time() + 1.5 + 0.3 * phase.processes  # time for the processes to start and import
    pipes, procs = [], []
    for i in range(phase.processes):
        receive, send = spawn.Pipe(duplex=False)
        proc = spawn.Process(target=_process, args=(phase, pools, i, seed, start_at, send), daemon=True)
        proc.start()
        send.close()  # the child holds the only sending end: if it dies, recv() fails instead of waiting
        pipes.append(receive)
        procs.append(proc)
    merged: dict[str, OpResult] = {}
    try:
        for receive in pipes:
            if not receive.poll(phase.duration + 120):
                raise RuntimeError(f"load process for phase {phase.name} did not report")
            try:
                results, reported_final = receive.recv()
            except EOFError:
                raise RuntimeError(f"a load process for phase {phase.name} died (exit code {procs[pipes.index(receive)].exitcode})") from None
            pools.reported_final.update(reported_final)  # the next phase does not report these final again
            for op, result in results.items():
                merged.setdefault(op, OpResult()).merge(result)
    finally:
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()
    return merged


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[rank]


def summarize(phase: Phase, results: dict[str, OpResult]) -> list[dict[str, Any]]:
    seconds = phase.duration - phase.warmup
    rows = []
    for op, result in sorted(results.items(), key=lambda item: -len(item[1].latencies_ms)):
        values = sorted(result.latencies_ms)
        rows.append({
            "phase": phase.name, "op": op, "count": len(values), "rps": round(len(values) / seconds, 1),
            "p50_ms": round(percentile(values, 50), 1), "p95_ms": round(percentile(values, 95), 1),
            "p99_ms": round(percentile(values, 99), 1), "errors": result.errors,
            "statuses": {str(k): v for k, v in sorted(result.statuses.items())}, "error_samples": result.error_samples,
            **({"offered_rps": round(phase.rate, 1)} if phase.rate else {}),
        })
    return rows
