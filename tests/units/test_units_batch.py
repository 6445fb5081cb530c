"""POST /v1/units/batch: upsert by code, per-item results, order-independent, atomic per item."""

from __future__ import annotations

import httpx
from sqlalchemy import text

from app.db import sessionmaker
from tests.fixtures import Province


def station(code: str, parent: str, name: str | None = None) -> dict[str, object]:
    return {"code": code, "name": name or f"Trạm Y tế {code}", "kind": "commune_health_station", "parent_code": parent}


async def batch(client: httpx.AsyncClient, province: Province, items: list[dict[str, object]], key: str = "root_admin") -> httpx.Response:
    return await client.post("/v1/units/batch", json={"items": items}, headers=province.auth(key))


async def test_batch_creates_updates_and_reports_unchanged(client: httpx.AsyncClient, province: Province) -> None:
    items = [
        station("TYT-NEW", "TTYT-TH"),
        {"code": "VP", "name": "Văn phòng Sở Y tế Thanh Hóa", "kind": "office", "parent_code": "SYT"},
        {"code": "KHTC", "name": "Phòng Kế hoạch - Tài chính", "kind": "office", "parent_code": "SYT"},
    ]
    response = await batch(client, province, items)
    assert response.status_code == 200, response.text
    assert [r["status"] for r in response.json()["results"]] == ["created", "updated", "unchanged"]
    assert response.json()["created"] == 1


async def test_child_may_come_before_its_parent(client: httpx.AsyncClient, province: Province) -> None:
    items = [
        station("TYT-CHILD", "TTYT-NEW"),
        {"code": "TTYT-NEW", "name": "Trung tâm Y tế huyện Đông Sơn", "kind": "health_centre", "parent_code": "SYT"},
    ]
    results = (await batch(client, province, items)).json()["results"]
    assert [r["status"] for r in results] == ["created", "created"]
    child = await client.get(f"/v1/units/{results[0]['id']}", headers=province.auth("root_admin"))
    assert child.json()["parent_id"] == results[1]["id"]


async def test_a_cycle_inside_the_batch_is_an_error_for_each_member(client: httpx.AsyncClient, province: Province) -> None:
    items = [station("A", "B"), station("B", "A"), station("C", "TTYT-TH")]
    results = (await batch(client, province, items)).json()["results"]
    assert [r["status"] for r in results] == ["error", "error", "created"]
    assert results[0]["error"]["code"] == "cycle"


async def test_reparenting_under_a_descendant_is_a_cycle_error(client: httpx.AsyncClient, province: Province) -> None:
    items = [{"code": "TTYT-TH", "name": "Trung tâm Y tế huyện Thiệu Hóa", "kind": "health_centre", "parent_code": "TYT-TV"}]
    result = (await batch(client, province, items)).json()["results"][0]
    assert result["status"] == "error"
    assert result["error"]["code"] == "cycle"


async def test_unknown_parent_is_a_per_item_error(client: httpx.AsyncClient, province: Province) -> None:
    results = (await batch(client, province, [station("X1", "NOPE"), station("X2", "TTYT-TH")])).json()["results"]
    assert results[0]["error"]["code"] == "unknown_parent"
    assert results[1]["status"] == "created"


async def test_children_of_a_failed_parent_fail_too(client: httpx.AsyncClient, province: Province) -> None:
    items = [{"code": "P", "name": "x" * 300, "kind": "office", "parent_code": "SYT"}, station("C1", "P")]
    results = (await batch(client, province, items)).json()["results"]
    assert [r["error"]["code"] for r in results] == ["validation_error", "parent_failed"]


async def test_duplicate_codes_in_one_batch_are_errors(client: httpx.AsyncClient, province: Province) -> None:
    results = (await batch(client, province, [station("D", "TTYT-TH"), station("D", "SYT")])).json()["results"]
    assert [r["error"]["code"] for r in results] == ["duplicate_code", "duplicate_code"]


async def test_over_long_field_names_the_field(client: httpx.AsyncClient, province: Province) -> None:
    result = (await batch(client, province, [{**station("LONG", "TTYT-TH"), "short_name": "S" * 40}])).json()["results"][0]
    assert result["error"]["code"] == "validation_error"
    assert result["error"]["field"] == "short_name"


async def test_unknown_field_in_an_item_is_an_error(client: httpx.AsyncClient, province: Province) -> None:
    result = (await batch(client, province, [{**station("U", "TTYT-TH"), "colour": "red"}])).json()["results"][0]
    assert result["error"]["field"] == "colour"


async def test_failed_items_write_nothing(client: httpx.AsyncClient, province: Province) -> None:
    await batch(client, province, [station("BAD", "NOPE")])
    found = await client.get("/v1/units", params={"q": "BAD"}, headers=province.auth("root_admin"))
    assert found.json()["items"] == []


async def test_batch_over_1000_items_is_rejected_whole(client: httpx.AsyncClient, province: Province) -> None:
    response = await batch(client, province, [station(f"S{i}", "TTYT-TH") for i in range(1001)])
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "items"


async def test_batch_of_1000_is_accepted(client: httpx.AsyncClient, province: Province) -> None:
    response = await batch(client, province, [station(f"S{i:04d}", "TTYT-TH") for i in range(1000)])
    assert response.json()["created"] == 1000


async def test_rerunning_a_batch_changes_nothing(client: httpx.AsyncClient, province: Province) -> None:
    items = [station("R1", "TTYT-TH"), station("R2", "R1")]
    await batch(client, province, items)
    again = (await batch(client, province, items)).json()
    assert again["unchanged"] == 2


async def test_scoped_admin_cannot_place_units_outside_its_subtree(client: httpx.AsyncClient, province: Province) -> None:
    results = (await batch(client, province, [station("OUT", "VP"), station("IN", "TTYT-TH")], key="centre_admin")).json()
    assert results["results"][0]["error"]["code"] == "unknown_parent"
    assert results["results"][1]["status"] == "created"


async def test_scoped_admin_cannot_update_a_unit_outside_its_subtree(client: httpx.AsyncClient, province: Province) -> None:
    items = [{"code": "VP", "name": "Hijacked", "kind": "office", "parent_code": "TTYT-TH"}]
    result = (await batch(client, province, items, key="centre_admin")).json()["results"][0]
    assert result["error"]["code"] == "code_taken"
    vp = await client.get(f"/v1/units/{province.units['VP']}", headers=province.auth("root_admin"))
    assert vp.json()["name"] == "Văn phòng Sở"


async def test_non_admin_cannot_batch(client: httpx.AsyncClient, province: Province) -> None:
    response = await batch(client, province, [station("Z", "TTYT-TH")], key="root_issuer")
    assert response.status_code == 403


async def test_new_units_go_straight_into_the_subtree_index(client: httpx.AsyncClient, province: Province) -> None:
    """No GIN pending list on `ix_units_path`: after a batch, a subtree lookup finds nothing left to merge.

    `gin_clean_pending_list` returns the pending pages it merged. With GIN's default
    (fastupdate on) the batch's entries would wait there, and every subtree lookup would scan them.
    """
    response = await batch(client, province, [station(f"TYT-GIN-{i}", "TTYT-TH") for i in range(40)])
    assert response.status_code == 200, response.text
    async with sessionmaker()() as session:
        assert await session.scalar(text("SELECT gin_clean_pending_list('ix_units_path'::regclass)")) == 0
        under = await session.scalar(
            text("SELECT count(*) FROM units WHERE path @> ARRAY[CAST(:id AS uuid)] AND code LIKE 'TYT-GIN-%'"),
            {"id": province.units["TTYT-TH"]},
        )
    assert under == 40
