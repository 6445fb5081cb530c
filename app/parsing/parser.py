"""Directive text → :class:`ParseResult`: the order in which the parts are read.

Header first (it fixes the date the deadlines are read against), then the foot
(distribution and signer, which bound the body), then the body's opening
paragraphs (references) and items (tasks).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date

from app.parsing.blocks import split_blocks
from app.parsing.deadlines import DateContext
from app.parsing.doc_types import CONG_VAN, type_from_symbol
from app.parsing.header import (
    find_issuer,
    find_notation,
    find_place_date,
    find_urgency,
    motto_line,
)
from app.parsing.layout import Layout, build_layout
from app.parsing.normalize import clean
from app.parsing.patterns import Hit
from app.parsing.references import collect, opening_blocks
from app.parsing.schemas import ParsedDeadline, ParsedReference, ParsedSigner, ParsedTask, ParseResult
from app.parsing.signature import find_distribution, find_noi_nhan, find_signature
from app.parsing.subject import find_recipients, find_subject, header_limit
from app.parsing.tasks import Task, extract_tasks


@dataclass(slots=True)
class _Result:
    """Field values and their layout-text spans, gathered before building the model."""

    layout: Layout
    values: dict[str, object] = field(default_factory=dict)
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)
    hits: dict[str, Hit[object]] = field(default_factory=dict)

    def put(self, name: str, hit: Hit[object] | None, value: object = None) -> None:
        if hit is None:
            return
        if "." not in name:
            self.values[name] = hit.value if value is None else value
        self.hits[name] = hit
        self.span(name, hit.start, hit.end)

    def span(self, name: str, start: int, end: int) -> None:
        self.spans[name] = self.layout.original_span(start, end)


def _line_of(layout: Layout, offset: int) -> int:
    starts = [line.start for line in layout.lines]
    return max(0, bisect_right(starts, offset) - 1)


def _read_header(result: _Result) -> tuple[int, DateContext, str | None]:
    """Header fields; returns the first body line, the date context and the own notation."""
    layout = result.layout
    lines = layout.lines
    limit = header_limit(lines)
    found = find_notation(lines, limit)
    notation, number_line = found if found else (None, None)
    if notation:
        result.put("number", notation.number)
        result.put("symbol", notation.symbol)
        result.put("notation", notation.notation)
    place_date = find_place_date(lines, limit)
    if place_date:
        result.put("place", place_date.place)
        result.put("issued_on", place_date.issued_on)
    stops = [i for i in (number_line, place_date.line if place_date else None, motto_line(lines, limit)) if i is not None]
    issuer = find_issuer(lines, number_line if number_line is not None else min(stops, default=0), number_line)
    result.put("issuer", issuer.issuer)
    result.values["issuer_lines"] = [h.value for h in issuer.lines]
    urgency = find_urgency(lines, limit)
    result.put("urgency", urgency)
    subject = find_subject(layout, number_line if number_line is not None else -1)
    result.put("subject", subject.text)
    recipients, recipients_end = find_recipients(layout, limit)
    result.values["recipients"] = [h.value for h in recipients]
    for i, hit in enumerate(recipients):
        result.span(f"recipients.{i}", hit.start, hit.end)
    if recipients:
        result.span("recipients", recipients[0].start, recipients[-1].end)
    _read_doc_type(result, notation.symbol if notation else None, subject.heading_type)
    found_lines = [number_line, place_date.line if place_date else None, subject.last_line, recipients_end]
    found_lines += [_line_of(layout, h.start) for h in (urgency, subject.heading_type) if h is not None]
    last = max((i for i in found_lines if i is not None), default=-1)
    dates = DateContext(
        issued_on=place_date.issued_on.value if place_date and place_date.issued_on else None,
        year=place_date.year if place_date else (notation.year if notation else None),
        month=place_date.month if place_date else None,
    )
    own = notation.notation.value if notation and notation.notation else None
    return last + 1, dates, own


def _read_doc_type(result: _Result, symbol: Hit[str] | None, heading: Hit[str] | None) -> None:
    """Type from the symbol's abbreviation, else the heading, else công văn for a bare symbol."""
    by_symbol = type_from_symbol(symbol.value) if symbol else None
    if by_symbol and symbol:
        result.put("doc_type", symbol, by_symbol)
    elif heading:
        result.put("doc_type", heading)
    elif symbol:
        result.put("doc_type", symbol, CONG_VAN)


def _read_foot(result: _Result, first: int) -> int:
    """Distribution and signer; returns the line where the body ends."""
    layout = result.layout
    noi_nhan = find_noi_nhan(layout.lines, first)
    used: set[int] = set()
    if noi_nhan is not None:
        items, used = find_distribution(layout, noi_nhan)
        result.values["distribution"] = [h.value for h in items]
        for i, hit in enumerate(items):
            result.span(f"distribution.{i}", hit.start, hit.end)
        result.span("distribution", layout.lines[noi_nhan].start, max([layout.lines[noi_nhan].end] + [h.end for h in items]))
    signature = find_signature(layout, first, used)
    if signature.name or signature.title:
        result.values["signer"] = ParsedSigner(
            title=signature.title.value if signature.title else None,
            name=signature.name.value if signature.name else None,
            authority=signature.authority,
        )
        hits = [h for h in (signature.title, signature.name) if h]
        result.span("signer", hits[0].start, hits[-1].end)
        result.put("signer.title", signature.title)
        result.put("signer.name", signature.name)
    ends = [noi_nhan] if noi_nhan is not None else []
    for hit in (signature.title, signature.name):
        if hit is not None:
            ends.append(_line_of(layout, hit.start))
    return min([e for e in ends if e >= first], default=len(layout.lines))


def _task_model(result: _Result, index: int, task: Task) -> ParsedTask:
    prefix = f"tasks.{index}"
    result.span(prefix, task.text.start, task.text.end)
    deadline = None
    if task.deadline is not None:
        d = task.deadline
        result.span(f"{prefix}.deadline", d.start, d.end)
        deadline = ParsedDeadline(
            due_on=d.due_on, kind=d.kind, phrase=d.phrase, working_days=d.working_days,  # type: ignore[arg-type]
            calendar_days=d.calendar_days, due_time=d.due_time, day_of_month=d.day_of_month,
        )
    if task.lead_hit is not None:
        result.span(f"{prefix}.lead", task.lead_hit.start, task.lead_hit.end)
    if task.report_to is not None:
        result.span(f"{prefix}.report_to", task.report_to.start, task.report_to.end)
    return ParsedTask(
        ordinal=task.ordinal, text=task.text.value, lead=task.lead, coordinating=task.coordinating,
        assignees=task.assignees, report_to=task.report_to.value if task.report_to else None,
        deadline=deadline, recurrence=task.recurrence,  # type: ignore[arg-type]
    )


def parse(text: str, *, today: date | None = None) -> ParseResult:
    """Read a directive's text into a :class:`ParseResult`."""
    layout = build_layout(clean(text))
    result = _Result(layout)
    body_first, dates, own = _read_header(result)
    dates.today = today
    body_last = _read_foot(result, body_first)
    blocks = split_blocks(layout, body_first, max(body_first, body_last))
    opening = opening_blocks(layout, blocks)
    references = collect(layout, result.hits.get("subject"), opening, own)  # type: ignore[arg-type]
    result.values["references"] = [
        ParsedReference(notation=r.notation, doc_type=r.doc_type, issued_on=r.issued_on, number=r.number, symbol=r.symbol)
        for r in references
    ]
    for i, ref in enumerate(references):
        result.span(f"references.{i}", ref.start, ref.end)
    opening_ids = {id(b) for b in opening}
    tasks = extract_tasks(layout, [b for b in blocks if id(b) not in opening_ids], dates, opening)
    result.values["tasks"] = [_task_model(result, i, t) for i, t in enumerate(tasks)]
    return ParseResult.model_validate({**result.values, "spans": result.spans})


def parse_directive(text: str, *, today: date | None = None) -> dict[str, object]:
    """The design's JSON for a directive's text: ``parse(...).model_dump(mode="json")``."""
    return parse(text, today=today).model_dump(mode="json")
