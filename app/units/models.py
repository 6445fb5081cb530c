"""Unit tables: the unit tree and the vocabulary of unit kinds."""

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlmodel import Field, SQLModel

CODE_MAX = 64
NAME_MAX = 255
SHORT_NAME_MAX = 32
ALIAS_MAX = 255
ALIASES_MAX = 50


class UnitKind(SQLModel, table=True):
    """A kind of unit (loại đơn vị). Data, not code: provinces reorganise, admins add kinds."""

    __tablename__ = "unit_kinds"

    code: str = Field(sa_column=Column(String(CODE_MAX), primary_key=True))
    name: str = Field(sa_column=Column(String(NAME_MAX), nullable=False))
    created_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )


class Unit(SQLModel, table=True):
    """A unit (đơn vị): Sở Y tế, an office, a hospital, a health centre, a commune station.

    `path` holds the ids from the root down to this unit itself, so "is X under K"
    is `K = ANY(X.path)` and a subtree is `path @> ARRAY[K]` on a GIN index.
    `search_key` is the accent-folded name, short name, code and aliases for `q`.
    """

    __tablename__ = "units"
    __table_args__ = (
        # Without GIN's pending list: entries go straight into the index, so a subtree lookup
        # stays an index probe after a bulk import instead of scanning megabytes of pending
        # entries until vacuum merges them (8 ms a lookup, against 0.1 ms, seen on import).
        Index("ix_units_path", "path", postgresql_using="gin", postgresql_with={"fastupdate": "off"}),
        Index(
            "ix_units_search_key_trgm",
            "search_key",
            postgresql_using="gin",
            postgresql_ops={"search_key": "gin_trgm_ops"},
        ),
    )

    id: UUID = Field(default_factory=uuid4, sa_column=Column(PgUUID(as_uuid=True), primary_key=True))
    code: str = Field(sa_column=Column(String(CODE_MAX), nullable=False, unique=True))
    name: str = Field(sa_column=Column(String(NAME_MAX), nullable=False))
    short_name: str | None = Field(default=None, sa_column=Column(String(SHORT_NAME_MAX), nullable=True))
    kind: str = Field(
        sa_column=Column(String(CODE_MAX), ForeignKey("unit_kinds.code"), nullable=False, index=True)
    )
    parent_id: UUID | None = Field(
        default=None,
        sa_column=Column(PgUUID(as_uuid=True), ForeignKey("units.id"), nullable=True, index=True),
    )
    path: list[UUID] = Field(sa_column=Column(ARRAY(PgUUID(as_uuid=True)), nullable=False))
    depth: int = Field(sa_column=Column(Integer, nullable=False))
    aliases: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(Text), nullable=False))
    search_key: str = Field(sa_column=Column(Text, nullable=False))
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, server_default="true"))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))
    created_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )
    updated_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )
