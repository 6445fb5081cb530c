"""Directive and reference tables."""

import enum
from datetime import date, datetime
from uuid import UUID, uuid4

from sqlalchemy import Column, Date, DateTime, ForeignKey, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlmodel import Field, SQLModel


class DirectiveStatus(enum.StrEnum):
    draft = "draft"
    issued = "issued"  # ban hành
    closed = "closed"  # kết thúc
    revoked = "revoked"  # thu hồi


class Urgency(enum.StrEnum):
    """Độ khẩn as NĐ 30/2020 marks it."""

    normal = "normal"
    khan = "khan"  # Khẩn
    thuong_khan = "thuong_khan"  # Thượng khẩn
    hoa_toc = "hoa_toc"  # Hỏa tốc


class Directive(SQLModel, table=True):
    """A directive: `notation` is "number/symbol" ("2206/SYT-VP"), unique per issuer and year once numbered."""

    __tablename__ = "directives"
    __table_args__ = (
        Index(
            "uq_directives_issuer_notation_year",
            "issuer_id",
            "notation_key",
            "year",
            unique=True,
            postgresql_where=text("number IS NOT NULL AND year IS NOT NULL"),
        ),
        Index("ix_directives_notation_key", "notation_key", "year"),
        Index("ix_directives_search_trgm", "search_key", postgresql_using="gin", postgresql_ops={"search_key": "gin_trgm_ops"}),
        Index("ix_directives_issuer_created", "issuer_id", "created_at", "id"),
    )

    id: UUID = Field(default_factory=uuid4, sa_column=Column(PgUUID(as_uuid=True), primary_key=True))
    issuer_id: UUID = Field(sa_column=Column(PgUUID(as_uuid=True), ForeignKey("units.id"), nullable=False))
    number: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    symbol: str = Field(sa_column=Column(String(64), nullable=False))
    notation: str = Field(sa_column=Column(String(96), nullable=False))
    notation_key: str = Field(sa_column=Column(String(96), nullable=False))
    doc_type: str = Field(sa_column=Column(String(32), nullable=False))
    issued_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    year: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    place: str | None = Field(default=None, sa_column=Column(String(120), nullable=True))
    subject: str = Field(sa_column=Column(Text, nullable=False))
    body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    signer_name: str | None = Field(default=None, sa_column=Column(String(120), nullable=True))
    signer_title: str | None = Field(default=None, sa_column=Column(String(120), nullable=True))
    recipients: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(Text), nullable=False))
    urgency: str = Field(default="normal", sa_column=Column(String(16), nullable=False, server_default="normal"))
    status: str = Field(default="draft", sa_column=Column(String(16), nullable=False, server_default="draft", index=True))
    search_key: str = Field(sa_column=Column(Text, nullable=False))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))
    created_by_key_id: UUID | None = Field(default=None, sa_column=Column(PgUUID(as_uuid=True), nullable=True))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()))
    issued_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class DirectiveReference(SQLModel, table=True):
    """A document this directive implements or is based on (Căn cứ / Thực hiện / Theo).

    Kept as text; it resolves to a directive held here by matching `notation_key`
    (and year when known) at read time, so a reference entered before its target
    links up as soon as the target arrives.
    """

    __tablename__ = "directive_references"
    __table_args__ = (Index("ix_directive_references_notation_key", "notation_key", "year"),)

    id: UUID = Field(default_factory=uuid4, sa_column=Column(PgUUID(as_uuid=True), primary_key=True))
    directive_id: UUID = Field(
        sa_column=Column(PgUUID(as_uuid=True), ForeignKey("directives.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    position: int = Field(sa_column=Column(Integer, nullable=False))
    notation: str = Field(sa_column=Column(String(96), nullable=False))
    notation_key: str = Field(sa_column=Column(String(96), nullable=False))
    doc_type: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    issued_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    year: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
