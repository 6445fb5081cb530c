"""Units over HTTP: create, read, update with ETags, list, search, subtree, ancestors, deactivate."""

from __future__ import annotations

import httpx

from tests.fixtures import Province


async def test_admin_creates_a_unit_under_its_subtree(client: httpx.AsyncClient, province: Province) -> None:
    body = {"code": "TYT-TL", "name": "Trạm Y tế xã Thiệu Lý", "kind": "commune_health_station", "parent_code": "TTYT-TH"}
    response = await client.post("/v1/units", json=body, headers=province.auth("centre_admin"))
    assert response.status_code == 201, response.text
    unit = response.json()
    assert unit["parent_id"] == str(province.units["TTYT-TH"])
    assert unit["depth"] == 2
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == f"/v1/units/{unit['id']}"


async def test_created_unit_can_be_read_back(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.get(f"/v1/units/{province.units['TYT-TV']}", headers=province.auth("root_reader"))
    assert response.status_code == 200
    assert response.json()["name"] == "Trạm Y tế xã Thiệu Vận"


async def test_search_is_accent_insensitive_and_word_based(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.get("/v1/units", params={"q": "tram y te thieu van"}, headers=province.auth("root_reader"))
    assert [u["code"] for u in response.json()["items"]] == ["TYT-TV"]


async def test_search_matches_aliases(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.get("/v1/units", params={"q": "phong khtc"}, headers=province.auth("root_reader"))
    assert [u["code"] for u in response.json()["items"]] == ["KHTC"]


async def test_list_pages_with_opaque_cursor_without_gaps_or_repeats(client: httpx.AsyncClient, province: Province) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/units", params=params, headers=province.auth("root_reader"))).json()
        seen += [u["code"] for u in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(province.units)


async def test_tampered_cursor_is_a_422_on_cursor(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.get("/v1/units", params={"cursor": "bm90LWEtY3Vyc29y"}, headers=province.auth("root_reader"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cursor"


async def test_list_filters_by_parent_kind_and_active(client: httpx.AsyncClient, province: Province) -> None:
    headers = province.auth("root_reader")
    by_parent = await client.get("/v1/units", params={"parent_id": str(province.units["TTYT-TH"])}, headers=headers)
    assert [u["code"] for u in by_parent.json()["items"]] == ["TYT-TG", "TYT-TV"]
    by_kind = await client.get("/v1/units", params={"kind": "office"}, headers=headers)
    assert [u["code"] for u in by_kind.json()["items"]] == ["KHTC", "VP"]
    inactive = await client.get("/v1/units", params={"active": "false"}, headers=headers)
    assert inactive.json()["items"] == []


async def test_subtree_returns_the_unit_and_its_descendants(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.get(f"/v1/units/{province.units['TTYT-TH']}/subtree", headers=province.auth("root_reader"))
    assert sorted(u["code"] for u in response.json()["items"]) == ["TTYT-TH", "TYT-TG", "TYT-TV"]


async def test_subtree_max_depth_zero_is_the_unit_alone(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.get(
        f"/v1/units/{province.units['TTYT-TH']}/subtree", params={"max_depth": 0}, headers=province.auth("root_reader")
    )
    assert [u["code"] for u in response.json()["items"]] == ["TTYT-TH"]


async def test_ancestors_run_from_the_root_to_the_parent(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.get(f"/v1/units/{province.units['TYT-TV']}/ancestors", headers=province.auth("root_reader"))
    assert [u["code"] for u in response.json()] == ["SYT", "TTYT-TH"]


async def test_ancestors_stop_at_the_top_of_the_keys_scope(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.get(f"/v1/units/{province.units['TYT-TV']}/ancestors", headers=province.auth("centre_admin"))
    assert [u["code"] for u in response.json()] == ["TTYT-TH"]


async def test_update_with_matching_if_match_bumps_the_etag(client: httpx.AsyncClient, province: Province) -> None:
    url = f"/v1/units/{province.units['VP']}"
    etag = (await client.get(url, headers=province.auth("root_admin"))).headers["etag"]
    response = await client.patch(
        url, json={"name": "Văn phòng Sở Y tế"}, headers={**province.auth("root_admin"), "If-Match": etag}
    )
    assert response.status_code == 200
    assert response.headers["etag"] == '"2"'
    assert response.json()["name"] == "Văn phòng Sở Y tế"


async def test_update_with_stale_if_match_is_412_and_changes_nothing(client: httpx.AsyncClient, province: Province) -> None:
    url = f"/v1/units/{province.units['VP']}"
    await client.patch(url, json={"short_name": "VPS"}, headers=province.auth("root_admin"))
    response = await client.patch(url, json={"name": "Stale"}, headers={**province.auth("root_admin"), "If-Match": '"1"'})
    assert response.status_code == 412
    assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get(url, headers=province.auth("root_admin"))).json()["name"] == "Văn phòng Sở"


async def test_update_that_changes_nothing_keeps_the_version(client: httpx.AsyncClient, province: Province) -> None:
    url = f"/v1/units/{province.units['VP']}"
    response = await client.patch(url, json={"name": "Văn phòng Sở"}, headers=province.auth("root_admin"))
    assert response.json()["version"] == 1


async def test_moving_a_unit_moves_its_subtree(client: httpx.AsyncClient, province: Province) -> None:
    headers = province.auth("root_admin")
    response = await client.patch(
        f"/v1/units/{province.units['TTYT-TH']}", json={"parent_code": "BVDK"}, headers=headers
    )
    assert response.status_code == 200, response.text
    station = (await client.get(f"/v1/units/{province.units['TYT-TV']}", headers=headers)).json()
    assert station["depth"] == 3
    ancestors = (await client.get(f"/v1/units/{province.units['TYT-TV']}/ancestors", headers=headers)).json()
    assert [u["code"] for u in ancestors] == ["SYT", "BVDK", "TTYT-TH"]


async def test_moving_a_unit_under_its_own_descendant_is_a_cycle(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.patch(
        f"/v1/units/{province.units['TTYT-TH']}", json={"parent_code": "TYT-TV"}, headers=province.auth("root_admin")
    )
    assert response.status_code == 422
    assert response.json()["errors"][0] == {"field": "parent_code", "message": response.json()["errors"][0]["message"], "code": "cycle"}


async def test_deactivating_a_unit_with_active_children_is_409(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.patch(
        f"/v1/units/{province.units['TTYT-TH']}", json={"active": False}, headers=province.auth("root_admin")
    )
    assert response.status_code == 409
    assert response.json()["active_children"] == 2


async def test_deactivated_unit_is_kept_and_filtered(client: httpx.AsyncClient, province: Province) -> None:
    headers = province.auth("root_admin")
    response = await client.patch(f"/v1/units/{province.units['TYT-TG']}", json={"active": False}, headers=headers)
    assert response.json()["active"] is False
    inactive = await client.get("/v1/units", params={"active": "false"}, headers=headers)
    assert [u["code"] for u in inactive.json()["items"]] == ["TYT-TG"]


async def test_creating_under_a_deactivated_parent_is_422(client: httpx.AsyncClient, province: Province) -> None:
    headers = province.auth("root_admin")
    await client.patch(f"/v1/units/{province.units['TYT-TG']}", json={"active": False}, headers=headers)
    body = {"code": "X", "name": "X", "kind": "office", "parent_code": "TYT-TG"}
    response = await client.post("/v1/units", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "inactive_parent"


async def test_referenced_unit_cannot_be_deleted(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.delete(f"/v1/units/{province.units['TTYT-TH']}", headers=province.auth("root_admin"))
    assert response.status_code == 409
    assert response.json()["type"].endswith("/unit-referenced")
    assert (await client.get(f"/v1/units/{province.units['TTYT-TH']}", headers=province.auth("root_admin"))).status_code == 200


async def test_unreferenced_unit_can_be_deleted(client: httpx.AsyncClient, province: Province) -> None:
    response = await client.delete(f"/v1/units/{province.units['TYT-TG']}", headers=province.auth("root_admin"))
    assert response.status_code == 204
    assert (await client.get(f"/v1/units/{province.units['TYT-TG']}", headers=province.auth("root_admin"))).status_code == 404


async def test_duplicate_code_is_409(client: httpx.AsyncClient, province: Province) -> None:
    body = {"code": "VP", "name": "Another", "kind": "office", "parent_code": "SYT"}
    response = await client.post("/v1/units", json=body, headers=province.auth("root_admin"))
    assert response.status_code == 409


async def test_unknown_kind_is_422_naming_kind(client: httpx.AsyncClient, province: Province) -> None:
    body = {"code": "NEW", "name": "New", "kind": "spaceport", "parent_code": "SYT"}
    response = await client.post("/v1/units", json=body, headers=province.auth("root_admin"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "kind"


async def test_changes_are_audited_with_the_acting_key(client: httpx.AsyncClient, province: Province) -> None:
    import asyncpg

    from app.settings import get_settings

    await client.patch(f"/v1/units/{province.units['VP']}", json={"short_name": "VPS"}, headers=province.auth("root_admin"))
    conn = await asyncpg.connect(get_settings().database_url)
    try:
        row = await conn.fetchrow(
            "SELECT actor_key_id, changes FROM audit_log WHERE action = 'unit.updated' AND entity_id = $1",
            province.units["VP"],
        )
    finally:
        await conn.close()
    assert row is not None and row["actor_key_id"] is not None
    assert '"short_name": ["VP", "VPS"]' in row["changes"]
