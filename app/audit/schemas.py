"""Audit entries as the API shows them."""

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class AuditEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    occurred_at: datetime
    actor_key_id: UUID | None
    action: str
    entity_type: str
    entity_id: UUID
    unit_id: UUID | None
    request_id: str | None
    changes: dict[str, Any]
