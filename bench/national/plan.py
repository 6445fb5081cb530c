"""What the directives look like: who issues them, to whom, with how many tasks, due when.

Pure Python and deterministic for a seed. The plan is small (a row per directive and per task,
plus each target group's units once); the 2,000,000 assignments are made from it in SQL by
joining each task to its group.

A Sở issues 70% of the directives: to a pair of its offices (lead + coordinating, named units),
to its hospitals and provincial centres (named), to every health centre or to every station
under one health centre (selectors). A health centre issues the rest, to its stations (selector)
or to its own office. Issue dates are spread over the two years before the build; deadlines
fall 7-45 days after issue, written "chậm nhất ngày D" (end of day) or "trước ngày D" (start).
"""

from __future__ import annotations

import functools
import itertools
import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from app.calendar.service import LOCAL_TZ, end_of_local_day, start_of_local_day
from app.text import fold
from bench.national.tree import Province

DOC_TYPES = (("cong_van", 60), ("ke_hoach", 15), ("quyet_dinh", 10), ("thong_bao", 10), ("chi_thi", 5))
URGENCIES = (("normal", 920), ("khan", 60), ("thuong_khan", 15), ("hoa_toc", 5))
SUBJECTS = (
    "Báo cáo kết quả tiêm chủng mở rộng", "Tăng cường phòng, chống dịch sốt xuất huyết", "Triển khai chiến dịch uống vitamin A",
    "Đôn đốc báo cáo công tác phòng chống HIV/AIDS", "Kiểm tra công tác an toàn vệ sinh thực phẩm",
    "Báo cáo tình hình thực hiện 10 cam kết", "Rà soát trang thiết bị y tế", "Chuẩn bị phương án phòng chống thiên tai",
    "Thống kê nhân lực y tế cơ sở", "Triển khai hồ sơ sức khỏe điện tử", "Báo cáo công tác khám chữa bệnh bảo hiểm y tế",
    "Phòng chống dịch bệnh mùa mưa lũ", "Thực hiện quy chế chuyên môn", "Tổng kết công tác y tế dự phòng",
)
TASK_TEXTS = (
    "Các đơn vị báo cáo kết quả thực hiện về Văn phòng Sở.", "Chủ trì tổng hợp, báo cáo Giám đốc Sở.",
    "Rà soát, thống kê và gửi số liệu theo biểu mẫu.", "Tổ chức triển khai tại đơn vị, báo cáo kết quả.",
    "Phối hợp kiểm tra, giám sát tại cơ sở.",
)
SIGNERS = ("Trịnh Hữu Hùng", "Nguyễn Văn Khải", "Lê Thị Hồng", "Phạm Minh Tuấn", "Đỗ Thị Lan", "Hoàng Văn Nam")


DIRECTIVE_COLUMNS = (
    "id", "issuer_id", "number", "symbol", "notation", "notation_key", "doc_type", "issued_on", "year", "place", "subject",
    "signer_name", "signer_title", "recipients", "urgency", "status", "search_key", "version", "created_at", "updated_at",
    "issued_at", "closed_at",
)
TASK_COLUMNS = ("id", "directive_id", "position", "ordinal", "text", "report_to_id", "due_on", "due_kind", "deadline_phrase", "selector")


@dataclass
class Plan:
    directives: list[tuple[object, ...]] = field(default_factory=list)  # in DIRECTIVE_COLUMNS order
    tasks: list[tuple[object, ...]] = field(default_factory=list)
    task_units: list[tuple[object, ...]] = field(default_factory=list)
    task_groups: list[tuple[object, ...]] = field(default_factory=list)  # task_id, directive_id, group_id, due_at, issued_at
    groups: list[tuple[int, uuid.UUID, str]] = field(default_factory=list)  # group_id, unit_id, role
    expected_assignments: int = 0


@dataclass
class _Group:
    id: int
    members: list[tuple[uuid.UUID, str]]
    selector: dict[str, object] | None  # None: the units are named on the task (task_units)


def _weighted(rng: random.Random, choices: tuple[tuple[str, int], ...]) -> str:
    return rng.choices(_NAMES[choices], cum_weights=_CUMULATIVE[choices])[0]


_NAMES = {c: [name for name, _ in c] for c in (DOC_TYPES, URGENCIES)}
_CUMULATIVE = {c: list(itertools.accumulate(w for _, w in c)) for c in (DOC_TYPES, URGENCIES)}
_folded = functools.lru_cache(maxsize=None)(fold)


class _Groups:
    def __init__(self) -> None:
        self.all: list[_Group] = []

    def add(self, members: list[tuple[uuid.UUID, str]], selector: dict[str, object] | None = None) -> _Group:
        group = _Group(len(self.all) + 1, members, selector)
        self.all.append(group)
        return group


def _province_groups(groups: _Groups, p: Province) -> dict[str, list[_Group]]:
    n = len(p.offices)
    return {
        "offices": [groups.add([(p.offices[k].id, "lead"), (p.offices[(k + 1) % n].id, "coordinating")]) for k in range(n)],
        "hospitals": [groups.add([(u.id, "assignee") for u in (*p.hospitals, *p.centres)])],
        "health_centres": [groups.add([(hc.unit.id, "assignee") for hc in p.health_centres],
                                      {"under_id": str(p.root.id), "kinds": ["health_centre"]})],
        "stations": [groups.add([(s.id, "assignee") for s in hc.stations],
                                {"under_id": str(hc.unit.id), "kinds": ["commune_health_station"]}) for hc in p.health_centres],
        "hc_office": [groups.add([(hc.office.id, "lead")]) for hc in p.health_centres],
    }


def build_plan(provinces: list[Province], directives: int, today: date, seed: int = 20261123) -> Plan:
    rng = random.Random(seed)
    plan, groups = Plan(), _Groups()
    by_province = [_province_groups(groups, p) for p in provinces]
    numbers: dict[tuple[uuid.UUID, int], int] = {}
    for i in range(directives):
        pi = i % len(provinces)
        p, g = provinces[pi], by_province[pi]
        issued_on = today - timedelta(days=rng.randint(5, 730))
        if rng.random() < 0.7:
            issuer, report_to, office = p.root, p.offices[0], rng.choice(p.offices)
            symbol = f"SYT-{office.short_name}"
            n_tasks = rng.choices((1, 2, 3), weights=(78, 16, 6))[0]
            kinds = rng.choices(("offices", "hospitals", "health_centres", "stations"), weights=(58, 14, 14, 14), k=n_tasks)
            chosen = [rng.choice(g[k]) for k in kinds]
        else:
            k = rng.randrange(len(p.health_centres))
            hc = p.health_centres[k]
            issuer, report_to, symbol = hc.unit, hc.office, "TTYT"
            n_tasks = rng.choices((1, 2), weights=(90, 10))[0]
            chosen = [g["stations"][k] if rng.random() < 0.5 else g["hc_office"][k] for _ in range(n_tasks)]
        numbers[(issuer.id, issued_on.year)] = number = numbers.get((issuer.id, issued_on.year), 0) + 1
        _add_directive(plan, rng, p, issuer, report_to, symbol, str(number), issued_on, chosen, today)
    plan.groups = [(grp.id, unit_id, role) for grp in groups.all for unit_id, role in grp.members]
    return plan


def _add_directive(
    plan: Plan, rng: random.Random, p: Province, issuer: object, report_to: object, symbol: str, number: str,
    issued_on: date, chosen: list[_Group], today: date,
) -> None:
    directive_id = uuid.uuid4()
    issued_at = datetime.combine(issued_on, time(8, rng.randint(0, 59)), LOCAL_TZ).astimezone(UTC) + timedelta(hours=rng.random() * 8)
    notation = f"{number}/{symbol}"
    key = f"{number}/{_folded(symbol)}"  # = notation_key(notation): the number is digits, the symbol is cached
    subject = f"{rng.choice(SUBJECTS)} năm {issued_on.year}"
    closed = (today - issued_on).days > 400 and rng.random() < 0.3  # kết thúc: assignments keep their record
    plan.directives.append((
        directive_id, issuer.id, number, symbol, notation, key, _weighted(rng, DOC_TYPES), issued_on,  # type: ignore[attr-defined]
        issued_on.year, p.name, subject, rng.choice(SIGNERS), "GIÁM ĐỐC", ["Như trên", "Lưu: VT"], _weighted(rng, URGENCIES),
        "closed" if closed else "issued", f"{key} | {_folded(subject)}", 3 if closed else 2,
        issued_at - timedelta(hours=2), issued_at, issued_at, issued_at + timedelta(days=60) if closed else None,
    ))
    for position, group in enumerate(chosen, start=1):
        task_id = uuid.uuid4()
        due_on = issued_on + timedelta(days=rng.randint(7, 45))
        due_kind = "by" if rng.random() < 0.7 else "before"
        due_at = end_of_local_day(due_on) if due_kind == "by" else start_of_local_day(due_on)
        phrase = f"{'chậm nhất ngày' if due_kind == 'by' else 'trước ngày'} {due_on:%d/%m/%Y}"
        plan.tasks.append((
            task_id, directive_id, position, str(position), rng.choice(TASK_TEXTS), report_to.id, due_on, due_kind, phrase,  # type: ignore[attr-defined]
            json.dumps(group.selector) if group.selector else None,
        ))
        if group.selector is None:
            plan.task_units += [(task_id, unit_id, role) for unit_id, role in group.members]
        plan.task_groups.append((task_id, directive_id, group.id, due_at, issued_at))
        plan.expected_assignments += len(group.members)
