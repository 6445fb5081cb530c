"""Importing units: upsert by code, set-based.

A batch resolves every parent first (a parent may be an existing unit, a line of the same
batch in any order, or a line further down the file: that line is deferred and retried once
the rest is in). New units go in with one COPY, changed ones with one UPDATE, their audit
entries with one more COPY. The rare line that moves a unit to another parent or
deactivates it goes through the same service as PATCH /v1/units/{id}, on its own savepoint.
Only the fields a line gives are changed, as in POST /v1/units/batch.

A batch whose lines only create units is written under the tree lock shared, beside the batch
before it (see `writes_beside`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.caller import Caller
from app.auth.models import Role
from app.db import DriverStatement, copy_records
from app.errors import DondocError
from app.imports.ids import new_ids
from app.imports.lines import LineOutcome, StagedLine, WaitForBefore, parse
from app.imports.models import LineStatus
from app.imports.schemas import UnitLine
from app.units import service as units
from app.units.models import Unit, UnitKind
from app.units.schemas import UnitUpdate

UNIT_COLUMNS = ["id", "code", "name", "short_name", "kind", "parent_id", "path", "depth", "aliases", "search_key", "active"]
SIMPLE_FIELDS = ("name", "short_name", "kind", "aliases", "active")


@dataclass(slots=True)
class _NewUnit:
    """A unit to insert. A plain record, not a table model: building 100,000 ORM objects would cost more than the COPY."""

    id: UUID
    code: str
    name: str
    short_name: str | None
    kind: str
    parent_id: UUID
    path: list[UUID]
    depth: int
    aliases: list[str]
    search_key: str
    active: bool

    @classmethod
    def under(cls, data: UnitLine, parent: Any, unit_id: UUID, search_key: str) -> _NewUnit:
        """As units.new_unit builds it: the path runs from the root through the parent to the unit itself."""
        return cls(
            id=unit_id, code=data.code, name=data.name, short_name=data.short_name, kind=data.kind, parent_id=parent.id,
            path=[*parent.path, unit_id], depth=parent.depth + 1, aliases=data.aliases, search_key=search_key,
            active=data.active,
        )

    def snapshot(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in ("code", *units.TRACKED_FIELDS)}


# A stored unit is read as a plain row (id, code, name, short_name, kind, parent_id, path, depth, aliases, active).
Stored = Any


@dataclass
class _Item:
    line_no: int
    data: UnitLine
    existing: Stored | None
    search_key: str  # for a new unit: the line's fields accent-folded, made while the batch before was written
    unit: Stored | _NewUnit | None = None  # the unit as it will be once this line is applied
    parent: Stored | _NewUnit | None = None
    needs_service: bool = False  # a move or a deactivation: applied by the units service
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Batch:
    caller: Caller
    kinds: set[str]
    by_code: dict[str, Stored]  # stored units, by code
    by_id: dict[UUID, Stored]
    items: dict[str, _Item]  # this batch's lines, by code (the last line of a code wins)
    unit_ids: Iterator[UUID]  # an id for each line that may create a unit, made at once: uuid4() a unit was a tenth of the import
    tree_shared: bool  # the tree lock is held shared: moves and deactivations wait
    outcomes: dict[int, LineOutcome] = field(default_factory=dict)


_STORED_UNITS = text(
    "SELECT id, code, name, short_name, kind, parent_id, path, depth, aliases, active FROM units "
    "WHERE code = ANY(CAST(:codes AS text[])) OR id = ANY(CAST(:ids AS uuid[]))"
)
YIELD_EVERY_LINES = 250


@dataclass
class Prepared:
    """A batch's lines parsed and validated, with each valid line's search key, ahead of the batch's transaction.

    Which units the lines touch is read in the transaction. Accent-folding a search key was a
    sixth of the worker's time inside it.
    """

    parsed: list[tuple[int, UnitLine | LineOutcome]]
    search_keys: dict[int, str]  # by line number
    codes: set[str] = field(default_factory=set)  # the codes of its valid lines
    stored_codes: set[str] = field(default_factory=set)  # those that were stored when it was prepared


_STORED_CODES = DriverStatement.of(text("SELECT code FROM units WHERE code = ANY(CAST(:codes AS text[]))"))


async def prepare(session: AsyncSession, caller: Caller, lines: list[StagedLine]) -> Prepared:
    prepared = Prepared([], {})
    for index, line in enumerate(lines):
        result = parse(line, UnitLine)
        prepared.parsed.append((line.line_no, result))
        if not isinstance(result, LineOutcome):
            prepared.search_keys[line.line_no] = units.search_key(result.code, result.name, result.short_name, result.aliases)
        if index % YIELD_EVERY_LINES == YIELD_EVERY_LINES - 1:
            await asyncio.sleep(0)  # the batch being written meanwhile must not wait long for the event loop
    prepared.codes = {result.code for _, result in prepared.parsed if not isinstance(result, LineOutcome)}
    prepared.stored_codes = {row[0] for row in await _STORED_CODES.fetch(session, codes=list(prepared.codes))}
    return prepared


def only_creates(prepared: Prepared) -> bool:
    """Does every line of the batch create a unit not stored yet (as far as could be seen ahead)?

    Such a batch takes the tree lock shared: it only adds units under parents it reads, so it can be
    written beside another batch of the import. A line that changes a stored unit takes it alone.
    """
    return not prepared.stored_codes


def writes_beside(prepared: Prepared, before: Prepared) -> bool:
    """May this batch be written while the batch before it (`before`) is still being written?

    Yes when both only create units and this one names none of the codes `before` writes: a later
    line then never loses to an earlier one. Its lines whose parent `before` creates wait for it to
    commit, inside this batch's transaction, after the rest of the batch is written (see `apply`).
    That wait is safe because `before` never waits for this batch: both hold the tree lock shared,
    and they write no row and no code in common.
    """
    return only_creates(prepared) and only_creates(before) and not (prepared.codes & before.codes)


async def apply(
    session: AsyncSession, caller: Caller, lines: list[StagedLine], prepared: Prepared | None, before: WaitForBefore | None
) -> list[LineOutcome]:
    """Write the batch; with `before`, the batch before it is still being written beside it.

    A line whose parent is not found then may be waiting for a unit that batch creates: the rest
    of the batch is written first, and once that batch has ended the parents are looked up again.
    In a file ordered parent first, nearly every batch starts with a few such lines.
    """
    if caller.role != Role.admin:
        return [LineOutcome.error(line.line_no, "forbidden", "importing units needs the admin role") for line in lines]
    if prepared is None:
        prepared = await prepare(session, caller, lines)
    shared = only_creates(prepared)
    await units.lock_tree(session, shared=shared)
    batch = await _load(session, caller, prepared, tree_shared=shared)
    _resolve_all(batch)
    if before is not None and _waiting_for_parent(batch):
        await _write(session, caller, batch)
        await before()
        await _load_missing_parents(session, batch)
        _resolve_all(batch)
    await _write(session, caller, batch)
    return [batch.outcomes[line.line_no] for line in lines]


def _resolve_all(batch: _Batch) -> None:
    for item in batch.items.values():
        _resolve(batch, item, visiting=set())


async def _write(session: AsyncSession, caller: Caller, batch: _Batch) -> None:
    """Write the lines resolved and not written yet, and give each its outcome."""
    created = [i for i in batch.items.values() if i.line_no not in batch.outcomes and i.existing is None]
    updated = [i for i in batch.items.values() if i.line_no not in batch.outcomes and i.existing is not None]
    await _insert(session, caller, created)
    await _update(session, caller, [i for i in updated if not i.needs_service and i.changes])
    for item in created:
        batch.outcomes[item.line_no] = LineOutcome.done(item.line_no, "created")
    for item in updated:
        if item.needs_service and batch.tree_shared:
            _defer_move(batch, item)  # a unit stored since the batch was prepared; the next round holds the lock alone
        elif item.needs_service:
            batch.outcomes[item.line_no] = await _through_service(session, caller, item)
        else:
            outcome = "updated" if item.changes else "unchanged"
            batch.outcomes[item.line_no] = LineOutcome.done(item.line_no, outcome)


def _waiting_for_parent(batch: _Batch) -> list[_Item]:
    """The lines deferred for want of their parent (and their children in the batch)."""
    return [
        i for i in batch.items.values()
        if i.unit is None and i.line_no in batch.outcomes and batch.outcomes[i.line_no].status == LineStatus.deferred
    ]


async def _load_missing_parents(session: AsyncSession, batch: _Batch) -> None:
    """Look up again the parents the deferred lines name, and let those lines be resolved again."""
    waiting = _waiting_for_parent(batch)
    codes = [i.data.parent_code for i in waiting if i.data.parent_code]
    for row in await session.execute(_STORED_UNITS, {"codes": codes, "ids": []}):
        batch.by_code[row.code] = row
        batch.by_id[row.id] = row
    for item in waiting:
        del batch.outcomes[item.line_no]


async def _load(session: AsyncSession, caller: Caller, prepared: Prepared, *, tree_shared: bool) -> _Batch:
    outcomes: dict[int, LineOutcome] = {}
    parsed: dict[str, tuple[int, UnitLine]] = {}
    for line_no, result in prepared.parsed:
        if isinstance(result, LineOutcome):
            outcomes[line_no] = result
            continue
        if result.code in parsed:  # an earlier line of the same code: the later one wins, as applying both in order would
            earlier = parsed[result.code][0]
            outcomes[earlier] = LineOutcome.done(earlier, "superseded")
        parsed[result.code] = (line_no, result)
    codes = set(parsed) | {d.parent_code for _, d in parsed.values() if d.parent_code}
    ids = {d.parent_id for _, d in parsed.values() if d.parent_id}
    # One array parameter each rather than an IN list: a batch names thousands of codes, and an IN list
    # of that size costs more to compile (and to plan) than the query costs to run.
    stored = list(await session.execute(_STORED_UNITS, {"codes": list(codes), "ids": list(ids)}))
    by_code = {u.code: u for u in stored}
    items = {
        code: _Item(line_no, data, by_code.get(code), prepared.search_keys[line_no]) for code, (line_no, data) in parsed.items()
    }
    kinds = set(await session.scalars(select(UnitKind.code)))
    unit_ids = iter(new_ids(sum(1 for item in items.values() if item.existing is None)))
    return _Batch(caller, kinds, by_code, {u.id: u for u in stored}, items, unit_ids, tree_shared, outcomes)


def _resolve(batch: _Batch, item: _Item, visiting: set[str]) -> Stored | _NewUnit | None:
    """The unit this line results in (None if the line fails or waits); parents of this batch are resolved first."""
    if item.unit is not None or item.line_no in batch.outcomes:
        return item.unit
    data = item.data
    if item.existing is not None and not batch.caller.covers(item.existing.path):
        return _fail(batch, item, "code_taken", f"code {data.code} is already used outside your scope", "code")
    if data.kind not in batch.kinds:
        return _fail(batch, item, "unknown_kind", f"unknown unit kind {data.kind!r}", "kind")
    visiting.add(data.code)
    parent = _parent(batch, item, visiting)
    visiting.discard(data.code)
    if item.line_no in batch.outcomes:
        return None
    if parent is not None and not parent.active:
        fld = "parent_code" if data.parent_code else "parent_id"
        return _fail(batch, item, "inactive_parent", f"parent unit {parent.code} is deactivated", fld)
    item.parent = parent
    if item.existing is None:
        if parent is None:
            return _fail(batch, item, "missing", "a new unit needs parent_code or parent_id", "parent_code")
        item.unit = _NewUnit.under(data, parent, next(batch.unit_ids), item.search_key)
        return item.unit
    return _plan_update(item)


def _parent(batch: _Batch, item: _Item, visiting: set[str]) -> Stored | _NewUnit | None:
    data = item.data
    if data.parent_id is not None:
        stored = batch.by_id.get(data.parent_id)
        if stored is None or not batch.caller.covers(stored.path):
            _fail(batch, item, "unknown_parent", f"unknown unit {data.parent_id}", "parent_id")
            return None
        return stored
    if data.parent_code is None:
        return None
    if data.parent_code in visiting:
        _fail(batch, item, "cycle", f"parent_code {data.parent_code} leads back to {data.code}", "parent_code")
        return None
    in_batch = batch.items.get(data.parent_code)
    if in_batch is not None:
        parent = _resolve(batch, in_batch, visiting)
        if parent is None:
            if in_batch.line_no in batch.outcomes and batch.outcomes[in_batch.line_no].status == LineStatus.deferred:
                _defer(batch, item, data.parent_code)
            else:
                _fail(batch, item, "parent_failed", f"the line of parent {data.parent_code} failed", "parent_code")
            return None
        return parent
    stored = batch.by_code.get(data.parent_code)
    if stored is None:
        _defer(batch, item, data.parent_code)  # perhaps a later line of the file; failed if it never comes
        return None
    if not batch.caller.covers(stored.path):
        _fail(batch, item, "unknown_parent", f"unknown unit {data.parent_code}", "parent_code")
        return None
    return stored


def _plan_update(item: _Item) -> Stored | None:
    """Which stored fields this line changes; moves and deactivations are left to the units service."""
    unit, data, parent = item.existing, item.data, item.parent
    assert unit is not None
    given = data.model_dump(exclude_unset=True, include=set(SIMPLE_FIELDS))
    moved = parent is not None and parent.id != unit.parent_id
    deactivated = given.get("active") is False and unit.active
    if moved or deactivated:
        item.needs_service = True
        item.unit = unit
        return unit
    item.changes = {f: [_jsonable(getattr(unit, f)), _jsonable(v)] for f, v in given.items() if getattr(unit, f) != v}
    item.unit = unit
    return unit


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, (list, tuple)) else value


def _fail(batch: _Batch, item: _Item, code: str, message: str, fld: str | None) -> None:
    batch.outcomes[item.line_no] = LineOutcome.error(item.line_no, code, message, fld)


def _defer(batch: _Batch, item: _Item, parent_code: str) -> None:
    outcome = LineOutcome.error(item.line_no, "unknown_parent", f"unknown unit {parent_code}", "parent_code")
    outcome.status = LineStatus.deferred
    batch.outcomes[item.line_no] = outcome


def _defer_move(batch: _Batch, item: _Item) -> None:
    outcome = LineOutcome.error(item.line_no, "tree_busy", "moving or deactivating a unit waits for the tree lock")
    outcome.status = LineStatus.deferred
    batch.outcomes[item.line_no] = outcome


async def _insert(session: AsyncSession, caller: Caller, items: list[_Item]) -> None:
    new = sorted((i.unit for i in items if i.unit is not None), key=lambda u: u.depth)
    records = [
        (u.id, u.code, u.name, u.short_name, u.kind, u.parent_id, u.path, u.depth, u.aliases, u.search_key, u.active)
        for u in new
    ]
    await copy_records(session, "units", UNIT_COLUMNS, records)
    await audit.record_many(
        session, actor_key_id=caller.key_id, action="unit.created", entity_type="unit",
        entries=[(u.id, u.id, u.snapshot()) for u in new],
    )


async def _update(session: AsyncSession, caller: Caller, items: list[_Item]) -> None:
    if not items:
        return
    rows = []
    for item in items:
        unit = item.existing
        assert unit is not None
        after = {f: item.changes[f][1] if f in item.changes else getattr(unit, f) for f in SIMPLE_FIELDS}
        after["aliases"] = list(after["aliases"])
        rows.append({"id": str(unit.id), **after, "search_key": units.search_key(unit.code, after["name"], after["short_name"], after["aliases"])})
    await session.execute(
        text(
            """
            UPDATE units u
            SET name = v.name, short_name = v.short_name, kind = v.kind, aliases = v.aliases, active = v.active,
                search_key = v.search_key, version = u.version + 1, updated_at = now()
            FROM jsonb_to_recordset(CAST(:rows AS jsonb))
                 AS v(id uuid, name text, short_name text, kind text, aliases text[], active boolean, search_key text)
            WHERE u.id = v.id
            """
        ),
        {"rows": orjson.dumps(rows).decode()},
    )
    await audit.record_many(
        session, actor_key_id=caller.key_id, action="unit.updated", entity_type="unit",
        entries=[(i.existing.id, i.existing.id, i.changes) for i in items if i.existing is not None],
    )


async def _through_service(session: AsyncSession, caller: Caller, item: _Item) -> LineOutcome:
    """A move or a deactivation, with every check PATCH /v1/units/{id} makes, on its own savepoint."""
    assert item.existing is not None
    unit = await session.get(Unit, item.existing.id, with_for_update=True)
    assert unit is not None
    given = item.data.model_dump(exclude_unset=True, include=set(SIMPLE_FIELDS))
    if item.parent is not None and item.parent.id != unit.parent_id:
        given["parent_id"] = item.parent.id
    try:
        async with session.begin_nested():
            changes = await units.apply_update(session, caller, unit, UnitUpdate(**given))
            if changes:
                audit.record(
                    session, actor_key_id=caller.key_id, action="unit.updated", entity_type="unit", entity_id=unit.id,
                    unit_id=unit.id, changes=changes,
                )
    except DondocError as exc:
        await session.refresh(unit)
        return LineOutcome.from_problem(item.line_no, exc)
    return LineOutcome.done(item.line_no, "updated" if changes else "unchanged")
