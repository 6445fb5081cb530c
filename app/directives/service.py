"""Directive rules: drafting, reading within scope, references in both directions, listing.

A directive is visible to keys whose subtree holds its issuer, and, once issued,
to keys whose subtree holds a unit it assigns. Only the issuer side sees drafts.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, exists, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app import etags
from app.assignments.models import Assignment
from app.audit import service as audit
from app.auth.caller import Caller
from app.auth.models import Role
from app.calendar.service import local_date
from app.directives.models import Directive, DirectiveReference, DirectiveStatus
from app.directives.schemas import (
    DirectiveCreate,
    DirectiveFields,
    DirectiveRead,
    DirectiveUpdate,
    ImplementedByRead,
    ReferenceIn,
    ReferenceRead,
)
from app.errors import Conflict, Forbidden, InvalidTransition, NotFound
from app.pagination import newest_first
from app.tasks import service as tasks
from app.text import fold
from app.timeutil import utcnow
from app.units import service as units
from app.units.models import Unit

AUDITED = ("number", "symbol", "doc_type", "issued_on", "place", "subject", "signer_name", "signer_title", "recipients", "urgency")


def notation_of(number: str | None, symbol: str) -> str:
    """"2206/SYT-VP"; Party documents put a dash after the number ("477-KL/TU"); drafts may have no number."""
    separator = "-" if "/" in symbol else "/"
    return f"{number or ''}{separator}{symbol}"


def notation_key(notation: str) -> str:
    """How notations are compared: accent- and case-insensitive, spaces ignored ("422 /SYT-VP" = "422/syt-vp")."""
    return fold(notation).replace(" ", "")


def _issuer_in_scope(caller: Caller) -> ColumnElement[bool]:
    return Directive.issuer_id.in_(select(Unit.id).where(units.in_scope(caller)))  # type: ignore[attr-defined]


def visible(caller: Caller) -> ColumnElement[bool]:
    assigned_here = exists().where(
        Assignment.directive_id == Directive.id,
        Assignment.unit_id.in_(select(Unit.id).where(units.in_scope(caller))),  # type: ignore[attr-defined]
    )
    return or_(_issuer_in_scope(caller), and_(Directive.status != DirectiveStatus.draft, assigned_here))


async def get_directive(session: AsyncSession, caller: Caller, directive_id: UUID, *, for_update: bool = False) -> Directive:
    stmt = select(Directive).where(Directive.id == directive_id, visible(caller))
    if for_update:
        stmt = stmt.with_for_update(of=Directive)  # type: ignore[arg-type]
    directive = (await session.execute(stmt)).scalar_one_or_none()
    if directive is None:
        raise NotFound(f"Directive {directive_id} not found.")
    return directive


async def get_for_issuer(session: AsyncSession, caller: Caller, directive_id: UUID) -> Directive:
    """The directive, locked, for a change only its issuer side may make (issuer role, issuer in scope)."""
    caller.require(Role.issuer)
    directive = await get_directive(session, caller, directive_id, for_update=True)
    issuer = await session.get(Unit, directive.issuer_id)
    if issuer is None or not caller.covers(issuer.path):
        raise Forbidden("Only the issuer's side changes a directive; recipients may read it.")
    return directive


def check_etag(directive: Directive, if_match: str | None) -> None:
    etags.require_match(if_match, version=directive.version, what=f"Directive {directive.id}")


async def create_directive(session: AsyncSession, caller: Caller, data: DirectiveCreate) -> Directive:
    caller.require(Role.issuer)
    field = "issuer_id" if data.issuer_id else "issuer_code"
    issuer = await units.resolve_unit_ref(session, caller, unit_id=data.issuer_id, code=data.issuer_code, field=field)
    directive = Directive(
        issuer_id=issuer.id, symbol=data.symbol, notation="", notation_key="", doc_type=data.doc_type.value,
        subject=data.subject, search_key="", created_by_key_id=caller.key_id,
    )
    apply_fields(directive, data)
    await ensure_unique(session, directive)
    session.add(directive)
    await session.flush()
    await _replace_references(session, directive, data.references or [])
    if data.tasks:
        await tasks.replace_tasks(session, caller, directive.id, data.tasks)
    audit.record(
        session, actor_key_id=caller.key_id, action="directive.created", entity_type="directive", entity_id=directive.id, unit_id=directive.issuer_id,
        changes={"notation": directive.notation, "subject": directive.subject, "tasks": len(data.tasks or [])},
    )
    return directive


async def update_directive(
    session: AsyncSession, caller: Caller, directive_id: UUID, data: DirectiveUpdate, *, if_match: str | None
) -> Directive:
    directive = await get_for_issuer(session, caller, directive_id)
    check_etag(directive, if_match)
    if directive.status != DirectiveStatus.draft:
        raise InvalidTransition(
            f"Directive {directive.notation} is {directive.status}; only drafts can be edited.", current_status=directive.status
        )
    before = {f: getattr(directive, f) for f in AUDITED}
    apply_fields(directive, data)
    await ensure_unique(session, directive)
    if data.references is not None:
        await _replace_references(session, directive, data.references)
    if data.tasks is not None:
        await tasks.replace_tasks(session, caller, directive.id, data.tasks)
    changes: dict[str, Any] = audit.diff(before, {f: getattr(directive, f) for f in AUDITED})
    if data.tasks is not None:
        changes["tasks"] = ["replaced", len(data.tasks)]
    if data.references is not None:
        changes["references"] = ["replaced", len(data.references)]
    if changes:
        directive.version += 1
        directive.updated_at = utcnow()
        await session.flush()
        audit.record(
            session, actor_key_id=caller.key_id, action="directive.updated", entity_type="directive",
            entity_id=directive.id, unit_id=directive.issuer_id, changes=changes,
        )
    return directive


# The directive's own columns among the request fields (tasks and references have tables of their own).
PLAIN_FIELDS = set(DirectiveFields.model_fields) - {"tasks", "references"}


def apply_fields(directive: Directive, data: DirectiveFields) -> None:
    given = data.model_dump(exclude_unset=True, include=PLAIN_FIELDS)
    for name, value in given.items():
        setattr(directive, name, value.value if hasattr(value, "value") else value)
    directive.notation = notation_of(directive.number, directive.symbol)
    directive.notation_key = notation_key(directive.notation)
    directive.year = directive.issued_on.year if directive.issued_on else None
    directive.search_key = " | ".join([fold(directive.notation), fold(directive.subject)])


async def ensure_unique(session: AsyncSession, directive: Directive) -> None:
    """Number + symbol is unique per issuer and year: a clash is a 409 naming the directive that holds it."""
    if directive.number is None or directive.year is None:
        return
    clash = await session.scalar(
        select(Directive.id).where(
            Directive.issuer_id == directive.issuer_id,
            Directive.notation_key == directive.notation_key,
            Directive.year == directive.year,
            Directive.number.is_not(None),  # type: ignore[union-attr]
            Directive.id != directive.id,
        )
    )
    if clash is not None:
        raise Conflict(
            f"{directive.notation} of {directive.year} already exists for this issuer.", existing_id=str(clash)
        )


async def _replace_references(session: AsyncSession, directive: Directive, refs: list[ReferenceIn]) -> None:
    await session.execute(text("DELETE FROM directive_references WHERE directive_id = :d"), {"d": directive.id})
    for position, ref in enumerate(refs):
        session.add(
            DirectiveReference(
                directive_id=directive.id, position=position, notation=ref.notation, notation_key=notation_key(ref.notation),
                doc_type=ref.doc_type.value if ref.doc_type else None, issued_on=ref.issued_on,
                year=ref.issued_on.year if ref.issued_on else None,
            )
        )
    await session.flush()


async def read_model(session: AsyncSession, caller: Caller, directive: Directive) -> DirectiveRead:
    """The directive with its tasks, what it references (resolved where held here) and what implements it."""
    return DirectiveRead.model_validate(
        {
            **directive.model_dump(),
            "references": await _references(session, caller, directive.id),
            "implemented_by": await _implemented_by(session, caller, directive),
            "tasks": await tasks.read_tasks(session, directive.id),
        }
    )


async def references_of(session: AsyncSession, directive_id: UUID) -> list[DirectiveReference]:
    return list(
        await session.scalars(
            select(DirectiveReference).where(DirectiveReference.directive_id == directive_id).order_by(DirectiveReference.position)
        )
    )


async def _references(session: AsyncSession, caller: Caller, directive_id: UUID) -> list[ReferenceRead]:
    out = []
    for ref in await references_of(session, directive_id):
        conditions = [Directive.notation_key == ref.notation_key, Directive.status != DirectiveStatus.draft, visible(caller)]
        if ref.year is not None:
            conditions.append(Directive.year == ref.year)
        target = await session.scalar(select(Directive.id).where(*conditions).limit(1))
        out.append(ReferenceRead(notation=ref.notation, doc_type=ref.doc_type, issued_on=ref.issued_on, directive_id=target))
    return out


async def _implemented_by(session: AsyncSession, caller: Caller, directive: Directive) -> list[ImplementedByRead]:
    rows = await session.execute(
        select(Directive.id, Directive.notation, Directive.subject, Directive.issued_on)
        .join(DirectiveReference, DirectiveReference.directive_id == Directive.id)
        .where(
            DirectiveReference.notation_key == directive.notation_key,
            or_(DirectiveReference.year.is_(None), DirectiveReference.year == directive.year),  # type: ignore[union-attr]
            Directive.id != directive.id,
            visible(caller),
        )
        .order_by(Directive.issued_on, Directive.id)
    )
    return [ImplementedByRead(directive_id=r.id, notation=r.notation, subject=r.subject, issued_on=r.issued_on) for r in rows]


async def list_directives(
    session: AsyncSession,
    caller: Caller,
    *,
    issuer_id: UUID | None = None,
    doc_type: str | None = None,
    status: str | None = None,
    year: int | None = None,
    q: str | None = None,
    references: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[Directive], str | None]:
    """Newest first, keyset-paged on (created_at, id)."""
    conditions: list[ColumnElement[bool]] = [visible(caller)]
    if issuer_id is not None:
        conditions.append(Directive.issuer_id == issuer_id)
    if doc_type is not None:
        conditions.append(Directive.doc_type == doc_type)
    if status is not None:
        conditions.append(Directive.status == status)
    if year is not None:
        conditions.append(Directive.year == year)
    for word in fold(q or "").split():
        conditions.append(Directive.search_key.contains(word, autoescape=True))  # type: ignore[attr-defined]
    if references:
        conditions.append(
            Directive.id.in_(  # type: ignore[attr-defined]
                select(DirectiveReference.directive_id).where(DirectiveReference.notation_key == notation_key(references))
            )
        )
    return await newest_first(session, select(Directive).where(*conditions), Directive, cursor=cursor, limit=limit)

def today_local() -> date:
    return local_date(utcnow())
