"""One staged line: parsing and validating it, and the outcome an applier gives it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.errors import DondocError
from app.imports.models import LineStatus
from app.problems import validation_errors

T = TypeVar("T", bound=BaseModel)


class StagedLine(NamedTuple):
    """A line as staged: a tuple, since a batch reads 5,000 twice and a frozen dataclass is 3× slower to make."""

    line_no: int
    raw: str


@dataclass(slots=True)
class LineOutcome:
    """What became of a line: succeeded (created / updated / unchanged...), failed with errors, or deferred."""

    line_no: int
    status: LineStatus
    outcome: str | None = None  # counted on the job by kind, as `counts`
    errors: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def done(cls, line_no: int, outcome: str) -> LineOutcome:
        return cls(line_no, LineStatus.succeeded, outcome)

    @classmethod
    def error(cls, line_no: int, code: str, message: str, fld: str | None = None) -> LineOutcome:
        return cls(line_no, LineStatus.failed, errors=[{"field": fld, "code": code, "message": message}])

    @classmethod
    def from_problem(cls, line_no: int, exc: DondocError, prefix: str = "") -> LineOutcome:
        """A service's problem (validation, conflict, not found...) as this line's errors."""
        raw = exc.extra.get("errors") or [{"field": exc.extra.get("field"), "code": exc.type, "message": exc.detail}]
        errors = [
            {"field": _join(prefix, e.get("field")), "code": e.get("code") or exc.type, "message": e.get("message") or exc.detail}
            for e in raw
        ]
        return cls(line_no, LineStatus.failed, errors=errors)


Prepare = Callable[[AsyncSession, Caller, list[StagedLine]], Awaitable[Any]]
# Waits until the batch written beside this one has ended (committed, or rolled back).
WaitForBefore = Callable[[], Awaitable[None]]
Apply = Callable[[AsyncSession, Caller, list[StagedLine], Any, WaitForBefore | None], Awaitable[list[LineOutcome]]]


@dataclass(frozen=True, slots=True)
class Applier:
    """How one kind of line is applied, in two steps.

    `prepare` parses a batch and reads what it needs, writing nothing: the worker runs it for the
    next batch on a connection of its own while the database applies the current one. `apply`
    writes a batch in the job's transaction, given what `prepare` made of exactly those lines, or
    None, in which case it prepares them itself. A kind with nothing worth preparing has no `prepare`.
    When the batch is written beside the one before it, `apply` is also given a way to wait for
    that batch to end, for lines that need what it writes.

    `overlaps`, given what `prepare` made of a batch and of the batch before it, says whether its
    transaction may start while that one is still being written: true when the batch only creates
    rows, under keys the batch before does not name. A batch that changes stored rows, or names a
    key of the batch before, waits for it to commit, so that a later line always wins over an
    earlier one. Should both still create the same key (a row stored meanwhile by someone else),
    the later batch to write fails on the unique index and its lines are applied again one by
    one. Without `overlaps`, one batch is written at a time.
    """

    apply: Apply
    prepare: Prepare | None = None
    overlaps: Callable[[Any, Any], bool] | None = None


def _join(prefix: str, name: str | None) -> str | None:
    if not prefix:
        return name
    return f"{prefix}.{name}" if name else prefix


def parse(line: StagedLine, schema: type[T]) -> T | LineOutcome:
    """The line as `schema`, or its failure: invalid JSON, not an object, or each field's validation error."""
    try:
        data = orjson.loads(line.raw)
    except orjson.JSONDecodeError as exc:
        return LineOutcome.error(line.line_no, "invalid_json", f"not valid JSON: {exc}")
    if not isinstance(data, dict):
        return LineOutcome.error(line.line_no, "not_an_object", "each line must be one JSON object")
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        errors = [{"field": e["field"] if e["field"] != "body" else None, "code": e["code"], "message": e["message"]} for e in validation_errors(_located(exc))]
        return LineOutcome(line.line_no, LineStatus.failed, errors=errors)


def _located(exc: ValidationError) -> list[dict[str, Any]]:
    # validation_errors() reads request locations; a line's fields sit at the top.
    return [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
