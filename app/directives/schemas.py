"""Directive request and response bodies."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.directives.models import DirectiveStatus, Urgency
from app.tasks.schemas import TaskIn, TaskRead
from app.units.schemas import Code
from app.validation import StrictModel


class DocType(enum.StrEnum):
    """Document types (NĐ 30/2020/NĐ-CP Phụ lục III) and Party conclusions."""

    cong_van = "cong_van"
    ke_hoach = "ke_hoach"
    quyet_dinh = "quyet_dinh"
    chi_thi = "chi_thi"
    thong_bao = "thong_bao"
    huong_dan = "huong_dan"
    chuong_trinh = "chuong_trinh"
    bao_cao = "bao_cao"
    to_trinh = "to_trinh"
    ket_luan = "ket_luan"
    nghi_quyet = "nghi_quyet"
    cong_dien = "cong_dien"
    quy_che = "quy_che"
    quy_dinh = "quy_dinh"
    de_an = "de_an"
    phuong_an = "phuong_an"
    du_an = "du_an"
    bien_ban = "bien_ban"
    giay_moi = "giay_moi"
    thong_tu = "thong_tu"
    nghi_dinh = "nghi_dinh"
    luat = "luat"


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Number = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{1,10}[A-Za-z]?$")]
Symbol = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[^\s]+$")]


class ReferenceIn(StrictModel):
    notation: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=96)]
    doc_type: DocType | None = None
    issued_on: date | None = None


class DirectiveFields(StrictModel):
    number: Number | None = None
    symbol: Symbol | None = None
    doc_type: DocType | None = None
    issued_on: date | None = None
    place: ShortText | None = None
    subject: Text | None = None
    body: Annotated[str, StringConstraints(max_length=1_000_000)] | None = None
    signer_name: ShortText | None = None
    signer_title: ShortText | None = None
    recipients: Annotated[list[Text], Field(max_length=200)] | None = None
    references: Annotated[list[ReferenceIn], Field(max_length=100)] | None = None
    urgency: Urgency | None = None
    tasks: Annotated[list[TaskIn], Field(max_length=200)] | None = None


class DirectiveCreate(DirectiveFields):
    issuer_id: UUID | None = None
    issuer_code: Code | None = None
    symbol: Symbol
    doc_type: DocType
    subject: Text

    @model_validator(mode="after")
    def _one_issuer(self) -> DirectiveCreate:
        if (self.issuer_id is None) == (self.issuer_code is None):
            raise ValueError("give exactly one of issuer_id or issuer_code")
        return self


class DirectiveUpdate(DirectiveFields):
    """Changes to a draft; `tasks`, when given, replaces every task."""

    @model_validator(mode="after")
    def _required_stay_set(self) -> DirectiveUpdate:
        for field in ("symbol", "doc_type", "subject"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


class ReferenceRead(BaseModel):
    notation: str
    doc_type: str | None
    issued_on: date | None
    directive_id: UUID | None = Field(description="The directive held here that this notation resolves to, if any.")


class ImplementedByRead(BaseModel):
    directive_id: UUID
    notation: str
    subject: str
    issued_on: date | None


class DirectiveRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    issuer_id: UUID
    number: str | None
    symbol: str
    notation: str
    doc_type: str
    issued_on: date | None
    place: str | None
    subject: str
    body: str | None
    signer_name: str | None
    signer_title: str | None
    recipients: list[str]
    urgency: Urgency
    status: DirectiveStatus
    version: int
    created_at: datetime
    updated_at: datetime
    issued_at: datetime | None
    closed_at: datetime | None
    references: list[ReferenceRead] = Field(default_factory=list)
    implemented_by: list[ImplementedByRead] = Field(default_factory=list)
    tasks: list[TaskRead] = Field(default_factory=list)


class DirectiveSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    issuer_id: UUID
    notation: str
    doc_type: str
    issued_on: date | None
    subject: str
    urgency: Urgency
    status: DirectiveStatus
    created_at: datetime


class IssueResult(BaseModel):
    directive: DirectiveSummary
    assignments_created: int


class LifecycleResult(BaseModel):
    directive: DirectiveSummary
    assignments_cancelled: int = 0


MAX_TEXT_BYTES = 1_048_576  # 1 MB of directive text


class DirectiveTextIn(StrictModel):
    text: Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT_BYTES)]


class ImportOverrides(StrictModel):
    """Fields to use instead of what the parser read (or could not read)."""

    number: Number | None = None
    symbol: Symbol | None = None
    doc_type: DocType | None = None
    issued_on: date | None = None
    subject: Text | None = None


class DirectiveImport(DirectiveTextIn):
    issuer_id: UUID | None = Field(default=None, description="Default: the key's own unit.")
    issuer_code: Code | None = None
    mappings: Annotated[dict[str, Code], Field(max_length=500)] = Field(
        default_factory=dict,
        description="Mention → unit code, confirmed by a person. Each is applied and saved as an alias of that unit.",
    )
    overrides: ImportOverrides = Field(default_factory=ImportOverrides)


class MentionResolved(BaseModel):
    mention: str
    unit_id: UUID
    unit_code: str
    via: str = Field(description="name, code, alias or mapping")


class MentionUnresolved(BaseModel):
    mention: str
    task_ordinal: str | None
    role: str
    candidates: list[str] = Field(default_factory=list, description="Codes of units the mention fits equally well.")


class ImportResult(BaseModel):
    directive: DirectiveRead
    resolved: list[MentionResolved]
    unresolved: list[MentionUnresolved]
    aliases_saved: list[MentionResolved]
    parse: dict[str, object]
