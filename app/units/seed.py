"""Loading the demo province (`dondoc seed-demo`) and creating root units from the command line."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.caller import Caller
from app.auth.models import Role
from app.errors import Conflict
from app.units import batch, service
from app.units.demo_data import ROOT_CODE, demo_province
from app.units.models import Unit
from app.units.schemas import UnitBatchResponse, UnitCreate


async def create_root_unit(session: AsyncSession, data: UnitCreate) -> Unit:
    """A top-level unit (a Sở Y tế, a ministry). Only the operator can: no key's scope holds it."""
    await service.lock_tree(session)
    await service.ensure_kind_exists(session, data.kind)
    if await service.find_by_codes(session, [data.code]):
        raise Conflict(f"Unit code {data.code!r} is already in use.")
    unit = service.new_unit(data, None)
    session.add(unit)
    await session.flush()
    audit.record(
        session, actor_key_id=None, action="unit.created", entity_type="unit", entity_id=unit.id, unit_id=unit.id,
        changes=service.snapshot(unit),
    )
    return unit


async def seed_demo(session: AsyncSession) -> UnitBatchResponse:
    """Upsert the demo province; running it again changes nothing."""
    units = demo_province()
    root = (await service.find_by_codes(session, [ROOT_CODE])).get(ROOT_CODE)
    if root is None:
        first = units[0]
        root = await create_root_unit(
            session,
            UnitCreate(code=first.code, name=first.name, short_name=first.short_name, kind=first.kind, aliases=list(first.aliases)),
        )
    operator = Caller(key_id=None, unit_id=root.id, role=Role.admin)
    items = [
        {
            "code": u.code,
            "name": u.name,
            "short_name": u.short_name,
            "kind": u.kind,
            "parent_code": u.parent_code,
            "aliases": list(u.aliases),
        }
        for u in units[1:]
    ]
    return await batch.upsert_units(session, operator, items)
