"""Tasks (nhiệm vụ): the numbered and bulleted items of the body, and the
"Giao X chủ trì, phối hợp Y" sentences, each with who, by when and how often.

Items are read as a tree (II. → 1. → 1.1. → - → +).  A short item without final
punctuation is a heading ("5. Các đơn vị trực thuộc"); the paragraphs under it are
its text and, when it names a unit, that unit is the assignee.  An item with
sub-items is one task, unless its sub-items carry deadlines or leads of their own,
in which case each is a task.  Sections that state purposes rather than work
(Mục đích, Yêu cầu, Mục tiêu...) give no tasks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.parsing.blocks import Block
from app.parsing.deadlines import (
    DateContext,
    Deadline,
    find_deadlines,
    find_recurrence,
    trigger_scan,
)
from app.parsing.layout import Layout
from app.parsing.parties import (
    find_addressee,
    find_assigned,
    find_lead,
    find_report_to,
    is_unit,
    split_units,
)
from app.parsing.patterns import Hit, Scan, squash, tidy

_NOT_WORK_RE = re.compile(
    r"^(?:mục\s+đích|yêu\s+cầu|mục\s+tiêu|căn\s+cứ|quan\s+điểm|kết\s+quả|đánh\s+giá|tình\s+hình|thực\s+trạng"
    r"|sự\s+cần\s+thiết|phạm\s+vi|đối\s+tượng|giải\s+thích|đặc\s+điểm|nguyên\s+tắc)(?![\w])",
    re.I,
)
_IN_FORCE_RE = re.compile(r"có\s+hiệu\s+lực", re.I)
_HEADING_MAX = 160
_END_PUNCT = (".", ";", "!", "?", ":", "./.", ".”", '."')


@dataclass(slots=True)
class Node:
    """A list item with the paragraphs attached to it and its sub-items."""

    block: Block
    end: int
    children: list[Node] = field(default_factory=list)
    parent: Node | None = None

    def own(self, layout: Layout) -> str:
        return layout.text[self.block.start : self.block.end].strip()

    def subtree_end(self) -> int:
        return max([self.end, *(c.subtree_end() for c in self.children)])


@dataclass(slots=True)
class Task:
    """One task as read from the text; offsets index the layout text."""

    ordinal: str | None
    text: Hit[str]
    lead: list[str]
    lead_hit: Hit[str] | None
    coordinating: list[str]
    assignees: list[str]
    report_to: Hit[str] | None
    deadline: Deadline | None
    recurrence: str | None


@dataclass(slots=True)
class _Context:
    layout: Layout
    dates: DateContext
    addressees: list[Hit[str]]
    triggers: Scan
    tasks: list[Task] = field(default_factory=list)


def _is_heading(text: str) -> bool:
    return len(text) <= _HEADING_MAX and not text.endswith(_END_PUNCT)


def _build_tree(layout: Layout, blocks: list[Block]) -> tuple[list[Node], list[Block]]:
    """Item tree and the paragraphs that belong to no item."""
    roots: list[Node] = []
    loose: list[Block] = []
    stack: list[Node] = []
    for block in blocks:
        if block.family is None:
            top = stack[-1] if stack else None
            text = layout.text[block.start : block.end]
            if top is not None and (_is_heading(top.own(layout)) or top.own(layout).endswith(":") or text[:1].islower()):
                top.end = block.end
            else:
                loose.append(block)
            continue
        families = [n.block.family for n in stack]
        if block.family in families:
            while stack and stack[-1].block.family != block.family:
                stack.pop()
            stack.pop()
        node = Node(block, block.end, parent=stack[-1] if stack else None)
        (node.parent.children if node.parent else roots).append(node)
        stack.append(node)
    return roots, loose


def _ordinal(node: Node) -> str | None:
    """The printed ordinal ("2.1", "a", "Điều 3"); a bullet is numbered under its parent ("4.3.2")."""
    block = node.block
    if block.family == "article":
        return f"Điều {block.ordinal}"
    if block.ordinal is not None:
        parent = node.parent
        if parent is not None and parent.block.family == "roman" and block.family != "roman":
            return f"{parent.block.ordinal}.{block.ordinal}"  # "III.5": plans restart numbering per section
        return block.ordinal
    siblings = node.parent.children if node.parent else None
    if siblings is None:
        return None
    position = [s for s in siblings if s.block.family == block.family].index(node) + 1
    parent = _ordinal(node.parent) if node.parent else None
    return f"{parent}.{position}" if parent else str(position)


def _addressee_before(ctx: _Context, pos: int) -> list[str]:
    before = [a for a in ctx.addressees if a.start < pos]
    return split_units(before[-1].value) if before else []


def _make_task(ctx: _Context, start: int, end: int, own_end: int, ordinal: str | None, assignees: list[str]) -> Task:
    layout = ctx.layout
    text = layout.text
    lead, coordinating = find_lead(text, start, end)
    deadlines = find_deadlines(text, start, end, ctx.dates, ctx.triggers)
    deadline = deadlines[0] if deadlines else None
    report_to = find_report_to(text, start, end, deadline.start if deadline else None)
    if lead is None:
        own = find_assigned(text, start, own_end)
        if own is not None:
            assignees = split_units(own.value)
        elif not assignees:
            assignees = _addressee_before(ctx, start)
    else:
        assignees = []
    return Task(
        ordinal=ordinal,
        text=Hit(tidy(squash(text[start:end])), start, end),
        lead=split_units(lead.value) if lead else [],
        lead_hit=lead,
        coordinating=split_units(coordinating.value) if coordinating else [],
        assignees=assignees,
        report_to=report_to,
        deadline=deadline,
        recurrence=find_recurrence(text, start, end),
    )


def _has_own_terms(ctx: _Context, node: Node) -> bool:
    text = ctx.layout.text
    return bool(find_deadlines(text, node.block.start, node.subtree_end(), ctx.dates, ctx.triggers)) or bool(
        find_lead(text, node.block.start, node.end)[0]
    )


def _emit(ctx: _Context, node: Node, assignees: list[str]) -> None:
    own = node.own(ctx.layout)
    if _NOT_WORK_RE.match(own) or (node.block.family == "article" and _IN_FORCE_RE.search(own)):
        return
    heading = _is_heading(own)
    if heading and is_unit(own):
        assignees = split_units(tidy(own))
    if node.children and heading:
        if node.end > node.block.end:  # paragraphs right under the heading, before its sub-items
            _emit_span(ctx, node, node.block.start, node.end, assignees)
        for child in node.children:
            _emit(ctx, child, assignees)
        return
    if node.children and sum(_has_own_terms(ctx, c) for c in node.children) >= 2:
        lead, _ = find_lead(ctx.layout.text, node.block.start, node.end)
        inherited = split_units(lead.value) if lead else assignees
        for child in node.children:
            _emit(ctx, child, inherited)
        return
    _emit_span(ctx, node, node.block.start, node.subtree_end(), assignees)


def _emit_span(ctx: _Context, node: Node, start: int, end: int, assignees: list[str]) -> None:
    own_end = node.block.end if not _is_heading(node.own(ctx.layout)) else end
    ctx.tasks.append(_make_task(ctx, start, end, own_end, _ordinal(node), assignees))


def _emit_loose(ctx: _Context, block: Block) -> None:
    task = _make_task(ctx, block.start, block.end, block.end, None, [])
    if task.deadline is not None or task.lead:
        ctx.tasks.append(task)


def extract_tasks(layout: Layout, blocks: list[Block], dates: DateContext, opening: list[Block] | None = None) -> list[Task]:
    """Tasks of the body ``blocks`` (opening paragraphs removed, but passed as ``opening``
    since the last of them often names who the items are for), in text order."""
    roots, loose = _build_tree(layout, blocks)
    addressees = []
    for block in [*(opening or []), *loose]:
        if layout.text[block.start : block.end].rstrip().endswith(":"):
            hit = find_addressee(layout.text, block.start, block.end)
            if hit:
                addressees.append(hit)
    text = layout.text
    span = (blocks[0].start, blocks[-1].end) if blocks else (0, 0)
    ctx = _Context(layout, dates, addressees, trigger_scan(text, *span))
    for root in roots:
        _emit(ctx, root, [])
    for block in loose:
        _emit_loose(ctx, block)
    ctx.tasks.sort(key=lambda t: t.text.start)
    _number_top_bullets(ctx.tasks, roots)
    return ctx.tasks


def _number_top_bullets(tasks: list[Task], roots: list[Node]) -> None:
    """Top-level bullets ("- ...") have no printed number: number them in order."""
    bullet_starts = {r.block.start: i for i, r in enumerate((r for r in roots if r.block.ordinal is None), 1)}
    for task in tasks:
        if task.ordinal is None and task.text.start in bullet_starts:
            task.ordinal = str(bullet_starts[task.text.start])
