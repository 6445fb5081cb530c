"""Many small batches, each prepared (and, for directives, written) while the one before it is written: outcomes are as
if one batch ran at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from uuid import UUID

import httpx
import orjson
import pytest
from sqlalchemy import text

from app.auth.caller import Caller
from app.auth.models import Role
from app.db import sessionmaker
from app.events import service as events
from app.imports import service
from app.imports import units as units_import
from app.imports.lines import Applier, StagedLine
from app.imports.models import ImportKind
from tests.fixtures import Province
from tests.imports.helpers import break_batches_holding, errors_of, import_now, ndjson, sql, upload
from tests.imports.test_directive_and_report_imports import directive
from tests.imports.test_unit_imports import station


@pytest.fixture
def two_line_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "BATCH_LINES", {ImportKind.units: 2, ImportKind.directives: 2, ImportKind.reports: 2})


@pytest.fixture
def tiny_batches(monkeypatch: pytest.MonkeyPatch, two_line_batches: None) -> list[bool]:
    """Two lines a batch; the list tells, batch by batch, whether it was applied with work prepared ahead."""
    used: list[bool] = []
    real = service.applier_for

    def counting(kind: ImportKind) -> Applier:
        applier = real(kind)

        async def apply(session: Any, caller: Any, lines: list[StagedLine], prepared: Any, before: Any) -> Any:
            used.append(prepared is not None)
            return await applier.apply(session, caller, lines, prepared, before)

        return Applier(apply=apply, prepare=applier.prepare, overlaps=applier.overlaps)

    monkeypatch.setattr(service, "applier_for", counting)
    return used


def record_batch_spans(monkeypatch: pytest.MonkeyPatch, hold_s: Callable[[int], float]) -> list[tuple[int, str]]:
    """(first line of the batch, "start" | "applied" | "end") as batches are applied; each batch's transaction is kept
    open `hold_s(its first line)` seconds after applying, long enough for the next batch to start were it allowed to."""
    real = service.applier_for
    spans: list[tuple[int, str]] = []

    def recording(kind: ImportKind) -> Applier:
        applier = real(kind)

        async def apply(session: Any, caller: Any, lines: list[StagedLine], prepared: Any, before: Any) -> Any:
            spans.append((lines[0].line_no, "start"))
            outcomes = await applier.apply(session, caller, lines, prepared, before)
            spans.append((lines[0].line_no, "applied"))
            await asyncio.sleep(hold_s(lines[0].line_no))
            spans.append((lines[0].line_no, "end"))
            return outcomes

        return Applier(apply=apply, prepare=applier.prepare, overlaps=applier.overlaps)

    monkeypatch.setattr(service, "applier_for", recording)
    return spans


async def test_parents_and_repeated_codes_across_prepared_batches(
    client: httpx.AsyncClient, province: Province, tiny_batches: list[bool]
) -> None:
    body = ndjson(
        station("TYT-P1", "TTYT-P"),  # its parent is two batches later
        station("TYT-P3", "TTYT-TH"),
        station("TYT-P3", "TTYT-TH", name="Trạm Y tế xã P3 (đổi tên)"),  # the same code in the next batch
        station("TYT-P4", "NOWHERE"),
        station("TYT-P2", "TTYT-P"),
        {"code": "TTYT-P", "name": "Trung tâm Y tế huyện P", "kind": "health_centre", "parent_code": "SYT"},
        station("TYT-P5", "TTYT-P"),
    )
    job = await import_now(client, province, "root_admin", "units", body)
    assert (job["succeeded"], job["failed"], job["counts"]) == (6, 1, {"created": 5, "updated": 1})
    errors = await errors_of(client, province, "root_admin", job["id"])
    assert {line: e[0]["code"] for line, e in errors.items()} == {4: "unknown_parent"}
    rows = await sql("SELECT code, name FROM units WHERE code LIKE 'TYT-P%' OR code = 'TTYT-P' ORDER BY code")
    assert [tuple(r) for r in rows] == [
        ("TTYT-P", "Trung tâm Y tế huyện P"), ("TYT-P1", "Trạm Y tế xã TYT-P1"), ("TYT-P2", "Trạm Y tế xã TYT-P2"),
        ("TYT-P3", "Trạm Y tế xã P3 (đổi tên)"), ("TYT-P5", "Trạm Y tế xã TYT-P5"),
    ]
    assert tiny_batches.count(True) >= 2  # most batches were prepared while the one before was written


async def test_a_directive_repeated_in_a_later_prepared_batch_is_unchanged(
    client: httpx.AsyncClient, province: Province, tiny_batches: list[bool]
) -> None:
    broken = directive("603", issue=True)
    broken["tasks"][1]["lead_codes"] = ["NOWHERE"]
    body = ndjson(
        directive("601", issue=True), directive("602", issue=True), broken, directive("601", issue=True), directive("604"),
    )
    job = await import_now(client, province, "root_issuer", "directives", body)
    assert (job["counts"], job["failed"]) == ({"issued": 2, "unchanged": 1, "created": 1}, 1)
    errors = await errors_of(client, province, "root_issuer", job["id"])
    assert (errors[3][0]["field"], errors[3][0]["code"]) == ("tasks[1].lead_codes[0]", "unknown_unit")
    counted = await sql("SELECT number, count(*) FROM directives GROUP BY number ORDER BY number")
    assert [tuple(r) for r in counted] == [("601", 1), ("602", 1), ("604", 1)]
    per_directive = await sql("SELECT count(DISTINCT directive_id), count(*) FROM assignments")
    created = await sql("SELECT count(*) FROM events WHERE type = 'assignment.created'")
    assert per_directive[0][0] == 2 and created[0][0] == per_directive[0][1]
    assert tiny_batches.count(True) >= 2


async def test_imported_assignment_events_match_what_the_issue_endpoint_records(
    client: httpx.AsyncClient, province: Province
) -> None:
    await import_now(client, province, "root_issuer", "directives", ndjson(directive("701", issue=True)))
    imported = await sql(
        "SELECT data, scope FROM events WHERE type = 'assignment.created' ORDER BY data->>'assignment_id'"
    )
    ids_ = [r[0] for r in await sql("SELECT id FROM assignments ORDER BY id")]
    async with sessionmaker()() as session:
        await events.record_for_assignments(session, "probe", ids_)
        probe = await session.execute(
            text("SELECT data, scope FROM events WHERE type = 'probe' ORDER BY data->>'assignment_id'")
        )
        reference = [(_decoded(row.data), list(row.scope)) for row in probe]
        await session.rollback()
    assert len(imported) > 3
    assert [(_decoded(r[0]), list(r[1])) for r in imported] == reference


def _decoded(data: Any) -> Any:
    return orjson.loads(data) if isinstance(data, str) else data


async def test_lines_read_ahead_are_used_only_while_they_are_still_the_pending_ones(
    client: httpx.AsyncClient, province: Province
) -> None:
    """In the batch's transaction only the line numbers are read again; other numbers mean the lines are read whole."""
    response = await upload(client, province, "root_admin", "units", ndjson(*(station(f"TYT-R{i}", "TTYT-TH") for i in range(3))))
    lease = await service.claim(UUID(response.json()["id"]))
    assert lease is not None
    read_ahead = [StagedLine(1, "as read ahead"), StagedLine(2, "as read ahead")]
    async with sessionmaker()() as session, session.begin():
        assert await service._pending_lines(session, lease, 2, read_ahead=read_ahead) is read_ahead
        await session.execute(text("DELETE FROM import_lines WHERE line_no = 2"))  # applied meanwhile
        fresh = await service._pending_lines(session, lease, 2, read_ahead=read_ahead)
    assert [line.line_no for line in fresh] == [1, 3]
    assert orjson.loads(fresh[1].raw)["code"] == "TYT-R2"


async def test_a_batch_whose_preparation_failed_is_prepared_again_in_its_transaction(
    client: httpx.AsyncClient, province: Province, monkeypatch: pytest.MonkeyPatch, two_line_batches: None
) -> None:
    real = service.applier_for
    failures: list[int] = []

    async def broken_prepare(session: Any, caller: Any, lines: list[StagedLine]) -> Any:
        failures.append(lines[0].line_no)
        raise RuntimeError("simulated failure while preparing ahead")

    monkeypatch.setattr(service, "applier_for", lambda kind: Applier(apply=real(kind).apply, prepare=broken_prepare))
    body = ndjson(*(station(f"TYT-Q{i}", "TTYT-TH") for i in range(5)))
    job = await import_now(client, province, "root_admin", "units", body)
    assert (job["succeeded"], job["failed"]) == (5, 0)
    assert failures == [3, 5]
    assert len(await sql("SELECT 1 FROM units WHERE code LIKE 'TYT-Q%'")) == 5


async def test_the_next_directive_batch_is_written_while_the_one_before_it_commits(
    client: httpx.AsyncClient, province: Province, monkeypatch: pytest.MonkeyPatch, two_line_batches: None
) -> None:
    spans = record_batch_spans(monkeypatch, lambda first_line: 0.5 if first_line == 1 else 0.0)
    body = ndjson(*(directive(f"80{i}", issue=True) for i in range(1, 7)))
    job = await import_now(client, province, "root_issuer", "directives", body)
    assert (job["succeeded"], job["failed"], job["counts"]) == (6, 0, {"issued": 6})
    assert spans.index((3, "start")) < spans.index((1, "end"))  # two batch transactions were open at once
    counted = await sql("SELECT count(DISTINCT d.id), count(a.id) FROM directives d JOIN assignments a ON a.directive_id = d.id")
    created = await sql("SELECT count(*) FROM events WHERE type = 'assignment.created'")
    assert counted[0][0] == 6 and created[0][0] == counted[0][1]


async def test_unit_batches_that_only_create_are_written_beside_each_other(
    client: httpx.AsyncClient, province: Province, monkeypatch: pytest.MonkeyPatch, two_line_batches: None
) -> None:
    """The tree lock is shared between them: each batch is written while the other still holds its transaction open."""
    spans = record_batch_spans(monkeypatch, lambda first_line: 0.5 if first_line in (1, 3) else 0.0)
    body = ndjson(*(station(f"TYT-S{i}", "TTYT-TH") for i in range(1, 7)))
    job = await import_now(client, province, "root_admin", "units", body)
    assert (job["succeeded"], job["failed"], job["counts"]) == (6, 0, {"created": 6})
    assert spans.index((3, "applied")) < spans.index((1, "end")) and spans.index((1, "applied")) < spans.index((3, "end"))


async def test_a_unit_whose_parent_the_batch_beside_creates_waits_for_it_in_its_own_transaction(
    client: httpx.AsyncClient, province: Province, monkeypatch: pytest.MonkeyPatch, two_line_batches: None
) -> None:
    """Parent first, split at every batch boundary: no line is deferred to a later round, and every path is whole."""
    spans = record_batch_spans(monkeypatch, lambda first_line: 0.5 if first_line == 1 else 0.0)
    statuses: list[str] = []
    real_apply = units_import.apply

    async def apply(session: Any, caller: Any, lines: list[StagedLine], prepared: Any, before: Any) -> Any:
        outcomes = await real_apply(session, caller, lines, prepared, before)
        statuses.extend(o.status.value for o in outcomes)
        return outcomes

    monkeypatch.setattr(units_import, "apply", apply)
    centre = {"code": "TTYT-W", "name": "Trung tâm Y tế huyện W", "kind": "health_centre", "parent_code": "SYT"}
    body = ndjson(centre, station("TYT-W1", "TTYT-W"), station("TYT-W2", "TTYT-W"), centre | {"code": "TTYT-V"},
                  station("TYT-V1", "TTYT-V"), station("TYT-V2", "TTYT-W"))
    job = await import_now(client, province, "root_admin", "units", body)
    assert (job["succeeded"], job["failed"], job["counts"]) == (6, 0, {"created": 6})
    assert spans.index((3, "start")) < spans.index((1, "end"))  # written beside the batch holding its parent
    assert statuses == ["succeeded"] * 6  # each line applied once, in its own batch
    paths = {r[0]: list(r[1]) for r in await sql("SELECT code, path FROM units WHERE code LIKE 'TTYT-_' OR code LIKE 'TYT-__'")}
    assert paths["TYT-W2"][:-1] == paths["TTYT-W"] and paths["TYT-V1"][:-1] == paths["TTYT-V"]
    assert paths["TYT-V2"][:-1] == paths["TTYT-W"]


async def test_a_unit_batch_that_waited_too_long_for_the_one_beside_defers_its_lines_to_the_next_round(
    client: httpx.AsyncClient, province: Province, monkeypatch: pytest.MonkeyPatch, two_line_batches: None
) -> None:
    monkeypatch.setattr(service, "WAIT_FOR_BEFORE_S", 0.1)
    spans = record_batch_spans(monkeypatch, lambda first_line: 1.0 if first_line == 1 else 0.0)
    centre = {"code": "TTYT-L", "name": "Trung tâm Y tế huyện L", "kind": "health_centre", "parent_code": "SYT"}
    body = ndjson(centre, station("TYT-L1", "TTYT-L"), station("TYT-L2", "TTYT-L"), station("TYT-L3", "TTYT-TH"))
    job = await import_now(client, province, "root_admin", "units", body)
    assert (job["succeeded"], job["failed"], job["counts"]) == (4, 0, {"created": 4})
    assert spans.index((3, "applied")) < spans.index((1, "end"))  # it went on without the batch before
    assert spans.count((3, "start")) == 2  # line 3 again, in the next round
    paths = {r[0]: list(r[1]) for r in await sql("SELECT code, path FROM units WHERE code LIKE '%-L%'")}
    assert paths["TYT-L2"][:-1] == paths["TTYT-L"]


async def test_a_unit_batch_naming_a_code_of_the_batch_before_waits_for_it(
    client: httpx.AsyncClient, province: Province, monkeypatch: pytest.MonkeyPatch, two_line_batches: None
) -> None:
    """Were they written side by side, the earlier line could commit last and win; so the later batch starts after."""
    spans = record_batch_spans(monkeypatch, lambda first_line: 0.3 if first_line in (1, 3) else 0.0)
    body = ndjson(
        station("TYT-N1", "TTYT-TH"), station("TYT-N2", "TTYT-TH"),
        station("TYT-N1", "TTYT-TH", name="Trạm Y tế xã N1 (đổi tên)"), station("TYT-N3", "TTYT-TH"),
        station("TYT-N4", "TTYT-TH"), station("TYT-TG", "TTYT-TH", name="Trạm Y tế xã Thiệu Giao (mới)"),  # a stored unit
        station("TYT-N5", "TTYT-TH"),
    )
    job = await import_now(client, province, "root_admin", "units", body)
    assert (job["succeeded"], job["failed"], job["counts"]) == (7, 0, {"created": 5, "updated": 2})
    assert spans.index((3, "start")) > spans.index((1, "end"))
    assert spans.index((5, "start")) > spans.index((3, "end"))  # a batch that changes a stored unit waits too
    names = dict(await sql("SELECT code, name FROM units WHERE code IN ('TYT-N1', 'TYT-TG')"))
    assert names == {"TYT-N1": "Trạm Y tế xã N1 (đổi tên)", "TYT-TG": "Trạm Y tế xã Thiệu Giao (mới)"}


async def test_a_move_found_under_the_shared_tree_lock_waits_for_the_next_round(province: Province) -> None:
    """A unit stored after its batch was prepared, which the line moves: under the shared lock it is deferred, not moved."""
    caller = Caller(key_id=None, unit_id=province.units["SYT"], role=Role.admin)
    lines = [StagedLine(1, orjson.dumps(station("TYT-TG", "SYT")).decode())]
    async with sessionmaker()() as session, session.begin():
        prepared = await units_import.prepare(session, caller, lines)
        prepared.stored_codes.clear()  # as if prepared before TYT-TG was stored
        [outcome] = await units_import.apply(session, caller, lines, prepared, None)
    assert (outcome.status.value, outcome.errors[0]["code"]) == ("deferred", "tree_busy")
    assert await sql("SELECT parent_id FROM units WHERE code = 'TYT-TG'") == [(province.units["TTYT-TH"],)]
    async with sessionmaker()() as session, session.begin():
        [outcome] = await units_import.apply(session, caller, lines, None, None)
    assert (outcome.status.value, outcome.outcome) == ("succeeded", "updated")
    assert await sql("SELECT parent_id FROM units WHERE code = 'TYT-TG'") == [(province.units["SYT"],)]


async def test_an_overlapped_batch_whose_lease_was_taken_meanwhile_writes_nothing(
    client: httpx.AsyncClient, province: Province
) -> None:
    """The job row is not locked while the batch is written; the last statement finds the lease gone and all rolls back."""
    response = await upload(client, province, "root_issuer", "directives", ndjson(directive("811", issue=True), directive("812")))
    job_id = response.json()["id"]
    lease = await service.claim(UUID(job_id))
    assert lease is not None
    real = service.applier_for(ImportKind.directives)

    async def taken_over_meanwhile(session: Any, caller: Any, lines: list[StagedLine], prepared: Any, before: Any) -> Any:
        outcomes = await real.apply(session, caller, lines, prepared, before)
        await sql("UPDATE import_jobs SET lease_token = gen_random_uuid()")  # another worker claimed the job
        return outcomes

    applier = Applier(apply=taken_over_meanwhile, prepare=real.prepare, overlaps=real.overlaps)
    assert await service.run(lease, applier) is False
    assert await sql("SELECT 1 FROM directives WHERE number IN ('811', '812')") == []
    assert await sql("SELECT status FROM import_lines ORDER BY line_no") == [("pending",), ("pending",)]
    assert await sql("SELECT processed, succeeded FROM import_jobs") == [(0, 0)]


async def test_a_batch_that_changes_a_stored_draft_waits_for_the_batch_before_it(
    client: httpx.AsyncClient, province: Province, monkeypatch: pytest.MonkeyPatch, two_line_batches: None
) -> None:
    """Two lines changing one stored draft in consecutive batches: the later line wins, as when one batch ran at a time."""
    await import_now(client, province, "root_issuer", "directives", ndjson(directive("821")))
    spans = record_batch_spans(monkeypatch, lambda first_line: 0.2)
    body = ndjson(
        directive("822", issue=True), directive("823", issue=True),
        directive("821", subject="Kế hoạch X"), directive("824", issue=True),
        directive("821", subject="Kế hoạch Y"), directive("825", issue=True),
    )
    job = await import_now(client, province, "root_issuer", "directives", body)
    assert (job["failed"], job["counts"]) == (0, {"issued": 4, "updated": 2})
    assert await sql("SELECT subject FROM directives WHERE number = '821'") == [("Kế hoạch Y",)]
    assert spans.index((3, "start")) > spans.index((1, "end"))  # each batch with the draft waited
    assert spans.index((5, "start")) > spans.index((3, "end"))


async def test_a_directive_line_that_breaks_an_overlapped_batch_fails_alone(
    client: httpx.AsyncClient, province: Province, monkeypatch: pytest.MonkeyPatch, two_line_batches: None
) -> None:
    """The batch after the broken one may have committed already: every other line still goes in once."""
    from app.imports import directives as directive_import

    break_batches_holding(monkeypatch, directive_import, '"903"')
    body = ndjson(*(directive(f"90{i}", issue=True) for i in range(1, 8)))
    job = await import_now(client, province, "root_issuer", "directives", body)
    assert (job["processed"], job["succeeded"], job["failed"], job["counts"]) == (7, 6, 1, {"issued": 6})
    errors = await errors_of(client, province, "root_issuer", job["id"])
    assert {line: e[0]["code"] for line, e in errors.items()} == {3: "internal_error"}
    counted = await sql("SELECT number, count(*) FROM directives GROUP BY number ORDER BY number")
    assert [tuple(r) for r in counted] == [(f"90{i}", 1) for i in (1, 2, 4, 5, 6, 7)]
