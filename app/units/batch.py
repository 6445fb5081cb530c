"""Batch upsert of units by code (`POST /v1/units/batch`).

Each item is validated and applied on its own savepoint, so one bad row never
spoils the others. Items are applied parents-first whatever their order in the
request, so a script may send a child before its parent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.caller import Caller
from app.auth.models import Role
from app.errors import DondocError, ValidationProblem
from app.problems import validation_errors
from app.units import service
from app.units.models import Unit, UnitKind
from app.units.schemas import ItemError, UnitBatchItem, UnitBatchResponse, UnitBatchResult, UnitUpdate


@dataclass
class _BatchState:
    """What the batch knows while it runs: units by code (stored and just written) and outcomes."""

    units_by_code: dict[str, Unit]
    kinds: set[str]
    results: dict[int, UnitBatchResult] = field(default_factory=dict)
    failed_codes: set[str] = field(default_factory=set)
    applied_codes: set[str] = field(default_factory=set)


def _error(index: int, code: str | None, kind: str, message: str, fld: str | None = None) -> UnitBatchResult:
    return UnitBatchResult(index=index, status="error", code=code, error=ItemError(code=kind, message=message, field=fld))


async def upsert_units(session: AsyncSession, caller: Caller, items: list[dict[str, Any]]) -> UnitBatchResponse:
    caller.require(Role.admin)
    await service.lock_tree(session)
    state = _BatchState(units_by_code={}, kinds=set(await session.scalars(select(UnitKind.code))))
    parsed = _validate_items(items, state)
    codes = {item.code for item in parsed.values()} | {i.parent_code for i in parsed.values() if i.parent_code}
    state.units_by_code = await service.find_by_codes(session, sorted(codes))
    await _apply_parents_first(session, caller, parsed, state)
    results = [state.results[i] for i in range(len(items))]
    counts = {s: sum(1 for r in results if r.status == s) for s in ("created", "updated", "unchanged", "error")}
    return UnitBatchResponse(
        results=results,
        created=counts["created"],
        updated=counts["updated"],
        unchanged=counts["unchanged"],
        errors=counts["error"],
    )


def _validate_items(items: list[dict[str, Any]], state: _BatchState) -> dict[int, UnitBatchItem]:
    parsed: dict[int, UnitBatchItem] = {}
    for index, raw in enumerate(items):
        try:
            parsed[index] = UnitBatchItem.model_validate(raw)
        except ValidationError as exc:
            first = validation_errors([dict(e) for e in exc.errors()])[0]
            code = raw.get("code") if isinstance(raw.get("code"), str) else None
            state.results[index] = _error(index, code, "validation_error", first["message"], first["field"] or None)
            if code:
                state.failed_codes.add(code)  # so its children in this batch fail as "parent_failed"
    seen: dict[str, list[int]] = {}
    for index, item in parsed.items():
        seen.setdefault(item.code, []).append(index)
    for code, indexes in seen.items():
        if len(indexes) > 1:
            for index in indexes:
                others = ", ".join(str(i) for i in indexes if i != index)
                state.results[index] = _error(index, code, "duplicate_code", f"code {code} also at index {others}", "code")
                del parsed[index]
            state.failed_codes.add(code)
    return parsed


async def _apply_parents_first(
    session: AsyncSession, caller: Caller, parsed: dict[int, UnitBatchItem], state: _BatchState
) -> None:
    """Apply items whose parent is settled, round after round; what never settles is a cycle."""
    batch_codes = {item.code for item in parsed.values()}
    pending = dict(sorted(parsed.items()))
    progress = True
    while pending and progress:
        progress = False
        for index, item in list(pending.items()):
            parent_code = item.parent_code
            if parent_code in state.failed_codes:
                state.results[index] = _error(
                    index, item.code, "parent_failed", f"parent {parent_code} could not be applied", "parent_code"
                )
                state.failed_codes.add(item.code)
            elif parent_code in batch_codes and parent_code not in state.applied_codes and parent_code != item.code:
                continue  # its parent comes later in this batch
            else:
                state.results[index] = await _apply_one(session, caller, index, item, state)
                target = state.applied_codes if state.results[index].status != "error" else state.failed_codes
                target.add(item.code)
            del pending[index]
            progress = True
    for index, item in pending.items():
        state.results[index] = _error(
            index, item.code, "cycle", f"parent_code {item.parent_code} leads back to {item.code}", "parent_code"
        )


async def _apply_one(
    session: AsyncSession, caller: Caller, index: int, item: UnitBatchItem, state: _BatchState
) -> UnitBatchResult:
    existing = state.units_by_code.get(item.code)
    try:
        async with session.begin_nested():
            if existing is None:
                unit = await _create(session, caller, item, state)
                status = "created"
            else:
                unit = existing
                status = await _update(session, caller, existing, item, state)
    except DondocError as exc:
        if existing is not None:
            await session.refresh(existing)
        return _error(index, item.code, _problem_code(exc), _problem_message(exc), _problem_field(exc))
    state.units_by_code[unit.code] = unit
    return UnitBatchResult(index=index, status=status, id=unit.id, code=unit.code)  # type: ignore[arg-type]


async def _parent_of(session: AsyncSession, caller: Caller, item: UnitBatchItem, state: _BatchState) -> Unit | None:
    if item.parent_code is not None:
        parent = state.units_by_code.get(item.parent_code)
        if parent is None or not caller.covers(parent.path):
            raise ValidationProblem.for_field("parent_code", f"unknown unit {item.parent_code}", "unknown_parent")
        return parent
    if item.parent_id is not None:
        return await service.resolve_unit_ref(session, caller, unit_id=item.parent_id, code=None, field="parent_id")
    return None


async def _create(session: AsyncSession, caller: Caller, item: UnitBatchItem, state: _BatchState) -> Unit:
    parent = await _parent_of(session, caller, item, state)
    if parent is None:
        raise ValidationProblem.for_field("parent_code", "a new unit needs parent_code or parent_id", "missing")
    service.ensure_parent_active(parent, "parent_code" if item.parent_code else "parent_id")
    if item.kind not in state.kinds:
        raise ValidationProblem.for_field("kind", f"unknown unit kind {item.kind!r}", "unknown_kind")
    unit = service.new_unit(item, parent)
    session.add(unit)
    await session.flush()
    audit.record(
        session, actor_key_id=caller.key_id, action="unit.created", entity_type="unit", entity_id=unit.id, unit_id=unit.id,
        changes=service.snapshot(unit),
    )
    return unit


async def _update(session: AsyncSession, caller: Caller, unit: Unit, item: UnitBatchItem, state: _BatchState) -> str:
    if not caller.covers(unit.path):
        raise ValidationProblem.for_field("code", f"code {item.code} is already used outside your scope", "code_taken")
    given = item.model_dump(exclude_unset=True, exclude={"code", "parent_code", "parent_id"})
    parent = await _parent_of(session, caller, item, state)
    if parent is not None and parent.id != unit.parent_id:
        given["parent_id"] = parent.id
    changes = await service.apply_update(session, caller, unit, UnitUpdate(**given))
    if not changes:
        return "unchanged"
    audit.record(
        session, actor_key_id=caller.key_id, action="unit.updated", entity_type="unit", entity_id=unit.id, unit_id=unit.id,
        changes=changes,
    )
    return "updated"


def _problem_code(exc: DondocError) -> str:
    errors = exc.extra.get("errors") or []
    return errors[0]["code"] if errors else exc.type.replace("-", "_")


def _problem_message(exc: DondocError) -> str:
    errors = exc.extra.get("errors") or []
    return errors[0]["message"] if errors else exc.detail


def _problem_field(exc: DondocError) -> str | None:
    errors = exc.extra.get("errors") or []
    return errors[0]["field"] if errors else exc.extra.get("field")
