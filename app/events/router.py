"""The event feed: GET /v1/events for systems that poll instead of receiving webhooks."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from app.auth.deps import CurrentCaller
from app.db import Session
from app.events import service
from app.events.schemas import EventPage, EventRead
from app.pagination import Limit

router = APIRouter(tags=["events"])


@router.get("/events")
async def event_feed(
    session: Session,
    caller: CurrentCaller,
    after: Annotated[str | None, Query(max_length=512, description="`next_cursor` of the previous page; omit to start.")] = None,
    types: Annotated[list[str] | None, Query(max_length=20, description="Only these event types.")] = None,
    unit_id: Annotated[UUID | None, Query(description="Only events concerning this unit's subtree.")] = None,
    limit: Limit = 100,
) -> EventPage:
    """Complete and in a stable order: keep `next_cursor` and poll with it; nothing is ever skipped.

    `next_cursor` is always present once you have seen an event; an empty page returns your cursor unchanged.
    """
    events, next_cursor = await service.feed(session, caller, after=after, types=types, unit_id=unit_id, limit=limit)
    return EventPage(items=[EventRead.model_validate(e) for e in events], next_cursor=next_cursor)
