"""Exception handlers: every error leaves as RFC 9457 application/problem+json."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.errors import PROBLEM_BASE, PROBLEM_JSON, Conflict, DondocError, MalformedBody, ValidationProblem

log = logging.getLogger("dondoc.errors")

_HTTP_TYPES = {
    401: ("unauthorized", "Missing or invalid API key"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
}


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(
        content=orjson.dumps(body), status_code=body["status"], media_type=PROBLEM_JSON, headers=headers
    )


def _field_path(loc: tuple[Any, ...]) -> str:
    """('body', 'items', 3, 'code') -> 'items[3].code'; the 'body'/'query' prefix is the location."""
    parts = list(loc[1:]) if loc and loc[0] in ("body", "query", "path", "header") else list(loc)
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or (str(loc[0]) if loc else "")


def validation_errors(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    errors = []
    for err in raw:
        loc = tuple(err.get("loc", ()))
        errors.append(
            {
                "field": _field_path(loc),
                "in": loc[0] if loc and loc[0] in ("body", "query", "path", "header") else "body",
                "message": err.get("msg", "invalid"),
                "code": err.get("type", "invalid"),
            }
        )
    return errors


async def _dondoc_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DondocError)
    headers = {"WWW-Authenticate": 'Bearer realm="dondoc"'} if exc.status == 401 else None
    return problem_response(exc.problem(request.url.path), headers=headers)


async def _request_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    raw = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in raw):
        err = raw[0]
        where = err.get("ctx", {}).get("error", "")
        return problem_response(MalformedBody(f"Malformed JSON: {where}".rstrip(": ")).problem(request.url.path))
    errors = validation_errors(raw)
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return problem_response(ValidationProblem(summary, errors=errors).problem(request.url.path))


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    kind, title = _HTTP_TYPES.get(exc.status_code, ("http-error", "HTTP error"))
    body = {
        "type": PROBLEM_BASE + kind,
        "title": title,
        "status": exc.status_code,
        "detail": str(exc.detail),
        "instance": request.url.path,
    }
    return problem_response(body, headers=dict(exc.headers or {}))


async def _integrity_error(request: Request, exc: Exception) -> Response:
    # A backstop: services check constraints first, but a concurrent writer can still win the race.
    log.warning("integrity error reached the handler: %s", exc)
    return problem_response(Conflict("The change conflicts with existing data; retry.").problem(request.url.path))


async def _data_exception(request: Request, exc: Exception) -> Response:
    """PostgreSQL's class 22 (data exception: a value out of range, text it cannot store...) is bad input.

    From SQLAlchemy it comes wrapped in a DBAPIError; from statements run straight on asyncpg, bare.
    """
    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    if str(getattr(cause, "sqlstate", "") or "").startswith("22"):
        log.info("data exception from the database: %s", cause)
        problem = ValidationProblem("A value in the request cannot be stored or compared: " + type(cause).__name__ + ".")
        return problem_response(problem.problem(request.url.path))
    return await _unhandled(request, exc)


async def _unhandled(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error")
    return problem_response(internal_problem(request.url.path))


def internal_problem(instance: str | None) -> dict[str, Any]:
    """The 500 every unexpected error gets: its details are in the log, not the response."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + "internal",
        "title": "Internal error",
        "status": 500,
        "detail": "An unexpected error occurred; it has been logged.",
    }
    if instance:
        body["instance"] = instance
    return body


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DondocError, _dondoc_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(asyncpg.IntegrityConstraintViolationError, _integrity_error)  # from statements run on asyncpg
    app.add_exception_handler(DBAPIError, _data_exception)
    app.add_exception_handler(asyncpg.PostgresError, _data_exception)
    app.add_exception_handler(Exception, _unhandled)
