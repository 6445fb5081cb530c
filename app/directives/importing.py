"""Directive text in, a draft directive out (`POST /v1/directives/import`).

The parser reads the text; unit mentions ("Văn phòng Sở", "TTYT Thiệu Hóa")
are matched to units of the caller's subtree by code, name or alias, folded
for accents and case, and only when exactly one unit fits: a wrong match is
worse than none. Unmatched mentions come back for a person to map; a mapping
they confirm is applied and saved as an alias, so the next import knows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.caller import Caller
from app.auth.models import Role
from app.directives import service as directives
from app.directives.schemas import (
    MAX_TEXT_BYTES,
    DirectiveCreate,
    DirectiveImport,
    DirectiveTextIn,
    ImportResult,
    MentionResolved,
    MentionUnresolved,
)
from app.errors import PayloadTooLarge, UnsupportedMediaType, ValidationProblem
from app.parsing import parse
from app.parsing.schemas import ParsedTask, ParseResult
from app.problems import validation_errors
from app.text import fold
from app.timeutil import utcnow
from app.units import service as units
from app.units.models import ALIASES_MAX, Unit


def mention_key(mention: str) -> str:
    return fold(mention).strip(" .,;:-")


@dataclass
class MentionIndex:
    """Units of the caller's subtree under every folded code, name and alias."""

    by_key: dict[str, dict[str, tuple[Unit, str]]] = field(default_factory=dict)
    mapped: dict[str, Unit] = field(default_factory=dict)

    def add(self, key: str, unit: Unit, via: str) -> None:
        self.by_key.setdefault(key, {}).setdefault(unit.code, (unit, via))

    def resolve(self, mention: str) -> tuple[Unit | None, str, list[str]]:
        key = mention_key(mention)
        if key in self.mapped:
            return self.mapped[key], "mapping", []
        matches = self.by_key.get(key, {})
        if len(matches) == 1:
            unit, via = next(iter(matches.values()))
            return unit, via, []
        return None, "", sorted(matches)


async def build_index(session: AsyncSession, caller: Caller) -> MentionIndex:
    index = MentionIndex()
    for unit in await session.scalars(select(Unit).where(units.in_scope(caller), Unit.active.is_(True))):  # type: ignore[attr-defined]
        index.add(fold(unit.code), unit, "code")
        index.add(mention_key(unit.name), unit, "name")
        for alias in unit.aliases:
            index.add(mention_key(alias), unit, "alias")
    return index


@dataclass
class _Resolution:
    resolved: dict[str, MentionResolved] = field(default_factory=dict)
    unresolved: list[MentionUnresolved] = field(default_factory=list)

    def unit_id(self, index: MentionIndex, mention: str, ordinal: str | None, role: str) -> Any:
        unit, via, candidates = index.resolve(mention)
        if unit is None:
            self.unresolved.append(MentionUnresolved(mention=mention, task_ordinal=ordinal, role=role, candidates=candidates))
            return None
        self.resolved.setdefault(mention, MentionResolved(mention=mention, unit_id=unit.id, unit_code=unit.code, via=via))
        return unit.id


def _task_body(task: ParsedTask, index: MentionIndex, found: _Resolution) -> dict[str, Any]:
    def ids(mentions: list[str], role: str) -> list[Any]:
        return [uid for m in mentions if (uid := found.unit_id(index, m, task.ordinal, role)) is not None]

    body: dict[str, Any] = {
        "ordinal": task.ordinal if task.ordinal and len(task.ordinal) <= 16 else None,
        "text": task.text[:20000],
        "lead_ids": ids(task.lead, "lead"),
        "coordinating_ids": ids(task.coordinating, "coordinating"),
        "assignee_ids": ids(task.assignees, "assignee"),
    }
    if task.report_to:
        body["report_to_id"] = found.unit_id(index, task.report_to, task.ordinal, "report_to")
    if task.recurrence:
        body["recurrence"] = task.recurrence  # a recurring task's deadlines come from its periods
    elif task.deadline is not None:
        if task.deadline.due_on is not None:
            body.update(due_on=task.deadline.due_on, due_kind=task.deadline.kind)
        elif task.deadline.working_days:
            body["due_in_working_days"] = task.deadline.working_days
        body["deadline_phrase"] = task.deadline.phrase[:500]
    return body


def _directive_body(parsed: ParseResult, data: DirectiveImport, tasks: list[dict[str, Any]]) -> dict[str, Any]:
    overrides = data.overrides.model_dump(exclude_none=True)
    body: dict[str, Any] = {
        "number": parsed.number, "symbol": parsed.symbol, "doc_type": parsed.doc_type, "issued_on": parsed.issued_on,
        "place": parsed.place, "subject": parsed.subject, "recipients": parsed.recipients,
        "references": [{"notation": r.notation, "issued_on": r.issued_on} for r in parsed.references],
        "signer_name": parsed.signer.name if parsed.signer else None,
        "signer_title": parsed.signer.title if parsed.signer else None,
        "urgency": parsed.urgency or "normal",
        "body": None,
        "tasks": tasks,
        **overrides,
    }
    if data.issuer_id is not None or data.issuer_code is not None:
        body.update(issuer_id=data.issuer_id, issuer_code=data.issuer_code)
    return {k: v for k, v in body.items() if v is not None}


async def import_directive(session: AsyncSession, caller: Caller, data: DirectiveImport) -> ImportResult:
    caller.require(Role.issuer)
    parsed = parse(data.text)
    index = await build_index(session, caller)
    await _apply_mappings(session, caller, index, data.mappings)
    found = _Resolution()
    tasks = [_task_body(t, index, found) for t in parsed.tasks]
    body = _directive_body(parsed, data, tasks)
    body["body"] = data.text
    if "issuer_id" not in body and "issuer_code" not in body:
        body["issuer_id"] = caller.unit_id
    try:
        create = DirectiveCreate.model_validate(body)
    except ValidationError as exc:
        errors = validation_errors([dict(e) for e in exc.errors()])
        raise ValidationProblem(
            "The text does not give everything a directive needs; pass the missing fields in `overrides`.", errors=errors
        ) from None
    directive = await directives.create_directive(session, caller, create)
    saved = await _save_aliases(session, caller, index, data.mappings)
    return ImportResult(
        directive=await directives.read_model(session, caller, directive),
        resolved=list(found.resolved.values()),
        unresolved=found.unresolved,
        aliases_saved=saved,
        parse=parsed.model_dump(mode="json"),
    )


async def _apply_mappings(session: AsyncSession, caller: Caller, index: MentionIndex, mappings: dict[str, str]) -> None:
    if not mappings:
        return
    by_code = await units.find_by_codes(session, sorted(set(mappings.values())))
    for mention, code in mappings.items():
        unit = by_code.get(code)
        if unit is None or not caller.covers(unit.path):
            raise ValidationProblem.for_field(f"mappings.{mention}", f"unknown unit {code}", "unknown_unit")
        index.mapped[mention_key(mention)] = unit


async def _save_aliases(session: AsyncSession, caller: Caller, index: MentionIndex, mappings: dict[str, str]) -> list[MentionResolved]:
    """A confirmed mapping becomes an alias of its unit (once), so later imports resolve it by themselves."""
    saved = []
    for mention in mappings:
        unit = index.mapped[mention_key(mention)]
        known = {mention_key(a) for a in unit.aliases} | {mention_key(unit.name), fold(unit.code)}
        if mention_key(mention) in known or len(unit.aliases) >= ALIASES_MAX:
            continue
        unit.aliases = [*unit.aliases, mention.strip()]
        unit.search_key = units.search_key(unit.code, unit.name, unit.short_name, unit.aliases)
        unit.version += 1
        unit.updated_at = utcnow()
        audit.record(
            session, actor_key_id=caller.key_id, action="unit.alias_added", entity_type="unit", entity_id=unit.id,
            unit_id=unit.id, changes={"alias": mention.strip()},
        )
        saved.append(MentionResolved(mention=mention, unit_id=unit.id, unit_code=unit.code, via="mapping"))
    await session.flush()
    return saved


def read_directive_text(content_type: str, raw: bytes) -> str:
    """The text of a `parse` request: `text/plain` (UTF-8) or JSON `{"text": ...}`, at most 1 MB."""
    if len(raw) > MAX_TEXT_BYTES + 64:  # a JSON envelope may add a few bytes
        raise PayloadTooLarge(f"Directive text is limited to {MAX_TEXT_BYTES} bytes.", limit=MAX_TEXT_BYTES)
    media_type = content_type.split(";")[0].strip().lower()
    if media_type == "application/json":
        try:
            return DirectiveTextIn.model_validate_json(raw).text
        except ValidationError as exc:
            errors = validation_errors([dict(e) for e in exc.errors()])
            raise ValidationProblem("The body must be {\"text\": \"...\"}.", errors=errors) from None
    if media_type in ("text/plain", ""):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationProblem.for_field("text", f"not valid UTF-8 (byte {exc.start})", "not_utf8") from None
        if len(raw) > MAX_TEXT_BYTES:
            raise PayloadTooLarge(f"Directive text is limited to {MAX_TEXT_BYTES} bytes.", limit=MAX_TEXT_BYTES)
        if not text.strip():
            raise ValidationProblem.for_field("text", "is empty", "empty")
        return text
    raise UnsupportedMediaType(f"Send text/plain (UTF-8) or application/json, not {media_type}.")
