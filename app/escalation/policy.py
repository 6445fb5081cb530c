"""Escalation policies: the default one and per-directive overrides."""

from __future__ import annotations

from uuid import UUID

import orjson
from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.caller import Caller
from app.auth.models import Role
from app.directives import service as directives
from app.errors import Forbidden, NotFound
from app.escalation import arming
from app.escalation.models import EscalationPolicy
from app.escalation.schemas import DEFAULT_STEPS, PolicyIn, PolicyRead, StepSpec
from app.timeutil import utcnow
from app.units.models import Unit


def _read(policy: EscalationPolicy | None, directive_id: UUID | None, steps: list[StepSpec]) -> PolicyRead:
    return PolicyRead(
        directive_id=str(directive_id) if directive_id else None,
        is_default=policy is None or policy.directive_id is None,
        steps=steps,
        version=policy.version if policy else 0,
    )


async def get_default(session: AsyncSession) -> PolicyRead:
    policy = await session.scalar(select(EscalationPolicy).where(EscalationPolicy.directive_id.is_(None)))  # type: ignore[union-attr]
    steps = [StepSpec.model_validate(s) for s in policy.steps] if policy else list(DEFAULT_STEPS)
    return _read(policy, None, steps)


async def put_default(session: AsyncSession, caller: Caller, data: PolicyIn) -> PolicyRead:
    """Province-wide, so only an admin of a top-level unit. Applies to assignments armed from now on."""
    caller.require(Role.admin)
    root = await session.get(Unit, caller.unit_id)
    if root is None or root.depth != 0:
        raise Forbidden("Only an admin key of a top-level unit can change the default escalation policy.")
    await session.execute(
        text(
            "INSERT INTO escalation_policies (id, directive_id, steps) VALUES (gen_random_uuid(), NULL, CAST(:steps AS jsonb)) "
            "ON CONFLICT ((directive_id IS NULL)) WHERE directive_id IS NULL "
            "DO UPDATE SET steps = EXCLUDED.steps, version = escalation_policies.version + 1, updated_at = now()"
        ),
        {"steps": orjson.dumps([s.model_dump(mode="json") for s in data.steps]).decode()},
    )
    audit.record(
        session, actor_key_id=caller.key_id, action="escalation_policy.default_changed", entity_type="escalation_policy",
        entity_id=caller.unit_id, unit_id=caller.unit_id, changes={"steps": [s.key for s in data.steps]},
    )
    return await get_default(session)


async def get_for_directive(session: AsyncSession, caller: Caller, directive_id: UUID) -> PolicyRead:
    await directives.get_directive(session, caller, directive_id)
    policy = await session.scalar(select(EscalationPolicy).where(EscalationPolicy.directive_id == directive_id))
    if policy is None:
        steps = (await arming.steps_by_directive(session, {directive_id}))[directive_id]
        return PolicyRead(directive_id=str(directive_id), is_default=True, steps=steps, version=0)
    return _read(policy, directive_id, [StepSpec.model_validate(s) for s in policy.steps])


async def put_for_directive(session: AsyncSession, caller: Caller, directive_id: UUID, data: PolicyIn) -> PolicyRead:
    """Override the policy of one directive; its open assignments are re-armed at once."""
    directive = await directives.get_for_issuer(session, caller, directive_id)
    policy = await session.scalar(select(EscalationPolicy).where(EscalationPolicy.directive_id == directive_id))
    steps = [s.model_dump(mode="json") for s in data.steps]
    if policy is None:
        policy = EscalationPolicy(directive_id=directive_id, steps=steps)
        session.add(policy)
    else:
        policy.steps, policy.version, policy.updated_at = steps, policy.version + 1, utcnow()
    await session.flush()
    await arming.rearm_directive(session, directive_id, utcnow())
    audit.record(
        session, actor_key_id=caller.key_id, action="escalation_policy.changed", entity_type="directive",
        entity_id=directive_id, unit_id=directive.issuer_id, changes={"steps": [s.key for s in data.steps]},
    )
    return _read(policy, directive_id, list(data.steps))


async def delete_for_directive(session: AsyncSession, caller: Caller, directive_id: UUID) -> None:
    directive = await directives.get_for_issuer(session, caller, directive_id)
    result = await session.execute(delete(EscalationPolicy).where(EscalationPolicy.directive_id == directive_id))
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"Directive {directive_id} has no escalation policy of its own.")
    await arming.rearm_directive(session, directive_id, utcnow())
    audit.record(
        session, actor_key_id=caller.key_id, action="escalation_policy.removed", entity_type="directive",
        entity_id=directive_id, unit_id=directive.issuer_id,
    )
