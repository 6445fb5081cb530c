"""Writing audit entries. Always inside the caller's transaction, so a change and its entry commit together."""

from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.auth.caller import Caller
from app.auth.models import Role
from app.pagination import decode_cursor, encode_cursor, integer
from app.requestctx import request_id_var
from app.units.models import Unit


def record(
    session: AsyncSession,
    *,
    actor_key_id: UUID | None,
    action: str,
    entity_type: str,
    entity_id: UUID,
    unit_id: UUID | None = None,
    changes: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEntry(
            actor_key_id=actor_key_id,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            unit_id=unit_id,
            request_id=request_id_var.get(),
            changes=changes or {},
        )
    )


def insert_one_for_each(cte: str) -> str:
    """The entry `record` writes, as SQL for a data-modifying CTE that writes it in the same round trip
    as the change it records: one entry for each row of the CTE named `cte`, so none if that wrote nothing.

    Parameters: :audit_actor, :audit_action, :audit_entity_type, :audit_entity_id, :audit_unit,
    :audit_request_id, :audit_changes (JSON text); each is cast, as a SELECT's values take no type from the table.
    """
    return f"""
    INSERT INTO audit_log (actor_key_id, action, entity_type, entity_id, unit_id, request_id, changes)
    SELECT CAST(:audit_actor AS uuid), CAST(:audit_action AS varchar), CAST(:audit_entity_type AS varchar),
           CAST(:audit_entity_id AS uuid), CAST(:audit_unit AS uuid), CAST(:audit_request_id AS varchar),
           CAST(:audit_changes AS jsonb)
    FROM {cte}
"""


def insert_one_params(
    *, actor_key_id: UUID | None, action: str, entity_type: str, entity_id: UUID, unit_id: UUID | None, changes: dict[str, Any]
) -> dict[str, Any]:
    return {
        "audit_actor": actor_key_id, "audit_action": action, "audit_entity_type": entity_type, "audit_entity_id": entity_id,
        "audit_unit": unit_id, "audit_request_id": request_id_var.get(), "audit_changes": orjson.dumps(changes, default=str).decode(),
    }


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Field → [old, new] for the fields that changed, JSON-ready."""
    return {k: [_jsonable(before.get(k)), _jsonable(v)] for k, v in after.items() if before.get(k) != v}


def _jsonable(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


async def list_entries(
    session: AsyncSession,
    caller: Caller,
    *,
    entity_type: str | None,
    entity_id: UUID | None,
    action: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[AuditEntry], str | None]:
    """Newest first; an admin sees the entries of entities owned by units in its subtree."""
    caller.require(Role.admin)
    conditions = [AuditEntry.unit_id.in_(select(Unit.id).where(Unit.path.contains([caller.unit_id])))]  # type: ignore[union-attr, attr-defined]
    if entity_type is not None:
        conditions.append(AuditEntry.entity_type == entity_type)
    if entity_id is not None:
        conditions.append(AuditEntry.entity_id == entity_id)
    if action is not None:
        conditions.append(AuditEntry.action == action)
    key = decode_cursor(cursor, fields={"id": integer})
    if key is not None:
        conditions.append(AuditEntry.id < key["id"])  # type: ignore[operator]
    rows = list(
        await session.scalars(select(AuditEntry).where(*conditions).order_by(AuditEntry.id.desc()).limit(limit + 1))  # type: ignore[union-attr]
    )
    next_cursor = encode_cursor({"id": rows[limit - 1].id}) if len(rows) > limit else None
    return rows[:limit], next_cursor


AUDIT_COPY_COLUMNS = ["actor_key_id", "action", "entity_type", "entity_id", "unit_id", "request_id", "changes"]


async def record_many(
    session: AsyncSession, *, actor_key_id: UUID | None, action: str, entity_type: str,
    entries: list[tuple[UUID, UUID | None, dict[str, Any]]],
) -> None:
    """Many entries of one action at once (bulk imports): each is (entity_id, unit_id, changes), written with COPY."""
    from app.db import copy_records

    request_id = request_id_var.get()
    records = [
        (actor_key_id, action, entity_type, entity_id, unit_id, request_id, orjson.dumps(changes, default=str).decode())
        for entity_id, unit_id, changes in entries
    ]
    await copy_records(session, "audit_log", AUDIT_COPY_COLUMNS, records)
