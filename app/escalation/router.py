"""Escalation over HTTP: policies (default and per directive) and what fired for an assignment."""

from uuid import UUID

from fastapi import APIRouter, status

from app.auth.deps import CurrentCaller
from app.db import Session
from app.escalation import policy, service
from app.escalation.schemas import EscalationRead, PolicyIn, PolicyRead

router = APIRouter(tags=["escalation"])


@router.get("/assignments/{assignment_id}/escalations")
async def assignment_escalations(assignment_id: UUID, session: Session, caller: CurrentCaller) -> list[EscalationRead]:
    """Every step armed for the assignment: fired (when), pending (when it will), or skipped."""
    return await service.list_for_assignment(session, caller, assignment_id)


@router.get("/escalation-policies/default")
async def get_default_policy(session: Session, caller: CurrentCaller) -> PolicyRead:
    return await policy.get_default(session)


@router.put("/escalation-policies/default")
async def put_default_policy(body: PolicyIn, session: Session, caller: CurrentCaller) -> PolicyRead:
    """Applies to assignments armed from now on (new directives, new periods, moved deadlines)."""
    return await policy.put_default(session, caller, body)


@router.get("/directives/{directive_id}/escalation-policy")
async def get_directive_policy(directive_id: UUID, session: Session, caller: CurrentCaller) -> PolicyRead:
    return await policy.get_for_directive(session, caller, directive_id)


@router.put("/directives/{directive_id}/escalation-policy")
async def put_directive_policy(directive_id: UUID, body: PolicyIn, session: Session, caller: CurrentCaller) -> PolicyRead:
    """Override the default for one directive; its open assignments are re-armed at once."""
    return await policy.put_for_directive(session, caller, directive_id, body)


@router.delete("/directives/{directive_id}/escalation-policy", status_code=status.HTTP_204_NO_CONTENT)
async def delete_directive_policy(directive_id: UUID, session: Session, caller: CurrentCaller) -> None:
    await policy.delete_for_directive(session, caller, directive_id)
