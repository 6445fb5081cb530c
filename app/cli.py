"""The `dondoc` command line: serve, worker, migrate, seed-demo, keys, parse, openapi, import, dev."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from app.auth.models import Role

cli = typer.Typer(help="Dondoc: directives become tracked work.", no_args_is_help=True, add_completion=False)
keys_cli = typer.Typer(help="API keys.", no_args_is_help=True)
units_cli = typer.Typer(help="Units the API cannot create (top-level ones).", no_args_is_help=True)
cli.add_typer(keys_cli, name="keys")
cli.add_typer(units_cli, name="units")

ROOT = Path(__file__).resolve().parents[1]
OPENAPI_PATH = ROOT / "openapi" / "openapi.json"


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Port; default $PORT or 8000.")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the HTTP API."""
    import uvicorn

    from app.settings import get_settings

    uvicorn.run(
        "app.main:app", host=host, port=port or get_settings().port, workers=workers,
        loop="uvloop", http="httptools", access_log=False, proxy_headers=True,
    )


@cli.command()
def worker() -> None:
    """Run one ARQ worker (deadline scans, deliveries)."""
    from arq.worker import run_worker

    from workers.settings import WorkerSettings

    run_worker(WorkerSettings)  # type: ignore[arg-type]


@cli.command()
def migrate() -> None:
    """Apply every pending migration."""
    from app.migrate import upgrade_to_head
    from app.settings import get_settings

    upgrade_to_head(get_settings().database_url)
    typer.echo("database is at the latest migration")


@cli.command("seed-demo")
def seed_demo() -> None:
    """Load the demo province (about 320 units); safe to run again."""
    result = asyncio.run(_seed_demo())
    typer.echo(
        f"demo province: {result.created} created, {result.updated} updated, "
        f"{result.unchanged} unchanged, {result.errors} errors"
    )
    if result.errors:
        raise typer.Exit(1)


async def _seed_demo():  # type: ignore[no-untyped-def]
    from app.db import dispose_engine, sessionmaker
    from app.units.seed import seed_demo as seed

    try:
        async with sessionmaker()() as session, session.begin():
            return await seed(session)
    finally:
        await dispose_engine()


@keys_cli.command("create")
def keys_create(
    unit_code: Annotated[str, typer.Option("--unit-code", help="Code of the unit the key acts for.")],
    role: Annotated[Role, typer.Option(help="admin, issuer, member or reader.")] = Role.admin,
    name: Annotated[str, typer.Option(help="A label to recognise the key by.")] = "bootstrap",
) -> None:
    """Create an API key and print it (shown once)."""
    secret = asyncio.run(_create_key(unit_code, role, name))
    typer.echo(secret)


async def _create_key(unit_code: str, role: Role, name: str) -> str:
    from app.auth.service import bootstrap_key
    from app.db import dispose_engine, sessionmaker
    from app.errors import DondocError

    try:
        async with sessionmaker()() as session, session.begin():
            _, secret = await bootstrap_key(session, unit_code=unit_code, role=role, name=name)
            return secret
    except DondocError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from None
    finally:
        await dispose_engine()


@units_cli.command("add-root")
def units_add_root(
    code: Annotated[str, typer.Option(help="Unit code, e.g. SYT-TH.")],
    name: Annotated[str, typer.Option(help="Full name, e.g. 'Sở Y tế tỉnh Thanh Hóa'.")],
    kind: Annotated[str, typer.Option(help="Unit kind.")] = "department",
    short_name: Annotated[str | None, typer.Option(help="Abbreviation used in symbols, e.g. SYT.")] = None,
) -> None:
    """Create a top-level unit, the first step on an empty database before `keys create`."""
    unit_id = asyncio.run(_add_root(code, name, kind, short_name))
    typer.echo(unit_id)


async def _add_root(code: str, name: str, kind: str, short_name: str | None) -> str:
    from pydantic import ValidationError

    from app.db import dispose_engine, sessionmaker
    from app.errors import DondocError
    from app.units.schemas import UnitCreate
    from app.units.seed import create_root_unit

    try:
        data = UnitCreate(code=code, name=name, kind=kind, short_name=short_name)
        async with sessionmaker()() as session, session.begin():
            return str((await create_root_unit(session, data)).id)
    except (DondocError, ValidationError) as exc:
        typer.echo(f"error: {getattr(exc, 'detail', exc)}", err=True)
        raise typer.Exit(2) from None
    finally:
        await dispose_engine()


@cli.command()
def parse(
    file: Annotated[str, typer.Argument(help="A directive's text file, or - for standard input.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the full parse result as JSON.")] = False,
) -> None:
    """Read a directive's text and print its number, dates, tasks and deadlines."""
    from app.parsing.cli import run

    raise typer.Exit(run([file, *(["--json"] if as_json else [])]))


@cli.command()
def openapi(
    check: Annotated[bool, typer.Option(help="Fail if the committed document differs.")] = False,
    out: Annotated[Path, typer.Option(help="Where to write.")] = OPENAPI_PATH,
) -> None:
    """Write the OpenAPI document generated from the app (or check it is current)."""
    from app.main import app

    text = json.dumps(app.openapi(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if check:
        current = out.read_text(encoding="utf-8") if out.exists() else ""
        if current != text:
            typer.echo(f"{out} is out of date: run `dondoc openapi` and commit it", err=True)
            raise typer.Exit(1)
        typer.echo(f"{out} is current")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {out}")


@cli.command("import")
def import_file(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="NDJSON file, one object per line.")],
    kind: Annotated[str, typer.Option(help="units, directives or reports.")],
    url: Annotated[str, typer.Option(envvar="DONDOC_URL", help="The API's base URL.")] = "http://127.0.0.1:8000",
    key: Annotated[str, typer.Option(envvar="DONDOC_API_KEY", help="API key (ddk_...).")] = "",
    idempotency_key: Annotated[str | None, typer.Option(help="Send again with the same value to get the first job back.")] = None,
    show_errors: Annotated[int, typer.Option(help="How many failed lines to print.")] = 20,
) -> None:
    """Upload a file to POST /v1/imports and follow it with a progress bar. Exit 2 if some lines failed."""
    from app.imports.client import run_import

    if not key:
        typer.echo("give --key or set DONDOC_API_KEY", err=True)
        raise typer.Exit(1)
    raise typer.Exit(run_import(path, kind=kind, url=url, key=key, idempotency_key=idempotency_key, show_errors=show_errors))


@cli.command()
def dev() -> None:
    """What `make run` does: embedded servers if needed, migrate, seed once, admin key, API + worker."""
    from app.devserve import run_dev

    sys.exit(run_dev())


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    cli()


if __name__ == "__main__":
    main()
