"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs latency on every request).

`RequestContext` gives each request an id (the client's `X-Request-ID` or a new
one), logs one JSON access line, records Prometheus metrics, and refuses bodies
over the configured size with a 413 problem before the endpoint reads them.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PayloadTooLarge, ValidationProblem
from app.problems import problem_response
from app.requestctx import request_id_var

log = logging.getLogger("dondoc.access")

REQUESTS = Counter("dondoc_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "dondoc_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
API_PREFIX = "/v1"
BULK_PREFIX = "/v1/imports"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")


class _BodyTooLarge(Exception):
    pass


class RequestContext:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, bulk_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.bulk_body_bytes = bulk_body_bytes

    def _limit(self, scope: Scope) -> int:
        """Bulk uploads stream into staging and may be large; every other body is read whole and stays small."""
        return self.bulk_body_bytes if scope.get("path", "").startswith(BULK_PREFIX) else self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            if b"%00" in scope.get("query_string", b""):
                await self._bad_query(scope, receive, send_with_id)
            elif _declared_length(scope) > self._limit(scope):
                await self._too_large(scope, receive, send_with_id)
            else:
                await self.app(scope, self._limited(receive, self._limit(scope)), send_with_id)
        except _BodyTooLarge:
            await self._too_large(scope, receive, send_with_id)
        finally:
            self._observe(scope, status_holder["status"], time.perf_counter() - started)
            request_id_var.reset(token)

    def _limited(self, receive: Receive, limit: int) -> Receive:
        """Count streamed bytes too: a chunked body declares no length."""
        seen = 0

        async def wrapped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _BodyTooLarge
            return message

        return wrapped

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self._limit(scope)
        error = PayloadTooLarge(f"The request body exceeds {limit} bytes.", limit=limit)
        response = problem_response(error.problem(scope.get("path")))
        await response(scope, receive, send)

    async def _bad_query(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = ValidationProblem("The query string contains a NUL character (%00), which no parameter accepts.")
        await problem_response(error.problem(scope.get("path")))(scope, receive, send)

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        route = _route_template(scope)
        method = scope.get("method", "")
        REQUESTS.labels(method, route, str(status)).inc()
        LATENCY.labels(method, route).observe(seconds)
        log.info(
            "request",
            extra={
                "method": method,
                "path": scope.get("path"),
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
            },
        )


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _SAFE_REQUEST_ID.match(candidate):
                return candidate
    # 128 random bits as 32 hex digits, like a uuid4's hex without building the UUID object.
    return secrets.token_hex(16)


def _declared_length(scope: Scope) -> int:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


def _route_template(scope: Scope) -> str:
    """The matched route's template, so metrics do not get one label per unit id."""
    route: Any = scope.get("route")
    template: str | None = getattr(route, "path", None)
    return "unmatched" if template is None else template
