"""Reading what fired (and what is armed) for an assignment."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.assignments import service as assignments
from app.auth.caller import Caller
from app.escalation.models import EscalationStep
from app.escalation.schemas import EscalationRead


async def list_for_assignment(session: AsyncSession, caller: Caller, assignment_id: UUID) -> list[EscalationRead]:
    await assignments.get_assignment(session, caller, assignment_id)
    rows = await session.scalars(
        select(EscalationStep).where(EscalationStep.assignment_id == assignment_id).order_by(EscalationStep.fire_at, EscalationStep.id)
    )
    return [EscalationRead.model_validate(r) for r in rows]
