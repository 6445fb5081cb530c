"""Unit rules: reading within a caller's subtree, creating, moving, deactivating.

A unit outside the caller's subtree is treated exactly like a unit that does
not exist (404 on a path, "unknown unit" in a body), so a key never learns
what lies outside its scope.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import ColumnElement, and_, delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app import etags
from app.audit import service as audit
from app.auth.caller import Caller
from app.auth.models import Role
from app.db import DriverStatement
from app.errors import Conflict, Forbidden, NotFound, ValidationProblem
from app.pagination import decode_cursor, encode_cursor
from app.text import fold
from app.timeutil import utcnow
from app.units.models import Unit, UnitKind
from app.units.schemas import UnitCreate, UnitKindCreate, UnitUpdate

# Tree-shape writes (create, move) take this transaction-scoped lock so two
# concurrent moves can never build a cycle between them. Unit writes are rare.
TREE_LOCK_KEY = 0x646F6E64  # "dond"

class UnitReferenced(Conflict):
    type, title = "unit-referenced", "The unit is referenced and can only be deactivated"


TRACKED_FIELDS = ("name", "short_name", "kind", "parent_id", "aliases", "active")


def search_key(code: str, name: str, short_name: str | None, aliases: list[str]) -> str:
    """Everything `q` may match, accent-folded, one field per segment."""
    parts = [name, short_name or "", code, *aliases]
    return " | ".join(fold(p) for p in parts if p)


def in_scope(caller: Caller) -> ColumnElement[bool]:
    """SQL condition: the unit lies in the caller's subtree (GIN-indexed `path @> ARRAY[...]`)."""
    return Unit.path.contains([caller.unit_id])  # type: ignore[attr-defined]


async def lock_tree(session: AsyncSession, *, shared: bool = False) -> None:
    """Hold the tree lock until the transaction ends.

    Shared is enough for a write that only adds units under parents it has read, or changes a unit's
    own fields: such writes cannot build a cycle or leave a path stale, so several may run at once
    (an import's batches). Moving, deactivating or deleting a unit takes it exclusively, and so waits
    for them all, as they wait for it.
    """
    lock = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    await session.execute(text(f"SELECT {lock}(:k)"), {"k": TREE_LOCK_KEY})


async def get_unit(session: AsyncSession, caller: Caller, unit_id: UUID) -> Unit:
    unit = await session.get(Unit, unit_id)
    if unit is None or not caller.covers(unit.path):
        raise NotFound(f"Unit {unit_id} not found.")
    return unit


# Run before a page that is itself read on the fixed-plan pool, so it is read there too: no session.
_FILTER_UNIT_IN_SCOPE = DriverStatement.of(
    text("SELECT 1 FROM units WHERE id = :unit_id AND path @> ARRAY[CAST(:scope_unit_id AS uuid)]")
)


async def require_filter_unit(caller: Caller, unit_id: UUID, field: str = "unit_id") -> None:
    """A unit named as a list filter must be in the caller's subtree: 422, not a silently empty page."""
    if await _FILTER_UNIT_IN_SCOPE.read_one(unit_id=unit_id, scope_unit_id=caller.unit_id) is None:
        raise ValidationProblem.for_field(field, f"unknown unit {unit_id}", "unknown_unit")


async def find_by_codes(session: AsyncSession, codes: list[str]) -> dict[str, Unit]:
    if not codes:
        return {}
    rows = await session.scalars(select(Unit).where(Unit.code.in_(codes)))  # type: ignore[attr-defined]
    return {u.code: u for u in rows}


async def resolve_unit_ref(
    session: AsyncSession, caller: Caller, *, unit_id: UUID | None, code: str | None, field: str
) -> Unit:
    """A unit named in a request body by id or code, or a 422 on `field` if unknown or out of scope."""
    unit: Unit | None = None
    if unit_id is not None:
        unit = await session.get(Unit, unit_id)
    elif code is not None:
        unit = (await find_by_codes(session, [code])).get(code)
    if unit is None or not caller.covers(unit.path):
        shown = unit_id if unit_id is not None else code
        raise ValidationProblem.for_field(field, f"unknown unit {shown}", "unknown_unit")
    return unit


async def ensure_kind_exists(session: AsyncSession, kind: str, field: str = "kind") -> None:
    if await session.get(UnitKind, kind) is None:
        raise ValidationProblem.for_field(field, f"unknown unit kind {kind!r}; see GET /v1/unit-kinds", "unknown_kind")


def _text_filters(q: str | None) -> list[ColumnElement[bool]]:
    """Every word of `q` must appear, accent-insensitively ("tram y te thieu van")."""
    if not q:
        return []
    words = [w for w in fold(q).split(" ") if w]
    escaped = [w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for w in words]
    return [Unit.search_key.like(f"%{w}%", escape="\\") for w in escaped]  # type: ignore[attr-defined]


async def list_units(
    session: AsyncSession,
    caller: Caller,
    *,
    parent_id: UUID | None = None,
    kind: str | None = None,
    active: bool | None = None,
    q: str | None = None,
    under_id: UUID | None = None,
    max_depth: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[Unit], str | None]:
    """Units in the caller's subtree ordered by code, keyset-paginated on code."""
    conditions: list[ColumnElement[bool]] = [in_scope(caller), *_text_filters(q)]
    if parent_id is not None:
        conditions.append(Unit.parent_id == parent_id)
    if kind is not None:
        conditions.append(Unit.kind == kind)
    if active is not None:
        conditions.append(Unit.active == active)
    if under_id is not None:
        conditions.append(Unit.path.contains([under_id]))  # type: ignore[attr-defined]
    if max_depth is not None:
        conditions.append(Unit.depth <= max_depth)
    key = decode_cursor(cursor, fields={"code": str})
    if key is not None:
        conditions.append(Unit.code > key["code"])
    stmt = select(Unit).where(and_(*conditions)).order_by(Unit.code).limit(limit + 1)
    units = list(await session.scalars(stmt))
    next_cursor = encode_cursor({"code": units[limit - 1].code}) if len(units) > limit else None
    return units[:limit], next_cursor


async def list_subtree(
    session: AsyncSession, caller: Caller, unit_id: UUID, *, max_depth: int | None, active: bool | None,
    cursor: str | None, limit: int,
) -> tuple[list[Unit], str | None]:
    root = await get_unit(session, caller, unit_id)
    depth_limit = root.depth + max_depth if max_depth is not None else None
    return await list_units(
        session, caller, under_id=root.id, max_depth=depth_limit, active=active, cursor=cursor, limit=limit
    )


async def list_ancestors(session: AsyncSession, caller: Caller, unit_id: UUID) -> list[Unit]:
    """The chain from the top of the caller's scope down to the unit's parent."""
    unit = await get_unit(session, caller, unit_id)
    start = unit.path.index(caller.unit_id)
    ids = unit.path[start:-1]
    if not ids:
        return []
    rows = await session.scalars(select(Unit).where(Unit.id.in_(ids)))  # type: ignore[attr-defined]
    by_id = {u.id: u for u in rows}
    return [by_id[i] for i in ids]


async def create_unit(session: AsyncSession, caller: Caller, data: UnitCreate) -> Unit:
    caller.require(Role.admin)
    await lock_tree(session)
    parent = await _parent_for_create(session, caller, data)
    await ensure_kind_exists(session, data.kind)
    if await find_by_codes(session, [data.code]):
        raise Conflict(f"Unit code {data.code!r} is already in use.", field="code")
    unit = new_unit(data, parent)
    session.add(unit)
    await session.flush()
    audit.record(
        session, actor_key_id=caller.key_id, action="unit.created", entity_type="unit", entity_id=unit.id, unit_id=unit.id,
        changes=snapshot(unit),
    )
    return unit


async def _parent_for_create(session: AsyncSession, caller: Caller, data: UnitCreate) -> Unit:
    if data.parent_id is None and data.parent_code is None:
        raise ValidationProblem.for_field(
            "parent_id", "a unit needs a parent inside your subtree (parent_id or parent_code)", "missing"
        )
    field = "parent_id" if data.parent_id is not None else "parent_code"
    parent = await resolve_unit_ref(session, caller, unit_id=data.parent_id, code=data.parent_code, field=field)
    ensure_parent_active(parent, field)
    return parent


def new_unit(data: UnitCreate, parent: Unit | None) -> Unit:
    unit_id = uuid4()
    return Unit(
        id=unit_id,
        code=data.code,
        name=data.name,
        short_name=data.short_name,
        kind=data.kind,
        parent_id=parent.id if parent else None,
        path=[*(parent.path if parent else []), unit_id],
        depth=parent.depth + 1 if parent else 0,
        aliases=data.aliases,
        search_key=search_key(data.code, data.name, data.short_name, data.aliases),
        active=data.active,
    )


def snapshot(unit: Unit) -> dict[str, Any]:
    return {f: getattr(unit, f) for f in ("code", *TRACKED_FIELDS)}


def check_etag(unit: Unit, if_match: str | None) -> None:
    etags.require_match(if_match, version=unit.version, what=f"Unit {unit.id}")


async def update_unit(
    session: AsyncSession, caller: Caller, unit_id: UUID, data: UnitUpdate, *, if_match: str | None
) -> Unit:
    caller.require(Role.admin)
    await lock_tree(session)
    unit = await get_unit(session, caller, unit_id)
    await session.refresh(unit, with_for_update=True)
    check_etag(unit, if_match)
    changes = await apply_update(session, caller, unit, data)
    if changes:
        audit.record(
            session, actor_key_id=caller.key_id, action="unit.updated", entity_type="unit", entity_id=unit.id, unit_id=unit.id,
            changes=changes,
        )
    return unit


async def apply_update(session: AsyncSession, caller: Caller, unit: Unit, data: UnitUpdate) -> dict[str, Any]:
    """Apply the given fields; returns field → [old, new] for what changed (empty when nothing did)."""
    before = snapshot(unit)
    given = data.model_dump(exclude_unset=True)
    if "kind" in given and given["kind"] != unit.kind:
        await ensure_kind_exists(session, given["kind"])
    if "parent_id" in given or "parent_code" in given:
        field = "parent_id" if "parent_id" in given else "parent_code"
        parent = await resolve_unit_ref(
            session, caller, unit_id=given.get("parent_id"), code=given.get("parent_code"), field=field
        )
        if parent.id != unit.parent_id:
            await move_unit(session, caller, unit, parent, field=field)
    if given.get("active") is False and unit.active:
        await _check_can_deactivate(session, caller, unit)
    for field in ("name", "short_name", "kind", "aliases", "active"):
        if field in given:
            setattr(unit, field, given[field])
    changes = audit.diff(before, snapshot(unit))
    if changes:
        unit.search_key = search_key(unit.code, unit.name, unit.short_name, unit.aliases)
        unit.version += 1
        unit.updated_at = utcnow()
        await session.flush()
    return changes


async def move_unit(session: AsyncSession, caller: Caller, unit: Unit, parent: Unit, *, field: str) -> None:
    """Re-parent a unit and rewrite the paths of its whole subtree in one statement."""
    if unit.id in parent.path:
        raise ValidationProblem.for_field(field, "the new parent is this unit or one of its descendants", "cycle")
    if unit.id == caller.unit_id:
        raise Forbidden("A key cannot move the unit it is bound to.")
    ensure_parent_active(parent, field)
    await session.execute(
        text(
            "UPDATE units SET path = CAST(:prefix AS uuid[]) || path[:start : array_length(path, 1)], depth = depth + :delta "
            "WHERE path @> ARRAY[CAST(:id AS uuid)]"
        ),
        {"prefix": parent.path, "start": unit.depth + 1, "delta": parent.depth + 1 - unit.depth, "id": unit.id},
    )
    await session.execute(update(Unit).where(Unit.id == unit.id).values(parent_id=parent.id))
    await session.refresh(unit)


def ensure_parent_active(parent: Unit, field: str) -> None:
    if not parent.active:
        raise ValidationProblem.for_field(field, f"parent unit {parent.code} is deactivated", "inactive_parent")


async def _check_can_deactivate(session: AsyncSession, caller: Caller, unit: Unit) -> None:
    if unit.id == caller.unit_id:
        raise Conflict("A key cannot deactivate the unit it is bound to.")
    active_children = await session.scalar(
        select(func.count()).select_from(Unit).where(Unit.parent_id == unit.id, Unit.active.is_(True))  # type: ignore[attr-defined]
    )
    if active_children:
        raise Conflict(
            f"Unit {unit.code} still has {active_children} active child unit(s); move or deactivate them first.",
            active_children=active_children,
        )


async def delete_unit(session: AsyncSession, caller: Caller, unit_id: UUID, *, if_match: str | None) -> None:
    """Hard-delete a unit nothing refers to; anything referenced must be deactivated instead."""
    caller.require(Role.admin)
    await lock_tree(session)
    unit = await get_unit(session, caller, unit_id)
    check_etag(unit, if_match)
    if unit.id == caller.unit_id:
        raise Conflict("A key cannot delete the unit it is bound to.")
    snap = snapshot(unit)
    try:
        async with session.begin_nested():
            await session.execute(delete(Unit).where(Unit.id == unit.id))
    except IntegrityError:
        raise UnitReferenced(
            f"Unit {unit.code} is referenced (child units, keys or directives); "
            'deactivate it with PATCH {"active": false} instead.'
        ) from None
    session.expunge(unit)
    audit.record(
        session, actor_key_id=caller.key_id, action="unit.deleted", entity_type="unit", entity_id=unit_id, unit_id=unit.parent_id,
        changes=snap,
    )


async def list_kinds(session: AsyncSession) -> list[UnitKind]:
    return list(await session.scalars(select(UnitKind).order_by(UnitKind.code)))


async def create_kind(session: AsyncSession, caller: Caller, data: UnitKindCreate) -> UnitKind:
    """Unit kinds are province-wide vocabulary, so only an admin of a top-level unit adds them."""
    caller.require(Role.admin)
    root = await session.get(Unit, caller.unit_id)
    if root is None or root.depth != 0:
        raise Forbidden("Only an admin key of a top-level unit can add unit kinds.")
    if await session.get(UnitKind, data.code) is not None:
        raise Conflict(f"Unit kind {data.code!r} already exists.", field="code")
    kind = UnitKind(code=data.code, name=data.name)
    session.add(kind)
    await session.flush()
    await session.refresh(kind)
    return kind
