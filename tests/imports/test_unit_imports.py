"""Importing units: upsert by code, parents in any order, each bad line reported, re-running changes nothing."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
import httpx

from app.settings import get_settings
from tests.fixtures import Province, sql
from tests.imports.helpers import errors_of, import_now, ndjson, upload


def station(code: str, parent: str, name: str | None = None) -> dict[str, Any]:
    return {"code": code, "name": name or f"Trạm Y tế xã {code}", "kind": "commune_health_station", "parent_code": parent}


async def units_snapshot() -> list[tuple[Any, ...]]:
    conn = await asyncpg.connect(get_settings().database_url)
    try:
        rows = await conn.fetch("SELECT code, name, parent_id, path, version, active FROM units ORDER BY code")
        return [tuple(r) for r in rows]
    finally:
        await conn.close()


async def test_children_before_parents_go_in_and_get_full_paths(client: httpx.AsyncClient, province: Province) -> None:
    body = ndjson(
        station("TYT-X1", "TTYT-NEW"),  # its parent comes two lines later
        station("TYT-X2", "TTYT-NEW"),
        {"code": "TTYT-NEW", "name": "Trung tâm Y tế huyện Mới", "kind": "health_centre", "parent_code": "SYT"},
    )
    job = await import_now(client, province, "root_admin", "units", body)
    assert (job["status"], job["total"], job["succeeded"], job["failed"]) == ("completed", 3, 3, 0)
    assert job["counts"] == {"created": 3}
    subtree = await client.get(f"/v1/units/{province.units['SYT']}/subtree", headers=province.auth("root_admin"))
    by_code = {u["code"]: u for u in subtree.json()["items"]}
    centre = by_code["TTYT-NEW"]
    assert by_code["TYT-X1"]["parent_id"] == centre["id"]
    units = await units_snapshot()
    paths = {row[0]: row[3] for row in units}
    assert paths["TYT-X1"][:-1] == paths["TTYT-NEW"]


async def test_bad_lines_are_reported_with_number_field_and_reason_while_good_ones_go_in(
    client: httpx.AsyncClient, province: Province
) -> None:
    body = ndjson(
        station("TYT-OK1", "TTYT-TH"),
        "{not json",
        "",  # blank lines keep their number
        station("TYT-BAD-KIND", "TTYT-TH") | {"kind": "spaceport"},
        {"code": "TYT-NO-NAME", "kind": "commune_health_station", "parent_code": "TTYT-TH"},
        station("TYT-ORPHAN", "NOWHERE"),
        "[1, 2]",
        station("TYT-OK2", "TTYT-TH") | {"colour": "blue"},
        station("TYT-OK3", "TTYT-TH"),
    )
    job = await import_now(client, province, "root_admin", "units", body)
    assert (job["total"], job["processed"], job["succeeded"], job["failed"]) == (8, 8, 2, 6)
    errors = await errors_of(client, province, "root_admin", job["id"])
    assert sorted(errors) == [2, 4, 5, 6, 7, 8]
    assert errors[2][0]["code"] == "invalid_json"
    assert (errors[4][0]["field"], errors[4][0]["code"]) == ("kind", "unknown_kind")
    assert (errors[5][0]["field"], errors[5][0]["code"]) == ("name", "missing")
    assert (errors[6][0]["field"], errors[6][0]["code"]) == ("parent_code", "unknown_parent")
    assert errors[7][0]["code"] == "not_an_object"
    assert (errors[8][0]["field"], errors[8][0]["code"]) == ("colour", "extra_forbidden")
    codes = {row[0] for row in await units_snapshot()}
    assert {"TYT-OK1", "TYT-OK3"} <= codes and not codes & {"TYT-BAD-KIND", "TYT-NO-NAME", "TYT-ORPHAN", "TYT-OK2"}
    # Staging keeps the failed lines, for their errors; the lines that went in were deleted as they were applied.
    staged = await sql("SELECT line_no, status FROM import_lines WHERE job_id = $1 ORDER BY line_no", UUID(job["id"]))
    assert [tuple(r) for r in staged] == [(n, "failed") for n in (2, 4, 5, 6, 7, 8)]


async def test_running_the_same_file_again_changes_nothing(client: httpx.AsyncClient, province: Province) -> None:
    body = ndjson(
        station("TYT-A", "TTYT-TH"), station("TYT-B", "TTYT-TH"),
        {"code": "TYT-TV", "name": "Trạm Y tế xã Thiệu Vận (mới)", "kind": "commune_health_station"},
    )
    first = await import_now(client, province, "root_admin", "units", body)
    assert first["counts"] == {"created": 2, "updated": 1}
    before = await units_snapshot()
    second = await import_now(client, province, "root_admin", "units", body)
    assert second["counts"] == {"unchanged": 3}
    assert await units_snapshot() == before


async def test_an_update_changes_only_the_fields_the_line_gives(client: httpx.AsyncClient, province: Province) -> None:
    body = ndjson({"code": "TYT-TG", "name": "Trạm Y tế xã Thiệu Giao", "kind": "commune_health_station", "aliases": ["TYT Thiệu Giao"]})
    job = await import_now(client, province, "root_admin", "units", body)
    assert job["counts"] == {"updated": 1}
    unit = (await client.get(f"/v1/units/{province.units['TYT-TG']}", headers=province.auth("root_admin"))).json()
    assert unit["aliases"] == ["TYT Thiệu Giao"] and unit["version"] == 2 and unit["parent_id"] == str(province.units["TTYT-TH"])
    audit = await client.get(f"/v1/audit?entity_id={unit['id']}", headers=province.auth("root_admin"))
    assert audit.json()["items"][0]["action"] == "unit.updated"


async def test_a_move_goes_through_the_units_service(client: httpx.AsyncClient, province: Province) -> None:
    body = ndjson(station("TYT-TG", "SYT"), station("TTYT-TH", "TYT-TV") | {"kind": "health_centre"})
    job = await import_now(client, province, "root_admin", "units", body)
    errors = await errors_of(client, province, "root_admin", job["id"])
    assert job["succeeded"] == 1 and errors[2][0]["code"] == "cycle"
    unit = (await client.get(f"/v1/units/{province.units['TYT-TG']}", headers=province.auth("root_admin"))).json()
    assert unit["parent_id"] == str(province.units["SYT"])


async def test_a_centre_admin_cannot_place_or_change_units_outside_its_subtree(
    client: httpx.AsyncClient, province: Province
) -> None:
    body = ndjson(station("TYT-IN", "TTYT-TH"), station("TYT-OUT", "SYT"), {"code": "BVDK", "name": "Taken", "kind": "hospital"})
    job = await import_now(client, province, "centre_admin", "units", body)
    errors = await errors_of(client, province, "centre_admin", job["id"])
    assert job["succeeded"] == 1
    assert (errors[2][0]["field"], errors[2][0]["code"]) == ("parent_code", "unknown_parent")
    assert (errors[3][0]["field"], errors[3][0]["code"]) == ("code", "code_taken")
    hospital = (await client.get(f"/v1/units/{province.units['BVDK']}", headers=province.auth("root_admin"))).json()
    assert hospital["name"] != "Taken"


async def test_a_member_key_cannot_import_units_and_nothing_is_staged(client: httpx.AsyncClient, province: Province) -> None:
    response = await upload(client, province, "station_member", "units", ndjson(station("TYT-Z", "TYT-TV")))
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    listed = await client.get("/v1/imports", headers=province.auth("root_admin"))
    assert listed.json()["items"] == []
