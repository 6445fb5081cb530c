"""Unit request and response bodies."""

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.text import nfc
from app.units.models import ALIAS_MAX, ALIASES_MAX, CODE_MAX, NAME_MAX, SHORT_NAME_MAX
from app.validation import StrictModel

# Codes are keys for scripts and imports: no spaces, no accents, case kept as given.
Code = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=CODE_MAX, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-/]*$"),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX), AfterValidator(nfc)]
ShortName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=SHORT_NAME_MAX), AfterValidator(nfc)
]
Alias = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=ALIAS_MAX), AfterValidator(nfc)]
KindCode = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=CODE_MAX, pattern=r"^[a-z][a-z0-9_]*$")
]


def _dedupe(aliases: list[str]) -> list[str]:
    return list(dict.fromkeys(aliases))


Aliases = Annotated[list[Alias], Field(max_length=ALIASES_MAX), AfterValidator(_dedupe)]


class UnitCreate(StrictModel):
    code: Code
    name: Name
    short_name: ShortName | None = None
    kind: KindCode
    parent_id: UUID | None = None
    parent_code: Code | None = None
    aliases: Aliases = Field(default_factory=list)
    active: bool = True

    @model_validator(mode="after")
    def _one_parent_reference(self) -> "UnitCreate":
        if self.parent_id is not None and self.parent_code is not None:
            raise ValueError("give parent_id or parent_code, not both")
        return self


class UnitBatchItem(UnitCreate):
    """One row of a batch upsert; `parent_code` may name a unit created earlier or later in the same batch."""


class UnitUpdate(StrictModel):
    """Fields to change; absent fields stay as they are. The code is the unit's stable key and cannot change."""

    name: Name | None = None
    short_name: ShortName | None = None
    kind: KindCode | None = None
    parent_id: UUID | None = None
    parent_code: Code | None = None
    aliases: Aliases | None = None
    active: bool | None = None

    @model_validator(mode="after")
    def _one_parent_reference(self) -> "UnitUpdate":
        if self.parent_id is not None and self.parent_code is not None:
            raise ValueError("give parent_id or parent_code, not both")
        for field in ("name", "kind", "aliases", "active", "parent_id", "parent_code"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


class UnitRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    code: str
    name: str
    short_name: str | None
    kind: str
    parent_id: UUID | None
    depth: int
    aliases: list[str]
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class UnitBatchRequest(StrictModel):
    items: list[dict[str, Any]] = Field(min_length=1, max_length=1000, description="Up to 1,000 units.")


class ItemError(BaseModel):
    code: str
    message: str
    field: str | None = None


class UnitBatchResult(BaseModel):
    index: int
    status: Literal["created", "updated", "unchanged", "error"]
    id: UUID | None = None
    code: str | None = None
    error: ItemError | None = None


class UnitBatchResponse(BaseModel):
    results: list[UnitBatchResult]
    created: int
    updated: int
    unchanged: int
    errors: int


class UnitKindCreate(StrictModel):
    code: KindCode
    name: Name


class UnitKindRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
