"""API key request and response bodies."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.auth.models import Role
from app.units.schemas import Code
from app.validation import StrictModel

KeyName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


class ApiKeyCreate(StrictModel):
    name: KeyName
    role: Role
    unit_id: UUID | None = Field(default=None, description="The unit the key acts for; or give unit_code.")
    unit_code: Code | None = None
    expires_at: datetime | None = None


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    name: str
    role: Role
    unit_id: UUID
    prefix: str = Field(description="The first characters of the secret, to recognise a key in logs.")
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    secret: str = Field(description="The key itself. Shown once: store it now; only a hash is kept.")
