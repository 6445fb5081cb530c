"""The parse result (DESIGN.md, "Parsing directive text") as pydantic models.

``parse_directive`` returns ``ParseResult.model_dump(mode="json")``; the API can
validate a stored or posted parse result with ``ParseResult.model_validate``.
Keys beyond the design's are allowed and documented on each field.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DeadlineKind = Literal["before", "by"]
Recurrence = Literal["monthly", "quarterly", "semiannual", "yearly"]
Urgency = Literal["khan", "thuong_khan", "hoa_toc"]


class ParsedDeadline(BaseModel):
    """Thời hạn: ``before`` = the start of ``due_on`` (local), ``by`` = its end."""

    model_config = ConfigDict(extra="allow")

    due_on: date | None = Field(description="None when the date cannot be fixed (e.g. a day each month)")
    kind: DeadlineKind
    phrase: str = Field(description="the words of the text, e.g. 'trước ngày 10/11/2018'")
    working_days: int | None = Field(default=None, description="term in working days, when so written")
    calendar_days: int | None = Field(default=None, description="term in calendar days, when so written")
    due_time: str | None = Field(default=None, description="'HH:MM' when a time of day is given")
    day_of_month: int | None = Field(default=None, description="for 'trước ngày 20 hàng tháng'")


class ParsedTask(BaseModel):
    """Nhiệm vụ: one item of the body, with who, by when and how often."""

    model_config = ConfigDict(extra="allow")

    ordinal: str | None
    text: str
    lead: list[str] = Field(default_factory=list, description="đơn vị chủ trì")
    coordinating: list[str] = Field(default_factory=list, description="đơn vị phối hợp")
    assignees: list[str] = Field(default_factory=list, description="units asked to act when no lead is named")
    report_to: str | None = None
    deadline: ParsedDeadline | None = None
    recurrence: Recurrence | None = None


class ParsedReference(BaseModel):
    """Văn bản căn cứ: a document cited in the subject or the opening paragraphs."""

    model_config = ConfigDict(extra="allow")

    notation: str
    doc_type: str | None = None
    issued_on: date | None = None
    number: str | None = None
    symbol: str | None = None


class ParsedSigner(BaseModel):
    """Người ký: own title (None when not printed) and name; ``authority`` holds KT./TM./TL. lines."""

    model_config = ConfigDict(extra="allow")

    title: str | None = None
    name: str | None = None
    authority: list[str] = Field(default_factory=list)


class ParseResult(BaseModel):
    """Everything read from one directive.  ``spans`` maps a field path ("subject",
    "tasks.0.deadline", "recipients.1") to ``[start, end)`` offsets in the input text."""

    model_config = ConfigDict(extra="allow")

    number: str | None = None
    symbol: str | None = None
    notation: str | None = None
    doc_type: str | None = None
    issuer: str | None = None
    issuer_lines: list[str] = Field(default_factory=list)
    place: str | None = None
    issued_on: date | None = None
    urgency: Urgency | None = None
    subject: str | None = None
    recipients: list[str] = Field(default_factory=list)
    references: list[ParsedReference] = Field(default_factory=list)
    signer: ParsedSigner | None = None
    distribution: list[str] = Field(default_factory=list)
    tasks: list[ParsedTask] = Field(default_factory=list)
    spans: dict[str, tuple[int, int]] = Field(default_factory=dict)
