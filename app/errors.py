"""Domain errors and their RFC 9457 problem+json rendering.

Services raise these; one set of exception handlers renders them. Routers
never build error responses by hand. Each problem `type` is a stable URI
clients may switch on.
"""

from __future__ import annotations

from typing import Any

PROBLEM_BASE = "https://dondoc.vn/problems/"
PROBLEM_JSON = "application/problem+json"


class DondocError(Exception):
    """Base of every error a client can cause; renders as problem+json."""

    status: int = 400
    type: str = "bad-request"
    title: str = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


class Unauthorized(DondocError):
    status, type, title = 401, "unauthorized", "Missing or invalid API key"


class Forbidden(DondocError):
    status, type, title = 403, "forbidden", "Not allowed for this key's role"


class NotFound(DondocError):
    """Also what a caller gets for anything outside its unit subtree: existence is not revealed."""

    status, type, title = 404, "not-found", "Not found"


class Conflict(DondocError):
    status, type, title = 409, "conflict", "Conflict with the current state"


class InvalidTransition(Conflict):
    type, title = "invalid-transition", "Not allowed in the current state"


class IdempotencyInProgress(Conflict):
    type, title = "idempotency-in-progress", "A request with this Idempotency-Key is still running"


class PreconditionFailed(DondocError):
    status, type, title = 412, "precondition-failed", "The resource changed since you read it"


class PayloadTooLarge(DondocError):
    status, type, title = 413, "payload-too-large", "Request body too large"


class UnsupportedMediaType(DondocError):
    status, type, title = 415, "unsupported-media-type", "Unsupported media type"


class MalformedBody(DondocError):
    status, type, title = 400, "malformed-json", "The request body is not valid JSON"


class ValidationProblem(DondocError):
    """422 with per-field errors: `errors: [{"field", "message", "code"}]`."""

    status, type, title = 422, "validation-error", "The request is not valid"

    def __init__(self, detail: str, errors: list[dict[str, Any]] | None = None, **extra: Any) -> None:
        super().__init__(detail, errors=errors or [], **extra)

    @classmethod
    def for_field(cls, field: str, message: str, code: str = "invalid") -> ValidationProblem:
        return cls(f"{field}: {message}", errors=[{"field": field, "message": message, "code": code}])


class IdempotencyKeyReused(ValidationProblem):
    type, title = "idempotency-key-reused", "Idempotency-Key reused with a different request"
