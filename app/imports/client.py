"""`dondoc import`: stream an NDJSON file to POST /v1/imports and follow the job with a progress bar.

A plain HTTP client of the public API, so it works against any Dondoc, local or remote.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import typer

CHUNK = 1 << 20
POLL_S = 0.5


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def run_import(path: Path, *, kind: str, url: str, key: str, idempotency_key: str | None, show_errors: int) -> int:
    """Upload, follow, summarise. Exit status: 0 all lines in, 2 some lines failed, 1 the import itself failed."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    with httpx.Client(base_url=url.rstrip("/"), timeout=httpx.Timeout(30.0, read=600.0)) as http:
        typer.echo(f"uploading {path} ({path.stat().st_size:,} bytes)...", err=True)
        response = http.post("/v1/imports", params={"kind": kind}, content=_chunks(path), headers=headers)
        if response.status_code not in (200, 202):
            typer.echo(f"upload refused: {response.status_code} {response.text}", err=True)
            return 1
        job = _follow(http, response.json(), headers)
        typer.echo(
            f"{job['status']}: {job['succeeded']:,} of {job['total']:,} lines in, {job['failed']:,} failed "
            f"({', '.join(f'{k} {v:,}' for k, v in sorted(job['counts'].items())) or 'nothing applied'}); "
            f"{job['rate_per_s'] or 0:,.0f} lines/s"
        )
        if job["status"] == "failed":
            typer.echo(f"the import stopped: {job['error']}", err=True)
            return 1
        if job["failed"]:
            _print_errors(http, job["id"], headers, show_errors)
            return 2
    return 0


def _follow(http: httpx.Client, job: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    with typer.progressbar(length=max(job["total"], 1), label=f"import {job['id']}", show_pos=True) as bar:
        shown = 0
        while job["status"] in ("receiving", "queued", "running"):
            time.sleep(POLL_S)
            job = http.get(f"/v1/imports/{job['id']}", headers=headers).raise_for_status().json()
            bar.update(job["processed"] - shown)
            shown = job["processed"]
        bar.update(job["processed"] - shown)
    return job


def _print_errors(http: httpx.Client, job_id: str, headers: dict[str, str], limit: int) -> None:
    page = http.get(f"/v1/imports/{job_id}/errors", params={"limit": max(1, min(limit, 500))}, headers=headers).json()
    for item in page["items"][:limit]:
        for error in item["errors"]:
            where = f" {error['field']}:" if error["field"] else ""
            typer.echo(f"line {item['line']}:{where} {error['message']} ({error['code']})", err=True)
    typer.echo(f"all errors: GET /v1/imports/{job_id}/errors", err=True)
